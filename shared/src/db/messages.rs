//! Direct messages: `CONV#<conversation>` / `MSG#<ULID>` (newest first is a reverse Query), also on
//! GSI1 as `MSG#<id>` so the `/messages/:messageId` routes find one by id. Every write that changes
//! what is unread moves the counters in the same transaction, conditioned so they stay exact.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use super::keys;
use super::throttle::BudgetSpend;
use super::{cancellation_reasons, n, s, Db, Item};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, Start};

pub const MESSAGE_TYPE_TEXT: &str = "text";
pub const MESSAGE_TYPE_IMAGE: &str = "image";
/// A transaction holds at most 100 items; two of them are the unread counters.
const MAX_MESSAGES_PER_TRANSACTION: usize = 98;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub id: String,
    pub conversation_id: String,
    pub sender_id: String,
    pub recipient_id: String,
    pub message_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_key: Option<String>,
    #[serde(default)]
    pub is_read: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<String>,
    pub created_at: String,
}

/// Why a send was refused by the transaction's conditions.
#[derive(Debug, PartialEq, Eq)]
pub enum SendRefusal {
    /// The sender or the recipient is not a participant of that conversation.
    NotParticipant,
    Blocked,
    /// The sender's message budget (counted in the transaction) is spent.
    Budget,
}

/// One page of a Query: `Start::After` continues from a cursor; an offset first walks the keys
/// only (no item bodies) to find where the page starts.
pub(crate) async fn query_page(
    query: QueryFluentBuilder,
    page: &PageRequest,
    key_projection: &str,
) -> ApiResult<(Vec<Item>, Option<Item>)> {
    let start = match &page.start {
        Start::After(key) => Some(key.clone()),
        Start::Offset(0) => None,
        Start::Offset(skip) => {
            let mut remaining = i64::from(*skip);
            let mut start: Option<Item> = None;
            while remaining > 0 {
                let out = query
                    .clone()
                    .limit(i32::try_from(remaining.min(1000)).unwrap_or(1000))
                    .projection_expression(key_projection)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await?;
                remaining -= i64::from(out.count);
                match out.last_evaluated_key {
                    Some(key) => start = Some(key),
                    None => return Ok((Vec::new(), None)),
                }
            }
            start
        }
    };
    let out = query
        .limit(i32::try_from(page.limit).unwrap_or(100))
        .set_exclusive_start_key(start)
        .send()
        .await?;
    Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
}

fn update(table: &str) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    Update::builder().table_name(table)
}

fn item(update: Update) -> TransactWriteItem {
    TransactWriteItem::builder().update(update).build()
}

/// Messages read at most while looking for a conversation's unread ones.
const MAX_UNREAD_SCANNED: i32 = 1000;

