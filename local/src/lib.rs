//! The local stack: every function's router behind one listener, and the AWS resources that
//! `template.yaml` declares, created in moto from that same definition.

pub mod bootstrap;
pub mod ses;
pub mod streams;
pub mod websocket;

use axum::Router;
use shared::mail::Outbox;
use shared::AppState;

/// Every HTTP function's routes, as API Gateway would route them in AWS, and the local mail
/// inbox (`/_aws/ses`, see [`ses`]) that records what this process sends.
pub fn app(mut state: AppState) -> Router {
    let outbox = Outbox::default();
    state.mailer = state.mailer.with_outbox(outbox.clone());
    let routes = Router::new()
        .merge(ses::router(outbox))
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
    // The docs router answers its own 404s; merged without it, unknown paths get the shared fallback.
    shared::http::service(routes.merge(docs::routes()), &state.config)
}
