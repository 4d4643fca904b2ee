//! The local stack: every function's router behind one listener, and the AWS resources that
//! `template.yaml` declares, created in moto from that same definition.

pub mod bootstrap;
pub mod streams;
pub mod websocket;

use axum::Router;
use shared::AppState;

/// Every HTTP function's routes, as API Gateway would route them in AWS.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .merge(auth::router(state.clone()))
        .merge(health::router(state.clone()))
        .merge(users::router(state.clone()))
        .merge(follow::router(state.clone()))
        .merge(search_history::router(state.clone()))
        .merge(uploads::router(state.clone()))
        .merge(posts::router(state.clone()))
        .merge(comments::router(state.clone()))
        .merge(messages::router(state.clone()))
        .merge(stories::router(state.clone()))
        .merge(notifications::router(state.clone()))
        .merge(admin::router(state.clone()));
    shared::http::service(routes, &state.config)
}