impl Db {
    /// Ids of the newest messages to `recipient_id` in the conversation that are still unread,
    /// at most `want` (the membership's unread count, which says how many there are), reading
    /// at most `MAX_UNREAD_SCANNED` keys newest first (unread messages are the newest).
    pub async fn unread_message_ids(
        &self,
        conversation_id: &str,
        recipient_id: &str,
        want: usize,
    ) -> ApiResult<Vec<String>> {
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        let mut scanned = 0;
        while ids.len() < want && scanned < MAX_UNREAD_SCANNED {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :msg)")
                .filter_expression("recipientId = :me AND isRead = :f")
                .expression_attribute_values(":pk", s(keys::conversation_pk(conversation_id)))
                .expression_attribute_values(":msg", s(keys::MESSAGE_PREFIX))
                .expression_attribute_values(":me", s(recipient_id))
                .expression_attribute_values(":f", AttributeValue::Bool(false))
                .projection_expression("SK")
                .scan_index_forward(false)
                .limit(200)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            scanned += out.scanned_count;
            for item in out.items.unwrap_or_default() {
                let id = item
                    .get(keys::SK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| sk.strip_prefix(keys::MESSAGE_PREFIX));
                if let (Some(id), true) = (id, ids.len() < want) {
                    ids.push(id.to_string());
                }
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(ids)
    }

    /// Stores the message, moves both memberships (last message, activity, counts) and the
    /// recipient's unread counters, checks participation and blocks, and counts `budget` (the
    /// sender's rate limit, when the caller did not take it before): 1 TransactWriteItems.
    pub async fn send_message(
        &self,
        message: &MessageRecord,
        budget: Option<&BudgetSpend>,
    ) -> ApiResult<Result<(), SendRefusal>> {
        let mut stored: Item = serde_dynamo::to_item(message)?;
        stored.extend(keys::message(&message.conversation_id, &message.id).to_item());
        stored.insert(keys::GSI1PK.into(), s(keys::message_by_id(&message.id)));
        stored.insert(keys::GSI1SK.into(), s("MESSAGE"));
        let snapshot = serde_dynamo::to_attribute_value::<_, AttributeValue>(message)?;
        let activity = s(keys::conversation_activity(&message.id));
        let membership_update = |user: &str, other: &str, unread: bool| {
            let expression = if unread {
                "SET lastMessage = :m, lastMessageAt = :at, GSI1SK = :act ADD messagesCount :one, unreadCount :one"
            } else {
                "SET lastMessage = :m, lastMessageAt = :at, GSI1SK = :act ADD messagesCount :one"
            };
            update(&self.table)
                .set_key(Some(
                    keys::conversation_member(user, &message.conversation_id).to_item(),
                ))
                .update_expression(expression)
                .condition_expression("attribute_exists(PK) AND otherUserId = :other")
                .expression_attribute_values(":m", snapshot.clone())
                .expression_attribute_values(":at", s(&message.created_at))
                .expression_attribute_values(":act", activity.clone())
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":other", s(other))
                .build()
        };
        let absent = |key: keys::Key| {
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key.to_item()))
                .condition_expression("attribute_not_exists(PK)")
                .build()
        };
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(stored))
                        .condition_expression("attribute_not_exists(PK)")
                        .build()?,
                )
                .build(),
            item(membership_update(
                &message.sender_id,
                &message.recipient_id,
                false,
            )?),
            item(membership_update(
                &message.recipient_id,
                &message.sender_id,
                true,
            )?),
            item(
                update(&self.table)
                    .set_key(Some(keys::inbox(&message.recipient_id).to_item()))
                    .update_expression("ADD unreadCount :one")
                    .expression_attribute_values(":one", n(1))
                    .build()?,
            ),
            TransactWriteItem::builder()
                .condition_check(absent(keys::block(
                    &message.sender_id,
                    &message.recipient_id,
                ))?)
                .build(),
            TransactWriteItem::builder()
                .condition_check(absent(keys::block(
                    &message.recipient_id,
                    &message.sender_id,
                ))?)
                .build(),
        ];
        // Last, so the indices above keep their meaning in the cancellation reasons.
        if let Some(budget) = budget {
            writes.push(item(budget.update(&self.table)?));
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(err) => {
                let failed = |i: usize, reasons: &[String]| {
                    reasons
                        .get(i)
                        .is_some_and(|r| r == "ConditionalCheckFailed")
                };
                match cancellation_reasons(&err) {
                    // A spent budget first: a refused sender learns nothing else.
                    Some(r) if budget.is_some() && failed(6, &r) => Ok(Err(SendRefusal::Budget)),
                    Some(r) if failed(4, &r) || failed(5, &r) => Ok(Err(SendRefusal::Blocked)),
                    Some(r) if failed(1, &r) || failed(2, &r) => {
                        Ok(Err(SendRefusal::NotParticipant))
                    }
                    _ => Err(err.into()),
                }
            }
        }
    }

    /// A page of a conversation's messages, newest first. 1 Query.
    pub async fn list_messages(
        &self,
        conversation_id: &str,
        page: &PageRequest,
    ) -> ApiResult<(Vec<MessageRecord>, Option<Item>)> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :msg)")
            .expression_attribute_values(":pk", s(keys::conversation_pk(conversation_id)))
            .expression_attribute_values(":msg", s(keys::MESSAGE_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true);
        let (items, last_key) = query_page(query, page, "PK, SK").await?;
        let messages = items
            .into_iter()
            .map(serde_dynamo::from_item)
            .collect::<Result<_, _>>()?;
        Ok((messages, last_key))
    }

    /// The newest message of a conversation, if any. 1 Query.
    pub async fn newest_message(&self, conversation_id: &str) -> ApiResult<Option<MessageRecord>> {
        let page = PageRequest {
            limit: 1,
            start: Start::Offset(0),
        };
        Ok(self
            .list_messages(conversation_id, &page)
            .await?
            .0
            .into_iter()
            .next())
    }

    /// A message by its id alone. 1 Query on GSI1.
    pub async fn find_message(&self, message_id: &str) -> ApiResult<Option<MessageRecord>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_values(":pk", s(keys::message_by_id(message_id)))
            .limit(1)
            .send()
            .await?;
        match out.items.unwrap_or_default().into_iter().next() {
            Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Marks the recipient's unread messages read and takes exactly that many off the
    /// conversation's and the inbox's unread counts, in one transaction per 98 messages.
    /// Messages someone else marked meanwhile are dropped and the rest retried, so nothing is
    /// counted twice. Returns the ids this call marked.
    pub async fn mark_messages_read(
        &self,
        recipient_id: &str,
        conversation_id: &str,
        message_ids: &[String],
        read_at: &str,
    ) -> ApiResult<Vec<String>> {
        let mut marked = Vec::new();
        for chunk in message_ids.chunks(MAX_MESSAGES_PER_TRANSACTION) {
            let mut pending: Vec<String> = chunk.to_vec();
            let mut with_counters = true;
            for _attempt in 0..4 {
                if pending.is_empty() {
                    break;
                }
                let count = i64::try_from(pending.len()).unwrap_or(i64::MAX);
                let mut writes = Vec::with_capacity(pending.len() + 2);
                for id in &pending {
                    writes.push(item(
                        update(&self.table)
                            .set_key(Some(keys::message(conversation_id, id).to_item()))
                            .update_expression("SET isRead = :t, readAt = :at")
                            .condition_expression(
                                "attribute_exists(PK) AND isRead = :f AND recipientId = :me",
                            )
                            .expression_attribute_values(":t", AttributeValue::Bool(true))
                            .expression_attribute_values(":f", AttributeValue::Bool(false))
                            .expression_attribute_values(":at", s(read_at))
                            .expression_attribute_values(":me", s(recipient_id))
                            .build()?,
                    ));
                }
                if with_counters {
                    for key in [
                        keys::conversation_member(recipient_id, conversation_id),
                        keys::inbox(recipient_id),
                    ] {
                        // Never below zero: the condition holds while the counters are exact.
                        writes.push(item(
                            update(&self.table)
                                .set_key(Some(key.to_item()))
                                .update_expression("ADD unreadCount :minus")
                                .condition_expression("unreadCount >= :count")
                                .expression_attribute_values(":minus", n(-count))
                                .expression_attribute_values(":count", n(count))
                                .build()?,
                        ));
                    }
                }
                match self
                    .client
                    .transact_write_items()
                    .set_transact_items(Some(writes))
                    .send()
                    .await
                {
                    Ok(_) => {
                        marked.append(&mut pending);
                        break;
                    }
                    Err(err) => {
                        let Some(reasons) = cancellation_reasons(&err) else {
                            return Err(err.into());
                        };
                        let failed = |r: &String| r == "ConditionalCheckFailed";
                        let still_unread: Vec<String> = pending
                            .iter()
                            .zip(&reasons)
                            .filter(|(_, r)| !failed(r))
                            .map(|(id, _)| id.clone())
                            .collect();
                        if still_unread.len() == pending.len() {
                            if reasons.iter().skip(pending.len()).any(failed) {
                                tracing::warn!(%recipient_id, %conversation_id, "unread counters lower than unread messages");
                                with_counters = false;
                            } else {
                                return Err(err.into());
                            }
                        }
                        pending = still_unread;
                    }
                }
            }
        }
        Ok(marked)
    }

    /// Deletes the sender's message and takes it off both conversation counts (and the unread
    /// counts when it was unread), in one transaction. `Ok(false)` when the message changed
    /// meanwhile (read, or already deleted): the caller reads it again.
    pub async fn delete_message(&self, message: &MessageRecord) -> ApiResult<bool> {
        let conversation = &message.conversation_id;
        let mut writes = vec![TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(keys::message(conversation, &message.id).to_item()))
                    .condition_expression("attribute_exists(PK) AND isRead = :seen")
                    .expression_attribute_values(":seen", AttributeValue::Bool(message.is_read))
                    .build()?,
            )
            .build()];
        writes.push(item(
            update(&self.table)
                .set_key(Some(
                    keys::conversation_member(&message.sender_id, conversation).to_item(),
                ))
                .update_expression("ADD messagesCount :minus")
                .expression_attribute_values(":minus", n(-1))
                .build()?,
        ));
        let recipient_expression = if message.is_read {
            "ADD messagesCount :minus"
        } else {
            "ADD messagesCount :minus, unreadCount :minus"
        };
        writes.push(item(
            update(&self.table)
                .set_key(Some(
                    keys::conversation_member(&message.recipient_id, conversation).to_item(),
                ))
                .update_expression(recipient_expression)
                .expression_attribute_values(":minus", n(-1))
                .build()?,
        ));
        if !message.is_read {
            writes.push(item(
                update(&self.table)
                    .set_key(Some(keys::inbox(&message.recipient_id).to_item()))
                    .update_expression("ADD unreadCount :minus")
                    .condition_expression("unreadCount > :zero")
                    .expression_attribute_values(":minus", n(-1))
                    .expression_attribute_values(":zero", n(0))
                    .build()?,
            ));
        }
        self.transact(writes).await
    }

    /// After an unsend: when the deleted message was the conversation's last one, both
    /// memberships show the newest remaining message instead (or none), together. Conditioned on
    /// the deleted id, so a message sent meanwhile is never overwritten.
    /// 1 Query (+ 1 TransactWriteItems when it was the last).
    pub async fn replace_last_message(&self, deleted: &MessageRecord) -> ApiResult<()> {
        let newest = self.newest_message(&deleted.conversation_id).await?;
        if newest.as_ref().is_some_and(|m| m.id > deleted.id) {
            return Ok(());
        }
        let replacement = match &newest {
            Some(message) => Some(serde_dynamo::to_attribute_value::<_, AttributeValue>(
                message,
            )?),
            None => None,
        };
        let mut writes = Vec::with_capacity(2);
        for user in [&deleted.sender_id, &deleted.recipient_id] {
            let request = update(&self.table)
                .set_key(Some(
                    keys::conversation_member(user, &deleted.conversation_id).to_item(),
                ))
                .condition_expression("lastMessage.#id = :deleted")
                .expression_attribute_names("#id", "id")
                .expression_attribute_values(":deleted", s(&deleted.id));
            let request = match &replacement {
                Some(message) => request
                    .update_expression("SET lastMessage = :m")
                    .expression_attribute_values(":m", message.clone()),
                None => request.update_expression("REMOVE lastMessage"),
            };
            writes.push(item(request.build()?));
        }
        // A failed condition means a newer message already took its place: nothing to do.
        self.transact(writes).await?;
        Ok(())
    }
}
