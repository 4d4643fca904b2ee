//! Notifications: created where their cause happens (likes, comments, follows, mentions,
//! messages), stored with a deterministic id per (recipient, type, actor, target) so repeats
//! collapse into one, counted exactly, and pushed as `{"event":"notification"}` frames.
//! Creating one never fails the action that caused it: errors are logged.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::db::keys;
use crate::db::listing::{contains_key, string_attr, take_item};
use crate::db::notifications::{NotificationRecord, Stored, NOTIFICATION_TTL_SECONDS};
use crate::db::users::UserRecord;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{ListQuery, Pagination, Start};
use crate::state::AppState;
use crate::views::UserSummary;

/// Characters of a comment or message kept as the notification's preview.
pub const PREVIEW_CHARS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationType {
    Like,
    Comment,
    Reply,
    CommentLike,
    Follow,
    FollowRequest,
    FollowAccept,
    Mention,
    Message,
    /// A moderator removed something of the recipient's.
    Moderation,
    /// A report the recipient filed was resolved.
    ReportResolved,
}

impl NotificationType {
    pub const ALL: [Self; 11] = [
        Self::Like,
        Self::Comment,
        Self::Reply,
        Self::CommentLike,
        Self::Follow,
        Self::FollowRequest,
        Self::FollowAccept,
        Self::Mention,
        Self::Message,
        Self::Moderation,
        Self::ReportResolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Comment => "comment",
            Self::Reply => "reply",
            Self::CommentLike => "comment_like",
            Self::Follow => "follow",
            Self::FollowRequest => "follow_request",
            Self::FollowAccept => "follow_accept",
            Self::Mention => "mention",
            Self::Message => "message",
            Self::Moderation => "moderation",
            Self::ReportResolved => "report_resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// What the actor did, after their username.
    fn sentence(self, on_comment: bool) -> &'static str {
        match self {
            Self::Like => "liked your post.",
            Self::Comment => "commented on your post.",
            Self::Reply => "replied to your comment.",
            Self::CommentLike => "liked your comment.",
            Self::Follow => "started following you.",
            Self::FollowRequest => "requested to follow you.",
            Self::FollowAccept => "accepted your follow request.",
            Self::Mention if on_comment => "mentioned you in a comment.",
            Self::Mention => "mentioned you in a post.",
            Self::Message => "sent you a message.",
            Self::Moderation => "removed your content for breaking the community rules.",
            Self::ReportResolved => "reviewed your report.",
        }
    }
}

/// One notification to create: who gets it and what it points at. The actor is the caller.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub kind: NotificationType,
    pub recipient: String,
    pub post_id: Option<String>,
    pub comment_id: Option<String>,
    pub conversation_id: Option<String>,
    pub story_id: Option<String>,
    pub report_id: Option<String>,
    pub preview: Option<String>,
}

impl NewNotification {
    pub fn new(kind: NotificationType, recipient: &str) -> Self {
        Self {
            kind,
            recipient: recipient.to_string(),
            post_id: None,
            comment_id: None,
            conversation_id: None,
            story_id: None,
            report_id: None,
            preview: None,
        }
    }

    pub fn story(mut self, story_id: &str) -> Self {
        self.story_id = Some(story_id.to_string());
        self
    }

    pub fn report(mut self, report_id: &str) -> Self {
        self.report_id = Some(report_id.to_string());
        self
    }

    pub fn post(mut self, post_id: &str) -> Self {
        self.post_id = Some(post_id.to_string());
        self
    }

    pub fn comment(mut self, comment_id: &str) -> Self {
        self.comment_id = Some(comment_id.to_string());
        self
    }

    pub fn conversation(mut self, conversation_id: &str) -> Self {
        self.conversation_id = Some(conversation_id.to_string());
        self
    }

    pub fn preview(mut self, text: &str) -> Self {
        let trimmed: String = text.trim().chars().take(PREVIEW_CHARS).collect();
        self.preview = Some(trimmed).filter(|p| !p.is_empty());
        self
    }
}

/// The deterministic id: the same (recipient, type, actor, target) always gives the same id,
/// which is what collapses repeats. ULID-shaped (26 characters, URL-safe).
pub fn notification_id(
    recipient: &str,
    kind: NotificationType,
    actor: &str,
    target: &str,
) -> String {
    let digest = Sha256::digest(format!("n:{recipient}:{}:{actor}:{target}", kind.as_str()));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ulid::Ulid::from(u128::from_be_bytes(bytes)).to_string()
}

