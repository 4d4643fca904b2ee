//! `/api/posts/{postId}/comments`: comments and replies (one level deep), edits by the author,
//! deletion by the author or the post's owner, and comment likes.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::Router;
use serde::Deserialize;
use shared::auth::{AuthUser, MaybeAuthUser};
use shared::http::{created, done, ok, ApiJson};
use shared::pagination::ListQuery;
use shared::posts::Toggle;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/posts/{post_id}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/api/posts/{post_id}/comments/{comment_id}",
            patch(update_comment).delete(delete_comment),
        )
        .route(
            "/api/posts/{post_id}/comments/{comment_id}/replies",
            get(list_replies).post(create_reply),
        )
        .route(
            "/api/posts/{post_id}/comments/{comment_id}/like",
            post(toggle_like).put(like).delete(unlike),
        )
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentBody {
    content: Option<String>,
    parent_comment_id: Option<String>,
}

async fn list_comments(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(post_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let (comments, pagination) =
        shared::comments::comments_page(&state, viewer.id(), &post_id, None, &request).await?;
    Ok(ok(
        "Comments retrieved successfully",
        pagination.list("comments", comments, "totalComments"),
    ))
}

async fn create_comment(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> ApiResult<impl IntoResponse> {
    let comment = shared::comments::create_comment(
        &state,
        &auth.user,
        &post_id,
        body.content.as_deref(),
        body.parent_comment_id.as_deref(),
    )
    .await?;
    let message = if comment.parent_comment_id.is_some() {
        "Reply created successfully"
    } else {
        "Comment created successfully"
    };
    Ok(created(message, comment))
}

async fn list_replies(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let (replies, pagination) =
        shared::comments::comments_page(&state, viewer.id(), &post_id, Some(&comment_id), &request)
            .await?;
    Ok(ok(
        "Replies retrieved successfully",
        pagination.list("replies", replies, "totalReplies"),
    ))
}

async fn create_reply(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CommentBody>,
) -> ApiResult<impl IntoResponse> {
    let reply = shared::comments::create_comment(
        &state,
        &auth.user,
        &post_id,
        body.content.as_deref(),
        Some(&comment_id),
    )
    .await?;
    Ok(created("Reply created successfully", reply))
}

async fn update_comment(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CommentBody>,
) -> ApiResult<impl IntoResponse> {
    let comment = shared::comments::update_comment(
        &state,
        &auth.user,
        &post_id,
        &comment_id,
        body.content.as_deref(),
    )
    .await?;
    Ok(ok("Comment updated successfully", comment))
}

async fn delete_comment(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    shared::comments::delete_comment(&state, &auth.user, &post_id, &comment_id).await?;
    Ok(done("Comment deleted successfully"))
}

/// `POST .../like`: the live service's toggle.
async fn toggle_like(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    comment_like(state, auth, post_id, comment_id, Toggle::Flip).await
}

async fn like(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    comment_like(state, auth, post_id, comment_id, Toggle::On).await
}

async fn unlike(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((post_id, comment_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    comment_like(state, auth, post_id, comment_id, Toggle::Off).await
}

async fn comment_like(
    state: AppState,
    auth: AuthUser,
    post_id: String,
    comment_id: String,
    want: Toggle,
) -> ApiResult<impl IntoResponse> {
    let comment =
        shared::comments::set_comment_like(&state, &auth.user, &post_id, &comment_id, want).await?;
    let message = if comment.is_liked {
        "Comment liked successfully"
    } else {
        "Comment unliked successfully"
    };
    Ok(ok(message, comment))
}
