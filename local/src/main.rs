//! `make dev`: creates the AWS resources in moto, then serves the whole API on PORT
//! (`--create-resources`: creates them and exits, for `make watch`).

use std::net::SocketAddr;

use shared::aws::{self, Clients};
use shared::{AppState, Config};

#[tokio::main]
async fn main() -> Result<(), local::bootstrap::BoxError> {
    shared::telemetry::init();
    let mut config = Config::from_env().map_err(|err| format!("configuration: {err}"))?;
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let ws_port: u16 = std::env::var("WS_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    // Pushes go to the emulated Management API on the WebSocket port unless told otherwise.
    if config.ws_management_endpoint.is_none() {
        config.ws_management_endpoint = Some(format!("http://127.0.0.1:{ws_port}"));
    }

    let sdk = aws::load_sdk_config(&config).await;
    local::bootstrap::ensure_resources(
        &Clients::new(&sdk, &config),
        &config,
        &local::bootstrap::template_path(),
    )
    .await?;
    tracing::info!(table = %config.table_name, bucket = %config.media_bucket, "resources ready");
    // `make watch` only needs the resources: cargo lambda watch serves the functions.
    if std::env::args().any(|arg| arg == "--create-resources") {
        return Ok(());
    }

    let state = AppState::new(config).await;
    let ws_address = SocketAddr::from(([127, 0, 0, 1], ws_port));
    let ws_listener = tokio::net::TcpListener::bind(ws_address).await?;
    local::websocket::spawn_websocket(state.clone(), ws_listener);
    // The table's stream feeds the fanout handler, as the event source mapping does in AWS.
    local::streams::spawn(state.clone()).await?;
    println!("Polling the table's stream into the fanout handler");
    println!("WebSocket API on ws://{ws_address}/?token=<accessToken> (and its @connections)");
    let app = local::app(state);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("API listening on http://{address}/api");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