/// What a notification is about, for its collapse key: comment likes and replies per comment,
/// likes and mentions per post (or comment), messages per conversation, follows per pair.
fn target_of(new: &NewNotification) -> String {
    match new.kind {
        NotificationType::Message => new.conversation_id.clone().unwrap_or_default(),
        NotificationType::Follow
        | NotificationType::FollowRequest
        | NotificationType::FollowAccept => String::new(),
        NotificationType::ReportResolved => new.report_id.clone().unwrap_or_default(),
        NotificationType::Moderation => format!(
            "{}:{}:{}",
            new.post_id.as_deref().unwrap_or_default(),
            new.comment_id.as_deref().unwrap_or_default(),
            new.story_id.as_deref().unwrap_or_default()
        ),
        // A reply or a comment is its own event; each gets its own notification.
        _ => format!(
            "{}:{}",
            new.post_id.as_deref().unwrap_or_default(),
            new.comment_id.as_deref().unwrap_or_default()
        ),
    }
}

/// A notification as REST returns it and the `notification` frame carries it.
pub fn notification_json(record: &NotificationRecord, actor: &UserSummary) -> Value {
    let kind = NotificationType::parse(&record.kind);
    let sentence = kind
        .map(|k| k.sentence(record.comment_id.is_some()))
        .unwrap_or_default();
    json!({
        "_id": record.notification_id,
        "type": record.kind,
        "actor": actor,
        "postId": record.post_id,
        "commentId": record.comment_id,
        "conversationId": record.conversation_id,
        "storyId": record.story_id,
        "reportId": record.report_id,
        "text": format!("{} {sentence}", actor.username),
        "preview": record.preview,
        "isRead": record.is_read,
        "createdAt": record.created_at,
    })
}

/// The record `store` writes, or `None` for the actor's own content (nobody to tell).
fn record_of(actor: &UserRecord, new: &NewNotification) -> Option<NotificationRecord> {
    if new.recipient == actor.id || new.recipient.is_empty() {
        return None;
    }
    let id = notification_id(&new.recipient, new.kind, &actor.id, &target_of(new));
    Some(NotificationRecord {
        notification_id: id,
        recipient_id: new.recipient.clone(),
        kind: new.kind.as_str().to_string(),
        actor_id: actor.id.clone(),
        post_id: new.post_id.clone(),
        comment_id: new.comment_id.clone(),
        conversation_id: new.conversation_id.clone(),
        story_id: new.story_id.clone(),
        report_id: new.report_id.clone(),
        preview: new.preview.clone(),
        is_read: false,
        created_at: crate::time::now_rfc3339(),
        ttl: crate::time::now_epoch() + NOTIFICATION_TTL_SECONDS,
    })
}

/// Stores one notification (never for the actor's own content) and answers it as REST would,
/// or `None` when nothing is to be pushed (self-action, a block, or an error, which is logged).
pub async fn store(state: &AppState, actor: &UserRecord, new: &NewNotification) -> Option<Value> {
    let record = record_of(actor, new)?;
    let refresh_first = new.kind == NotificationType::Message;
    match state.db.store_notification(&record, refresh_first).await {
        Ok(Stored::Counted | Stored::Refreshed) => {
            let summary = UserSummary::from_record(actor, &state.media).await;
            Some(notification_json(&record, &summary))
        }
        Ok(Stored::Blocked) => None,
        Err(err) => {
            tracing::warn!(?err, kind = new.kind.as_str(), recipient = %new.recipient, "storing a notification");
            None
        }
    }
}

/// Stores a notification and pushes it to every connection of the recipient. Never fails.
/// 1 TransactWriteItems (or 1 UpdateItem for a collapsed unread repeat) + 1 Query to push.
pub async fn notify(state: &AppState, actor: &UserRecord, new: NewNotification) {
    if let Some(view) = store(state, actor, &new).await {
        state.realtime.notification(&new.recipient, view).await;
    }
}

