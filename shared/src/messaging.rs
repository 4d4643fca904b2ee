//! Direct messages: the business rules both the REST `messages` function and the WebSocket `ws`
//! function call. Only participants see a conversation: everyone else gets 404 ("not found",
//! so conversation and message ids reveal nothing). Blocked users cannot message each other
//! (403). A message is stored before it is pushed.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::db::conversations::{conversation_id_for, MembershipRecord};
use crate::db::keys;
use crate::db::messages::{MessageRecord, SendRefusal, MESSAGE_TYPE_IMAGE, MESSAGE_TYPE_TEXT};
use crate::db::users::UserRecord;
use crate::db::Item;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{encode_cursor, ListQuery, PageRequest, Pagination, Start};
use crate::realtime::Event;
use crate::state::AppState;
use crate::uploads::{AcceptedMedia, MediaSource, Purpose};
use crate::views::UserSummary;

pub const CONTENT_MAX: usize = 2000;
pub const MESSAGES_DEFAULT_LIMIT: u32 = 50;

fn conversation_not_found() -> ApiError {
    ApiError::not_found("Conversation not found")
}

fn message_not_found() -> ApiError {
    ApiError::not_found("Message not found")
}

fn blocked() -> ApiError {
    ApiError::forbidden("You cannot message this user")
}

/// The body of `POST /messages` and of the socket's `sendMessage` frame.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub message_type: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub media_key: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

async fn summaries(
    state: &AppState,
    users: &HashMap<String, UserRecord>,
) -> HashMap<String, UserSummary> {
    let mut out = HashMap::with_capacity(users.len());
    for (id, user) in users {
        out.insert(
            id.clone(),
            UserSummary::from_record(user, &state.media).await,
        );
    }
    out
}

fn summary_json(id: &str, users: &HashMap<String, UserSummary>) -> Value {
    match users.get(id) {
        Some(summary) => json!(summary),
        None => json!({ "_id": id }),
    }
}

/// A message as REST returns it (and `new_message` pushes it): the sender hydrated, an image
/// message's picture as a URL a browser can load (`imageUrl`, and `mediaUrl`).
pub async fn message_json(
    state: &AppState,
    message: &MessageRecord,
    users: &HashMap<String, UserSummary>,
) -> Value {
    let mut value = json!({
        "_id": message.id,
        "conversationId": message.conversation_id,
        "senderId": summary_json(&message.sender_id, users),
        "recipientId": message.recipient_id,
        "messageType": message.message_type,
        "isRead": message.is_read,
        "createdAt": message.created_at,
    });
    if let Some(content) = &message.content {
        value["content"] = json!(content);
    }
    if let Some(read_at) = &message.read_at {
        value["readAt"] = json!(read_at);
    }
    if let Some(key) = &message.media_key {
        // `imageUrl` is seed 001's name and what clients read; `mediaUrl` is kept beside it.
        let url = json!(state.media.url(key).await);
        value["imageUrl"] = url.clone();
        value["mediaUrl"] = url;
    }
    value
}

/// A conversation from one participant's side.
pub fn conversation_json(
    membership: &MembershipRecord,
    users: &HashMap<String, UserSummary>,
) -> Value {
    let last_message = membership.last_message.as_ref().map(|last| {
        // The snapshot is taken at send time; for the reader, no unread left means it was read.
        let read = last.is_read
            || (last.recipient_id == membership.user_id && membership.unread_count == 0);
        let mut value = json!({
            "_id": last.id,
            "messageType": last.message_type,
            "createdAt": last.created_at,
            "senderId": last.sender_id,
            "isRead": read,
        });
        if let Some(content) = &last.content {
            value["content"] = json!(content);
        }
        value
    });
    json!({
        "_id": membership.conversation_id,
        "participants": [
            summary_json(&membership.user_id, users),
            summary_json(&membership.other_user_id, users),
        ],
        "lastMessage": last_message,
        "lastMessageAt": membership.last_message_at,
        "unreadCount": membership.unread_count.max(0),
        "createdAt": membership.created_at,
    })
}

/// A cursor must continue the same list: one from another partition is a 400, not a
/// DynamoDB validation error.
fn check_cursor(
    page: &PageRequest,
    names: &[&str],
    attribute: &str,
    expected: &str,
) -> ApiResult<()> {
    match &page.start {
        Start::After(key)
            if !crate::db::listing::cursor_matches(key, names, attribute, expected) =>
        {
            Err(crate::db::listing::foreign_cursor())
        }
        _ => Ok(()),
    }
}

