//! Direct conversations. The id is derived from the sorted participant pair, so create-or-get
//! answers the same id whoever asks first, and a conditional put makes concurrent creations one.
//!
//! Items: `CONV#<id>` / `META` (participants); per participant `USER#<id>` / `CONVMEMBER#<conv>`
//! carrying `unreadCount`, `lastMessage`, `lastMessageAt` and, on GSI1, `CONVS#<user>` /
//! `ACT#<newest message id>` so the inbox is one Query, newest activity first; and per user
//! `USER#<id>` / `INBOX` with the total unread count.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{KeysAndAttributes, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys;
use super::messages::{query_page, MessageRecord};
use super::users::UserRecord;
use super::{n, s, Db, Item};
use crate::error::ApiResult;
use crate::pagination::PageRequest;

/// The one conversation between two users: a ULID-shaped id hashed from the sorted pair.
pub fn conversation_id_for(a: &str, b: &str) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::digest(format!("dm:{low}:{high}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ulid::Ulid::from(u128::from_be_bytes(bytes)).to_string()
}

/// One participant's side of a conversation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipRecord {
    pub conversation_id: String,
    pub user_id: String,
    pub other_user_id: String,
    #[serde(default)]
    pub unread_count: i64,
    #[serde(default)]
    pub messages_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessageRecord>,
    pub last_message_at: String,
    pub created_at: String,
}

/// The user's inbox counter: unread messages across all conversations.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inbox {
    #[serde(default)]
    pub unread_count: i64,
}

/// What create-or-get needs to know, read in one BatchGetItem.
pub struct ConversationLookup {
    pub other: Option<UserRecord>,
    pub blocked: bool,
    pub membership: Option<MembershipRecord>,
}

/// A page of a user's conversations.
pub struct MembershipPage {
    pub items: Vec<MembershipRecord>,
    pub last_key: Option<Item>,
}

