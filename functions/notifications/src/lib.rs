//! `/api/notifications`: the caller's notifications (newest first, `type=` filter), the unread
//! counter, and marking them read. Notifications are created by the flows that cause them; the
//! rules live in `shared::notifications`.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::auth::AuthUser;
use shared::http::ok;
use shared::notifications;
use shared::pagination::ListQuery;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/notifications", get(list))
        .route("/api/notifications/unread-count", get(unread_count))
        .route("/api/notifications/read-all", put(read_all))
        .route("/api/notifications/{notification_id}/read", put(mark_read))
        .with_state(state)
}

/// `limit`, `page`/`offset`, `cursor`, and `type`.
#[derive(Debug, Default, Deserialize)]
struct NotificationsQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<NotificationsQuery>,
) -> ApiResult<impl IntoResponse> {
    let data = notifications::list(&state, &auth.user, &query.list, query.kind.as_deref()).await?;
    Ok(ok("Notifications retrieved successfully", data))
}

async fn unread_count(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<impl IntoResponse> {
    let count = notifications::unread_count(&state, auth.id()).await?;
    Ok(ok(
        "Unread count retrieved",
        json!({ "unreadCount": count }),
    ))
}

async fn read_all(State(state): State<AppState>, auth: AuthUser) -> ApiResult<impl IntoResponse> {
    let data = notifications::mark_all_read(&state, auth.id()).await?;
    Ok(ok("All notifications marked as read", data))
}

async fn mark_read(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(notification_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let data = notifications::mark_read(&state, auth.id(), &notification_id).await?;
    Ok(ok("Notification marked as read", data))
}
