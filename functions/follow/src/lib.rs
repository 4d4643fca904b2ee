//! `/api/follow`: follow and unfollow (requests for private accounts), followers and following
//! lists, and the owner's side of follow requests.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use shared::auth::{AuthUser, MaybeAuthUser};
use shared::db::follows::FollowStatus;
use shared::db::keys;
use shared::db::listing::{string_attr, ListSource};
use shared::http::{done, ok};
use shared::limits::{self, Action};
use shared::pagination::ListQuery;
use shared::social::{connections_answer, Connections};
use shared::views::UserCard;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/follow/requests", get(requests))
        .route("/api/follow/requests/{user_id}/accept", post(accept))
        .route("/api/follow/requests/{user_id}/reject", post(reject))
        .route(
            "/api/follow/{user_id}/follow",
            post(follow).delete(unfollow),
        )
        .route("/api/follow/{user_id}/followers", get(followers))
        .route("/api/follow/{user_id}/following", get(following))
        .with_state(state)
}

async fn follow(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    limits::take(&state, Action::Follow, auth.id()).await?;
    // `follow` / `follow_request` notifications follow from the table's stream (`fanout`).
    let status = state.db.follow(auth.id(), &user_id).await?;
    let message = match status {
        FollowStatus::Requested => "Follow request sent",
        _ => "User followed successfully",
    };
    Ok(ok(
        message,
        json!({ "userId": user_id, "status": status, "followStatus": status }),
    ))
}

async fn unfollow(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state.db.unfollow(auth.id(), &user_id).await?;
    Ok(done("User unfollowed successfully"))
}

async fn list(
    state: AppState,
    viewer: MaybeAuthUser,
    user_id: String,
    query: ListQuery,
    which: Connections,
) -> ApiResult<impl IntoResponse> {
    connections_answer(&state, viewer.id(), &user_id, &query, which).await
}

async fn followers(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    list(state, viewer, user_id, query, Connections::Followers).await
}

async fn following(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    list(state, viewer, user_id, query, Connections::Following).await
}

/// Incoming requests, newest first: 1 Query + 1 BatchGetItem.
async fn requests(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let source = ListSource::Gsi1(keys::follow_requests_list(auth.id()));
    let page = state
        .db
        .list_page(&source, &request, true, Some(&["requesterId", "createdAt"]))
        .await?;
    let entries: Vec<(String, String)> = page
        .items
        .iter()
        .filter_map(|item| {
            Some((
                string_attr(item, "requesterId")?.to_string(),
                string_attr(item, "createdAt")
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect();
    let ids: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
    let users = state.db.get_users(&ids).await?;
    let mut out = Vec::with_capacity(entries.len());
    for (id, requested_at) in &entries {
        if let Some(user) = users.get(id) {
            out.push(json!({
                "_id": id,
                "user": UserCard::from_record(user, &state.media).await,
                "requestedAt": requested_at,
            }));
        }
    }
    let total = page.total_if_read_to_end();
    Ok(ok(
        "Follow requests retrieved successfully",
        page.pagination(total)
            .list("requests", out, "totalRequests"),
    ))
}

async fn accept(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    // `follow_accept` follows from the table's stream (the edge is marked `acceptedRequest`).
    state.db.accept_follow_request(auth.id(), &user_id).await?;
    Ok(done("Follow request accepted"))
}

async fn reject(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state.db.reject_follow_request(auth.id(), &user_id).await?;
    Ok(done("Follow request rejected"))
}
