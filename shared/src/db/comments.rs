//! Comments and replies (one level deep) and comment likes, all in their post's partition.
//! Creating or deleting a comment changes the post's `comments` counter (and the parent's
//! `repliesCount` for a reply) in the same transaction.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::follows::{delete_any, delete_existing, put_new};
use super::keys::{self, Key};
use super::likers::{self, RecentLikers};
use super::posts::failed_at;
use super::throttle::BudgetSpend;
use super::{n, s, Db, Item};
use crate::error::{ApiError, ApiResult};
use crate::time::now_rfc3339;

/// Replies deleted per transaction (2 items each, plus the counters).
const REPLIES_PER_TRANSACTION: usize = 40;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentRecord {
    pub comment_id: String,
    pub post_id: String,
    pub author_id: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_comment_id: Option<String>,
    #[serde(default)]
    pub likes: i64,
    #[serde(default)]
    pub replies_count: i64,
    /// The newest likers, for `likedBy` (see `likers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_likers: RecentLikers,
    pub created_at: String,
    pub updated_at: String,
}

fn add_to(table: &str, key: &Key, counter: &str, delta: i64) -> ApiResult<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .condition_expression("attribute_exists(PK)")
        .update_expression("ADD #counter :delta")
        .expression_attribute_names("#counter", counter)
        .expression_attribute_values(":delta", n(delta))
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn comment_not_found() -> ApiError {
    ApiError::not_found("Comment not found")
}

/// What a create failed on.
pub enum CreateOutcome {
    Created(Box<CommentRecord>),
    PostMissing,
    ParentMissing,
    /// The author's comment budget (counted in the transaction) is spent.
    Budget,
}

