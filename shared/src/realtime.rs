//! Realtime pushes through the API Gateway Management API (`@connections`). Built once per
//! process; without `WS_MANAGEMENT_ENDPOINT` it is disabled and pushes are no-ops (messages are
//! stored first either way, so an offline user reads them over REST).

use aws_config::SdkConfig;
use serde_json::{json, Value};

use crate::config::Config;
use crate::db::Db;
use crate::error::ApiResult;

/// A server → client frame: `{"event": ..., "data": ...}` as API.md lists them.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    NewMessage(Value),
    UserTyping {
        conversation_id: String,
        user_id: String,
    },
    UserStopTyping {
        conversation_id: String,
        user_id: String,
    },
    MessageRead(Value),
    Notification(Value),
    Error(String),
    Pong,
    /// The answer to `{"action": "auth", "token"}`: the connection now lives until `expiresAt`.
    Authenticated(Value),
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::NewMessage(_) => "new_message",
            Self::UserTyping { .. } => "user_typing",
            Self::UserStopTyping { .. } => "user_stop_typing",
            Self::MessageRead(_) => "message_read",
            Self::Notification(_) => "notification",
            Self::Error(_) => "error",
            Self::Pong => "pong",
            Self::Authenticated(_) => "authenticated",
        }
    }

    pub fn to_json(&self) -> Value {
        let data = match self {
            Self::NewMessage(data)
            | Self::MessageRead(data)
            | Self::Notification(data)
            | Self::Authenticated(data) => data.clone(),
            Self::UserTyping {
                conversation_id,
                user_id,
            }
            | Self::UserStopTyping {
                conversation_id,
                user_id,
            } => json!({ "conversationId": conversation_id, "userId": user_id }),
            Self::Error(message) => json!({ "message": message }),
            Self::Pong => return json!({ "event": "pong" }),
        };
        json!({ "event": self.name(), "data": data })
    }

    pub fn frame(&self) -> String {
        self.to_json().to_string()
    }
}

/// What happened to one push.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// 410: the connection is closed; its record has been deleted.
    Gone,
    Failed,
}

#[derive(Clone)]
pub struct Realtime {
    client: Option<management::Client>,
    db: Db,
}

impl Realtime {
    pub fn new(sdk: &SdkConfig, config: &Config, db: Db) -> Self {
        let client = config
            .ws_management_endpoint
            .as_ref()
            .and_then(|endpoint| management::client(sdk, endpoint));
        Self { client, db }
    }

    pub fn is_enabled(&self) -> bool {
        self.client.is_some()
    }

    /// Sends one frame to one connection; a 410 deletes the stale connection record.
    pub async fn push_to_connection(&self, connection_id: &str, frame: &str) -> Delivery {
        let Some(client) = &self.client else {
            return Delivery::Failed;
        };
        match management::post(client, connection_id, frame).await {
            Delivery::Gone => {
                if let Err(err) = self.db.delete_connection(connection_id).await {
                    tracing::warn!(%connection_id, ?err, "deleting a gone connection");
                }
                Delivery::Gone
            }
            delivery => delivery,
        }
    }

    /// Sends the event to every live connection of the user (all their devices), except
    /// `except` (the connection the event came from). Never fails the caller: the data is stored.
    /// Returns how many connections received it. 1 Query.
    pub async fn push_to_user_except(
        &self,
        user_id: &str,
        except: Option<&str>,
        event: &Event,
    ) -> usize {
        if self.client.is_none() {
            return 0;
        }
        let Some(connections) = self.live_connections(user_id).await else {
            return 0;
        };
        let frame = event.frame();
        let pushes = connections
            .iter()
            .filter(|id| Some(id.as_str()) != except)
            .map(|id| self.push_to_connection(id, &frame));
        futures_util::future::join_all(pushes)
            .await
            .into_iter()
            .filter(|d| *d == Delivery::Delivered)
            .count()
    }

    /// Several events to every live connection of one user, in order, with one Query for the
    /// connections (a message and the notification about it). Never fails the caller.
    pub async fn push_all_to_user(&self, user_id: &str, events: &[Event]) -> usize {
        if self.client.is_none() || events.is_empty() {
            return 0;
        }
        let Some(connections) = self.live_connections(user_id).await else {
            return 0;
        };
        let frames: Vec<String> = events.iter().map(Event::frame).collect();
        let pushes = connections.iter().map(|id| {
            let frames = &frames;
            async move {
                let mut delivered = 0;
                for frame in frames {
                    match self.push_to_connection(id, frame).await {
                        Delivery::Delivered => delivered += 1,
                        Delivery::Gone => break,
                        Delivery::Failed => {}
                    }
                }
                delivered
            }
        });
        futures_util::future::join_all(pushes)
            .await
            .into_iter()
            .sum()
    }

    pub async fn push_to_user(&self, user_id: &str, event: &Event) -> usize {
        self.push_to_user_except(user_id, None, event).await
    }

