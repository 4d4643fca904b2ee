//! Notifications. One item per (recipient, type, actor, target) in the recipient's partition, so a
//! repeat (like, unlike, like again) overwrites it instead of adding one; GSI1 lists them newest
//! first. The unread counter (`USER#<id>/NOTIFCOUNT`) moves in the same transaction as the item,
//! conditioned on the item's read state, so it stays exact under concurrency.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use super::follows::put_any;
use super::keys::{self, Key};
use super::posts::failed_at;
use super::{n, s, Db, Item};
use crate::error::ApiResult;
use crate::pagination::{encode_cursor, PageRequest, Start};

/// Notifications (and the actors' pointers to them) live 90 days.
pub const NOTIFICATION_TTL_SECONDS: i64 = 90 * 24 * 3600;
/// Notifications marked read per transaction by read-all (plus the counter).
const READ_ALL_PER_TRANSACTION: usize = 50;
/// Queries one list page may spend skipping filtered-out (other type, expired) items.
const MAX_LIST_QUERIES: usize = 8;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRecord {
    pub notification_id: String,
    pub recipient_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    #[serde(default)]
    pub is_read: bool,
    /// When it last happened (a repeat refreshes it).
    pub created_at: String,
    #[serde(default)]
    pub ttl: i64,
}

/// What storing a notification did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// New, or a read one made unread again: the counter went up by one.
    Counted,
    /// An unread one refreshed (newest again): the counter did not move.
    Refreshed,
    /// The two users block each other: nothing stored.
    Blocked,
}

fn absent(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .condition_expression("attribute_not_exists(PK)")
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

fn counter_update(table: &str, recipient: &str, delta: i64) -> ApiResult<TransactWriteItem> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(keys::notification_counter(recipient).to_item()))
        .update_expression("ADD unreadCount :delta")
        .expression_attribute_values(":delta", n(delta));
    if delta < 0 {
        update = update
            .condition_expression("unreadCount >= :least")
            .expression_attribute_values(":least", n(-delta));
    }
    Ok(TransactWriteItem::builder().update(update.build()?).build())
}

impl NotificationRecord {
    fn item(&self, activity: &str) -> ApiResult<Item> {
        let mut item: Item = serde_dynamo::to_item(self)?;
        item.extend(keys::notification(&self.recipient_id, &self.notification_id).to_item());
        item.insert(
            keys::GSI1PK.into(),
            s(keys::notifications_of(&self.recipient_id)),
        );
        item.insert(keys::GSI1SK.into(), s(activity));
        Ok(item)
    }
}

impl Db {
    /// Stores (or refreshes) a notification. New, or previously read: 1 TransactWriteItems
    /// (item, counter +1, the actor's pointer, both block edges checked absent). Already unread:
    /// 1 UpdateItem that refreshes it without counting (`refresh_first` tries that one first, for
    /// kinds that usually repeat while unread, such as messages).
    pub async fn store_notification(
        &self,
        record: &NotificationRecord,
        refresh_first: bool,
    ) -> ApiResult<Stored> {
        match self
            .store_notification_inner(record, refresh_first, None)
            .await?
        {
            Some(stored) => Ok(stored),
            None => Err(crate::error::ApiError::conflict(
                "The notification changed meanwhile",
            )),
        }
    }

    /// `store_notification` for a stream record: the `marker` (`keys::stream_marker`) is written
    /// in the same transaction as the notification (the refresh becomes a 2-item transaction),
    /// so a record processed twice stores, counts and refreshes once. `None` when the marker was
    /// already there: this record's write happened before.
    pub async fn store_notification_once(
        &self,
        record: &NotificationRecord,
        refresh_first: bool,
        marker: &Key,
    ) -> ApiResult<Option<Stored>> {
        self.store_notification_inner(record, refresh_first, Some(marker))
            .await
    }

