//! The WebSocket API (API Gateway, route selection on `$request.body.action`). `$connect`
//! authenticates `?token=` and stores the connection; `$disconnect` forgets it; the routes call the
//! same `shared::messaging` rules as REST. A route's answer (if any) is the response body, which
//! API Gateway sends back to the calling connection as a frame.

use std::future::Future;
use std::pin::Pin;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde::Deserialize;
use shared::db::users::UserRecord;
use shared::messaging::{self, SendMessage};
use shared::realtime::Event;
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
            "$disconnect" => state
                .db
                .delete_connection(connection_id)
                .await
                .map(|()| None),
            "$default" => Err(ApiError::bad_request(
                "Unknown action: use sendMessage, typing, stop_typing, markRead or ping",
            )),
            action => {
                let frame = match event.body.as_deref() {
                    Some(body) => serde_json::from_str::<Frame>(body)
                        .map_err(|_| ApiError::bad_request("Malformed frame"))?,
                    None => Frame::default(),
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
    let auth = shared::auth::extract::authenticate(state, token).await?;
    state.db.put_connection(connection_id, auth.id()).await?;
    Ok(None)
}

/// The signed-in user behind a connection, as current as the database says.
async fn connection_user(state: &AppState, connection_id: &str) -> ApiResult<UserRecord> {
    let unauthorized = || ApiError::unauthorized("Unauthorized - Connection is not signed in");
    let user_id = state
        .db
        .connection_user(connection_id)
        .await?
        .ok_or_else(unauthorized)?;
    match state.db.get_user(&user_id).await? {
        Some(user) if user.is_active() => Ok(user),
        _ => Err(unauthorized()),
    }
}

async fn route_action(
    state: &AppState,
    connection_id: &str,
    action: &str,
    frame: Frame,
) -> ApiResult<Option<Event>> {
    match action {
        "ping" => Ok(Some(Event::Pong)),
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
            let user_id = state
                .db
                .connection_user(connection_id)
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized("Unauthorized - Connection is not signed in")
                })?;
            messaging::typing(
                state,
                &user_id,
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