    /// Closes every socket of the user and forgets it: a revoked session (invalidate-all,
    /// password change or reset, account deletion) must not keep receiving pushes. Never fails
    /// the caller. 1 Query + 1 DeleteItem per connection. Returns how many were open.
    /// The user's connections whose access token is still valid; those whose token's lifetime
    /// is over (and that did not re-authenticate) are closed instead of pushed to.
    async fn live_connections(&self, user_id: &str) -> Option<Vec<String>> {
        let connections = match self.db.user_connection_expiries(user_id).await {
            Ok(connections) => connections,
            Err(err) => {
                tracing::warn!(%user_id, ?err, "listing connections");
                return None;
            }
        };
        let now = crate::time::now_epoch();
        let (live, expired): (Vec<_>, Vec<_>) = connections
            .into_iter()
            .partition(|(_, expires)| *expires > now);
        let closes = expired.iter().map(|(id, _)| self.close_connection(id));
        futures_util::future::join_all(closes).await;
        Some(live.into_iter().map(|(id, _)| id).collect())
    }

    /// Closes one connection and forgets it: 1 DeleteConnection + 1 DeleteItem.
    pub async fn close_connection(&self, connection_id: &str) {
        if let Some(client) = &self.client {
            management::close(client, connection_id).await;
        }
        if let Err(err) = self.db.delete_connection(connection_id).await {
            tracing::warn!(%connection_id, ?err, "deleting a connection record");
        }
    }

    /// Keeps at most `max` connections for the user, `newest` (just stored) among them: the
    /// oldest beyond it are closed. Answers how many were closed. 1 Query (+ the closes).
    pub async fn enforce_connection_cap(
        &self,
        user_id: &str,
        newest: &str,
        max: usize,
    ) -> ApiResult<usize> {
        let mut connections = self.db.user_connection_expiries(user_id).await?;
        // The index is eventually consistent: the connection just stored may not be listed yet.
        if !connections.iter().any(|(id, _)| id == newest) {
            connections.push((newest.to_string(), i64::MAX));
        }
        let excess = connections.len().saturating_sub(max);
        let closes = connections
            .iter()
            .take(excess)
            .map(|(id, _)| self.close_connection(id));
        futures_util::future::join_all(closes).await;
        Ok(excess)
    }

    pub async fn disconnect_user(&self, user_id: &str) -> usize {
        let Some(client) = &self.client else {
            return 0;
        };
        let connections = match self.db.user_connections(user_id).await {
            Ok(connections) => connections,
            Err(err) => {
                tracing::warn!(%user_id, ?err, "listing connections to close");
                return 0;
            }
        };
        let closes = connections.iter().map(|id| async move {
            // A 410 means it is closed already; either way the record goes.
            management::close(client, id).await;
            if let Err(err) = self.db.delete_connection(id).await {
                tracing::warn!(connection_id = %id, ?err, "deleting a connection record");
            }
        });
        futures_util::future::join_all(closes).await;
        connections.len()
    }

    /// For the notifications feature: `{"event": "notification", "data": <notification>}`.
    pub async fn notification(&self, user_id: &str, notification: Value) -> usize {
        self.push_to_user(user_id, &Event::Notification(notification))
            .await
    }
}

/// The Management API client, linked only with the `realtime` feature.
#[cfg(feature = "realtime")]
mod management {
    use aws_config::SdkConfig;
    use aws_sdk_apigatewaymanagement::error::SdkError;
    use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
    use aws_sdk_apigatewaymanagement::primitives::Blob;

    use super::Delivery;

    pub type Client = aws_sdk_apigatewaymanagement::Client;

    pub fn client(sdk: &SdkConfig, endpoint: &str) -> Option<Client> {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint)
            .interceptor(crate::calls::CallRecorder {
                service: "execute-api",
            })
            .build();
        Some(Client::from_conf(conf))
    }

    /// One frame to one connection; `Gone` for a 410.
    pub async fn post(client: &Client, connection_id: &str, frame: &str) -> Delivery {
        let result = client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.as_bytes().to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Delivery::Delivered,
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), PostToConnectionError::GoneException(_))
                    || service.raw().status().as_u16() == 410 =>
            {
                Delivery::Gone
            }
            Err(err) => {
                tracing::warn!(%connection_id, ?err, "push failed");
                Delivery::Failed
            }
        }
    }

    /// Closes a connection; a 410 means it is closed already.
    pub async fn close(client: &Client, connection_id: &str) {
        let closed = client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await;
        if let Err(err) = closed {
            tracing::debug!(%connection_id, ?err, "closing a connection");
        }
    }
}

/// Built without the `realtime` feature: no client can exist, pushes are no-ops.
#[cfg(not(feature = "realtime"))]
mod management {
    use aws_config::SdkConfig;

    use super::Delivery;

    #[derive(Clone, Debug)]
    pub enum Client {}

    pub fn client(_sdk: &SdkConfig, endpoint: &str) -> Option<Client> {
        tracing::warn!(%endpoint, "built without the `realtime` feature: pushes are disabled");
        None
    }

    pub async fn post(client: &Client, _connection_id: &str, _frame: &str) -> Delivery {
        match *client {}
    }

    pub async fn close(client: &Client, _connection_id: &str) {
        match *client {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_the_contract() {
        assert_eq!(Event::Pong.frame(), r#"{"event":"pong"}"#);
        let typing = Event::UserTyping {
            conversation_id: "c".into(),
            user_id: "u".into(),
        }
        .to_json();
        assert_eq!(typing["event"], "user_typing");
        assert_eq!(typing["data"]["conversationId"], "c");
        assert_eq!(
            Event::Error("nope".into()).to_json()["data"]["message"],
            "nope"
        );
    }
}
