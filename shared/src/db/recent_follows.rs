//! Each user's newest followees, the seeds of friends-of-friends suggestions: one small item
//! `USER#<id>` / `RECENTFOLLOWS` with a map `followees` of follow-edge id (the edge's `GSI1SK`, a
//! ULID, so it sorts by time) → followee id, ≤ `KEPT` newest. The table's stream keeps it
//! (`fanout::suggestions`) from follow edge INSERTs and REMOVEs, with the same per-entry writes as
//! `db::recent_images`: an INSERT is written only while that very edge exists, a REMOVE drops only
//! that edge's entry, so replays and re-follows change nothing twice. Suggestions read the items of
//! my newest followees in one BatchGetItem instead of one Query per followee. An unfollow leaves
//! one fewer until the next follow (older followees are not brought back).

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck};

use super::keys;
use super::recent_images::map_entries;
use super::{Db, Item};
use crate::error::ApiResult;

/// Followees kept per user.
pub const KEPT: usize = 10;
const ATTRIBUTE: &str = "followees";

/// The followee ids of a `RECENTFOLLOWS` item, newest follow first (empty without the map).
pub fn followees_in(item: &Item) -> Vec<String> {
    map_entries(item, ATTRIBUTE)
        .map(|entries| entries.into_values().rev().collect())
        .unwrap_or_default()
}

impl Db {
    /// The edge `follower -> followee` (minted as `edge_id`) joins the follower's newest
    /// followees while it exists: 1 GetItem + 1 TransactWriteItems.
    pub async fn add_recent_follow(
        &self,
        follower: &str,
        followee: &str,
        edge_id: &str,
    ) -> ApiResult<()> {
        // That edge, not an older or newer one between the same two users.
        let edge_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keys::following(follower, followee).to_item()))
            .condition_expression("#edge = :edge")
            .expression_attribute_names("#edge", keys::GSI1SK)
            .expression_attribute_values(":edge", AttributeValue::S(edge_id.to_string()))
            .build()?;
        self.add_capped_entry(
            &keys::recent_follows(follower),
            ATTRIBUTE,
            KEPT,
            (edge_id, followee),
            edge_exists,
        )
        .await
    }

    /// The removed edge `edge_id` leaves the follower's newest followees: 1 UpdateItem.
    pub async fn remove_recent_follow(&self, follower: &str, edge_id: &str) -> ApiResult<()> {
        self.remove_capped_entry(&keys::recent_follows(follower), ATTRIBUTE, edge_id)
            .await
    }
}