/// Takes back what an undone act notified (an unlike, a deleted comment): the notification goes, off the unread
/// counter when it was unread, with the actor's pointer to it. Never fails the act.
/// 1 TransactWriteItems (+ 1 DeleteItem when it was read) ∥ 1 DeleteItem for the pointer.
pub async fn withdraw(state: &AppState, actor_id: &str, undone: NewNotification) {
    if undone.recipient == actor_id || undone.recipient.is_empty() {
        return;
    }
    let id = notification_id(
        &undone.recipient,
        undone.kind,
        actor_id,
        &target_of(&undone),
    );
    let pointer = keys::notification_sent(actor_id, &undone.recipient, &id);
    let (removed, forgotten) = tokio::join!(
        state.db.remove_sent_notification(&undone.recipient, &id),
        state.db.delete_keys(std::slice::from_ref(&pointer)),
    );
    if let Err(err) = removed.and(forgotten) {
        tracing::warn!(
            ?err,
            kind = undone.kind.as_str(),
            "withdrawing a notification"
        );
    }
}

/// Several notifications at once (different recipients), in parallel.
pub async fn notify_all(state: &AppState, actor: &UserRecord, all: Vec<NewNotification>) {
    futures_util::future::join_all(all.into_iter().map(|new| notify(state, actor, new))).await;
}

/// `@username` mentions: resolved to user ids (1 BatchGetItem of the username claims), then one
/// `mention` each, skipping the actor and `already` (users notified of the same act otherwise).
/// `private_owner` is the author of the post when that account is private: then only its
/// followers (and itself) get the text's preview (1 more BatchGetItem of their follow edges);
/// the others are told they were mentioned, not what was said.
#[allow(clippy::too_many_arguments)]
pub async fn notify_mentions(
    state: &AppState,
    actor: &UserRecord,
    usernames: &[String],
    post_id: &str,
    comment_id: Option<&str>,
    text: &str,
    already: &[&str],
    private_owner: Option<&str>,
) {
    match mention_notifications(
        state,
        actor,
        usernames,
        post_id,
        comment_id,
        text,
        already,
        private_owner,
    )
    .await
    {
        Ok(all) => notify_all(state, actor, all).await,
        Err(err) => tracing::warn!(?err, "resolving mentions"),
    }
}

/// The `mention` notifications of `notify_mentions`, resolved but not stored: 1 BatchGetItem
/// of the username claims (none when nobody else is named), +1 BatchGetItem of the follow edges
/// when `private_owner` is set.
#[allow(clippy::too_many_arguments)]
pub async fn mention_notifications(
    state: &AppState,
    actor: &UserRecord,
    usernames: &[String],
    post_id: &str,
    comment_id: Option<&str>,
    text: &str,
    already: &[&str],
    private_owner: Option<&str>,
) -> ApiResult<Vec<NewNotification>> {
    let wanted: Vec<String> = usernames
        .iter()
        .filter(|u| **u != actor.username)
        .cloned()
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let claims: Vec<keys::Key> = wanted.iter().map(|u| keys::username_claim(u)).collect();
    let found = state.db.get_items(&claims, false).await?;
    let mut seen: HashSet<String> = already.iter().map(|s| s.to_string()).collect();
    let mut recipients = Vec::new();
    for claim in &claims {
        let Some(user_id) = found
            .get(&(claim.pk.clone(), claim.sk.clone()))
            .and_then(|item| string_attr(item, "userId"))
        else {
            continue;
        };
        if user_id == actor.id || !seen.insert(user_id.to_string()) {
            continue;
        }
        recipients.push(user_id.to_string());
    }
    // Who may read a private author's text: its followers and itself.
    let readers: HashSet<String> = match private_owner {
        None => recipients.iter().cloned().collect(),
        Some(owner) => {
            let edges: Vec<keys::Key> = recipients
                .iter()
                .filter(|id| id.as_str() != owner)
                .map(|id| keys::following(id, owner))
                .collect();
            let follows = if edges.is_empty() {
                Default::default()
            } else {
                state.db.get_items(&edges, false).await?
            };
            recipients
                .iter()
                .filter(|id| {
                    id.as_str() == owner
                        || crate::db::listing::contains_key(&follows, &keys::following(id, owner))
                })
                .cloned()
                .collect()
        }
    };
    let mut all = Vec::new();
    for user_id in &recipients {
        let mut new = NewNotification::new(NotificationType::Mention, user_id).post(post_id);
        if readers.contains(user_id) {
            new = new.preview(text);
        }
        if let Some(comment_id) = comment_id {
            new = new.comment(comment_id);
        }
        all.push(new);
    }
    Ok(all)
}