fn sk_of(item: &Item) -> &str {
    item.get(keys::SK)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .unwrap_or_default()
}

/// `POST /conversations`: the 1:1 conversation with `other_id`, created on first ask.
/// Answers the conversation and whether this call created it.
/// 1 BatchGetItem (+ 1 TransactWriteItems when it is new).
pub async fn create_or_get_conversation(
    state: &AppState,
    me: &UserRecord,
    other_id: &str,
) -> ApiResult<(Value, bool)> {
    let other_id = other_id.trim();
    if other_id.is_empty() {
        return Err(ApiError::invalid_field("userId", "userId is required"));
    }
    if other_id == me.id {
        return Err(ApiError::invalid_field(
            "userId",
            "You cannot start a conversation with yourself",
        ));
    }
    let conversation_id = conversation_id_for(&me.id, other_id);
    let lookup = state
        .db
        .conversation_lookup(&me.id, other_id, &conversation_id)
        .await?;
    let other = match lookup.other {
        Some(other) if other.is_active() => other,
        _ => return Err(ApiError::not_found("User not found")),
    };
    if lookup.blocked {
        return Err(blocked());
    }
    // Racing callers both create (idempotently) and both answer 201: neither saw it before.
    let (membership, created) = match lookup.membership {
        Some(membership) => (membership, false),
        None => (state.db.create_conversation(&me.id, other_id).await?, true),
    };
    let users = HashMap::from([(me.id.clone(), me.clone()), (other.id.clone(), other)]);
    Ok((
        conversation_json(&membership, &summaries(state, &users).await),
        created,
    ))
}

/// `GET /conversations`: newest activity first. 1 Query + 1 BatchGetItem (participants).
/// `totalConversations` is null: no conversation counter is kept (creation is a race-free
/// idempotent write, and an exact counter would need a failing condition); page with
/// `nextCursor`/`hasMore`.
pub async fn list_conversations(
    state: &AppState,
    me: &UserRecord,
    query: &ListQuery,
) -> ApiResult<Value> {
    let page = query.page_request()?;
    check_cursor(
        &page,
        &[keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK],
        keys::GSI1PK,
        &keys::conversations_of(&me.id),
    )?;
    let memberships = state.db.list_memberships(&me.id, &page).await?;
    let others: Vec<String> = memberships
        .items
        .iter()
        .map(|m| m.other_user_id.clone())
        .collect();
    let users = state.db.users_with(me, &others).await?;
    let summaries = summaries(state, &users).await;
    let conversations: Vec<Value> = memberships
        .items
        .iter()
        .map(|m| conversation_json(m, &summaries))
        .collect();
    let pagination = Pagination::new(
        &page,
        None,
        memberships.last_key.is_some(),
        memberships.last_key.as_ref().map(encode_cursor),
    );
    Ok(pagination.list("conversations", conversations, "totalConversations"))
}

