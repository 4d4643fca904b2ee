//! Every key of the single table is built here and nowhere else.
//! The table: `PK`/`SK`, overloaded `GSI1PK`/`GSI1SK`, TTL attribute `ttl`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const TTL: &str = "ttl";

/// The primary key of one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// A key no item uses, read by health checks.
    pub fn health() -> Self {
        Self::new("HEALTH", "HEALTH")
    }

    /// The key of an item read with (at least) its `PK` and `SK`.
    pub fn of_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        match (item.get(PK), item.get(SK)) {
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(Self::new(pk, sk)),
            _ => None,
        }
    }

    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_string(), AttributeValue::S(self.pk.clone())),
            (SK.to_string(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

/// A user's newest image posts, for suggestions (kept by the stream: `db::recent_images`).
pub fn recent_images(user_id: &str) -> Key {
    Key::new(user_pk(user_id), "RECENTIMAGES")
}

/// A user's newest followees, the seeds of friends-of-friends suggestions (kept by the stream:
/// `db::recent_follows`).
pub fn recent_follows(user_id: &str) -> Key {
    Key::new(user_pk(user_id), "RECENTFOLLOWS")
}

/// The most followed accounts, refreshed by the stream from `PopularIndex` (`db::popular`).
pub fn popular_accounts() -> Key {
    Key::new("POPULAR", "ACCOUNTS")
}

pub fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

/// The user's profile: credentials, counters, token version.
pub fn user(user_id: &str) -> Key {
    Key::new(user_pk(user_id), "PROFILE")
}

/// Claims a username for one user; its existence is what makes usernames unique.
pub fn username_claim(username: &str) -> Key {
    Key::new(format!("USERNAME#{username}"), "USERNAME")
}

/// Claims an email address for one user.
pub fn email_claim(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

pub const SESSION_PREFIX: &str = "SESSION#";

/// One refresh-token family (a signed-in device).
pub fn session(user_id: &str, session_id: &str) -> Key {
    Key::new(user_pk(user_id), format!("{SESSION_PREFIX}{session_id}"))
}

/// What an emailed single-use secret is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailPurpose {
    Verify,
    Reset,
}

impl EmailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reset => "reset",
        }
    }
}

/// The one live emailed secret per user and purpose; issuing a new one replaces the old.
pub fn email_token(user_id: &str, purpose: EmailPurpose) -> Key {
    Key::new(user_pk(user_id), format!("TOKEN#{}", purpose.as_str()))
}

pub const BLOCK_PREFIX: &str = "BLOCK#";

/// `blocker` has blocked `blocked`; listed by querying the blocker's partition.
pub fn block(blocker: &str, blocked: &str) -> Key {
    Key::new(user_pk(blocker), format!("{BLOCK_PREFIX}{blocked}"))
}

/// Failed-login window per identifier (email or username).
/// A budget counter: one item per (action, subject, fixed window index), with a TTL. Subjects
/// are user ids, account ids, normalised addresses or source IPs.
pub fn budget(action: &str, subject: &str, window: i64) -> Key {
    Key::new(format!("BUDGET#{action}#{subject}"), format!("W#{window}"))
}

// ---------- follow graph ----------
// Two items per edge so either side is one GetItem away; GSI1 lists each side newest first
// (GSI1SK is the edge's ULID).

pub const FOLLOWING_PREFIX: &str = "FOLLOWING#";
pub const FOLLOWER_PREFIX: &str = "FOLLOWER#";

/// `follower` follows `followee`: lives in the follower's partition.
pub fn following(follower: &str, followee: &str) -> Key {
    Key::new(user_pk(follower), format!("{FOLLOWING_PREFIX}{followee}"))
}

/// The mirror of `following`, in the followee's partition.
pub fn follower(followee: &str, follower: &str) -> Key {
    Key::new(user_pk(followee), format!("{FOLLOWER_PREFIX}{follower}"))
}

/// GSI1 partition listing whom `user_id` follows.
pub fn following_list(user_id: &str) -> String {
    format!("FOLLOWINGOF#{user_id}")
}

/// GSI1 partition listing who follows `user_id`.
pub fn followers_list(user_id: &str) -> String {
    format!("FOLLOWERSOF#{user_id}")
}

