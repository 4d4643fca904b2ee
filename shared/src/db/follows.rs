//! The follow graph. An edge is two items written together (`following` in the follower's
//! partition, `follower` in the followee's) with both profile counters, in one transaction whose
//! conditions make repeats harmless and keep the counts exact under concurrency.
//! Private accounts get a pending request instead (plus the requester's copy of it).

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use serde::Serialize;
use ulid::Ulid;

use super::keys::{self, Key};
use super::listing::{contains_key, string_attr};
use super::{cancellation_reasons, n, s, Db, Item};
use crate::error::{ApiError, ApiResult};
use crate::time::now_rfc3339;

/// Where the viewer stands with an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowStatus {
    #[default]
    None,
    Requested,
    Following,
}

/// Profiles that have ever had a follower carry this GSI partition value, so the
/// `PopularIndex` (sorted by `followersCount`) lists the most followed accounts without a Scan.
pub const POPULAR_INDEX: &str = "PopularIndex";
pub const POPULAR_SHARD_ATTR: &str = "popularShard";
/// Write sharding of the popular index: every follow touches it.
pub const POPULAR_SHARDS: u32 = 4;

pub fn popular_shard_of(user_id: &str) -> String {
    let sum: u32 = user_id.bytes().map(u32::from).sum();
    format!("POPULAR#{}", sum % POPULAR_SHARDS)
}

const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const CONFLICT: &str = "TransactionConflict";
/// Attempts for a transaction that lost a race with another one touching the same counter.
const CONFLICT_ATTEMPTS: u32 = 12;

fn failed(reasons: &[String], index: usize) -> bool {
    reasons.get(index).is_some_and(|r| r == CONDITION_FAILED)
}