/// `GET /conversations/:id/messages`: newest first; the caller's unread messages on the page
/// become read (and the sender hears `message_read`). 1 GetItem (the caller's membership, before
/// anything else is read), 1 Query + 1 BatchGetItem (the participants), + 1 TransactWriteItems
/// when something was unread.
pub async fn list_messages(
    state: &AppState,
    me: &UserRecord,
    conversation_id: &str,
    query: &ListQuery,
) -> ApiResult<Value> {
    let page = query.page_request_with_default(MESSAGES_DEFAULT_LIMIT)?;
    check_cursor(
        &page,
        &[keys::PK, keys::SK],
        keys::PK,
        &keys::conversation_pk(conversation_id),
    )?;
    if let Start::After(key) = &page.start {
        if !sk_of(key).starts_with(keys::MESSAGE_PREFIX) {
            return Err(crate::db::listing::foreign_cursor());
        }
    }
    // Participation first: nobody else's request reads the conversation.
    let membership = state
        .db
        .get_membership(&me.id, conversation_id)
        .await?
        .ok_or_else(conversation_not_found)?;
    let (mut messages, last_key) = state.db.list_messages(conversation_id, &page).await?;
    let mut wanted = Vec::new();
    for message in &messages {
        for id in [&message.sender_id, &message.recipient_id] {
            if *id != me.id {
                wanted.push(keys::user(id));
            }
        }
    }
    let mut users = HashMap::from([(me.id.clone(), me.clone())]);
    if !wanted.is_empty() {
        for item in state.db.get_many(&wanted).await? {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            users.insert(user.id.clone(), user);
        }
    }

    let unread: Vec<String> = messages
        .iter()
        .filter(|m| m.recipient_id == me.id && !m.is_read)
        .map(|m| m.id.clone())
        .collect();
    if !unread.is_empty() {
        let read_at = crate::time::now_rfc3339();
        let marked = state
            .db
            .mark_messages_read(&me.id, conversation_id, &unread, &read_at)
            .await?;
        for message in messages.iter_mut().filter(|m| unread.contains(&m.id)) {
            message.is_read = true;
            if marked.contains(&message.id) {
                message.read_at = Some(read_at.clone());
            }
        }
        if !marked.is_empty() {
            let receipt = read_receipt(conversation_id, &marked, &me.id, &read_at);
            state
                .realtime
                .push_to_user(&membership.other_user_id, &receipt)
                .await;
        }
    }
    let summaries = summaries(state, &users).await;
    let mut views = Vec::with_capacity(messages.len());
    for message in &messages {
        views.push(message_json(state, message, &summaries).await);
    }
    let pagination = Pagination::new(
        &page,
        Some(u64::try_from(membership.messages_count).unwrap_or_default()),
        last_key.is_some(),
        last_key.as_ref().map(encode_cursor),
    );
    Ok(pagination.list("messages", views, "totalMessages"))
}

fn read_receipt(conversation_id: &str, message_ids: &[String], reader: &str, at: &str) -> Event {
    Event::MessageRead(json!({
        "conversationId": conversation_id,
        "messageIds": message_ids,
        "readBy": reader,
        "readAt": at,
    }))
}

