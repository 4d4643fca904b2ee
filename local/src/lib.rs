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
        .merge(as_function("auth", auth::router(state.clone())))
        .merge(as_function("health", health::router(state.clone())))
        .merge(as_function("users", users::router(state.clone())))
        .merge(as_function("follow", follow::router(state.clone())))
        .merge(as_function(
            "search-history",
            search_history::router(state.clone()),
        ))
        .merge(as_function("uploads", uploads::router(state.clone())))
        .merge(as_function("posts", posts::router(state.clone())))
        .merge(as_function("comments", comments::router(state.clone())))
        .merge(as_function("messages", messages::router(state.clone())))
        .merge(as_function("stories", stories::router(state.clone())))
        .merge(as_function(
            "notifications",
            notifications::router(state.clone()),
        ))
        .merge(as_function("admin", admin::router(state.clone())));
    // The docs router answers its own 404s; merged without it, unknown paths get the shared fallback.
    shared::http::service(routes.merge(docs::routes()), &state.config)
}

/// `router`'s AWS calls belong to the Lambda `function` (`shared::calls`, for the IAM test).
fn as_function(function: &'static str, router: Router) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            shared::calls::as_function(function, next.run(request))
        },
    ))
}
