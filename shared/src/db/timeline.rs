//! Timeline entries (`TIMELINE#<owner>` / `<postId>`, written by `fanout::timeline`) and the two
//! attributes of the user item the hybrid needs: `largeAccount` (the account's posts are merged
//! at read time, not fanned out) and `followedLarge` (a string set: the large accounts the user
//! follows, so the timeline read knows which author lists to merge without another read).

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use super::keys::{self, Key};
use super::listing::string_attr;
use super::{is_condition_failed, n, s, Db, Item};
use crate::error::ApiResult;

/// An entry lives 30 days after its post was made (DynamoDB's TTL deletes it; reads skip it
/// before that).
pub const TIMELINE_ENTRY_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// The `ttl` of a post's entries: its ULID's time + 30 days (None for an id that is no ULID).
pub fn entry_expiry(post_id: &str) -> Option<i64> {
    let millis = post_id.parse::<ulid::Ulid>().ok()?.timestamp_ms();
    Some(i64::try_from(millis / 1000).ok()? + TIMELINE_ENTRY_TTL_SECONDS)
}

/// One post in one owner's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    pub owner: String,
    pub post_id: String,
    pub author_id: String,
    /// When DynamoDB may delete it (epoch seconds): [`entry_expiry`].
    pub ttl: i64,
}

impl Db {
    /// Puts timeline entries: 1 BatchWriteItem per 25, `WRITE_PARALLELISM` at a time.
    /// Idempotent: an entry written twice is the same entry.
    pub async fn put_timeline_entries(&self, entries: &[NewEntry]) -> ApiResult<()> {
        let requests = entries
            .iter()
            .map(|entry| {
                let mut item = keys::timeline_entry(&entry.owner, &entry.post_id).to_item();
                item.insert("postId".into(), s(&entry.post_id));
                item.insert("authorId".into(), s(&entry.author_id));
                item.insert(keys::TTL.into(), n(entry.ttl));
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_all(requests).await
    }

    /// The newest `limit` entries of `owner`'s timeline older than `before` (a post ULID),
    /// expired ones left out: 1 Query. Answers `(postId, authorId)`.
    pub async fn timeline_entries(
        &self,
        owner: &str,
        before: Option<&str>,
        limit: usize,
    ) -> ApiResult<Vec<(String, String)>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(keys::timeline_pk(owner)))
            .expression_attribute_names("#ttl", keys::TTL)
            .projection_expression("postId, authorId, #ttl")
            .scan_index_forward(false)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
        let query = match before {
            Some(before) => query
                .key_condition_expression("PK = :pk AND SK < :before")
                .expression_attribute_values(":before", s(before)),
            None => query.key_condition_expression("PK = :pk"),
        };
        let out = query.send().await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .filter(|item| !expired(item, now))
            .filter_map(|item| {
                Some((
                    string_attr(item, "postId")?.to_string(),
                    string_attr(item, "authorId")?.to_string(),
                ))
            })
            .collect())
    }

    /// The keys of `owner`'s timeline entries, all of them or only `author`'s: 1 Query per
    /// 1 MB (an unfollow's, a block's or an account deletion's clean-up, off the request path).
    pub async fn timeline_entry_keys(
        &self,
        owner: &str,
        author: Option<&str>,
    ) -> ApiResult<Vec<Key>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::timeline_pk(owner)))
            .projection_expression("PK, SK");
        let query = match author {
            Some(author) => query
                .filter_expression("authorId = :author")
                .expression_attribute_values(":author", s(author)),
            None => query,
        };
        let items = self.query_all(query).await?;
        Ok(items.iter().filter_map(Key::of_item).collect())
    }

    /// Adds `author` to (or takes it out of) `user`'s `followedLarge` set; nothing when the
    /// user's item is gone.
    pub async fn set_followed_large(
        &self,
        user: &str,
        author: &str,
        follows: bool,
    ) -> ApiResult<()> {
        let action = if follows {
            "ADD followedLarge :author"
        } else {
            "DELETE followedLarge :author"
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(user).to_item()))
            .update_expression(action)
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":author", AttributeValue::Ss(vec![author.to_string()]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Marks `user` a large account (for good: a shrinking account keeps being merged at read
    /// time, which stays correct). True when this call marked it, false when it already was or
    /// the user is gone.
    pub async fn mark_large_account(&self, user: &str) -> ApiResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(user).to_item()))
            .update_expression("SET largeAccount = :yes")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(largeAccount)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}

fn expired(item: &Item, now: i64) -> bool {
    match item.get(keys::TTL) {
        Some(AttributeValue::N(ttl)) => ttl.parse::<i64>().is_ok_and(|ttl| ttl <= now),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_thirty_days_after_their_post() {
        let post = ulid::Ulid::from_parts(1_764_583_200_000, 7).to_string();
        assert_eq!(entry_expiry(&post), Some(1_764_583_200 + 30 * 24 * 3600));
        assert_eq!(entry_expiry("not-a-ulid"), None);
    }

    #[test]
    fn the_hybrids_attributes_read_into_the_user_record_and_are_never_written_from_it() {
        let user = crate::db::users::UserRecord::new_account(
            "ada".into(),
            "ada@example.com".into(),
            "Ada".into(),
            String::new(),
            true,
        );
        let mut item: Item = serde_dynamo::to_item(&user).expect("a user item");
        assert!(!item.contains_key("followedLarge") && !item.contains_key("largeAccount"));
        item.insert(
            "followedLarge".into(),
            AttributeValue::Ss(vec!["01A".into(), "01B".into()]),
        );
        item.insert("largeAccount".into(), AttributeValue::Bool(true));
        let read: crate::db::users::UserRecord = serde_dynamo::from_item(item).expect("a user");
        assert_eq!(
            read.followed_large,
            vec!["01A".to_string(), "01B".to_string()]
        );
        assert!(read.large_account);
    }

    #[test]
    fn expired_entries_are_skipped() {
        let entry = |ttl: i64| Item::from([(keys::TTL.to_string(), n(ttl))]);
        assert!(expired(&entry(99), 100));
        assert!(!expired(&entry(101), 100));
        assert!(!expired(&Item::new(), 100));
    }
}
