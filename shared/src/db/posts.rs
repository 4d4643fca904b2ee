//! Posts and the edges on them. A post lives at `POST#<id>`/`POST`; its likes, saves, comments
//! and comment likes share that partition. Listings: GSI1 `POSTSBY#<author>` on the post item
//! (all of an author's posts), `USER#<author>`/`POSTS#<type>#<id>` (one media type), day buckets
//! of the global feed `FEED#<day>`, and `TAG#<tag>` per hashtag. Every write that changes a
//! counter does it in the same transaction as the edge, with conditions that make repeats no-ops.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

use super::follows::{delete_any, delete_existing, put_new};
use super::keys::{self, Key};
use super::likers::{self, RecentLikers};
use super::listing::string_attr;
use super::{n, s, Db, Item};
use crate::error::{ApiError, ApiResult};
use crate::time::now_rfc3339;

const CONDITION_FAILED: &str = "ConditionalCheckFailed";

pub(crate) fn failed_at(reasons: &[String], index: usize) -> bool {
    reasons.get(index).is_some_and(|r| r == CONDITION_FAILED)
}

/// `image` or `video`: what clients filter on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostMediaType {
    Image,
    Video,
}

impl PostMediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
        }
    }
}

/// A post as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostRecord {
    pub post_id: String,
    pub author_id: String,
    pub caption: String,
    #[serde(default)]
    pub hashtags: Vec<String>,
    #[serde(default)]
    pub mentions: Vec<String>,
    pub media_key: String,
    pub media_type: PostMediaType,
    #[serde(default)]
    pub likes: i64,
    #[serde(default)]
    pub comments: i64,
    #[serde(default)]
    pub saves: i64,
    /// Whether the post went into the global feed (its author was public when it was made).
    #[serde(default)]
    pub in_feed: bool,
    /// The newest likers, for `likedBy` (see `likers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_likers: RecentLikers,
    pub created_at: String,
    pub updated_at: String,
}

/// The UTC day (`yyyy-mm-dd`) a ULID was minted on: the post's feed bucket.
pub fn day_of(post_id: &str) -> String {
    let millis = post_id
        .parse::<Ulid>()
        .map(|u| u.timestamp_ms())
        .unwrap_or_default();
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    day_string(at.date())
}

pub fn day_string(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A listing entry: which post, by whom (so a page hydrates in one BatchGetItem).
fn entry_item(key: &Key, post_id: &str, author_id: &str) -> Item {
    let mut item = key.to_item();
    item.insert("postId".into(), s(post_id));
    item.insert("authorId".into(), s(author_id));
    item
}

fn add_to_post(
    table: &str,
    post_id: &str,
    counter: &str,
    delta: i64,
) -> ApiResult<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(keys::post(post_id).to_item()))
        .condition_expression("attribute_exists(PK)")
        .update_expression("ADD #counter :delta")
        .expression_attribute_names("#counter", counter)
        .expression_attribute_values(":delta", n(delta))
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn add_to_profile(table: &str, user_id: &str, delta: i64) -> ApiResult<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(keys::user(user_id).to_item()))
        .condition_expression("attribute_exists(PK)")
        .update_expression("ADD postsCount :delta")
        .expression_attribute_values(":delta", n(delta))
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// What a like or save changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeChange {
    Changed,
    AlreadyThere,
}

impl Db {
    /// Stores a new post with its listings, feed and hashtag entries and the author's
    /// `postsCount`: 1 TransactWriteItems. `Err(401)` when the author no longer exists.
    pub async fn create_post(&self, record: &PostRecord) -> ApiResult<()> {
        let id = &record.post_id;
        let author = &record.author_id;
        let mut post: Item = serde_dynamo::to_item(record)?;
        post.extend(keys::post(id).to_item());
        post.insert(keys::GSI1PK.into(), s(keys::posts_by(author)));
        post.insert(keys::GSI1SK.into(), s(id));
        let mut writes = vec![
            put_new(&self.table, post)?,
            add_to_profile(&self.table, author, 1)?,
            put_new(
                &self.table,
                entry_item(
                    &keys::post_of_type(author, record.media_type.as_str(), id),
                    id,
                    author,
                ),
            )?,
        ];
        if record.in_feed {
            let day = day_of(id);
            self.mark_feed_day(&day).await?;
            writes.push(put_new(
                &self.table,
                entry_item(&keys::feed_entry(&day, id), id, author),
            )?);
        }
        for tag in &record.hashtags {
            writes.push(put_new(
                &self.table,
                entry_item(&keys::hashtag_entry(tag, id), id, author),
            )?);
        }
        match self.transact_with_reasons(writes).await? {
            None => Ok(()),
            Some(reasons) if failed_at(&reasons, 1) => {
                Err(ApiError::unauthorized("Unauthorized - Invalid token"))
            }
            Some(_) => Err(ApiError::conflict(
                "The post could not be stored; try again",
            )),
        }
    }