/// `POST /messages` and `sendMessage`: stores a message in 1 TransactWriteItems, then pushes
/// `new_message` to every connection of the recipient and to the sender's other connections
/// (`origin` is the socket it came from, if any). An image comes as bytes the server received
/// (`file`, multipart) or as a presigned upload's `mediaKey`; it is stored only once everything
/// else checked out, and removed again if the transaction refuses the message.
pub async fn send_message(
    state: &AppState,
    me: &UserRecord,
    input: &SendMessage,
    file: Option<Vec<u8>>,
    origin: Option<&str>,
) -> ApiResult<Value> {
    let default_type = if file.is_some() {
        MESSAGE_TYPE_IMAGE
    } else {
        MESSAGE_TYPE_TEXT
    };
    let message_type = match non_empty(&input.message_type).unwrap_or(default_type) {
        MESSAGE_TYPE_TEXT if file.is_some() => {
            return Err(ApiError::invalid_field(
                "messageType",
                "messageType must be \"image\" to attach an image",
            ))
        }
        MESSAGE_TYPE_TEXT => MESSAGE_TYPE_TEXT,
        MESSAGE_TYPE_IMAGE => MESSAGE_TYPE_IMAGE,
        _ => {
            return Err(ApiError::invalid_field(
                "messageType",
                "messageType must be \"text\" or \"image\"",
            ))
        }
    };
    let content = non_empty(&input.content);
    if message_type == MESSAGE_TYPE_TEXT && content.is_none() {
        return Err(ApiError::invalid_field("content", "content is required"));
    }
    if content.is_some_and(|c| c.chars().count() > CONTENT_MAX) {
        return Err(ApiError::invalid_field(
            "content",
            format!("content must be at most {CONTENT_MAX} characters"),
        ));
    }
    let media_key = non_empty(&input.media_key);
    if message_type == MESSAGE_TYPE_IMAGE && file.is_none() && media_key.is_none() {
        return Err(ApiError::invalid_field(
            "mediaKey",
            "an image file or a mediaKey is required",
        ));
    }
    let recipient_id = non_empty(&input.recipient_id)
        .ok_or_else(|| ApiError::invalid_field("recipientId", "recipientId is required"))?;
    if recipient_id == me.id {
        return Err(ApiError::invalid_field(
            "recipientId",
            "You cannot message yourself",
        ));
    }
    let conversation_id = conversation_id_for(&me.id, recipient_id);
    if non_empty(&input.conversation_id).is_some_and(|given| given != conversation_id) {
        // Not the conversation between these two users: the caller is not its participant.
        return Err(conversation_not_found());
    }
    let source = match (message_type, file, media_key) {
        (MESSAGE_TYPE_IMAGE, Some(bytes), _) => Some(MediaSource::Bytes(bytes)),
        (MESSAGE_TYPE_IMAGE, None, Some(key)) => Some(MediaSource::UploadKey(key.to_string())),
        _ => None,
    };
    // An image takes its budget before its bytes reach S3; a text message counts it in its
    // own transaction (one round trip less).
    let budget = match source {
        Some(_) => {
            crate::limits::take(state, crate::limits::Action::Message, &me.id).await?;
            None
        }
        None => Some(crate::limits::spend(
            state,
            crate::limits::Action::Message,
            &me.id,
        )),
    };
    let media = match source {
        Some(source) => Some(state.media.accept(&me.id, source, Purpose::Message).await?),
        None => None,
    };
    let message = MessageRecord {
        id: ulid::Ulid::new().to_string(),
        conversation_id,
        sender_id: me.id.clone(),
        recipient_id: recipient_id.to_string(),
        message_type: message_type.to_string(),
        content: content.map(str::to_string),
        media_key: media.as_ref().map(|m: &AcceptedMedia| m.key.clone()),
        is_read: false,
        read_at: None,
        created_at: crate::time::now_rfc3339(),
    };
    let mut outcome = state.db.send_message(&message, budget.as_ref()).await;
    if matches!(outcome, Ok(Err(SendRefusal::NotParticipant)))
        && non_empty(&input.conversation_id).is_none()
    {
        // Naming only the recipient starts the conversation, as a first message in the app does
        // (the recipient's existence and blocks are checked there); then the send goes through.
        outcome = match create_or_get_conversation(state, me, recipient_id).await {
            Ok(_) => state.db.send_message(&message, budget.as_ref()).await,
            Err(err) => Err(err),
        };
    }
    let refusal = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(SendRefusal::NotParticipant)) => Some(conversation_not_found()),
        Ok(Err(SendRefusal::Blocked)) => Some(blocked()),
        Ok(Err(SendRefusal::Budget)) => budget
            .as_ref()
            .map(|spent| crate::limits::refused(crate::limits::Action::Message, spent)),
        Err(err) => Some(err),
    };
    if let Some(err) = refusal {
        if let Some(media) = &media {
            state.media.delete_quietly(&media.key).await;
        }
        return Err(err);
    }
    let users = HashMap::from([(
        me.id.clone(),
        UserSummary::from_record(me, &state.media).await,
    )]);
    let view = message_json(state, &message, &users).await;
    let event = Event::NewMessage(view.clone());
    // The recipient's `message` notification follows from the table's stream (`fanout`);
    // `new_message` stays here, pushed before the answer (0.1 ms p50 against ~47 ms).
    tokio::join!(
        state.realtime.push_to_user(recipient_id, &event),
        state.realtime.push_to_user_except(&me.id, origin, &event),
    );
    Ok(view)
}

/// A message the caller takes part in, or 404.
async fn participant_message(
    state: &AppState,
    me: &UserRecord,
    message_id: &str,
) -> ApiResult<MessageRecord> {
    match state.db.find_message(message_id.trim()).await? {
        Some(m) if m.sender_id == me.id || m.recipient_id == me.id => Ok(m),
        _ => Err(message_not_found()),
    }
}

/// `PUT /messages/:id/read` and `markRead`: idempotent; only the recipient may.
/// 1 Query (+ 1 TransactWriteItems when it was unread). Answers the `message_read` data.
pub async fn mark_read(state: &AppState, me: &UserRecord, message_id: &str) -> ApiResult<Value> {
    let message = participant_message(state, me, message_id).await?;
    if message.recipient_id != me.id {
        return Err(ApiError::forbidden(
            "Only the recipient can mark a message as read",
        ));
    }
    let answer = |read_at: Option<&str>| {
        json!({
            "_id": message.id,
            "conversationId": message.conversation_id,
            "isRead": true,
            "readAt": read_at,
        })
    };
    if message.is_read {
        return Ok(answer(message.read_at.as_deref()));
    }
    let read_at = crate::time::now_rfc3339();
    let marked = state
        .db
        .mark_messages_read(
            &me.id,
            &message.conversation_id,
            std::slice::from_ref(&message.id),
            &read_at,
        )
        .await?;
    if marked.is_empty() {
        // Marked by another request meanwhile: already read, nothing to count.
        return Ok(answer(None));
    }
    let receipt = read_receipt(&message.conversation_id, &marked, &me.id, &read_at);
    state
        .realtime
        .push_to_user(&message.sender_id, &receipt)
        .await;
    Ok(answer(Some(&read_at)))
}

