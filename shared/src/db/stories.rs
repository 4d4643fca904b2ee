//! Stories and their views. A story lives at `STORY#<id>`/`STORY` (GSI1 `STORIESBY#<author>`,
//! sorted by the story's ULID); each viewer's view at `STORY#<id>`/`VIEW#<viewer>` (GSI1
//! `VIEWERSOF#<id>`, sorted by the view's ULID). Every item carries `ttl` (DynamoDB deletes it
//! late) and every read also compares `expiresAt` with the clock.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Select, TransactWriteItem, Update};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::follows::put_new;
use super::keys::{self, Key};
use super::listing::string_attr;
use super::posts::{failed_at, PostMediaType};
use super::{n, s, Db, Item};
use crate::error::{ApiError, ApiResult};
use crate::time::now_rfc3339;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

/// How long a story stays visible.
pub const STORY_LIFETIME_SECS: i64 = 24 * 3600;
/// How many authors' story listings the tray reads at once.
const TRAY_PARALLEL_QUERIES: usize = 16;
/// How many stories are removed at once (delete all, account deletion).
const PARALLEL_DELETES: usize = 8;

/// A story as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoryRecord {
    pub story_id: String,
    pub author_id: String,
    #[serde(default)]
    pub caption: String,
    pub media_key: String,
    pub media_type: PostMediaType,
    #[serde(default)]
    pub view_count: i64,
    pub created_at: String,
    /// Epoch seconds; once passed the story is gone from every read, whether or not TTL has
    /// deleted the item yet.
    pub expires_at: i64,
}

impl StoryRecord {
    pub fn is_active(&self, now: i64) -> bool {
        self.expires_at > now
    }
}

/// The smallest ULID minted at `epoch_secs`: a key-condition bound on `GSI1SK` that skips every
/// story created before then (they have all expired) without reading it.
pub fn ulid_floor(epoch_secs: i64) -> String {
    let millis = u64::try_from(epoch_secs.max(0)).unwrap_or_default() * 1000;
    Ulid::from_parts(millis, 0).to_string()
}

/// Stories created after this may still be active (one lifetime plus a minute of clock skew).
fn active_floor(now: i64) -> String {
    ulid_floor(now - STORY_LIFETIME_SECS - 60)
}

/// The author's active stories as the slots item holds them (`version` is `None` before the
/// item exists).
#[derive(Clone, Debug, Default)]
pub struct StorySlots {
    pub version: Option<i64>,
    pub active: BTreeMap<String, i64>,
}

/// What a capped create did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoryCreate {
    Created,
    /// The cap is reached; the oldest active story expires then.
    Full {
        oldest_expiry: i64,
    },
    /// Another create or delete moved the slots since they were read: read them again.
    LostRace,
}

/// What deleting a story needs to know, from one Query of its partition.
pub struct StoryPartition {
    pub story_id: String,
    pub author_id: String,
    pub media_key: String,
    pub expires_at: i64,
    /// Every key of the partition: the story and its views.
    pub keys: Vec<Key>,
}

