//! `/api/posts` (except comments): create (multipart file or an accepted upload key), read,
//! edit, delete, like and save, a user's posts and stats, and the feeds.

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use shared::auth::{AuthUser, MaybeAuthUser};
use shared::http::{created, done, ok, read_media_form, ApiJson, CaptionedMedia, FilePart};
use shared::limits::{self, Action};
use shared::pagination::ListQuery;
use shared::posts::{PostEdge, PostView, Toggle, UserPostsFilter, ViewerFlags};
use shared::{ApiError, ApiResult, AppState};

/// Files sent through the API itself: images and short videos up to 10 MB (longer videos go
/// through a presigned upload, up to 50 MB).
const POST_FILE: FilePart = FilePart {
    names: &["file", "image", "video", "media"],
    limit: 10 * 1024 * 1024,
    too_large: "larger videos go through POST /api/uploads and mediaKey",
};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/posts",
            post(create_post).layer(DefaultBodyLimit::max(POST_FILE.body_limit())),
        )
        .route("/api/posts/feed", get(feed))
        .route("/api/posts/timeline", get(timeline))
        .route("/api/posts/explore", get(explore))
        .route("/api/posts/hashtag/{tag}", get(hashtag))
        .route("/api/posts/user/{user_id}", get(user_posts))
        .route("/api/posts/user/{user_id}/stats", get(user_stats))
        .route(
            "/api/posts/{post_id}",
            get(get_post).patch(update_post).delete(delete_post),
        )
        .route(
            "/api/posts/{post_id}/like",
            post(toggle_like).put(like).delete(unlike),
        )
        .route("/api/posts/{post_id}/save", post(save).delete(unsave))
        .with_state(state)
}

/// Multipart `file` + `caption`, or JSON `{caption, mediaKey}`. Media is checked by its bytes
/// before the post is written (1 TransactWriteItems).
async fn create_post(
    State(state): State<AppState>,
    auth: AuthUser,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let form = read_media_form::<CaptionedMedia, _>(request, &state, &POST_FILE).await?;
    let (caption, source) = form.into_parts("file")?;
    let caption = shared::posts::validate_caption(&caption)?;
    limits::take(&state, Action::Post, auth.id()).await?;
    let view = shared::posts::create_post(&state, &auth.user, &caption, source).await?;
    Ok(created("Post created successfully", view))
}

async fn get_post(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let (post, author, liked, saved) =
        shared::posts::visible_post(&state, viewer.id(), &post_id).await?;
    Ok(ok(
        "Post retrieved successfully",
        PostView::build(
            &state,
            &post,
            &author,
            ViewerFlags::new(viewer.id(), liked, saved),
        )
        .await,
    ))
}

#[derive(Deserialize)]
struct CaptionBody {
    caption: Option<String>,
}

async fn update_post(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
    ApiJson(body): ApiJson<CaptionBody>,
) -> ApiResult<impl IntoResponse> {
    let caption = body
        .caption
        .ok_or_else(|| ApiError::invalid_field("caption", "caption is required"))?;
    let view = shared::posts::update_caption(&state, &auth.user, &post_id, &caption).await?;
    Ok(ok("Post updated successfully", view))
}

async fn delete_post(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    shared::posts::delete_post(&state, &auth.user, &post_id).await?;
    Ok(done("Post deleted successfully"))
}

async fn edge(
    state: AppState,
    auth: AuthUser,
    post_id: String,
    edge: PostEdge,
    want: Toggle,
) -> ApiResult<impl IntoResponse> {
    let view = shared::posts::set_edge(&state, &auth.user, &post_id, edge, want).await?;
    let message = match (edge, edge_state(edge, &view)) {
        (PostEdge::Like, true) => "Post liked successfully",
        (PostEdge::Like, false) => "Post unliked successfully",
        (PostEdge::Save, true) => "Post saved successfully",
        (PostEdge::Save, false) => "Post unsaved successfully",
    };
    Ok(ok(message, view))
}

fn edge_state(edge: PostEdge, view: &PostView) -> bool {
    match edge {
        PostEdge::Like => view.is_liked,
        PostEdge::Save => view.is_saved,
    }
}

/// `POST .../like`: the live service's toggle.
async fn toggle_like(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    edge(state, auth, post_id, PostEdge::Like, Toggle::Flip).await
}

async fn like(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    edge(state, auth, post_id, PostEdge::Like, Toggle::On).await
}

async fn unlike(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    edge(state, auth, post_id, PostEdge::Like, Toggle::Off).await
}

async fn save(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    edge(state, auth, post_id, PostEdge::Save, Toggle::On).await
}

async fn unsave(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(post_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    edge(state, auth, post_id, PostEdge::Save, Toggle::Off).await
}

#[derive(Deserialize, Default)]
struct PostsQuery {
    filter: Option<String>,
    limit: Option<String>,
    page: Option<String>,
    offset: Option<String>,
    cursor: Option<String>,
}

impl PostsQuery {
    fn list_query(&self) -> ListQuery {
        ListQuery {
            limit: self.limit.clone(),
            page: self.page.clone(),
            offset: self.offset.clone(),
            cursor: self.cursor.clone(),
        }
    }
}

async fn user_posts(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
    Query(query): Query<PostsQuery>,
) -> ApiResult<impl IntoResponse> {
    let filter = UserPostsFilter::parse(query.filter.as_deref())?;
    let request = query.list_query().page_request()?;
    let (posts, pagination) =
        shared::posts::user_posts(&state, viewer.id(), &user_id, filter, &request).await?;
    Ok(ok(
        "Posts retrieved successfully",
        pagination.list("posts", posts, "totalPosts"),
    ))
}

async fn user_stats(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let stats = shared::posts::user_stats(&state, viewer.id(), &user_id).await?;
    Ok(ok("Post stats retrieved successfully", stats))
}

fn posts_answer(
    message: &'static str,
    (posts, pagination): (Vec<PostView>, shared::pagination::Pagination),
) -> impl IntoResponse {
    ok(message, pagination.list("posts", posts, "totalPosts"))
}

async fn feed(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let page = shared::feeds::global_feed(&state, viewer.id(), &request).await?;
    Ok(posts_answer("Newsfeed retrieved successfully", page))
}

async fn timeline(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let page = shared::feeds::timeline(&state, &auth.user, &request).await?;
    Ok(posts_answer("Timeline retrieved successfully", page))
}

async fn explore(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let page = shared::feeds::explore(&state, viewer.id(), &request).await?;
    Ok(posts_answer("Explore posts retrieved successfully", page))
}

async fn hashtag(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(tag): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let page = shared::feeds::hashtag_posts(&state, viewer.id(), &tag, &request).await?;
    Ok(posts_answer("Hashtag posts retrieved successfully", page))
}
