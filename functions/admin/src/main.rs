use shared::AppState;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let state = AppState::from_env().await;
    let app = shared::http::service(admin::router(state.clone()), &state.config);
    lambda_http::run(app).await
}
