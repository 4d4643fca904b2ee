//! `/api/messages`: direct conversations and messages over REST. Sending pushes `new_message`
//! to the recipient's sockets; the rules live in `shared::messaging`.

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::auth::AuthUser;
use shared::http::{created, done, ok, read_media_form, ApiJson, FilePart};
use shared::messaging::{self, SendMessage};
use shared::pagination::ListQuery;
use shared::{ApiResult, AppState};

/// An image sent through the API itself: up to 10 MB (the `message` upload purpose's limit).
const MESSAGE_IMAGE: FilePart = FilePart {
    names: &["image", "file"],
    limit: 10 * 1024 * 1024,
    too_large: "images in messages are limited in size",
};

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
            post(send_message).layer(DefaultBodyLimit::max(MESSAGE_IMAGE.body_limit())),
        )
        .route("/api/messages/messages/{message_id}/read", put(mark_read))
        .route(
            "/api/messages/conversations/{conversation_id}/read",
            put(mark_conversation_read),
        )
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
    let form = read_media_form::<SendMessage, _>(request, &state, &MESSAGE_IMAGE).await?;
    let message =
        messaging::send_message(&state, &auth.user, &form.fields, form.file, None).await?;
    Ok(created("Message sent successfully", message))
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

async fn mark_conversation_read(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(conversation_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let data = messaging::mark_conversation_read(&state, &auth.user, &conversation_id).await?;
    Ok(ok("Conversation marked as read", data))
}