/// The stream's `notify`: stores the notification once per stream record (`event_id`: a replay
/// stores, counts and pushes nothing more) and pushes it to the recipient's connections.
/// Errors are returned, so the record is retried. 1 TransactWriteItems (+1 Query to push).
pub async fn deliver_once(
    state: &AppState,
    actor: &UserRecord,
    new: &NewNotification,
    event_id: &str,
) -> ApiResult<()> {
    let Some(record) = record_of(actor, new) else {
        return Ok(());
    };
    let marker = keys::stream_marker(event_id, &record.notification_id);
    let refresh_first = new.kind == NotificationType::Message;
    match state
        .db
        .store_notification_once(&record, refresh_first, &marker)
        .await?
    {
        Some(Stored::Counted | Stored::Refreshed) => {
            let summary = UserSummary::from_record(actor, &state.media).await;
            let view = notification_json(&record, &summary);
            state.realtime.notification(&new.recipient, view).await;
        }
        Some(Stored::Blocked) | None => {}
    }
    Ok(())
}

/// The stream's `withdraw`: takes back what an undone act notified, once per stream record
/// (`event_id`), so a replayed unlike never removes what a later like stored.
/// 1 TransactWriteItems (2 when it was read or is gone).
pub async fn withdraw_once(
    state: &AppState,
    actor_id: &str,
    undone: &NewNotification,
    event_id: &str,
) -> ApiResult<()> {
    if undone.recipient == actor_id || undone.recipient.is_empty() {
        return Ok(());
    }
    let id = notification_id(&undone.recipient, undone.kind, actor_id, &target_of(undone));
    let marker = keys::stream_marker(event_id, &id);
    state
        .db
        .remove_sent_notification_once(&undone.recipient, actor_id, &id, &marker)
        .await
}

/// `type=` of the list: one of the nine, or 400.
pub fn parse_type(raw: Option<&str>) -> ApiResult<Option<NotificationType>> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(raw) => NotificationType::parse(raw).map(Some).ok_or_else(|| {
            let names: Vec<&str> = NotificationType::ALL.iter().map(|t| t.as_str()).collect();
            ApiError::invalid_field("type", format!("type must be one of: {}", names.join(", ")))
        }),
    }
}

/// `GET /api/notifications`: newest first, 1 Query + 1 BatchGetItem (the actors and both block
/// edges per actor; notifications from inactive or blocked actors are left out).
/// `totalNotifications` and `totalPages` are null (no total counter is kept; page with
/// `nextCursor`/`hasMore`).
pub async fn list(
    state: &AppState,
    me: &UserRecord,
    query: &ListQuery,
    raw_type: Option<&str>,
) -> ApiResult<Value> {
    let kind = parse_type(raw_type)?;
    let page = query.page_request()?;
    if let Start::After(key) = &page.start {
        let expected = keys::notifications_of(&me.id);
        let names = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK];
        if !crate::db::listing::cursor_matches(key, &names, keys::GSI1PK, &expected) {
            return Err(ApiError::invalid_field("cursor", "cursor is invalid"));
        }
    }
    let (records, next_cursor) = state
        .db
        .list_notifications(&me.id, kind.map(NotificationType::as_str), &page)
        .await?;
    let mut actors: Vec<String> = records.iter().map(|r| r.actor_id.clone()).collect();
    actors.sort();
    actors.dedup();
    let mut wanted = Vec::with_capacity(actors.len() * 3);
    for actor in &actors {
        wanted.push(keys::user(actor));
        wanted.push(keys::block(&me.id, actor));
        wanted.push(keys::block(actor, &me.id));
    }
    let mut found = state.db.get_items(&wanted, false).await?;
    let mut summaries: HashMap<String, UserSummary> = HashMap::new();
    for actor in &actors {
        if contains_key(&found, &keys::block(&me.id, actor))
            || contains_key(&found, &keys::block(actor, &me.id))
        {
            continue;
        }
        if let Some(item) = take_item(&mut found, &keys::user(actor)) {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            if user.is_active() {
                summaries.insert(
                    actor.clone(),
                    UserSummary::from_record(&user, &state.media).await,
                );
            }
        }
    }
    let notifications: Vec<Value> = records
        .iter()
        .filter_map(|r| Some(notification_json(r, summaries.get(&r.actor_id)?)))
        .collect();
    let pagination = Pagination::new(&page, None, next_cursor.is_some(), next_cursor);
    Ok(pagination.list("notifications", notifications, "totalNotifications"))
}

fn notification_not_found() -> ApiError {
    ApiError::not_found("Notification not found")
}