/// A pending request from `requester` to follow the private account `owner`.
pub fn follow_request(owner: &str, requester: &str) -> Key {
    Key::new(user_pk(owner), format!("FOLLOWREQ#{requester}"))
}

pub const SENT_REQUEST_PREFIX: &str = "REQUESTED#";

/// The requester's copy of a pending request, so account deletion finds what it sent.
pub fn sent_follow_request(requester: &str, owner: &str) -> Key {
    Key::new(user_pk(requester), format!("{SENT_REQUEST_PREFIX}{owner}"))
}

/// GSI1 partition listing the requests waiting for `owner`.
pub fn follow_requests_list(owner: &str) -> String {
    format!("FOLLOWREQSOF#{owner}")
}

// ---------- search ----------

/// Characters of a term that choose its index partition.
pub const SEARCH_PREFIX_LEN: usize = 2;

/// GSI1 partition of search terms (usernames, full names) starting with `prefix`
/// (their first `SEARCH_PREFIX_LEN` characters).
pub fn search_partition(prefix: &str) -> String {
    format!("SEARCH#{prefix}")
}

pub const SEARCH_HISTORY_PREFIX: &str = "SEARCHHIST#";

/// One search-history entry; the ULID keeps the partition newest-last.
pub fn search_history(user_id: &str, entry_id: &str) -> Key {
    Key::new(
        user_pk(user_id),
        format!("{SEARCH_HISTORY_PREFIX}{entry_id}"),
    )
}

// ---------- posts ----------
// A post and everything hanging off it (likes, saves, comments, comment likes) share the
// partition `POST#<postId>`, so deleting a post is one Query of its partition.

pub fn post_pk(post_id: &str) -> String {
    format!("POST#{post_id}")
}

/// The post itself; its GSI1 (`posts_by`) lists an author's posts newest first.
pub fn post(post_id: &str) -> Key {
    Key::new(post_pk(post_id), "POST")
}

/// GSI1 partition listing every post of `author_id` (GSI1SK is the post's ULID).
pub fn posts_by(author_id: &str) -> String {
    format!("POSTSBY#{author_id}")
}

/// Sort-key prefix of an author's per-media-type listing (`image` or `video`).
pub fn posts_of_type_prefix(media_type: &str) -> String {
    format!("POSTS#{media_type}#")
}

/// The author's listing entry of one post by media type, so `filter=image|video` is one Query.
pub fn post_of_type(author_id: &str, media_type: &str, post_id: &str) -> Key {
    Key::new(
        user_pk(author_id),
        format!("{}{post_id}", posts_of_type_prefix(media_type)),
    )
}

pub const LIKE_PREFIX: &str = "LIKE#";

/// `user_id` likes the post; GSI1 `likes_by(user_id)` finds a user's likes (account deletion).
pub fn post_like(post_id: &str, user_id: &str) -> Key {
    Key::new(post_pk(post_id), format!("{LIKE_PREFIX}{user_id}"))
}

/// GSI1 partition of every like (post or comment) a user gave.
pub fn likes_by(user_id: &str) -> String {
    format!("LIKESBY#{user_id}")
}

pub const SAVE_PREFIX: &str = "SAVE#";

/// `user_id` saved the post; GSI1 `saved_by(user_id)` is the user's saved list, newest first.
pub fn post_save(post_id: &str, user_id: &str) -> Key {
    Key::new(post_pk(post_id), format!("{SAVE_PREFIX}{user_id}"))
}

/// GSI1 partition listing the posts a user saved (GSI1SK is the save's ULID).
pub fn saved_by(user_id: &str) -> String {
    format!("SAVEDBY#{user_id}")
}

/// One day of the global feed (`yyyy-mm-dd`, UTC, from the post ULID's time).
pub fn feed_bucket(day: &str) -> String {
    format!("FEED#{day}")
}

/// A public post's entry in its day's feed bucket; the ULID orders the bucket.
pub fn feed_entry(day: &str, post_id: &str) -> Key {
    Key::new(feed_bucket(day), post_id)
}

/// The index of days that have a feed bucket (SK = `yyyy-mm-dd`), so reading back through the
/// feed skips empty days instead of querying each one.
pub const FEED_DAYS: &str = "FEEDDAYS";

pub fn feed_day(day: &str) -> Key {
    Key::new(FEED_DAYS, day)
}

// ---------- timeline (fan-out on write) ----------
// `fanout` writes one entry per follower (and the author) when a post is made, so a timeline
// page is one Query whatever the number of follows; large accounts are merged at read time.