/// `PUT /conversations/:id/read`: every unread message to me in it becomes read, and the other
/// participant hears `message_read`. 1 GetItem (membership: participants only) + the Query of
/// the unread messages and 1 TransactWriteItems per 98 of them, when there are any.
pub async fn mark_conversation_read(
    state: &AppState,
    me: &UserRecord,
    conversation_id: &str,
) -> ApiResult<Value> {
    let membership: MembershipRecord = state
        .db
        .get_record(&keys::conversation_member(&me.id, conversation_id))
        .await?
        .ok_or_else(conversation_not_found)?;
    let read_at = crate::time::now_rfc3339();
    let unread = usize::try_from(membership.unread_count).unwrap_or_default();
    let mut marked = Vec::new();
    if unread > 0 {
        let ids = state
            .db
            .unread_message_ids(conversation_id, &me.id, unread)
            .await?;
        marked = state
            .db
            .mark_messages_read(&me.id, conversation_id, &ids, &read_at)
            .await?;
    }
    if !marked.is_empty() {
        let receipt = read_receipt(conversation_id, &marked, &me.id, &read_at);
        state
            .realtime
            .push_to_user(&membership.other_user_id, &receipt)
            .await;
    }
    Ok(json!({
        "conversationId": conversation_id,
        "messageIds": marked,
        "markedCount": marked.len(),
        "readBy": me.id,
        "readAt": read_at,
    }))
}

/// `DELETE /messages/:id`: the sender unsends; counts move in the same transaction.
/// 1 Query + 1 TransactWriteItems (+ 1 Query and the memberships' updates when it was the last).
pub async fn unsend(state: &AppState, me: &UserRecord, message_id: &str) -> ApiResult<()> {
    let mut message = participant_message(state, me, message_id).await?;
    if message.sender_id != me.id {
        return Err(ApiError::forbidden("Only the sender can unsend a message"));
    }
    for _attempt in 0..3 {
        if state.db.delete_message(&message).await? {
            state.db.replace_last_message(&message).await?;
            if let Some(key) = &message.media_key {
                state.media.delete_quietly(key).await;
            }
            return Ok(());
        }
        // Read (or deleted) meanwhile: look again so the counts move exactly once.
        message = participant_message(state, me, message_id).await?;
    }
    Err(ApiError::conflict(
        "The message changed meanwhile; try again",
    ))
}

/// `GET /unread-count`. 1 GetItem.
pub async fn unread_count(state: &AppState, me: &str) -> ApiResult<i64> {
    Ok(state.db.get_inbox(me).await?.unread_count.max(0))
}

/// The socket's `typing` / `stop_typing`: tells the other participant's connections.
/// 1 BatchGetItem (membership and blocks) + 1 Query (their connections).
pub async fn typing(
    state: &AppState,
    me: &str,
    conversation_id: Option<&str>,
    recipient_id: Option<&str>,
    started: bool,
) -> ApiResult<()> {
    let recipient_id = recipient_id
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != me)
        .ok_or_else(|| ApiError::invalid_field("recipientId", "recipientId is required"))?;
    let derived = conversation_id_for(me, recipient_id);
    if conversation_id.is_some_and(|given| given.trim() != derived) {
        return Err(conversation_not_found());
    }
    let conversation_id = derived;
    let member_key = keys::conversation_member(me, &conversation_id);
    let items = state
        .db
        .get_many(&[
            member_key.clone(),
            keys::block(me, recipient_id),
            keys::block(recipient_id, me),
        ])
        .await?;
    if items
        .iter()
        .any(|i| sk_of(i).starts_with(keys::BLOCK_PREFIX))
    {
        return Err(blocked());
    }
    if !items.iter().any(|i| sk_of(i) == member_key.sk) {
        return Err(conversation_not_found());
    }
    let user_id = me.to_string();
    let event = if started {
        Event::UserTyping {
            conversation_id,
            user_id,
        }
    } else {
        Event::UserStopTyping {
            conversation_id,
            user_id,
        }
    };
    state.realtime.push_to_user(recipient_id, &event).await;
    Ok(())
}
