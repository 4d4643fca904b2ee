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
        assert_eq!(message("c", "m").pk, "CONV#c");
        assert_eq!(message("c", "m").sk, "MSG#m");
        assert_eq!(conversation_member("u", "c").sk, "CONVMEMBER#c");
        assert_eq!(inbox("u").sk, "INBOX");
        assert_eq!(connection("x").pk, "CONN#x");
    }
}