pub(crate) fn put_new(table: &str, item: Item) -> ApiResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(crate) fn put_any(table: &str, item: Item) -> ApiResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(crate) fn delete_existing(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .condition_expression("attribute_exists(PK)")
        .build()?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

pub(crate) fn delete_any(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .build()?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

fn absent(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .condition_expression("attribute_not_exists(PK)")
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// `ADD <counter> :delta` on an existing profile. A followee also joins the popular index.
fn add_to_counter(
    table: &str,
    user_id: &str,
    counter: &str,
    delta: i64,
    only_if_public: bool,
) -> ApiResult<TransactWriteItem> {
    let mut condition = "attribute_exists(PK)".to_string();
    if only_if_public {
        condition.push_str(" AND (attribute_not_exists(isPrivate) OR isPrivate = :false)");
    }
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(keys::user(user_id).to_item()))
        .condition_expression(condition)
        .expression_attribute_names("#counter", counter)
        .expression_attribute_values(":delta", n(delta));
    if counter == "followersCount" {
        update = update
            .update_expression("ADD #counter :delta SET #shard = :shard")
            .expression_attribute_names("#shard", POPULAR_SHARD_ATTR)
            .expression_attribute_values(":shard", s(popular_shard_of(user_id)));
    } else {
        update = update.update_expression("ADD #counter :delta");
    }
    if only_if_public {
        update = update.expression_attribute_values(":false", AttributeValue::Bool(false));
    }
    Ok(TransactWriteItem::builder().update(update.build()?).build())
}

/// Both counters of a user losing a mutual follow (each side followed the other).
fn mutual_edge_counters(table: &str, user_id: &str) -> ApiResult<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(keys::user(user_id).to_item()))
        .condition_expression("attribute_exists(PK)")
        .update_expression("ADD followersCount :minus, followingCount :minus")
        .expression_attribute_values(":minus", n(-1))
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The two items of the edge `follower -> followee`.
fn edge_items(follower: &str, followee: &str) -> (Item, Item) {
    let edge_id = Ulid::new().to_string();
    let now = now_rfc3339();
    let item = |key: Key, list: String| {
        let mut item = key.to_item();
        item.insert(keys::GSI1PK.into(), s(list));
        item.insert(keys::GSI1SK.into(), s(&edge_id));
        item.insert("followerId".into(), s(follower));
        item.insert("followeeId".into(), s(followee));
        item.insert("createdAt".into(), s(&now));
        item
    };
    (
        item(
            keys::following(follower, followee),
            keys::following_list(follower),
        ),
        item(
            keys::follower(followee, follower),
            keys::followers_list(followee),
        ),
    )
}

/// Writes that remove the edge `follower -> followee` (which must exist) and fix both counters.
pub(crate) fn edge_removal(
    table: &str,
    follower: &str,
    followee: &str,
) -> ApiResult<Vec<TransactWriteItem>> {
    Ok(vec![
        delete_existing(table, &keys::following(follower, followee))?,
        delete_existing(table, &keys::follower(followee, follower))?,
        add_to_counter(table, follower, "followingCount", -1, false)?,
        add_to_counter(table, followee, "followersCount", -1, false)?,
    ])
}

/// Deletes of a pending request `requester -> owner` and the requester's copy (either may be absent).
pub(crate) fn request_removal(
    table: &str,
    owner: &str,
    requester: &str,
) -> ApiResult<Vec<TransactWriteItem>> {
    Ok(vec![
        delete_any(table, &keys::follow_request(owner, requester))?,
        delete_any(table, &keys::sent_follow_request(requester, owner))?,
    ])
}

impl Db {
    /// Runs a transaction, retrying when it lost a race with another transaction.
    /// `Ok(None)` when it committed, `Ok(Some(reasons))` when a condition failed.
    pub async fn transact_with_reasons(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> ApiResult<Option<Vec<String>>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(None),
                Err(err) => err,
            };
            match cancellation_reasons(&err) {
                Some(reasons) if reasons.iter().any(|r| r == CONDITION_FAILED) => {
                    return Ok(Some(reasons))
                }
                Some(reasons)
                    if reasons.iter().any(|r| r == CONFLICT) && attempt < CONFLICT_ATTEMPTS =>
                {
                    let jitter = u64::from(rand::random::<u8>() % 20);
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt) + jitter))
                        .await;
                }
                _ => {
                    if attempt < CONFLICT_ATTEMPTS && is_conflict_error(&err) {
                        tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                        continue;
                    }
                    return Err(err.into());
                }
            }
        }
    }

    /// `follower` follows `followee` (public) or asks to (private). Idempotent.
    /// A public account costs 1 TransactWriteItems; a private one 1 more GetItem and transaction.
    pub async fn follow(&self, follower: &str, followee: &str) -> ApiResult<FollowStatus> {
        Ok(self.follow_changed(follower, followee).await?.0)
    }

    /// `follow`, also telling whether this call changed anything (a new edge or a new request),
    /// so a repeat does not notify again.
    pub async fn follow_changed(
        &self,
        follower: &str,
        followee: &str,
    ) -> ApiResult<(FollowStatus, bool)> {
        if follower == followee {
            return Err(ApiError::invalid_field(
                "userId",
                "You cannot follow yourself",
            ));
        }
        for _ in 0..3 {
            let (following_item, follower_item) = edge_items(follower, followee);
            let writes = vec![
                put_new(&self.table, following_item)?,
                put_new(&self.table, follower_item)?,
                add_to_counter(&self.table, follower, "followingCount", 1, false)?,
                add_to_counter(&self.table, followee, "followersCount", 1, true)?,
                absent(&self.table, &keys::block(follower, followee))?,
                absent(&self.table, &keys::block(followee, follower))?,
            ];
            let Some(reasons) = self.transact_with_reasons(writes).await? else {
                return Ok((FollowStatus::Following, true));
            };
            if failed(&reasons, 0) || failed(&reasons, 1) {
                return Ok((FollowStatus::Following, false));
            }
            if failed(&reasons, 4) || failed(&reasons, 5) {
                return Err(ApiError::forbidden("You cannot follow this user"));
            }
            if failed(&reasons, 2) {
                return Err(ApiError::unauthorized("Unauthorized - Invalid token"));
            }
            // The followee is missing or private.
            let target = self
                .get_user(followee)
                .await?
                .ok_or_else(|| ApiError::not_found("User not found"))?;
            if !target.is_private {
                continue; // It turned public meanwhile: follow again.
            }
            match self.request_follow(follower, followee).await? {
                Some(outcome) => return Ok(outcome),
                None => continue, // It turned public meanwhile.
            }
        }
        Err(ApiError::conflict(
            "The account changed while following; try again",
        ))
    }

    /// A pending request to a private account; `None` when the account is no longer private.
    async fn request_follow(
        &self,
        requester: &str,
        owner: &str,
    ) -> ApiResult<Option<(FollowStatus, bool)>> {
        let now = now_rfc3339();
        let mut request = keys::follow_request(owner, requester).to_item();
        request.insert(keys::GSI1PK.into(), s(keys::follow_requests_list(owner)));
        request.insert(keys::GSI1SK.into(), s(Ulid::new().to_string()));
        request.insert("requesterId".into(), s(requester));
        request.insert("ownerId".into(), s(owner));
        request.insert("createdAt".into(), s(&now));
        let mut sent = keys::sent_follow_request(requester, owner).to_item();
        sent.insert("ownerId".into(), s(owner));
        sent.insert("createdAt".into(), s(&now));
        let still_private = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keys::user(owner).to_item()))
            .condition_expression("attribute_exists(PK) AND isPrivate = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .build()?;
        let writes = vec![
            put_new(&self.table, request)?,
            put_any(&self.table, sent)?,
            absent(&self.table, &keys::following(requester, owner))?,
            absent(&self.table, &keys::block(requester, owner))?,
            absent(&self.table, &keys::block(owner, requester))?,
            TransactWriteItem::builder()
                .condition_check(still_private)
                .build(),
        ];
        let Some(reasons) = self.transact_with_reasons(writes).await? else {
            return Ok(Some((FollowStatus::Requested, true)));
        };
        if failed(&reasons, 2) {
            Ok(Some((FollowStatus::Following, false)))
        } else if failed(&reasons, 3) || failed(&reasons, 4) {
            Err(ApiError::forbidden("You cannot follow this user"))
        } else if failed(&reasons, 0) {
            Ok(Some((FollowStatus::Requested, false)))
        } else {
            Ok(None)
        }
    }

    /// Unfollows, or withdraws a pending request. Idempotent: 1 transaction when following,
    /// otherwise 1 more to clear a request that may exist.
    pub async fn unfollow(&self, follower: &str, followee: &str) -> ApiResult<()> {
        if follower == followee {
            return Err(ApiError::invalid_field(
                "userId",
                "You cannot unfollow yourself",
            ));
        }
        let writes = edge_removal(&self.table, follower, followee)?;
        let Some(reasons) = self.transact_with_reasons(writes).await? else {
            return Ok(());
        };
        if failed(&reasons, 3) && !failed(&reasons, 0) && !failed(&reasons, 1) {
            // The followee's profile is gone (account deleted): drop the edge items alone.
            self.transact_with_reasons(vec![
                delete_any(&self.table, &keys::following(follower, followee))?,
                delete_any(&self.table, &keys::follower(followee, follower))?,
                add_to_counter(&self.table, follower, "followingCount", -1, false)?,
            ])
            .await?;
            return Ok(());
        }
        // Not following: withdraw a request if there is one.
        self.transact_with_reasons(request_removal(&self.table, followee, follower)?)
            .await?;
        Ok(())
    }

    /// The owner of a private account accepts `requester`: request gone, edge and counters in,
    /// 1 transaction. 404 when there is no such request.
    pub async fn accept_follow_request(&self, owner: &str, requester: &str) -> ApiResult<()> {
        // Nobody requests to follow themselves (and one transaction cannot touch the one
        // profile item twice): a 404 before any call.
        if owner == requester {
            return Err(ApiError::not_found("Follow request not found"));
        }
        let (mut following_item, follower_item) = edge_items(requester, owner);
        // Tells the stream this edge is an accepted request (`follow_accept`, not `follow`).
        following_item.insert("acceptedRequest".into(), AttributeValue::Bool(true));
        let writes = vec![
            delete_existing(&self.table, &keys::follow_request(owner, requester))?,
            delete_any(&self.table, &keys::sent_follow_request(requester, owner))?,
            put_new(&self.table, following_item)?,
            put_new(&self.table, follower_item)?,
            add_to_counter(&self.table, requester, "followingCount", 1, false)?,
            add_to_counter(&self.table, owner, "followersCount", 1, false)?,
        ];
        let Some(reasons) = self.transact_with_reasons(writes).await? else {
            return Ok(());
        };
        if failed(&reasons, 0) {
            return Err(ApiError::not_found("Follow request not found"));
        }
        // Already following, or the requester is gone: the request is all that is left to drop.
        self.transact_with_reasons(request_removal(&self.table, owner, requester)?)
            .await?;
        if failed(&reasons, 4) {
            return Err(ApiError::not_found("User not found"));
        }
        Ok(())
    }

    /// Drops a pending request. 404 when there is none.
    pub async fn reject_follow_request(&self, owner: &str, requester: &str) -> ApiResult<()> {
        let writes = vec![
            delete_existing(&self.table, &keys::follow_request(owner, requester))?,
            delete_any(&self.table, &keys::sent_follow_request(requester, owner))?,
        ];
        match self.transact_with_reasons(writes).await? {
            None => Ok(()),
            Some(_) => Err(ApiError::not_found("Follow request not found")),
        }
    }

    /// Does `follower` follow `followee`? 1 GetItem.
    pub async fn is_following(&self, follower: &str, followee: &str) -> ApiResult<bool> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::following(follower, followee).to_item()))
            .projection_expression("PK")
            .send()
            .await?;
        Ok(out.item.is_some())
    }

    /// Blocks `blocked`: the block item in, follow edges both ways and pending requests out, with
    /// the counters fixed. 1 BatchGetItem (what exists) + 1 TransactWriteItems. Idempotent.
    pub async fn block_user(&self, blocker: &str, blocked: &str) -> ApiResult<()> {
        if blocker == blocked {
            return Err(ApiError::invalid_field(
                "userId",
                "You cannot block yourself",
            ));
        }
        for _ in 0..3 {
            let profile = keys::user(blocked);
            let forward = keys::following(blocker, blocked);
            let backward = keys::following(blocked, blocker);
            let found = self
                .get_items(&[profile.clone(), forward.clone(), backward.clone()], true)
                .await?;
            if !contains_key(&found, &profile) {
                return Err(ApiError::not_found("User not found"));
            }
            let mut block = keys::block(blocker, blocked).to_item();
            block.insert("blockerId".into(), s(blocker));
            block.insert("blockedId".into(), s(blocked));
            block.insert("createdAt".into(), s(now_rfc3339()));
            let mut writes = vec![put_any(&self.table, block)?];
            let forward_exists = contains_key(&found, &forward);
            let backward_exists = contains_key(&found, &backward);
            match (forward_exists, backward_exists) {
                (true, false) => writes.extend(edge_removal(&self.table, blocker, blocked)?),
                (false, true) => writes.extend(edge_removal(&self.table, blocked, blocker)?),
                (true, true) => {
                    // Both edges: one update per profile (a transaction touches an item once).
                    for (a, b) in [(blocker, blocked), (blocked, blocker)] {
                        writes.push(delete_existing(&self.table, &keys::following(a, b))?);
                        writes.push(delete_existing(&self.table, &keys::follower(b, a))?);
                    }
                    writes.push(mutual_edge_counters(&self.table, blocker)?);
                    writes.push(mutual_edge_counters(&self.table, blocked)?);
                }
                (false, false) => {}
            }
            writes.extend(request_removal(&self.table, blocker, blocked)?);
            writes.extend(request_removal(&self.table, blocked, blocker)?);
            if self.transact_with_reasons(writes).await?.is_none() {
                return Ok(());
            }
            // An edge changed between the read and the write: look again.
        }
        Err(ApiError::conflict(
            "The follow graph changed while blocking; try again",
        ))
    }

    /// Removes a block. Idempotent: 1 DeleteItem.
    pub async fn unblock_user(&self, blocker: &str, blocked: &str) -> ApiResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::block(blocker, blocked).to_item()))
            .send()
            .await?;
        Ok(())
    }
}