/// The partition of `user_id`'s timeline entries (SK is the post's ULID, newest last).
pub fn timeline_pk(user_id: &str) -> String {
    format!("TIMELINE#{user_id}")
}

/// A post in `user_id`'s timeline; `postId`, `authorId` and `ttl` beside the key.
pub fn timeline_entry(user_id: &str, post_id: &str) -> Key {
    Key::new(timeline_pk(user_id), post_id)
}

pub fn hashtag_pk(tag: &str) -> String {
    format!("TAG#{tag}")
}

pub const TAGGED_POST_PREFIX: &str = "POST#";

/// A post under one of its hashtags (lower-case, without `#`); the ULID orders the partition.
pub fn hashtag_entry(tag: &str, post_id: &str) -> Key {
    Key::new(hashtag_pk(tag), format!("{TAGGED_POST_PREFIX}{post_id}"))
}

// ---------- comments ----------
// Comments live in their post's partition; GSI1 lists a post's top-level comments and a
// comment's replies. The author's partition keeps a pointer per comment (account deletion).

pub const COMMENT_PREFIX: &str = "COMMENT#";

pub fn comment(post_id: &str, comment_id: &str) -> Key {
    Key::new(post_pk(post_id), format!("{COMMENT_PREFIX}{comment_id}"))
}

/// GSI1 partition of a post's top-level comments (GSI1SK is the comment's ULID).
pub fn comments_of(post_id: &str) -> String {
    format!("COMMENTSOF#{post_id}")
}

/// GSI1 partition of a comment's replies.
pub fn replies_of(comment_id: &str) -> String {
    format!("REPLIESOF#{comment_id}")
}

pub const COMMENTED_PREFIX: &str = "COMMENTED#";

/// The author's pointer to a comment they wrote.
pub fn commented(user_id: &str, post_id: &str, comment_id: &str) -> Key {
    Key::new(
        user_pk(user_id),
        format!("{COMMENTED_PREFIX}{post_id}#{comment_id}"),
    )
}

pub fn comment_like_prefix(comment_id: &str) -> String {
    format!("CLIKE#{comment_id}#")
}

/// `user_id` likes the comment (GSI1 `likes_by(user_id)` as for post likes).
pub fn comment_like(post_id: &str, comment_id: &str, user_id: &str) -> Key {
    Key::new(
        post_pk(post_id),
        format!("{}{user_id}", comment_like_prefix(comment_id)),
    )
}

/// A direct conversation's own item (participants, creation time).
pub fn conversation(conversation_id: &str) -> Key {
    Key::new(conversation_pk(conversation_id), "META")
}

pub fn conversation_pk(conversation_id: &str) -> String {
    format!("CONV#{conversation_id}")
}

pub const CONVERSATION_MEMBER_PREFIX: &str = "CONVMEMBER#";

/// One participant's view of a conversation: unread count, last message, last activity.
pub fn conversation_member(user_id: &str, conversation_id: &str) -> Key {
    Key::new(
        user_pk(user_id),
        format!("{CONVERSATION_MEMBER_PREFIX}{conversation_id}"),
    )
}

/// GSI1 partition listing a user's conversations; sorted by `conversation_activity`.
pub fn conversations_of(user_id: &str) -> String {
    format!("CONVS#{user_id}")
}

/// GSI1 sort key of a membership: the newest message id (or the creation id), time-sortable.
pub fn conversation_activity(activity_id: &str) -> String {
    format!("ACT#{activity_id}")
}

pub const MESSAGE_PREFIX: &str = "MSG#";

/// A message, under its conversation; ULID ids sort by time.
pub fn message(conversation_id: &str, message_id: &str) -> Key {
    Key::new(
        conversation_pk(conversation_id),
        format!("{MESSAGE_PREFIX}{message_id}"),
    )
}

/// GSI1 partition that finds a message by its id alone (`/messages/:messageId` routes).
pub fn message_by_id(message_id: &str) -> String {
    format!("{MESSAGE_PREFIX}{message_id}")
}

/// The user's inbox counters: total unread messages, conversations.
pub fn inbox(user_id: &str) -> Key {
    Key::new(user_pk(user_id), "INBOX")
}

/// One open WebSocket connection (API Gateway's connection id).
pub fn connection(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "CONN")
}