    /// One post, read consistently: 1 GetItem.
    pub async fn get_post(&self, post_id: &str) -> ApiResult<Option<PostRecord>> {
        if post_id.parse::<Ulid>().is_err() {
            return Ok(None);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::post(post_id).to_item()))
            .consistent_read(true)
            .send()
            .await?;
        match out.item {
            Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// A new caption and its hashtags/mentions; hashtag entries follow: 1 TransactWriteItems.
    pub async fn update_caption(
        &self,
        before: &PostRecord,
        caption: &str,
        hashtags: &[String],
        mentions: &[String],
    ) -> ApiResult<String> {
        let id = &before.post_id;
        let now = now_rfc3339();
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::post(id).to_item()))
            .condition_expression("attribute_exists(PK)")
            .update_expression(
                "SET caption = :caption, hashtags = :tags, mentions = :mentions, updatedAt = :now",
            )
            .expression_attribute_values(":caption", s(caption))
            .expression_attribute_values(":tags", serde_dynamo::to_attribute_value(hashtags)?)
            .expression_attribute_values(":mentions", serde_dynamo::to_attribute_value(mentions)?)
            .expression_attribute_values(":now", s(&now))
            .build()?;
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        for gone in before.hashtags.iter().filter(|t| !hashtags.contains(t)) {
            writes.push(delete_any(&self.table, &keys::hashtag_entry(gone, id))?);
        }
        for added in hashtags.iter().filter(|t| !before.hashtags.contains(t)) {
            writes.push(super::follows::put_any(
                &self.table,
                entry_item(&keys::hashtag_entry(added, id), id, &before.author_id),
            )?);
        }
        match self.transact_with_reasons(writes).await? {
            None => Ok(now),
            Some(_) => Err(ApiError::not_found("Post not found")),
        }
    }

    /// Deletes a post: first everything in its partition (likes, saves, comments, comment
    /// likes, in BatchWriteItems), then the post, its listing, feed and hashtag entries and the
    /// author's counter in 1 TransactWriteItems. Safe to repeat.
    pub async fn delete_post(&self, post: &PostRecord) -> ApiResult<()> {
        let id = &post.post_id;
        let children: Vec<Key> = self
            .post_partition_keys(id)
            .await?
            .into_iter()
            .filter(|key| *key != keys::post(id))
            .collect();
        // Comment authors keep a pointer to each comment: those go too.
        let comment_ids: Vec<&str> = children
            .iter()
            .filter_map(|key| key.sk.strip_prefix(keys::COMMENT_PREFIX))
            .collect();
        let comment_keys: Vec<Key> = comment_ids
            .iter()
            .map(|comment_id| keys::comment(id, comment_id))
            .collect();
        let comments = self.get_items(&comment_keys, true).await?;
        let pointers: Vec<Key> = comments
            .values()
            .filter_map(|item| {
                Some(keys::commented(
                    string_attr(item, "authorId")?,
                    id,
                    string_attr(item, "commentId")?,
                ))
            })
            .collect();
        self.delete_keys(&pointers).await?;
        self.delete_keys(&children).await?;
        let author = &post.author_id;
        let mut writes = vec![
            delete_existing(&self.table, &keys::post(id))?,
            delete_any(
                &self.table,
                &keys::post_of_type(author, post.media_type.as_str(), id),
            )?,
            delete_any(&self.table, &keys::feed_entry(&day_of(id), id))?,
        ];
        for tag in &post.hashtags {
            writes.push(delete_any(&self.table, &keys::hashtag_entry(tag, id))?);
        }
        let with_counter = {
            let mut w = writes.clone();
            w.push(add_to_profile(&self.table, author, -1)?);
            w
        };
        match self.transact_with_reasons(with_counter).await? {
            None => Ok(()),
            Some(reasons) if failed_at(&reasons, 0) => Ok(()), // Already gone.
            Some(_) => {
                // The author's profile is gone (account deletion): no counter to fix.
                self.transact_with_reasons(writes).await?;
                Ok(())
            }
        }
    }

    /// Every key in a post's partition (paged Query of keys only).
    pub async fn post_partition_keys(&self, post_id: &str) -> ApiResult<Vec<Key>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::post_pk(post_id)))
            .projection_expression("PK, SK")
            .consistent_read(true);
        let items = self.query_all(query).await?;
        Ok(items.iter().filter_map(Key::of_item).collect())
    }

    /// Every item of a GSI1 partition, with only `attributes` read (paged Query).
    pub async fn gsi1_items(&self, gsi1pk: &str, attributes: &[&str]) -> ApiResult<Vec<Item>> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_values(":pk", s(gsi1pk));
        let placeholders: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
        for (placeholder, name) in placeholders.iter().zip(attributes) {
            query = query.expression_attribute_names(placeholder, *name);
        }
        if !attributes.is_empty() {
            query = query.projection_expression(placeholders.join(", "));
        }
        self.query_all(query).await
    }

    /// `user_id` likes the post: the like and the counter in 1 TransactWriteItems.
    /// 404 when the post does not exist.
    pub async fn like_post(&self, post: &PostRecord, user_id: &str) -> ApiResult<EdgeChange> {
        let post_id = post.post_id.as_str();
        let mut like = keys::post_like(post_id, user_id).to_item();
        like.insert(keys::GSI1PK.into(), s(keys::likes_by(user_id)));
        like.insert(keys::GSI1SK.into(), s(Ulid::new().to_string()));
        like.insert("postId".into(), s(post_id));
        like.insert("userId".into(), s(user_id));
        like.insert("createdAt".into(), s(now_rfc3339()));
        let writes = vec![
            put_new(&self.table, like)?,
            likers::counter_update(
                &self.table,
                &keys::post(post_id),
                &post.recent_likers,
                user_id,
                true,
            )?,
        ];
        self.edge_outcome(writes).await
    }

    /// Removes a like if there is one: 1 TransactWriteItems. `recent` is the post's
    /// `recentLikers` as read (`&None` when not read: the counter alone changes).
    pub async fn unlike_post(
        &self,
        post_id: &str,
        recent: &RecentLikers,
        user_id: &str,
    ) -> ApiResult<EdgeChange> {
        let writes = vec![
            delete_existing(&self.table, &keys::post_like(post_id, user_id))?,
            likers::counter_update(&self.table, &keys::post(post_id), recent, user_id, false)?,
        ];
        self.edge_outcome(writes).await
    }

    /// `user_id` saves the post (listed newest first in their saved list): 1 TransactWriteItems.
    pub async fn save_post(&self, post: &PostRecord, user_id: &str) -> ApiResult<EdgeChange> {
        let mut save = keys::post_save(&post.post_id, user_id).to_item();
        save.insert(keys::GSI1PK.into(), s(keys::saved_by(user_id)));
        save.insert(keys::GSI1SK.into(), s(Ulid::new().to_string()));
        save.insert("postId".into(), s(&post.post_id));
        save.insert("authorId".into(), s(&post.author_id));
        save.insert("userId".into(), s(user_id));
        save.insert("createdAt".into(), s(now_rfc3339()));
        let writes = vec![
            put_new(&self.table, save)?,
            add_to_post(&self.table, &post.post_id, "saves", 1)?,
        ];
        self.edge_outcome(writes).await
    }

    pub async fn unsave_post(&self, post_id: &str, user_id: &str) -> ApiResult<EdgeChange> {
        let writes = vec![
            delete_existing(&self.table, &keys::post_save(post_id, user_id))?,
            add_to_post(&self.table, post_id, "saves", -1)?,
        ];
        self.edge_outcome(writes).await
    }

    /// Edge writes are `[edge, counter]`: a failed edge condition means nothing to do.
    async fn edge_outcome(&self, writes: Vec<TransactWriteItem>) -> ApiResult<EdgeChange> {
        match self.transact_with_reasons(writes).await? {
            None => Ok(EdgeChange::Changed),
            Some(reasons) if failed_at(&reasons, 0) => Ok(EdgeChange::AlreadyThere),
            Some(_) => Err(ApiError::not_found("Post not found")),
        }
    }
}