impl Db {
    /// Creates the conversation and both memberships in one transaction of idempotent updates
    /// (`if_not_exists` everywhere, no condition that can fail): callers racing to create the same
    /// conversation both succeed and leave exactly one behind, and nothing an earlier creation or
    /// a first message wrote is overwritten. Answers `a`'s membership as a new conversation has it.
    pub async fn create_conversation(&self, a: &str, b: &str) -> ApiResult<MembershipRecord> {
        let conversation_id = conversation_id_for(a, b);
        let now = crate::time::now_rfc3339();
        // A fresh ULID sorts the new, still empty, conversation by its creation time.
        let activity = ulid::Ulid::new().to_string();
        let meta = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::conversation(&conversation_id).to_item()))
            .update_expression(
                "SET conversationId = :id, participants = if_not_exists(participants, :p), \
                 createdAt = if_not_exists(createdAt, :now)",
            )
            .expression_attribute_values(":id", s(&conversation_id))
            .expression_attribute_values(
                ":p",
                aws_sdk_dynamodb::types::AttributeValue::Ss(vec![a.to_string(), b.to_string()]),
            )
            .expression_attribute_values(":now", s(&now))
            .build()?;
        let mut writes = vec![TransactWriteItem::builder().update(meta).build()];
        for (me, other) in [(a, b), (b, a)] {
            let membership = Update::builder()
                .table_name(&self.table)
                .set_key(Some(
                    keys::conversation_member(me, &conversation_id).to_item(),
                ))
                .update_expression(
                    "SET conversationId = :id, userId = :me, otherUserId = :other, \
                     unreadCount = if_not_exists(unreadCount, :zero), \
                     messagesCount = if_not_exists(messagesCount, :zero), \
                     lastMessageAt = if_not_exists(lastMessageAt, :now), \
                     createdAt = if_not_exists(createdAt, :now), \
                     GSI1PK = :list, GSI1SK = if_not_exists(GSI1SK, :activity)",
                )
                .expression_attribute_values(":id", s(&conversation_id))
                .expression_attribute_values(":me", s(me))
                .expression_attribute_values(":other", s(other))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":now", s(&now))
                .expression_attribute_values(":list", s(keys::conversations_of(me)))
                .expression_attribute_values(":activity", s(keys::conversation_activity(&activity)))
                .build()?;
            writes.push(TransactWriteItem::builder().update(membership).build());
        }
        if !self.transact(writes).await? {
            return Err(crate::error::ApiError::internal(
                "conversation creation has no condition, yet one failed",
            ));
        }
        Ok(MembershipRecord {
            conversation_id,
            user_id: a.to_string(),
            other_user_id: b.to_string(),
            unread_count: 0,
            messages_count: 0,
            last_message: None,
            last_message_at: now.clone(),
            created_at: now,
        })
    }

    /// The other user, blocks either way and the caller's membership, in one BatchGetItem.
    pub async fn conversation_lookup(
        &self,
        me: &str,
        other: &str,
        conversation_id: &str,
    ) -> ApiResult<ConversationLookup> {
        let user_key = keys::user(other);
        let member_key = keys::conversation_member(me, conversation_id);
        let request = KeysAndAttributes::builder()
            .keys(user_key.to_item())
            .keys(keys::block(me, other).to_item())
            .keys(keys::block(other, me).to_item())
            .keys(member_key.to_item())
            .consistent_read(true)
            .build()?;
        let items = self.batch_get_all(request).await?;
        let mut lookup = ConversationLookup {
            other: None,
            blocked: false,
            membership: None,
        };
        for item in items {
            let sk = item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned();
            match sk.as_deref() {
                Some(sk) if sk == user_key.sk => {
                    lookup.other = Some(serde_dynamo::from_item(item)?)
                }
                Some(sk) if sk == member_key.sk => {
                    lookup.membership = Some(serde_dynamo::from_item(item)?)
                }
                Some(sk) if sk.starts_with(keys::BLOCK_PREFIX) => lookup.blocked = true,
                _ => {}
            }
        }
        Ok(lookup)
    }

    /// One BatchGetItem, retrying unprocessed keys (they are not new round trips we chose).
    pub(crate) async fn batch_get_all(&self, request: KeysAndAttributes) -> ApiResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut pending = Some(request);
        for _attempt in 0..5 {
            let Some(request) = pending.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await?;
            items.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys.is_empty());
        }
        Ok(items)
    }

    /// The caller's side of a conversation, or `None` for non-participants. 1 GetItem.
    pub async fn get_membership(
        &self,
        user_id: &str,
        conversation_id: &str,
    ) -> ApiResult<Option<MembershipRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(
                keys::conversation_member(user_id, conversation_id).to_item(),
            ))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match out.item {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        })
    }

    /// A user's conversations, newest activity first. 1 Query on GSI1.
    pub async fn list_memberships(
        &self,
        user_id: &str,
        page: &PageRequest,
    ) -> ApiResult<MembershipPage> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_values(":pk", s(keys::conversations_of(user_id)))
            .scan_index_forward(false);
        let (items, last_key) = query_page(query, page, "PK, SK, GSI1PK, GSI1SK").await?;
        Ok(MembershipPage {
            items: items
                .into_iter()
                .map(serde_dynamo::from_item)
                .collect::<Result<_, _>>()?,
            last_key,
        })
    }

    /// The user's inbox counters (zero before the first conversation). 1 GetItem.
    pub async fn get_inbox(&self, user_id: &str) -> ApiResult<Inbox> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::inbox(user_id).to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match out.item {
            Some(item) => serde_dynamo::from_item(item)?,
            None => Inbox::default(),
        })
    }

    /// Any items by key in one BatchGetItem (duplicates dropped), in no particular order.
    pub async fn get_many(&self, item_keys: &[keys::Key]) -> ApiResult<Vec<Item>> {
        let mut unique: Vec<&keys::Key> = Vec::with_capacity(item_keys.len());
        for key in item_keys {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        let mut items = Vec::new();
        for chunk in unique.chunks(100) {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|k| k.to_item()).collect()))
                .consistent_read(true)
                .build()?;
            items.extend(self.batch_get_all(request).await?);
        }
        Ok(items)
    }

    /// Users by id for hydration, with the caller's own record already at hand.
    pub async fn users_with(
        &self,
        known: &UserRecord,
        ids: &[String],
    ) -> ApiResult<HashMap<String, UserRecord>> {
        let missing: Vec<String> = ids.iter().filter(|id| **id != known.id).cloned().collect();
        let mut users = if missing.is_empty() {
            HashMap::new()
        } else {
            self.get_users(&missing).await?
        };
        users.insert(known.id.clone(), known.clone());
        Ok(users)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_ignore_who_asks_first() {
        let a = "01HZZZZZZZZZZZZZZZZZZZZZZA";
        let b = "01HZZZZZZZZZZZZZZZZZZZZZZB";
        assert_eq!(conversation_id_for(a, b), conversation_id_for(b, a));
        assert_ne!(conversation_id_for(a, b), conversation_id_for(a, a));
        assert_eq!(conversation_id_for(a, b).len(), 26);
    }
}
