//! `/api/admin`: the user directory and account management (permission by permission), reports
//! and their resolution, and the audit trail; and `POST /api/reports`, where anyone files one.
//! The rules live in `shared::admin`.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use shared::admin::{audit, directory, manage, reports};
use shared::auth::AuthUser;
use shared::http::{created, done, ok, ApiJson};
use shared::limits::{self, Action};
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/admin/users", get(list_users).post(create_user))
        .route(
            "/api/admin/users/{user_id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route("/api/admin/reports", get(list_reports))
        .route(
            "/api/admin/reports/{report_id}",
            get(get_report).put(resolve_report),
        )
        .route("/api/admin/audit", get(list_audit))
        .route("/api/reports", post(file_report))
        .with_state(state)
}

async fn list_users(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<directory::DirectoryQuery>,
) -> ApiResult<impl IntoResponse> {
    shared::admin::permissions::require(
        &auth.user,
        shared::admin::permissions::Permission::UserRead,
    )?;
    let data = directory::list_users(&state, &query).await?;
    Ok(ok("Users retrieved successfully", data))
}

async fn create_user(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<manage::NewUser>,
) -> ApiResult<impl IntoResponse> {
    let data = manage::create_user(&state, &auth.user, input).await?;
    Ok(created("User created successfully", data))
}

async fn get_user(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let data = manage::get_user(&state, &auth.user, &user_id).await?;
    Ok(ok("User retrieved successfully", data))
}

async fn update_user(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
    ApiJson(change): ApiJson<manage::UserChange>,
) -> ApiResult<impl IntoResponse> {
    let data = manage::update_user(&state, &auth.user, &user_id, &change).await?;
    Ok(ok("User updated successfully", data))
}

async fn delete_user(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    manage::delete_user(&state, &auth.user, &user_id).await?;
    Ok(done("User deleted successfully"))
}

async fn list_reports(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<reports::ReportsQuery>,
) -> ApiResult<impl IntoResponse> {
    let data = reports::list(&state, &auth.user, &query).await?;
    Ok(ok("Reports retrieved successfully", data))
}

async fn get_report(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(report_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let data = reports::get(&state, &auth.user, &report_id).await?;
    Ok(ok("Report retrieved successfully", data))
}

async fn resolve_report(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(report_id): Path<String>,
    ApiJson(decision): ApiJson<reports::Decision>,
) -> ApiResult<impl IntoResponse> {
    let data = reports::resolve(&state, &auth.user, &report_id, decision).await?;
    Ok(ok("Reports resolved", data))
}

async fn list_audit(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<audit::AuditQuery>,
) -> ApiResult<impl IntoResponse> {
    let data = audit::list(&state, &auth.user, &query).await?;
    Ok(ok("Audit trail retrieved successfully", data))
}

async fn file_report(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<reports::NewReport>,
) -> ApiResult<impl IntoResponse> {
    limits::take(&state, Action::Report, auth.id()).await?;
    let data = reports::file(&state, &auth.user, input).await?;
    Ok(created("Report submitted", data))
}
