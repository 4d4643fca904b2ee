//! The WebSocket API (API Gateway, route selection on `$request.body.action`). `$connect`
//! authenticates `?token=` and stores the connection; `$disconnect` forgets it; the routes call the
//! same `shared::messaging` rules as REST. A route's answer (if any) is the response body, which
//! API Gateway sends back to the calling connection as a frame.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde::Deserialize;
use shared::db::users::UserRecord;
use shared::messaging::{self, SendMessage};
use shared::realtime::Event;
use shared::time::now_epoch;
use shared::{ApiError, ApiResult, AppState};

/// The client → server frame, all routes' fields together.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    recipient_id: Option<String>,
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    media_key: Option<String>,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

/// Handles one API Gateway WebSocket event.
pub fn handle(
    state: &AppState,
    event: ApiGatewayWebsocketProxyRequest,
) -> Pin<Box<dyn Future<Output = ApiGatewayProxyResponse> + Send + '_>> {
    // Boxed: the messaging futures are deep enough to overflow the type-layout depth limit.
    Box::pin(handle_event(state, event))
}

async fn handle_event(
    state: &AppState,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let context = &event.request_context;
    let route = context.route_key.as_deref().unwrap_or("$default");
    let connection_id = context.connection_id.as_deref().unwrap_or_default();
    let (calls, result) = shared::metrics::count_ddb_calls(async {
        match route {
            "$connect" => {
                connect(
                    state,
                    connection_id,
                    event.query_string_parameters.first("token"),
                )
                .await
            }
            "$disconnect" => {
                forget(connection_id);
                state
                    .db
                    .delete_connection(connection_id)
                    .await
                    .map(|()| None)
            }
            route => {
                let frame = match event.body.as_deref() {
                    Some(body) => serde_json::from_str::<Frame>(body)
                        .map_err(|_| ApiError::bad_request("Malformed frame"))?,
                    None => Frame::default(),
                };
                // `auth` has no route of its own: API Gateway sends it to `$default`.
                let action = match route {
                    "$default" if frame.action.as_deref() == Some("auth") => "auth",
                    "$default" => {
                        return Err(ApiError::bad_request(
                            "Unknown action: use sendMessage, typing, stop_typing, markRead, \
                             ping or auth",
                        ))
                    }
                    action => action,
                };
                route_action(state, connection_id, action, frame).await
            }
        }
    })
    .await;
    tracing::info!(%route, %connection_id, ddb_calls = calls, ok = result.is_ok(), "websocket event");
    match result {
        Ok(answer) => response(200, answer),
        Err(err) => {
            let status = i64::from(err.status().as_u16());
            if let ApiError::Internal(detail) = &err {
                tracing::error!(%detail, "internal error");
            }
            response(status, Some(Event::Error(err.to_string())))
        }
    }
}

fn response(status: i64, event: Option<Event>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = event.map(|e| Body::Text(e.frame()));
    response
}

/// At most this many connections per user: a new one closes the oldest beyond it.
pub const MAX_CONNECTIONS_PER_USER: usize = 10;
/// How long a connection's checked user is trusted before it is read again.
const SESSION_CACHE_SECS: i64 = 60;
/// Entries kept in the per-process session cache (it is cleared when full).
const SESSION_CACHE_MAX: usize = 10_000;

/// `$connect`: the token is checked, the connection stored, then the user is read again: a
/// connect racing an invalidate-all (or a password change) never survives it, whichever of the
/// two writes came first. The user's oldest connections beyond 10 are closed.
async fn connect(
    state: &AppState,
    connection_id: &str,
    token: Option<&str>,
) -> ApiResult<Option<Event>> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("Unauthorized - Token is required"))?;
    if connection_id.is_empty() {
        return Err(ApiError::bad_request("connectionId is missing"));
    }
    let claims = state.tokens.decode_access(token)?;
    let auth = shared::auth::extract::authenticate(state, token).await?;
    state
        .db
        .put_connection(connection_id, auth.id(), claims.tv, claims.exp)
        .await?;
    let current = state.db.get_user(auth.id()).await?;
    if !current.is_some_and(|user| user.is_active() && user.token_version == claims.tv) {
        state.db.delete_connection(connection_id).await?;
        return Err(ApiError::unauthorized(
            "Unauthorized - Token has been revoked",
        ));
    }
    state
        .realtime
        .enforce_connection_cap(auth.id(), connection_id, MAX_CONNECTIONS_PER_USER)
        .await?;
    Ok(None)
}

/// A connection's checked user, as of `checked_at`.
#[derive(Clone)]
struct Session {
    user: UserRecord,
    token_expires_at: i64,
    checked_at: i64,
}

fn sessions() -> &'static Mutex<HashMap<String, Session>> {
    static SESSIONS: OnceLock<Mutex<HashMap<String, Session>>> = OnceLock::new();
    SESSIONS.get_or_init(Mutex::default)
}

