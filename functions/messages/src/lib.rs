//! `/api/messages`: direct conversations and messages over REST. Sending pushes `new_message`
//! to the recipient's sockets; the rules live in `shared::messaging`.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::auth::AuthUser;
use shared::http::{created, done, ok, ApiJson};
use shared::messaging::{self, SendMessage};
use shared::pagination::ListQuery;
use shared::{ApiError, ApiResult, AppState};

/// An image sent through the API itself: up to 10 MB (the `message` upload purpose's limit).
const IMAGE_LIMIT: usize = 10 * 1024 * 1024;
/// The image plus the text fields and the multipart framing.
const SEND_BODY_LIMIT: usize = IMAGE_LIMIT + 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/messages/conversations",
            get(list_conversations).post(create_conversation),
        )
        .route(
            "/api/messages/conversations/{conversation_id}/messages",
            get(list_messages),
        )
        .route(
            "/api/messages/messages",
            post(send_message).layer(DefaultBodyLimit::max(SEND_BODY_LIMIT)),
        )
        .route("/api/messages/messages/{message_id}/read", put(mark_read))
        .route("/api/messages/messages/{message_id}", delete(unsend))
        .route("/api/messages/unread-count", get(unread_count))
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationBody {
    #[serde(default)]
    user_id: String,
}

async fn list_conversations(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let data = messaging::list_conversations(&state, &auth.user, &query).await?;
    Ok(ok("Conversations retrieved successfully", data))
}

async fn create_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<ConversationBody>,
) -> ApiResult<Response> {
    let (conversation, was_created) =
        messaging::create_or_get_conversation(&state, &auth.user, &body.user_id).await?;
    Ok(if was_created {
        created("Conversation created successfully", conversation).into_response()
    } else {
        ok("Conversation retrieved successfully", conversation).into_response()
    })
}

async fn list_messages(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(conversation_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let data = messaging::list_messages(&state, &auth.user, &conversation_id, &query).await?;
    Ok(ok("Messages retrieved successfully", data))
}

/// JSON `{conversationId, recipientId, messageType, content | mediaKey}`, or multipart with the
/// same text fields and an `image` file.
async fn send_message(
    State(state): State<AppState>,
    auth: AuthUser,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let (input, file) = if is_multipart(&request) {
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|err| ApiError::bad_request(err.body_text()))?;
        read_multipart(multipart).await?
    } else {
        let ApiJson(body) = ApiJson::<SendMessage>::from_media_route(request, &state).await?;
        (body, None)
    };
    let message = messaging::send_message(&state, &auth.user, &input, file, None).await?;
    Ok(created("Message sent successfully", message))
}

fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn image_too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "File too large: images are limited to {} MB",
        IMAGE_LIMIT / (1024 * 1024)
    ))
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        image_too_large()
    } else {
        ApiError::bad_request(format!("Malformed multipart body: {}", err.body_text()))
    }
}

/// The text fields and the `image` part of a multipart send; other parts are ignored.
async fn read_multipart(mut multipart: Multipart) -> ApiResult<(SendMessage, Option<Vec<u8>>)> {
    let mut input = SendMessage::default();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "image" || name == "file" {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            if bytes.len() > IMAGE_LIMIT {
                return Err(image_too_large());
            }
            file = Some(bytes.to_vec()).filter(|b| !b.is_empty());
            continue;
        }
        let text = Some(field.text().await.map_err(multipart_error)?);
        match name.as_str() {
            "conversationId" => input.conversation_id = text,
            "recipientId" => input.recipient_id = text,
            "messageType" => input.message_type = text,
            "content" => input.content = text,
            "mediaKey" => input.media_key = text,
            _ => {}
        }
    }
    Ok((input, file))
}

async fn mark_read(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(message_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let data = messaging::mark_read(&state, &auth.user, &message_id).await?;
    Ok(ok("Message marked as read", data))
}

async fn unsend(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(message_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    messaging::unsend(&state, &auth.user, &message_id).await?;
    Ok(done("Message unsent successfully"))
}

async fn unread_count(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<impl IntoResponse> {
    let count = messaging::unread_count(&state, auth.id()).await?;
    Ok(ok(
        "Unread count retrieved",
        json!({ "unreadCount": count }),
    ))
}
