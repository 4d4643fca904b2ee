//! `/api/stories`: create (multipart `story` file or an accepted upload key), the tray of
//! followed accounts, a user's active stories, one story, views counted once per viewer, the
//! owner's viewer list, and deletes. The rules live in `shared::stories`.

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, patch};
use axum::Router;
use serde_json::json;
use shared::auth::{AuthUser, MaybeAuthUser};
use shared::http::{created, done, ok, read_media_form, CaptionedMedia, FilePart};
use shared::limits::{self, Action};
use shared::pagination::ListQuery;
use shared::{ApiResult, AppState};

/// Files sent through the API itself: images and short videos up to 10 MB (longer videos go
/// through a presigned upload, up to 50 MB).
const STORY_FILE: FilePart = FilePart {
    names: &["story"],
    limit: 10 * 1024 * 1024,
    too_large: "larger videos go through POST /api/uploads and mediaKey",
};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/stories",
            // GET is the tray too: live clients call `GET /api/stories`.
            get(tray)
                .post(create_story)
                .delete(delete_all)
                .layer(DefaultBodyLimit::max(STORY_FILE.body_limit())),
        )
        .route("/api/stories/feed", get(tray))
        .route("/api/stories/user/{user_id}", get(user_stories))
        .route(
            "/api/stories/{story_id}",
            get(get_story).delete(delete_story),
        )
        .route("/api/stories/{story_id}/view", patch(view_story))
        .route("/api/stories/{story_id}/viewers", get(viewers))
        .with_state(state)
}

/// Multipart `story` (+ `caption`), or JSON `{mediaKey, caption?}`. The cap on active stories
/// is checked first (1 Query), the media by its bytes, then the story is written (1
/// TransactWriteItems).
async fn create_story(
    State(state): State<AppState>,
    auth: AuthUser,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let form = read_media_form::<CaptionedMedia, _>(request, &state, &STORY_FILE).await?;
    let (caption, source) = form.into_parts("story")?;
    let caption = shared::posts::validate_caption(&caption)?;
    limits::take(&state, Action::StoryCreate, auth.id()).await?;
    let view = shared::stories::create_story(&state, &auth.user, &caption, source).await?;
    Ok(created("Story created successfully", view))
}

async fn tray(State(state): State<AppState>, auth: AuthUser) -> ApiResult<impl IntoResponse> {
    let entries = shared::stories::tray(&state, auth.id()).await?;
    Ok(ok(
        "Stories feed retrieved successfully",
        json!({ "tray": entries }),
    ))
}

async fn user_stories(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let (user, stories) = shared::stories::user_stories(&state, viewer.id(), &user_id).await?;
    Ok(ok(
        "Stories retrieved successfully",
        json!({ "user": user, "stories": stories }),
    ))
}

async fn get_story(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(story_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let story = shared::stories::get_story(&state, viewer.id(), &story_id).await?;
    Ok(ok("Story retrieved successfully", story))
}

async fn view_story(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(story_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let count = shared::stories::view_story(&state, &auth.user, &story_id).await?;
    Ok(ok(
        "Story viewed successfully",
        json!({ "_id": story_id, "viewCount": count }),
    ))
}

async fn viewers(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(story_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let (viewers, pagination) =
        shared::stories::story_viewers(&state, &auth.user, &story_id, &request).await?;
    Ok(ok(
        "Story viewers retrieved successfully",
        pagination.list("viewers", viewers, "totalViewers"),
    ))
}

async fn delete_story(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(story_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    shared::stories::delete_story(&state, &auth.user, &story_id).await?;
    Ok(done("Story deleted successfully"))
}

async fn delete_all(State(state): State<AppState>, auth: AuthUser) -> ApiResult<impl IntoResponse> {
    let deleted = shared::stories::delete_stories_of(&state, auth.id()).await?;
    Ok(ok(
        "Stories deleted successfully",
        json!({ "deletedCount": deleted }),
    ))
}
