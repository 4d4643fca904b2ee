//! `/api/uploads`: presigned S3 PUTs per purpose, with the type and size checked up front and
//! signed in. The object is checked again (bytes and size) when its key is used.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use shared::auth::AuthUser;
use shared::http::{created, ApiJson};
use shared::limits::{self, Action};
use shared::uploads::Purpose;
use shared::{ApiError, ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/uploads", post(presign))
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadRequest {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    content_type: String,
    size: Option<u64>,
}

/// No DynamoDB call beyond auth: the key itself names its owner and purpose.
async fn presign(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<UploadRequest>,
) -> ApiResult<impl IntoResponse> {
    let purpose = Purpose::parse(body.purpose.trim()).ok_or_else(|| {
        ApiError::invalid_field(
            "purpose",
            "purpose must be one of post, avatar, story, message",
        )
    })?;
    if body.content_type.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "contentType",
            "contentType is required",
        ));
    }
    let size = body
        .size
        .ok_or_else(|| ApiError::invalid_field("size", "size is required"))?;
    limits::take(&state, Action::Upload, auth.id()).await?;
    let ticket = state
        .media
        .presign_upload(auth.id(), purpose, body.content_type.trim(), size)
        .await?;
    Ok(created("Upload URL created", ticket))
}