    async fn store_notification_inner(
        &self,
        record: &NotificationRecord,
        refresh_first: bool,
        marker: Option<&Key>,
    ) -> ApiResult<Option<Stored>> {
        let mut try_refresh = refresh_first;
        for _ in 0..4 {
            let activity = ulid::Ulid::new().to_string();
            if try_refresh {
                match marker {
                    None => {
                        if self.refresh_notification(record, &activity).await? {
                            return Ok(Some(Stored::Refreshed));
                        }
                    }
                    Some(marker) => {
                        let writes = vec![
                            self.refresh_write(record, &activity)?,
                            marker_put(&self.table, marker)?,
                        ];
                        match self.transact_with_reasons(writes).await? {
                            None => return Ok(Some(Stored::Refreshed)),
                            Some(reasons) if failed_at(&reasons, 1) => return Ok(None),
                            Some(_) => {}
                        }
                    }
                }
            } else {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(record.item(&activity)?))
                    .condition_expression("attribute_not_exists(PK) OR isRead = :true")
                    .expression_attribute_values(":true", AttributeValue::Bool(true))
                    .build()?;
                let mut pointer = keys::notification_sent(
                    &record.actor_id,
                    &record.recipient_id,
                    &record.notification_id,
                )
                .to_item();
                pointer.insert("recipientId".into(), s(&record.recipient_id));
                pointer.insert("notificationId".into(), s(&record.notification_id));
                pointer.insert(keys::TTL.into(), n(record.ttl));
                let mut writes = vec![
                    TransactWriteItem::builder().put(put).build(),
                    counter_update(&self.table, &record.recipient_id, 1)?,
                    put_any(&self.table, pointer)?,
                    absent(
                        &self.table,
                        &keys::block(&record.recipient_id, &record.actor_id),
                    )?,
                    absent(
                        &self.table,
                        &keys::block(&record.actor_id, &record.recipient_id),
                    )?,
                ];
                if let Some(marker) = marker {
                    writes.push(marker_put(&self.table, marker)?);
                }
                match self.transact_with_reasons(writes).await? {
                    None => return Ok(Some(Stored::Counted)),
                    Some(reasons) if failed_at(&reasons, 5) => return Ok(None),
                    Some(reasons) if failed_at(&reasons, 3) || failed_at(&reasons, 4) => {
                        return Ok(Some(Stored::Blocked))
                    }
                    Some(_) => {}
                }
            }
            // The other shape applies: it exists unread (refresh), or it was read meanwhile (count).
            try_refresh = !try_refresh;
        }
        Err(crate::error::ApiError::conflict(
            "The notification changed meanwhile",
        ))
    }

    /// The refresh of an unread notification (newest again, new preview and expiry), conditioned
    /// on it being there unread.
    fn refresh_update(&self, record: &NotificationRecord, activity: &str) -> ApiResult<Update> {
        let expression = match record.preview {
            Some(_) => "SET createdAt = :at, #ttl = :ttl, #sk1 = :activity, preview = :preview",
            None => "SET createdAt = :at, #ttl = :ttl, #sk1 = :activity",
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(
                keys::notification(&record.recipient_id, &record.notification_id).to_item(),
            ))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK) AND isRead = :false")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#sk1", keys::GSI1SK)
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":at", s(&record.created_at))
            .expression_attribute_values(":ttl", n(record.ttl))
            .expression_attribute_values(":activity", s(activity));
        if let Some(preview) = &record.preview {
            update = update.expression_attribute_values(":preview", s(preview));
        }
        Ok(update.build()?)
    }

    /// The refresh as a transaction item.
    fn refresh_write(
        &self,
        record: &NotificationRecord,
        activity: &str,
    ) -> ApiResult<TransactWriteItem> {
        let update = self.refresh_update(record, activity)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Refreshes an unread notification in place. `false` when there is none unread.
    /// 1 UpdateItem.
    async fn refresh_notification(
        &self,
        record: &NotificationRecord,
        activity: &str,
    ) -> ApiResult<bool> {
        let update = self.refresh_update(record, activity)?;
        let request = self
            .client
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_string))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned());
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if super::is_condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// One page of a user's live notifications, newest first, optionally of one type:
    /// 1 Query on GSI1 (more only when filtered-out items fill a page, at most 8).
    pub async fn list_notifications(
        &self,
        recipient: &str,
        kind: Option<&str>,
        page: &PageRequest,
    ) -> ApiResult<(Vec<NotificationRecord>, Option<String>)> {
        let limit = page.limit as usize;
        let (skip, mut start_key) = match &page.start {
            Start::Offset(offset) => (*offset as usize, None),
            Start::After(key) => (0, Some(key.clone())),
        };
        let wanted = skip + limit + 1;
        let mut items: Vec<Item> = Vec::new();
        let mut filter = "#ttl > :now".to_string();
        if kind.is_some() {
            filter.push_str(" AND #type = :type");
        }
        for _ in 0..MAX_LIST_QUERIES {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .scan_index_forward(false)
                .key_condition_expression("#pk = :pk")
                .filter_expression(&filter)
                .expression_attribute_names("#pk", keys::GSI1PK)
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":pk", s(keys::notifications_of(recipient)))
                .expression_attribute_values(":now", n(crate::time::now_epoch()))
                .limit(i32::try_from(wanted - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take());
            if let Some(kind) = kind {
                query = query
                    .expression_attribute_names("#type", "type")
                    .expression_attribute_values(":type", s(kind));
            }
            let out = query.send().await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if items.len() < wanted => start_key = Some(key),
                _ => break,
            }
        }
        // A page cut short by the query budget still continues where it stopped.
        let has_more = items.len() > skip + limit || start_key.is_some();
        let page_items: Vec<Item> = items.into_iter().skip(skip).take(limit).collect();
        let next_cursor = match (has_more, page_items.last()) {
            (true, Some(last)) => {
                let key: Item = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK]
                    .iter()
                    .filter_map(|name| last.get(*name).map(|v| (name.to_string(), v.clone())))
                    .collect();
                Some(encode_cursor(&key))
            }
            (true, None) => start_key.as_ref().map(encode_cursor),
            _ => None,
        };
        let records = page_items
            .into_iter()
            .map(serde_dynamo::from_item)
            .collect::<Result<Vec<NotificationRecord>, _>>()?;
        Ok((records, next_cursor))
    }

    /// Marks one notification read and decrements the counter, in 1 TransactWriteItems that
    /// only applies while it is unread. `None` when the user has no such notification;
    /// `Some(false)` when it was already read (1 more GetItem tells the two apart).
    pub async fn mark_notification_read(
        &self,
        recipient: &str,
        notification_id: &str,
    ) -> ApiResult<Option<bool>> {
        let key = keys::notification(recipient, notification_id);
        let mark = |with_counter: bool| -> ApiResult<Vec<TransactWriteItem>> {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key.to_item()))
                .condition_expression("attribute_exists(PK) AND isRead = :false")
                .update_expression("SET isRead = :true")
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .build()?;
            let mut writes = vec![TransactWriteItem::builder().update(update).build()];
            if with_counter {
                writes.push(counter_update(&self.table, recipient, -1)?);
            }
            Ok(writes)
        };
        match self.transact_with_reasons(mark(true)?).await? {
            None => return Ok(Some(true)),
            Some(reasons) if !failed_at(&reasons, 0) => {
                // The counter is already at zero: mark the item alone.
                if self.transact_with_reasons(mark(false)?).await?.is_none() {
                    return Ok(Some(true));
                }
            }
            Some(_) => {}
        }
        let existing: Option<NotificationRecord> = self.get_record(&key).await?;
        Ok(existing.map(|_| false))
    }

    /// Marks every unread notification read: 1 Query of the partition (unread only), then
    /// 1 TransactWriteItems per 50 (each item conditioned on being unread, the counter
    /// decremented by exactly the number marked). Returns how many were marked.
    pub async fn mark_all_notifications_read(&self, recipient: &str) -> ApiResult<usize> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .filter_expression("isRead = :false")
            .projection_expression("#pk, #sk")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", s(keys::user_pk(recipient)))
            .expression_attribute_values(":prefix", s(keys::NOTIFICATION_PREFIX))
            .expression_attribute_values(":false", AttributeValue::Bool(false));
        let unread: Vec<Key> = self
            .query_all(query)
            .await?
            .iter()
            .filter_map(Key::of_item)
            .collect();
        let mut marked = 0;
        for chunk in unread.chunks(READ_ALL_PER_TRANSACTION) {
            let mut pending: Vec<Key> = chunk.to_vec();
            for _ in 0..4 {
                if pending.is_empty() {
                    break;
                }
                let mut writes = Vec::with_capacity(pending.len() + 1);
                for key in &pending {
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key.to_item()))
                        .condition_expression("attribute_exists(PK) AND isRead = :false")
                        .update_expression("SET isRead = :true")
                        .expression_attribute_values(":false", AttributeValue::Bool(false))
                        .expression_attribute_values(":true", AttributeValue::Bool(true))
                        .build()?;
                    writes.push(TransactWriteItem::builder().update(update).build());
                }
                let count = i64::try_from(pending.len()).unwrap_or(i64::MAX);
                // Without a floor here: the counter may already be lower (marked one by one).
                let counter = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(keys::notification_counter(recipient).to_item()))
                    .update_expression("ADD unreadCount :delta")
                    .expression_attribute_values(":delta", n(-count))
                    .build()?;
                writes.push(TransactWriteItem::builder().update(counter).build());
                match self.transact_with_reasons(writes).await? {
                    None => {
                        marked += pending.len();
                        break;
                    }
                    Some(reasons) => {
                        // Drop the ones someone else marked (or that expired away) and retry.
                        pending = pending
                            .into_iter()
                            .enumerate()
                            .filter(|(i, _)| !failed_at(&reasons, *i))
                            .map(|(_, key)| key)
                            .collect();
                    }
                }
            }
        }
        // Never below zero (a read-all racing mark-one cannot subtract twice: each item's
        // condition holds for one of them only).
        Ok(marked)
    }

    /// The user's unread-notification counter: 1 GetItem.
    pub async fn unread_notifications(&self, recipient: &str) -> ApiResult<i64> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::notification_counter(recipient).to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out
            .item
            .as_ref()
            .and_then(|item| item.get("unreadCount"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
            .max(0))
    }

    /// Removes a notification an actor caused in someone else's partition (account deletion,
    /// blocks), taking it off their unread counter when it was unread. Safe to repeat.
    pub async fn remove_sent_notification(
        &self,
        recipient: &str,
        notification_id: &str,
    ) -> ApiResult<()> {
        let key = keys::notification(recipient, notification_id);
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression("attribute_exists(PK) AND isRead = :false")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()?;
        let writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            counter_update(&self.table, recipient, -1)?,
        ];
        if self.transact_with_reasons(writes).await?.is_some() {
            // Read (or already gone), or the counter is at zero: the item alone.
            self.delete_keys(&[key]).await?;
        }
        Ok(())
    }
}

