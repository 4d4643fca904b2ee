//! Search history: `USER#<id>` / `SEARCHHIST#<ulid>`, newest last in the partition, read newest
//! first, capped at `SEARCH_HISTORY_CAP` entries per user (the oldest are trimmed on add).

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::keys::{self, Key};
use super::listing::string_attr;
use super::{is_condition_failed, s, Db, Item};
use crate::error::{ApiError, ApiResult};
use crate::time::now_rfc3339;

pub const SEARCH_HISTORY_CAP: usize = 50;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHistoryRecord {
    pub id: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched_user_id: Option<String>,
    #[serde(default)]
    pub search_query: String,
    pub created_at: String,
}

impl Db {
    /// Stores an entry, then trims the oldest beyond the cap: 1 PutItem + 1 Query
    /// (+ 1 BatchWriteItem only when something is trimmed).
    pub async fn add_search_history(
        &self,
        user_id: &str,
        searched_user_id: Option<String>,
        search_query: String,
    ) -> ApiResult<SearchHistoryRecord> {
        let record = SearchHistoryRecord {
            id: Ulid::new().to_string(),
            user_id: user_id.to_string(),
            searched_user_id,
            search_query,
            created_at: now_rfc3339(),
        };
        let mut item: Item = serde_dynamo::to_item(&record)?;
        item.extend(keys::search_history(user_id, &record.id).to_item());
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::user_pk(user_id)))
            .expression_attribute_values(":prefix", s(keys::SEARCH_HISTORY_PREFIX))
            .scan_index_forward(false)
            .projection_expression("SK")
            .send()
            .await?;
        let surplus: Vec<Key> = out
            .items
            .unwrap_or_default()
            .iter()
            .skip(SEARCH_HISTORY_CAP)
            .filter_map(|item| string_attr(item, keys::SK))
            .filter_map(|sk| sk.strip_prefix(keys::SEARCH_HISTORY_PREFIX))
            .map(|id| keys::search_history(user_id, id))
            .collect();
        self.delete_keys(&surplus).await?;
        Ok(record)
    }

    /// Deletes one entry of the user's history; 404 when the user has no such entry.
    pub async fn delete_search_history(&self, user_id: &str, entry_id: &str) -> ApiResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::search_history(user_id, entry_id).to_item()))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await
            .map_err(|err| {
                if is_condition_failed(&err) {
                    ApiError::not_found("Search history entry not found")
                } else {
                    err.into()
                }
            })?;
        Ok(())
    }

    /// Every key of the user's partition whose sort key starts with `prefix` (all of them for "").
    pub async fn partition_keys(&self, user_id: &str, prefix: &str) -> ApiResult<Vec<Key>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(keys::user_pk(user_id)))
            .projection_expression("PK, SK");
        let query = if prefix.is_empty() {
            query.key_condition_expression("PK = :pk")
        } else {
            query
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
        };
        let items = self.query_all(query).await?;
        Ok(items.iter().filter_map(Key::of_item).collect())
    }

    /// What follows `prefix` in the sort keys of the user's partition (the other user's id of
    /// `FOLLOWING#<id>` edges, for instance): `partition_keys`, trimmed.
    pub async fn partition_ids(&self, user_id: &str, prefix: &str) -> ApiResult<Vec<String>> {
        let found = self.partition_keys(user_id, prefix).await?;
        Ok(found
            .iter()
            .filter_map(|key| key.sk.strip_prefix(prefix).map(str::to_string))
            .collect())
    }

    /// Deletes the user's whole search history: 1 Query (per 1 MB) + 1 BatchWriteItem per 25.
    pub async fn clear_search_history(&self, user_id: &str) -> ApiResult<()> {
        let entries = self
            .partition_keys(user_id, keys::SEARCH_HISTORY_PREFIX)
            .await?;
        self.delete_keys(&entries).await
    }
}