/// `PUT /:id/read`: idempotent; 404 for an id the caller has no notification under.
/// 1 TransactWriteItems (+1 GetItem when it was already read or does not exist).
pub async fn mark_read(state: &AppState, me: &str, notification_id: &str) -> ApiResult<Value> {
    let id = notification_id.trim();
    let well_formed = id.len() == 26 && id.chars().all(|c| c.is_ascii_alphanumeric());
    if !well_formed {
        return Err(notification_not_found());
    }
    match state.db.mark_notification_read(me, id).await? {
        Some(_) => Ok(json!({ "_id": id, "isRead": true })),
        None => Err(notification_not_found()),
    }
}

/// `PUT /read-all`: 1 Query + 1 TransactWriteItems per 50 unread.
pub async fn mark_all_read(state: &AppState, me: &str) -> ApiResult<Value> {
    let marked = state.db.mark_all_notifications_read(me).await?;
    Ok(json!({ "markedCount": marked, "unreadCount": 0 }))
}

/// `GET /unread-count`: 1 GetItem.
pub async fn unread_count(state: &AppState, me: &str) -> ApiResult<i64> {
    state.db.unread_notifications(me).await
}

/// Account deletion: the notifications the user caused in other partitions (their unread
/// counters fixed); the user's own notifications and counter, in their partition.
pub async fn delete_notifications_of(state: &AppState, user_id: &str) -> ApiResult<()> {
    use futures_util::stream::{self, TryStreamExt};
    let db = &state.db;
    let pointers = db
        .partition_keys(user_id, keys::NOTIFICATION_SENT_PREFIX)
        .await?;
    let sent = crate::db::notifications::sent_pointers(&pointers);
    stream::iter(sent.iter().map(Ok))
        .try_for_each_concurrent(8, |(recipient, id)| async move {
            db.remove_sent_notification(recipient, id).await
        })
        .await?;
    let mut own = db
        .partition_keys(user_id, keys::NOTIFICATION_PREFIX)
        .await?;
    own.extend(pointers);
    own.push(keys::notification_counter(user_id));
    db.delete_keys(&own).await
}

/// A block: what either user caused the other to be notified of goes, unread counters fixed,
/// so the list never hides items the counter still counts. 2 Queries (the actors' pointers to
/// the other) + 1 transaction per notification + 1 BatchWriteItem for the pointers. Never fails
/// the block: the list filters blocked actors anyway.
pub async fn forget_notifications_between(state: &AppState, a: &str, b: &str) {
    if let Err(err) = remove_between(state, a, b).await {
        tracing::warn!(error = %err, "removing notifications between blocked users");
    }
}

async fn remove_between(state: &AppState, a: &str, b: &str) -> ApiResult<()> {
    use futures_util::stream::{self, TryStreamExt};
    let db = &state.db;
    for (actor, recipient) in [(a, b), (b, a)] {
        let prefix = format!("{}{recipient}#", keys::NOTIFICATION_SENT_PREFIX);
        let pointers = db.partition_keys(actor, &prefix).await?;
        if pointers.is_empty() {
            continue;
        }
        let sent = crate::db::notifications::sent_pointers(&pointers);
        stream::iter(sent.iter().map(Ok))
            .try_for_each_concurrent(8, |(recipient, id)| async move {
                db.remove_sent_notification(recipient, id).await
            })
            .await?;
        db.delete_keys(&pointers).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_per_recipient_type_actor_and_target() {
        let a = notification_id("r", NotificationType::Like, "x", "p:");
        assert_eq!(a, notification_id("r", NotificationType::Like, "x", "p:"));
        assert_eq!(a.len(), 26);
        assert_ne!(a, notification_id("s", NotificationType::Like, "x", "p:"));
        assert_ne!(
            a,
            notification_id("r", NotificationType::Mention, "x", "p:")
        );
        assert_ne!(a, notification_id("r", NotificationType::Like, "y", "p:"));
    }

    #[test]
    fn types_parse_and_unknown_ones_are_refused() {
        for kind in NotificationType::ALL {
            assert_eq!(NotificationType::parse(kind.as_str()), Some(kind));
        }
        assert!(parse_type(Some("poke")).is_err());
        assert_eq!(parse_type(Some("")).ok(), Some(None));
        assert_eq!(
            parse_type(Some("comment_like")).ok(),
            Some(Some(NotificationType::CommentLike))
        );
    }
}