impl Db {
    /// A new comment or reply: the comment, the author's pointer, the post's counter (and the
    /// parent's `repliesCount`) and the author's rate-limit `budget` in 1 TransactWriteItems.
    /// The parent must be a top-level comment of the same post.
    pub async fn create_comment(
        &self,
        post_id: &str,
        author_id: &str,
        content: &str,
        parent: Option<&str>,
        budget: &BudgetSpend,
    ) -> ApiResult<CreateOutcome> {
        let now = now_rfc3339();
        let record = CommentRecord {
            comment_id: Ulid::new().to_string(),
            post_id: post_id.to_string(),
            author_id: author_id.to_string(),
            content: content.to_string(),
            parent_comment_id: parent.map(str::to_string),
            likes: 0,
            replies_count: 0,
            recent_likers: Some(Default::default()),
            created_at: now.clone(),
            updated_at: now,
        };
        let id = &record.comment_id;
        let mut item: Item = serde_dynamo::to_item(&record)?;
        item.extend(keys::comment(post_id, id).to_item());
        let list = match parent {
            Some(parent) => keys::replies_of(parent),
            None => keys::comments_of(post_id),
        };
        item.insert(keys::GSI1PK.into(), s(list));
        item.insert(keys::GSI1SK.into(), s(id));
        let mut pointer = keys::commented(author_id, post_id, id).to_item();
        pointer.insert("postId".into(), s(post_id));
        pointer.insert("commentId".into(), s(id));
        let mut writes = vec![
            put_new(&self.table, item)?,
            put_new(&self.table, pointer)?,
            add_to(&self.table, &keys::post(post_id), "comments", 1)?,
        ];
        if let Some(parent) = parent {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(keys::comment(post_id, parent).to_item()))
                .condition_expression(
                    "attribute_exists(PK) AND attribute_not_exists(parentCommentId)",
                )
                .update_expression("ADD repliesCount :one")
                .expression_attribute_values(":one", n(1))
                .build()?;
            writes.push(TransactWriteItem::builder().update(update).build());
        }
        // Last, so the indices above keep their meaning in the cancellation reasons.
        let budget_at = writes.len();
        writes.push(
            TransactWriteItem::builder()
                .update(budget.update(&self.table)?)
                .build(),
        );
        match self.transact_with_reasons(writes).await? {
            None => Ok(CreateOutcome::Created(Box::new(record))),
            // A spent budget first: a refused author learns nothing else.
            Some(reasons) if failed_at(&reasons, budget_at) => Ok(CreateOutcome::Budget),
            Some(reasons) if failed_at(&reasons, 2) => Ok(CreateOutcome::PostMissing),
            Some(reasons) if failed_at(&reasons, 3) => Ok(CreateOutcome::ParentMissing),
            Some(_) => Err(ApiError::conflict(
                "The comment could not be stored; try again",
            )),
        }
    }

    /// A post and one of its comments in 1 BatchGetItem.
    pub async fn post_and_comment(
        &self,
        post_id: &str,
        comment_id: &str,
    ) -> ApiResult<(Option<super::posts::PostRecord>, Option<CommentRecord>)> {
        if post_id.parse::<Ulid>().is_err() || comment_id.parse::<Ulid>().is_err() {
            return Ok((None, None));
        }
        let post_key = keys::post(post_id);
        let comment_key = keys::comment(post_id, comment_id);
        let mut found = self
            .get_items(&[post_key.clone(), comment_key.clone()], true)
            .await?;
        let post = match super::listing::take_item(&mut found, &post_key) {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        };
        let comment = match super::listing::take_item(&mut found, &comment_key) {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        };
        Ok((post, comment))
    }

    /// New content for a comment whose author is `author_id`: 1 UpdateItem.
    pub async fn update_comment(
        &self,
        comment: &CommentRecord,
        content: &str,
    ) -> ApiResult<String> {
        let now = now_rfc3339();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(
                keys::comment(&comment.post_id, &comment.comment_id).to_item(),
            ))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET content = :content, updatedAt = :now")
            .expression_attribute_values(":content", s(content))
            .expression_attribute_values(":now", s(&now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(now),
            Err(err) if super::is_condition_failed(&err) => Err(comment_not_found()),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes a comment, its replies, their likes and pointers; fixes the post's counter and
    /// the parent's `repliesCount`. Replies go in transactions of 40, the comment last.
    pub async fn delete_comment(&self, comment: &CommentRecord) -> ApiResult<()> {
        let post_id = &comment.post_id;
        let mut doomed_likes: Vec<Key> = Vec::new();
        if comment.parent_comment_id.is_none() {
            let replies = self
                .gsi1_items(
                    &keys::replies_of(&comment.comment_id),
                    &["commentId", "authorId"],
                )
                .await?;
            let replies: Vec<(String, String)> = replies
                .iter()
                .filter_map(|item| {
                    Some((
                        super::listing::string_attr(item, "commentId")?.to_string(),
                        super::listing::string_attr(item, "authorId")?.to_string(),
                    ))
                })
                .collect();
            for chunk in replies.chunks(REPLIES_PER_TRANSACTION) {
                let mut writes = Vec::with_capacity(chunk.len() * 2 + 1);
                for (reply_id, author) in chunk {
                    writes.push(delete_existing(
                        &self.table,
                        &keys::comment(post_id, reply_id),
                    )?);
                    writes.push(delete_any(
                        &self.table,
                        &keys::commented(author, post_id, reply_id),
                    )?);
                    doomed_likes.extend(self.comment_like_keys(post_id, reply_id).await?);
                }
                let mut with_counters = writes.clone();
                with_counters.push(add_to(
                    &self.table,
                    &keys::post(post_id),
                    "comments",
                    -(chunk.len() as i64),
                )?);
                if self.transact_with_reasons(with_counters).await?.is_some() {
                    // A reply vanished meanwhile (a concurrent delete): remove one at a time.
                    for (reply_id, author) in chunk {
                        self.delete_one(post_id, reply_id, author, None).await?;
                    }
                }
            }
        }
        doomed_likes.extend(self.comment_like_keys(post_id, &comment.comment_id).await?);
        self.delete_one(
            post_id,
            &comment.comment_id,
            &comment.author_id,
            comment.parent_comment_id.as_deref(),
        )
        .await?;
        self.delete_keys(&doomed_likes).await
    }

    /// One comment with its counters, if it still exists.
    async fn delete_one(
        &self,
        post_id: &str,
        comment_id: &str,
        author_id: &str,
        parent: Option<&str>,
    ) -> ApiResult<()> {
        let mut writes = vec![
            delete_existing(&self.table, &keys::comment(post_id, comment_id))?,
            delete_any(
                &self.table,
                &keys::commented(author_id, post_id, comment_id),
            )?,
            add_to(&self.table, &keys::post(post_id), "comments", -1)?,
        ];
        if let Some(parent) = parent {
            writes.push(add_to(
                &self.table,
                &keys::comment(post_id, parent),
                "repliesCount",
                -1,
            )?);
        }
        match self.transact_with_reasons(writes).await? {
            None => Ok(()),
            Some(reasons) if failed_at(&reasons, 0) => Ok(()), // Already gone.
            Some(_) => {
                // The post or the parent is gone: drop the items without counters.
                self.transact_with_reasons(vec![
                    delete_any(&self.table, &keys::comment(post_id, comment_id))?,
                    delete_any(
                        &self.table,
                        &keys::commented(author_id, post_id, comment_id),
                    )?,
                ])
                .await?;
                Ok(())
            }
        }
    }

    async fn comment_like_keys(&self, post_id: &str, comment_id: &str) -> ApiResult<Vec<Key>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::post_pk(post_id)))
            .expression_attribute_values(":prefix", s(keys::comment_like_prefix(comment_id)))
            .projection_expression("PK, SK");
        let items = self.query_all(query).await?;
        Ok(items.iter().filter_map(Key::of_item).collect())
    }

    /// Likes (`on`) or unlikes a comment: edge + counter (and `recentLikers`, judged from
    /// `recent` as read) in 1 TransactWriteItems. `Ok(false)` when nothing changed; 404 when the
    /// comment is gone.
    pub async fn set_comment_like(
        &self,
        post_id: &str,
        comment_id: &str,
        recent: &RecentLikers,
        user_id: &str,
        on: bool,
    ) -> ApiResult<bool> {
        let like_key = keys::comment_like(post_id, comment_id, user_id);
        let comment_key = keys::comment(post_id, comment_id);
        let writes = if on {
            let mut like = like_key.to_item();
            like.insert(keys::GSI1PK.into(), s(keys::likes_by(user_id)));
            like.insert(keys::GSI1SK.into(), s(Ulid::new().to_string()));
            like.insert("postId".into(), s(post_id));
            like.insert("commentId".into(), s(comment_id));
            like.insert("userId".into(), s(user_id));
            like.insert("createdAt".into(), s(now_rfc3339()));
            vec![
                put_new(&self.table, like)?,
                likers::counter_update(&self.table, &comment_key, recent, user_id, true)?,
            ]
        } else {
            vec![
                delete_existing(&self.table, &like_key)?,
                likers::counter_update(&self.table, &comment_key, recent, user_id, false)?,
            ]
        };
        match self.transact_with_reasons(writes).await? {
            None => Ok(true),
            Some(reasons) if failed_at(&reasons, 0) => Ok(false),
            Some(_) => Err(comment_not_found()),
        }
    }
}