fn remember(connection_id: &str, user: &UserRecord, token_expires_at: i64) {
    let mut cache = sessions().lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= SESSION_CACHE_MAX {
        cache.clear();
    }
    cache.insert(
        connection_id.to_string(),
        Session {
            user: user.clone(),
            token_expires_at,
            checked_at: now_epoch(),
        },
    );
}

fn forget(connection_id: &str) {
    sessions()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(connection_id);
}

/// Tells the connection why (an `error` frame), closes it, and answers the same error.
async fn refuse(state: &AppState, connection_id: &str, message: &str) -> ApiError {
    forget(connection_id);
    let reason = Event::Error(message.to_string()).frame();
    state
        .realtime
        .push_to_connection(connection_id, &reason)
        .await;
    state.realtime.close_connection(connection_id).await;
    ApiError::unauthorized(message.to_string())
}

/// The signed-in user behind a connection, checked on every frame: the connection's record and
/// the user's token version and status (read at most once a minute per connection: 1 GetItem of
/// the connection + 1 GetItem of the user), and the access token's lifetime (every frame). A
/// revoked, disabled or expired connection is closed.
async fn connection_user(state: &AppState, connection_id: &str) -> ApiResult<UserRecord> {
    let now = now_epoch();
    let cached = sessions()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(connection_id)
        .cloned()
        .filter(|s| now - s.checked_at < SESSION_CACHE_SECS);
    if let Some(session) = cached {
        if now >= session.token_expires_at {
            return Err(refuse(state, connection_id, EXPIRED).await);
        }
        return Ok(session.user);
    }
    let Some(record) = state.db.connection_session(connection_id).await? else {
        forget(connection_id);
        return Err(ApiError::unauthorized(
            "Unauthorized - Connection is not signed in",
        ));
    };
    let user = state.db.get_user(&record.user_id).await?;
    let Some(user) = user.filter(|u| u.is_active() && u.token_version == record.token_version)
    else {
        return Err(refuse(
            state,
            connection_id,
            "Unauthorized - Token has been revoked",
        )
        .await);
    };
    if now >= record.token_expires_at {
        return Err(refuse(state, connection_id, EXPIRED).await);
    }
    remember(connection_id, &user, record.token_expires_at);
    Ok(user)
}

const EXPIRED: &str =
    "Unauthorized - The access token expired; reconnect or send {\"action\":\"auth\",\"token\"}";

/// `{"action": "auth", "token"}`: a fresh access token of the same user extends the
/// connection's life to that token's. 1 GetItem (connection) + the token's user read +
/// 1 UpdateItem.
async fn reauthenticate(
    state: &AppState,
    connection_id: &str,
    token: Option<&str>,
) -> ApiResult<Option<Event>> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid_field("token", "token is required"))?;
    let record = state
        .db
        .connection_session(connection_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Unauthorized - Connection is not signed in"))?;
    let claims = state.tokens.decode_access(token)?;
    if claims.sub != record.user_id {
        return Err(ApiError::forbidden(
            "That token belongs to another user than this connection",
        ));
    }
    let auth = shared::auth::extract::authenticate(state, token).await?;
    if !state
        .db
        .reauthenticate_connection(connection_id, claims.tv, claims.exp)
        .await?
    {
        return Err(ApiError::unauthorized(
            "Unauthorized - Connection is not signed in",
        ));
    }
    remember(connection_id, &auth.user, claims.exp);
    Ok(Some(Event::Authenticated(serde_json::json!({
        "userId": auth.id(),
        "expiresAt": shared::time::epoch_to_rfc3339(claims.exp),
    }))))
}

async fn route_action(
    state: &AppState,
    connection_id: &str,
    action: &str,
    frame: Frame,
) -> ApiResult<Option<Event>> {
    match action {
        "ping" => {
            connection_user(state, connection_id).await?;
            Ok(Some(Event::Pong))
        }
        "auth" => reauthenticate(state, connection_id, frame.token.as_deref()).await,
        "sendMessage" => {
            let me = connection_user(state, connection_id).await?;
            let input = SendMessage {
                conversation_id: frame.conversation_id,
                recipient_id: frame.recipient_id,
                message_type: frame.message_type,
                content: frame.content,
                media_key: frame.media_key,
            };
            let message =
                messaging::send_message(state, &me, &input, None, Some(connection_id)).await?;
            Ok(Some(Event::NewMessage(message)))
        }
        "typing" | "stop_typing" => {
            let me = connection_user(state, connection_id).await?;
            messaging::typing(
                state,
                &me.id,
                frame.conversation_id.as_deref(),
                frame.recipient_id.as_deref(),
                action == "typing",
            )
            .await?;
            Ok(None)
        }
        "markRead" => {
            let me = connection_user(state, connection_id).await?;
            let message_id = frame
                .message_id
                .filter(|id| !id.trim().is_empty())
                .ok_or_else(|| ApiError::invalid_field("messageId", "messageId is required"))?;
            let data = messaging::mark_read(state, &me, &message_id).await?;
            Ok(Some(Event::MessageRead(data)))
        }
        _ => Err(ApiError::bad_request(format!("Unknown action: {action}"))),
    }
}