/// GSI1 partition listing a user's open connections: pushing to a user is one Query.
pub fn connections_of(user_id: &str) -> String {
    format!("CONNS#{user_id}")
}

// ---------- stories ----------
// A story and its views share the partition `STORY#<storyId>`, so deleting a story is one Query
// of its partition. Every item here carries the TTL attribute (stories are ephemeral).

pub fn story_pk(story_id: &str) -> String {
    format!("STORY#{story_id}")
}

/// The story itself; its GSI1 (`stories_by`) lists an author's stories in time order.
pub fn story(story_id: &str) -> Key {
    Key::new(story_pk(story_id), "STORY")
}

/// The author's active-story slots (`slots`: story id → expiry, `version`): the story cap is a
/// condition on this item inside the create transaction.
pub fn story_slots(author_id: &str) -> Key {
    Key::new(user_pk(author_id), "STORYSLOTS")
}

/// GSI1 partition listing every story of `author_id` (GSI1SK is the story's ULID, so a key
/// condition on it bounds a read to the last 24 hours).
pub fn stories_by(author_id: &str) -> String {
    format!("STORIESBY#{author_id}")
}

pub const STORY_VIEW_PREFIX: &str = "VIEW#";

/// `viewer_id` has seen the story; its existence is what makes a view count once.
pub fn story_view(story_id: &str, viewer_id: &str) -> Key {
    Key::new(
        story_pk(story_id),
        format!("{STORY_VIEW_PREFIX}{viewer_id}"),
    )
}

/// GSI1 partition listing a story's viewers (GSI1SK is the view's ULID: newest first).
pub fn story_viewers(story_id: &str) -> String {
    format!("VIEWERSOF#{story_id}")
}

// ---------- notifications ----------
// One item per (recipient, type, actor, target): a repeat overwrites it instead of adding one.

pub const NOTIFICATION_PREFIX: &str = "NOTIF#";

/// A notification in its recipient's partition; the id is derived from what it is about.
pub fn notification(recipient: &str, notification_id: &str) -> Key {
    Key::new(
        user_pk(recipient),
        format!("{NOTIFICATION_PREFIX}{notification_id}"),
    )
}

/// GSI1 partition listing a user's notifications; GSI1SK is the ULID of the latest refresh.
pub fn notifications_of(recipient: &str) -> String {
    format!("NOTIFS#{recipient}")
}

/// The recipient's unread-notification counter.
pub fn notification_counter(recipient: &str) -> Key {
    Key::new(user_pk(recipient), "NOTIFCOUNT")
}

pub const NOTIFICATION_SENT_PREFIX: &str = "NOTIFSENT#";

/// The actor's pointer to a notification it caused, so account deletion finds and removes the
/// notifications a deleted user left in other partitions.
pub fn notification_sent(actor: &str, recipient: &str, notification_id: &str) -> Key {
    Key::new(
        user_pk(actor),
        format!("{NOTIFICATION_SENT_PREFIX}{recipient}#{notification_id}"),
    )
}

pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";

/// GSI2 partition of the admin directory: every profile in exactly one of
/// `active`, `disabled`, `unverified-email`.
pub fn directory(state: &str) -> String {
    format!("USERS#{state}")
}

/// The directory's sort key: creation time, then the id (unique, so it orders every user).
pub fn directory_sort(created_at: &str, user_id: &str) -> String {
    format!("{created_at}#{user_id}")
}

/// GSI3 partition (sparse) of the users holding an elevated role.
pub fn role_partition(role: &str) -> String {
    format!("ROLE#{role}")
}

/// A report; GSI1 `reports_with_status` lists them oldest first, GSI3 `reports_on` per target.
pub fn report(report_id: &str) -> Key {
    Key::new(format!("REPORT#{report_id}"), "REPORT")
}

pub fn reports_with_status(status: &str) -> String {
    format!("REPORTS#{status}")
}

pub fn reports_on(target_type: &str, target_id: &str) -> String {
    format!("REPORTSON#{target_type}#{target_id}")
}

/// Exists while `reporter` has an open report on the target: one open report each.
pub fn open_report_claim(target_type: &str, target_id: &str, reporter: &str) -> Key {
    Key::new(
        format!("REPORTSON#{target_type}#{target_id}"),
        format!("OPENBY#{reporter}"),
    )
}