impl Db {
    /// Takes back a notification for a stream record (an unlike, say): the notification off the
    /// unread counter when it was unread, and the actor's pointer, with the record's `marker` in
    /// the same transaction, so a replay (after a later like stored it again) removes nothing.
    /// 1 TransactWriteItems (2 when it was read or is gone). Safe to repeat.
    pub async fn remove_sent_notification_once(
        &self,
        recipient: &str,
        actor: &str,
        notification_id: &str,
        marker: &Key,
    ) -> ApiResult<()> {
        let key = keys::notification(recipient, notification_id);
        let pointer = keys::notification_sent(actor, recipient, notification_id);
        let unread = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression("attribute_exists(PK) AND isRead = :false")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()?;
        let writes = vec![
            TransactWriteItem::builder().delete(unread).build(),
            counter_update(&self.table, recipient, -1)?,
            super::follows::delete_any(&self.table, &pointer)?,
            marker_put(&self.table, marker)?,
        ];
        match self.transact_with_reasons(writes).await? {
            None => return Ok(()),
            Some(reasons) if failed_at(&reasons, 3) => return Ok(()),
            Some(_) => {}
        }
        // Read (or already gone), or the counter is at zero: the item alone.
        let writes = vec![
            super::follows::delete_any(&self.table, &key)?,
            super::follows::delete_any(&self.table, &pointer)?,
            marker_put(&self.table, marker)?,
        ];
        self.transact_with_reasons(writes).await?;
        Ok(())
    }
}

/// Markers outlive the stream's 24-hour retention, after which no record can come back.
pub const MARKER_TTL_SECONDS: i64 = 2 * 24 * 3600;

/// The stream record's marker, written only if absent (its failure means "done before").
fn marker_put(table: &str, marker: &Key) -> ApiResult<TransactWriteItem> {
    let mut item = marker.to_item();
    item.insert(
        keys::TTL.into(),
        n(crate::time::now_epoch() + MARKER_TTL_SECONDS),
    );
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// `(recipient, notification id)` of the actor's pointers, from their sort keys.
pub fn sent_pointers(pointer_keys: &[Key]) -> Vec<(String, String)> {
    pointer_keys
        .iter()
        .filter_map(|key| {
            let rest = key.sk.strip_prefix(keys::NOTIFICATION_SENT_PREFIX)?;
            let (recipient, id) = rest.split_once('#')?;
            Some((recipient.to_string(), id.to_string()))
        })
        .collect()
}
