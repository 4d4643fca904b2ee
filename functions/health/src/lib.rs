//! `/api/health` and `/api/alive`: liveness for load balancers and uptime checks.
//! Health also proves the table is reachable, so a broken deployment shows up here first.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use shared::http::ok;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/alive", get(alive))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    state.db.ping().await?;
    Ok(ok("OK", json!({ "status": "OK" })))
}

async fn alive() -> impl IntoResponse {
    ok("OK", json!({ "status": "pass" }))
}
