//! The most followed accounts, for suggestions: one item `POPULAR` / `ACCOUNTS` with `ids` (a
//! list, most followers first, ≤ `KEPT`) and `refreshedAt` (epoch seconds). The table's stream
//! rebuilds it from the four `PopularIndex` shards when a follower count changes, at most once per
//! `popular_refresh_seconds`: a conditional UpdateItem on `refreshedAt` claims the refresh, and
//! only the claimant reads the shards and writes the list (conditioned on its own claim, so a slow
//! claimant never overwrites a newer list). Follows themselves never write this item. The list is
//! up to a refresh interval stale; suggestions apply every exclusion from fresh reads anyway.

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::try_join_all;

use super::follows::{POPULAR_INDEX, POPULAR_SHARDS, POPULAR_SHARD_ATTR};
use super::keys;
use super::listing::string_attr;
use super::{is_condition_failed, n, s, Db, Item};
use crate::error::ApiResult;

/// Accounts kept on the item.
pub const KEPT: usize = 50;
const IDS: &str = "ids";
const REFRESHED_AT: &str = "refreshedAt";

/// The ids of a `POPULAR` item, most followed first (empty without the list).
pub fn popular_in(item: &Item) -> Vec<String> {
    match item.get(IDS) {
        Some(AttributeValue::L(ids)) => ids
            .iter()
            .filter_map(|id| id.as_s().ok().cloned())
            .take(KEPT)
            .collect(),
        _ => Vec::new(),
    }
}

impl Db {
    /// Claims the refresh due at `now` (epoch seconds) when the last one is at least
    /// `min_age_seconds` old: 1 UpdateItem. `false` when another claim is fresher.
    pub async fn claim_popular_refresh(&self, now: i64, min_age_seconds: i64) -> ApiResult<bool> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::popular_accounts().to_item()))
            .update_expression("SET #at = :now")
            .condition_expression("attribute_not_exists(#at) OR #at <= :stale")
            .expression_attribute_names("#at", REFRESHED_AT)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(now - min_age_seconds))
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Rebuilds the list under the claim made at `claimed_at`: 4 Queries (the shards, in
    /// parallel) + 1 UpdateItem, which a newer claim refuses.
    pub async fn refresh_popular(&self, claimed_at: i64) -> ApiResult<()> {
        let shards = try_join_all((0..POPULAR_SHARDS).map(|shard| {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(POPULAR_INDEX)
                .key_condition_expression("#shard = :shard")
                .expression_attribute_names("#shard", POPULAR_SHARD_ATTR)
                .expression_attribute_values(":shard", s(format!("POPULAR#{shard}")))
                .scan_index_forward(false)
                .limit(KEPT as i32)
                .send()
        }))
        .await?;
        let mut ranked: Vec<(i64, String)> = shards
            .iter()
            .flat_map(|out| out.items())
            .filter_map(|item| {
                let id = string_attr(item, keys::PK)?.strip_prefix("USER#")?;
                let followers = item.get("followersCount")?.as_n().ok()?.parse().ok()?;
                Some((followers, id.to_string()))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.truncate(KEPT);
        let ids: Vec<AttributeValue> = ranked.into_iter().map(|(_, id)| s(id)).collect();
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::popular_accounts().to_item()))
            .update_expression("SET #ids = :ids")
            .condition_expression("#at = :claimed")
            .expression_attribute_names("#ids", IDS)
            .expression_attribute_names("#at", REFRESHED_AT)
            .expression_attribute_values(":ids", AttributeValue::L(ids))
            .expression_attribute_values(":claimed", n(claimed_at))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Ok(()), // A newer claim writes its own.
            Err(err) => Err(err.into()),
        }
    }
}