impl Db {
    /// The author's story slots, read consistently (1 GetItem). An author whose slots item does
    /// not exist yet (stories from before the item) gets it seeded from the active stories
    /// (+ 1 Query).
    pub async fn story_slots(&self, author_id: &str, now: i64) -> ApiResult<StorySlots> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::story_slots(author_id).to_item()))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else {
            let query = self
                .active_stories_query(author_id, now)
                .select(Select::SpecificAttributes)
                .projection_expression("storyId, expiresAt");
            let active = self
                .query_all(query)
                .await?
                .iter()
                .filter_map(|item| {
                    Some((
                        string_attr(item, "storyId")?.to_string(),
                        item.get("expiresAt")?.as_n().ok()?.parse::<i64>().ok()?,
                    ))
                })
                .collect();
            return Ok(StorySlots {
                version: None,
                active,
            });
        };
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default();
        let active = match item.get("slots") {
            Some(AttributeValue::M(map)) => map
                .iter()
                .filter_map(|(id, v)| Some((id.clone(), v.as_n().ok()?.parse::<i64>().ok()?)))
                .filter(|(_, expires)| *expires > now)
                .collect(),
            _ => BTreeMap::new(),
        };
        Ok(StorySlots {
            version: Some(version),
            active,
        })
    }

    /// Stores a new story if the author has fewer than `max_active` active stories, atomically:
    /// 1 TransactWriteItems of the Put, a check that the author still exists, and the slots item
    /// rewritten (expired slots dropped, this one added) on the condition that its version is
    /// still the one `slots` was read at. `Err(401)` when the author's profile is gone.
    pub async fn create_story_in(
        &self,
        record: &StoryRecord,
        slots: &StorySlots,
        max_active: usize,
    ) -> ApiResult<StoryCreate> {
        if slots.active.len() >= max_active {
            return Ok(StoryCreate::Full {
                oldest_expiry: slots.active.values().copied().min().unwrap_or_default(),
            });
        }
        let mut item: Item = serde_dynamo::to_item(record)?;
        item.extend(keys::story(&record.story_id).to_item());
        item.insert(keys::GSI1PK.into(), s(keys::stories_by(&record.author_id)));
        item.insert(keys::GSI1SK.into(), s(&record.story_id));
        item.insert(keys::TTL.into(), n(record.expires_at));
        let author_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keys::user(&record.author_id).to_item()))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        let mut next: HashMap<String, AttributeValue> = slots
            .active
            .iter()
            .map(|(id, expires)| (id.clone(), n(expires)))
            .collect();
        next.insert(record.story_id.clone(), n(record.expires_at));
        let mut slots_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::story_slots(&record.author_id).to_item()))
            .update_expression("SET slots = :slots, version = :next")
            .expression_attribute_values(":slots", AttributeValue::M(next))
            .expression_attribute_values(":next", n(slots.version.unwrap_or_default() + 1));
        slots_update = match slots.version {
            Some(version) => slots_update
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(version)),
            None => slots_update.condition_expression("attribute_not_exists(version)"),
        };
        let writes = vec![
            put_new(&self.table, item)?,
            TransactWriteItem::builder()
                .condition_check(author_exists)
                .build(),
            TransactWriteItem::builder()
                .update(slots_update.build()?)
                .build(),
        ];
        match self.transact_with_reasons(writes).await? {
            None => Ok(StoryCreate::Created),
            Some(reasons) if failed_at(&reasons, 1) => {
                Err(ApiError::unauthorized("Unauthorized - Invalid token"))
            }
            Some(reasons) if failed_at(&reasons, 2) => Ok(StoryCreate::LostRace),
            Some(_) => Err(ApiError::conflict(
                "The story could not be stored; try again",
            )),
        }
    }

    /// Stores a story with no cap (fixtures and tools), keeping the slots item exact.
    pub async fn create_story(&self, record: &StoryRecord) -> ApiResult<()> {
        for _ in 0..8 {
            let now = crate::time::now_epoch();
            let slots = self.story_slots(&record.author_id, now).await?;
            if let StoryCreate::Created = self.create_story_in(record, &slots, usize::MAX).await? {
                return Ok(());
            }
        }
        Err(ApiError::conflict(
            "The story could not be stored; try again",
        ))
    }

    /// Frees the slots of deleted stories: 1 UpdateItem per author (the version moves, so a
    /// create that read the slots before fails its condition and re-reads).
    pub async fn free_story_slots(&self, author_id: &str, story_ids: &[String]) -> ApiResult<()> {
        if story_ids.is_empty() {
            return Ok(());
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::story_slots(author_id).to_item()))
            .condition_expression("attribute_exists(version)")
            .expression_attribute_values(":one", n(1));
        let mut removals = Vec::with_capacity(story_ids.len());
        for (i, id) in story_ids.iter().enumerate() {
            removals.push(format!("slots.#s{i}"));
            update = update.expression_attribute_names(format!("#s{i}"), id);
        }
        let result = update
            .update_expression(format!("REMOVE {} ADD version :one", removals.join(", ")))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // No slots item: nothing to free.
            Err(err) if super::is_condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// One story, read consistently, expired or not: 1 GetItem.
    pub async fn get_story(&self, story_id: &str) -> ApiResult<Option<StoryRecord>> {
        if story_id.parse::<Ulid>().is_err() {
            return Ok(None);
        }
        self.get_record(&keys::story(story_id)).await
    }

    /// The author's active story items, oldest first: 1 Query of GSI1 `STORIESBY#<author>`
    /// bounded by key to the last lifetime and filtered on `expiresAt` (paged per MB).
    fn active_stories_query(&self, author_id: &str, now: i64) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk AND #sk > :since")
            .filter_expression("expiresAt > :now")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_names("#sk", keys::GSI1SK)
            .expression_attribute_values(":pk", s(keys::stories_by(author_id)))
            .expression_attribute_values(":since", s(active_floor(now)))
            .expression_attribute_values(":now", n(now))
            .scan_index_forward(true)
    }

    /// The author's active stories, oldest first: 1 Query.
    pub async fn active_stories_of(
        &self,
        author_id: &str,
        now: i64,
    ) -> ApiResult<Vec<StoryRecord>> {
        let items = self
            .query_all(self.active_stories_query(author_id, now))
            .await?;
        Ok(serde_dynamo::from_items(items)?)
    }

    /// When each of the author's active stories expires (only `expiresAt` read): 1 Query.
    pub async fn active_story_expiries(&self, author_id: &str, now: i64) -> ApiResult<Vec<i64>> {
        let query = self
            .active_stories_query(author_id, now)
            .select(Select::SpecificAttributes)
            .projection_expression("expiresAt");
        let items = self.query_all(query).await?;
        Ok(items
            .iter()
            .filter_map(|item| item.get("expiresAt"))
            .filter_map(|v| v.as_n().ok())
            .filter_map(|v| v.parse::<i64>().ok())
            .collect())
    }

    /// The active stories of many authors: 1 Query each, 16 at a time. Authors without active
    /// stories are left out.
    pub async fn active_stories_of_many(
        &self,
        authors: &[String],
        now: i64,
    ) -> ApiResult<Vec<(String, Vec<StoryRecord>)>> {
        let queries: Vec<_> = authors
            .iter()
            .cloned()
            .map(|author| async move {
                let stories = self.active_stories_of(&author, now).await?;
                Ok::<_, ApiError>((author, stories))
            })
            .collect();
        let per_author: Vec<(String, Vec<StoryRecord>)> = stream::iter(queries)
            .buffer_unordered(TRAY_PARALLEL_QUERIES)
            .try_collect()
            .await?;
        Ok(per_author
            .into_iter()
            .filter(|(_, stories)| !stories.is_empty())
            .collect())
    }

    /// Counts `viewer` once: Put the view (`attribute_not_exists`) and `ADD viewCount 1` on the
    /// story (which must exist and be active) in 1 TransactWriteItems. `Ok(false)` when the
    /// viewer had already been counted; 404 when the story is gone.
    pub async fn record_story_view(
        &self,
        story: &StoryRecord,
        viewer_id: &str,
        now: i64,
    ) -> ApiResult<bool> {
        let id = &story.story_id;
        let mut view = keys::story_view(id, viewer_id).to_item();
        view.insert(keys::GSI1PK.into(), s(keys::story_viewers(id)));
        view.insert(keys::GSI1SK.into(), s(Ulid::new().to_string()));
        view.insert("storyId".into(), s(id));
        view.insert("viewerId".into(), s(viewer_id));
        view.insert("viewedAt".into(), s(now_rfc3339()));
        view.insert(keys::TTL.into(), n(story.expires_at));
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::story(id).to_item()))
            .condition_expression("attribute_exists(PK) AND expiresAt > :now")
            .update_expression("ADD viewCount :one")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .build()?;
        let writes = vec![
            put_new(&self.table, view)?,
            TransactWriteItem::builder().update(count).build(),
        ];
        match self.transact_with_reasons(writes).await? {
            None => Ok(true),
            Some(reasons) if failed_at(&reasons, 1) => Err(ApiError::not_found("Story not found")),
            Some(_) => Ok(false),
        }
    }

    /// The story's exact view count, read consistently: 1 GetItem.
    pub async fn story_view_count(&self, story_id: &str) -> ApiResult<i64> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::story(story_id).to_item()))
            .projection_expression("viewCount")
            .consistent_read(true)
            .send()
            .await?;
        Ok(out
            .item
            .as_ref()
            .and_then(|item| item.get("viewCount"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_default())
    }

    /// Every key of a story's partition with the story's owner, media and expiry: 1 Query
    /// (paged per MB). `None` when the story item does not exist.
    pub async fn story_partition(&self, story_id: &str) -> ApiResult<Option<StoryPartition>> {
        if story_id.parse::<Ulid>().is_err() {
            return Ok(None);
        }
        let story_key = keys::story(story_id);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::story_pk(story_id)))
            .projection_expression("PK, SK, authorId, mediaKey, expiresAt")
            .consistent_read(true);
        let items = self.query_all(query).await?;
        let story = items
            .iter()
            .find(|item| Key::of_item(item).as_ref() == Some(&story_key))
            .map(|item| {
                (
                    string_attr(item, "authorId")
                        .unwrap_or_default()
                        .to_string(),
                    string_attr(item, "mediaKey")
                        .unwrap_or_default()
                        .to_string(),
                    item.get("expiresAt")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or_default(),
                )
            });
        let found: Vec<Key> = items.iter().filter_map(Key::of_item).collect();
        Ok(
            story.map(|(author_id, media_key, expires_at)| StoryPartition {
                story_id: story_id.to_string(),
                author_id,
                media_key,
                expires_at,
                keys: found,
            }),
        )
    }

    /// Every story of the author, active or expired-but-not-yet-deleted (`storyId`, `mediaKey`):
    /// 1 Query of GSI1 (paged per MB).
    pub async fn all_stories_of(&self, author_id: &str) -> ApiResult<Vec<(String, String)>> {
        let items = self
            .gsi1_items(&keys::stories_by(author_id), &["storyId", "mediaKey"])
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                Some((
                    string_attr(item, "storyId")?.to_string(),
                    string_attr(item, "mediaKey")?.to_string(),
                ))
            })
            .collect())
    }

    /// Removes stories with their views: 1 Query per story (8 at a time) and 1 BatchWriteItem
    /// per 25 keys. Answers how many stories were removed.
    pub async fn delete_stories(&self, story_ids: &[String]) -> ApiResult<usize> {
        let reads: Vec<_> = story_ids
            .iter()
            .cloned()
            .map(|id| async move { self.story_partition(&id).await })
            .collect();
        let partitions: Vec<Option<StoryPartition>> = stream::iter(reads)
            .buffer_unordered(PARALLEL_DELETES)
            .try_collect()
            .await?;
        let keys: Vec<Key> = partitions
            .iter()
            .flatten()
            .flat_map(|p| p.keys.iter().cloned())
            .collect();
        self.delete_keys(&keys).await?;
        let mut by_author: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for partition in partitions.iter().flatten() {
            by_author
                .entry(partition.author_id.as_str())
                .or_default()
                .push(partition.story_id.clone());
        }
        for (author, ids) in &by_author {
            self.free_story_slots(author, ids).await?;
        }
        Ok(partitions.iter().flatten().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_ulid_sorts_before_every_later_story() {
        let floor = ulid_floor(1_800_000_000);
        let later = Ulid::from_parts(1_800_000_000_000, 1).to_string();
        let earlier = Ulid::from_parts(1_799_999_999_999, u128::MAX >> 48).to_string();
        assert!(floor < later);
        assert!(earlier < floor);
    }
}