/// An audit entry. All entries share the partition `AUDIT` (newest first by ULID); GSI1 lists
/// one actor's, GSI3 one target's.
pub fn audit_entry(entry_id: &str) -> Key {
    Key::new(AUDIT_PK, format!("ENTRY#{entry_id}"))
}

pub const AUDIT_PK: &str = "AUDIT";
pub const AUDIT_ENTRY_PREFIX: &str = "ENTRY#";

pub fn audit_by(actor_id: &str) -> String {
    format!("AUDITBY#{actor_id}")
}

pub fn audit_on(target_id: &str) -> String {
    format!("AUDITON#{target_id}")
}

// ---------- stream processing ----------
// The fanout function's proof that one stream record already produced one notification write:
// written in the same transaction as that write, so a replayed record changes nothing twice.

pub const STREAM_EVENT_PREFIX: &str = "STREAMEVENT#";

/// `event_id` (the stream record's `eventID`) already wrote notification `notification_id`.
pub fn stream_marker(event_id: &str, notification_id: &str) -> Key {
    Key::new(
        format!("{STREAM_EVENT_PREFIX}{event_id}"),
        format!("{NOTIFICATION_PREFIX}{notification_id}"),
    )
}

// ---------- social sign-in ----------

/// Claims a provider identity (`google`, `apple`, `facebook` + the provider's user id) for one
/// account: the one place an identity resolves to a user.
pub fn identity(provider: &str, subject: &str) -> Key {
    Key::new(format!("IDENTITY#{provider}#{subject}"), "IDENTITY")
}

/// A redirect flow in progress, keyed by the HMAC of its `state` value (single use, TTL).
pub fn oauth_state(state_digest: &str) -> Key {
    Key::new(format!("OAUTHSTATE#{state_digest}"), "OAUTHSTATE")
}

/// The one-time code a finished redirect flow hands the client, keyed by its HMAC.
pub fn oauth_code(code_digest: &str) -> Key {
    Key::new(format!("OAUTHCODE#{code_digest}"), "OAUTHCODE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable() {
        assert_eq!(user("01H").pk, "USER#01H");
        assert_eq!(user("01H").sk, "PROFILE");
        assert_eq!(session("u", "s").sk, "SESSION#s");
        assert_eq!(email_token("u", EmailPurpose::Reset).sk, "TOKEN#reset");
        assert_eq!(username_claim("bob").pk, "USERNAME#bob");
        assert_eq!(search_partition("bo"), "SEARCH#bo");
        assert_eq!(following("a", "b").sk, "FOLLOWING#b");
        assert_eq!(follower("b", "a").pk, "USER#b");
        assert_eq!(post("01P").pk, "POST#01P");
        assert_eq!(post_like("01P", "u").sk, "LIKE#u");
        assert_eq!(post_of_type("a", "video", "01P").sk, "POSTS#video#01P");
        assert_eq!(feed_entry("2026-11-22", "01P").pk, "FEED#2026-11-22");
        assert_eq!(feed_day("2026-11-22").pk, "FEEDDAYS");
        assert_eq!(feed_day("2026-11-22").sk, "2026-11-22");
        assert_eq!(message("c", "m").pk, "CONV#c");
        assert_eq!(message("c", "m").sk, "MSG#m");
        assert_eq!(conversation_member("u", "c").sk, "CONVMEMBER#c");
        assert_eq!(inbox("u").sk, "INBOX");
        assert_eq!(connection("x").pk, "CONN#x");
        assert_eq!(story("01S").pk, "STORY#01S");
        assert_eq!(story("01S").sk, "STORY");
        assert_eq!(story_view("01S", "u").sk, "VIEW#u");
        assert_eq!(stories_by("a"), "STORIESBY#a");
        assert_eq!(story_viewers("01S"), "VIEWERSOF#01S");
        assert_eq!(notification("u", "n").sk, "NOTIF#n");
        assert_eq!(notification_counter("u").sk, "NOTIFCOUNT");
        assert_eq!(notification_sent("a", "r", "n").sk, "NOTIFSENT#r#n");
        assert_eq!(identity("google", "123").pk, "IDENTITY#google#123");
        assert_eq!(oauth_state("d").pk, "OAUTHSTATE#d");
        assert_eq!(oauth_code("d").sk, "OAUTHCODE");
    }
}
