//! `/api/users`: own profile (read, edit, picture, delete), public profiles, search,
//! suggestions and blocks.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;
use serde::Deserialize;
use shared::auth::{AuthUser, MaybeAuthUser};
use shared::db::keys;
use shared::db::listing::ListSource;
use shared::http::{done, is_multipart, ok, ApiJson};
use shared::pagination::ListQuery;
use shared::profiles::ProfilePatch;
use shared::social::{can_view, Visibility};
use shared::social::{connections_answer, Connections};
use shared::views::{OwnUser, PublicProfile, UserCard};
use shared::{ApiError, ApiResult, AppState};

/// A profile edit may carry a 5 MB picture plus the multipart framing.
const PROFILE_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/users/profile",
            get(own_profile)
                .patch(update_profile)
                .delete(delete_account)
                .layer(DefaultBodyLimit::max(PROFILE_BODY_LIMIT)),
        )
        .route("/api/users/profile/picture", delete(remove_picture))
        .route("/api/users/search", get(search))
        .route("/api/users/suggested", get(suggested))
        .route("/api/users/blocked", get(blocked))
        .route("/api/users/username/{username}", get(profile_by_username))
        .route("/api/users/{user_id}", get(profile_by_id))
        .route("/api/users/{user_id}/block", post(block).delete(unblock))
        .route("/api/users/{user_id}/followers", get(followers))
        .route("/api/users/{user_id}/following", get(following))
        .with_state(state)
}

async fn own_profile(State(state): State<AppState>, auth: AuthUser) -> impl IntoResponse {
    ok(
        "Profile retrieved successfully",
        OwnUser::from_record(&auth.user, &state.media).await,
    )
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("Request body too large".into())
    } else {
        ApiError::bad_request(format!("Malformed multipart body: {}", err.body_text()))
    }
}

/// The whitelisted fields of a multipart body; other parts are read and ignored.
async fn patch_from_multipart(mut multipart: Multipart) -> ApiResult<ProfilePatch> {
    let mut patch = ProfilePatch::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "profilePicture" {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            if !bytes.is_empty() {
                patch.profile_picture = Some(bytes.to_vec());
            }
            continue;
        }
        let text = field.text().await.map_err(multipart_error)?;
        match name.as_str() {
            "fullName" => patch.full_name = Some(text),
            "bio" => patch.bio = Some(text),
            "website" => patch.website = Some(text),
            "gender" => patch.gender = Some(text),
            "profilePictureKey" => patch.profile_picture_key = Some(text),
            "isPrivate" => {
                patch.is_private = Some(match text.trim() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(ApiError::invalid_field(
                            "isPrivate",
                            "isPrivate must be true or false",
                        ))
                    }
                })
            }
            _ => {}
        }
    }
    Ok(patch)
}

async fn update_profile(
    State(state): State<AppState>,
    auth: AuthUser,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let patch = if is_multipart(&request) {
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|err| ApiError::bad_request(err.body_text()))?;
        patch_from_multipart(multipart).await?
    } else {
        let ApiJson(patch) = ApiJson::<ProfilePatch>::from_media_route(request, &state).await?;
        patch
    };
    let updated = shared::profiles::update_profile(&state, &auth.user, patch).await?;
    Ok(ok(
        "Profile updated successfully",
        OwnUser::from_record(&updated, &state.media).await,
    ))
}

