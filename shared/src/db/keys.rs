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

    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_string(), AttributeValue::S(self.pk.clone())),
            (SK.to_string(), AttributeValue::S(self.sk.clone())),
        ])
    }
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
pub fn login_failures(identifier: &str) -> Key {
    Key::new(format!("LOGINFAIL#{identifier}"), "LOGINFAIL")
}

// ---------- follow graph ----------
// Two items per edge so either side is one GetItem away; GSI1 lists each side newest first
// (GSI1SK is the edge's ULID).

/// `follower` follows `followee`: lives in the follower's partition.
pub fn following(follower: &str, followee: &str) -> Key {
    Key::new(user_pk(follower), format!("FOLLOWING#{followee}"))
}

/// The mirror of `following`, in the followee's partition.
pub fn follower(followee: &str, follower: &str) -> Key {
    Key::new(user_pk(followee), format!("FOLLOWER#{follower}"))
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
    }
}