/// The other user's id on a follow edge, request or block item, by the attribute that holds it.
pub fn item_user_id(item: &Item, attribute: &str) -> Option<String> {
    string_attr(item, attribute).map(str::to_string)
}

/// A transaction worth running again: it lost a race, or the service failed on its side
/// (a retried transaction is safe: every edge write is conditional).
fn is_conflict_error<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> bool {
    matches!(err, aws_smithy_runtime_api::client::result::SdkError::ServiceError(service)
        if service.err().code() == Some("TransactionConflictException")
            || service.raw().status().is_server_error())
}

impl Db {
    /// Removes the edge `follower -> followee` because one side's account is being deleted,
    /// fixing only the other user's counter. Safe to repeat.
    pub async fn remove_edge_of_deleted_user(
        &self,
        follower: &str,
        followee: &str,
        deleted_is_follower: bool,
    ) -> ApiResult<()> {
        let (other, counter) = if deleted_is_follower {
            (followee, "followersCount")
        } else {
            (follower, "followingCount")
        };
        let writes = vec![
            delete_existing(&self.table, &keys::following(follower, followee))?,
            delete_any(&self.table, &keys::follower(followee, follower))?,
            add_to_counter(&self.table, other, counter, -1, false)?,
        ];
        match self.transact_with_reasons(writes).await? {
            Some(reasons) if failed(&reasons, 2) && !failed(&reasons, 0) => {
                // The other account is gone too: only the items remain to drop.
                self.transact_with_reasons(vec![
                    delete_any(&self.table, &keys::following(follower, followee))?,
                    delete_any(&self.table, &keys::follower(followee, follower))?,
                ])
                .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