async fn remove_picture(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<impl IntoResponse> {
    shared::profiles::remove_profile_picture(&state, &auth.user).await?;
    Ok(done("Profile picture deleted successfully"))
}

#[derive(Deserialize)]
struct DeleteAccountBody {
    #[serde(default)]
    password: String,
}

async fn delete_account(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<DeleteAccountBody>,
) -> ApiResult<impl IntoResponse> {
    if body.password.is_empty() {
        return Err(ApiError::invalid_field("password", "password is required"));
    }
    let matches = state
        .hasher
        .verify(body.password, auth.user.password_hash.clone())
        .await?;
    if !matches {
        return Err(ApiError::invalid_field("password", "password is incorrect"));
    }
    shared::cascade::delete_account(&state, &auth.user).await?;
    Ok(done("Account deleted successfully"))
}

async fn public_profile(
    state: &AppState,
    viewer: &MaybeAuthUser,
    user_id: &str,
) -> ApiResult<PublicProfile> {
    let not_found = || ApiError::not_found("User not found");
    let (user, relation, _) = state
        .db
        .profile_with_relation(viewer.id(), user_id, Vec::new())
        .await?
        .ok_or_else(not_found)?;
    if !user.is_active() || can_view(viewer.id(), &user, &relation) == Visibility::Hidden {
        return Err(not_found());
    }
    Ok(PublicProfile::from_record(&user, &relation, &state.media).await)
}

async fn profile_by_id(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(ok(
        "User found",
        public_profile(&state, &viewer, &user_id).await?,
    ))
}

async fn profile_by_username(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let username = shared::validation::normalize_username(&username);
    let user_id = state
        .db
        .claimed_user_id(&keys::username_claim(&username))
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    Ok(ok(
        "User found",
        public_profile(&state, &viewer, &user_id).await?,
    ))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<String>,
}

fn limit_of(raw: &Option<String>, default: usize, max: usize) -> ApiResult<usize> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(0) | Err(_) => Err(ApiError::invalid_field(
                "limit",
                "limit must be a positive integer",
            )),
            Ok(n) => Ok(n.min(max)),
        },
    }
}

async fn search(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Query(query): Query<SearchQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = limit_of(&query.limit, 20, 50)?;
    let users = shared::discovery::search_users(&state, viewer.id(), &query.q, limit).await?;
    Ok(ok("Users found", users))
}

#[derive(Deserialize)]
struct SuggestedQuery {
    limit: Option<String>,
}

async fn suggested(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SuggestedQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = limit_of(&query.limit, 10, 30)?;
    let users = shared::discovery::suggested_users(&state, &auth.user, limit).await?;
    Ok(ok("Suggested users retrieved successfully", users))
}

async fn blocked(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let request = query.page_request()?;
    let source = ListSource::Partition {
        pk: keys::user_pk(auth.id()),
        sk_prefix: keys::BLOCK_PREFIX.to_string(),
    };
    let page = state
        .db
        .list_page(&source, &request, false, Some(&["blockedId"]))
        .await?;
    let ids: Vec<String> = page
        .items
        .iter()
        .filter_map(|item| shared::db::follows::item_user_id(item, "blockedId"))
        .collect();
    let users = state.db.get_users(&ids).await?;
    let cards = UserCard::for_ids(&ids, &users, &state.media).await;
    // No counter is kept for blocks: the total is known only on the last offset page.
    let total = page.total_if_read_to_end();
    Ok(ok(
        "Blocked users retrieved successfully",
        page.pagination(total).list("users", cards, "totalUsers"),
    ))
}

async fn block(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state.db.block_user(auth.id(), &user_id).await?;
    shared::notifications::forget_notifications_between(&state, auth.id(), &user_id).await;
    Ok(done("User blocked successfully"))
}

async fn unblock(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    if user_id == auth.id() {
        return Err(ApiError::invalid_field(
            "userId",
            "You cannot unblock yourself",
        ));
    }
    state.db.unblock_user(auth.id(), &user_id).await?;
    Ok(done("User unblocked successfully"))
}

/// The follow lists as live clients call them (`/api/follow/:id/...` serves the same).
async fn followers(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    connections_answer(
        &state,
        viewer.id(),
        &user_id,
        &query,
        Connections::Followers,
    )
    .await
}

async fn following(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(user_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    connections_answer(
        &state,
        viewer.id(),
        &user_id,
        &query,
        Connections::Following,
    )
    .await
}
