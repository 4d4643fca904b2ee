use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics;

const DDB_CALLS_HEADER: &str = "x-ddb-calls";
/// Bodies above this are refused before a handler sees them; media routes raise it themselves.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Wraps a function's routes with what every route gets: the 404 fallback, CORS, the body
/// limit and the per-request DynamoDB call count (logged, and echoed as a header when enabled).
pub fn service(routes: Router, config: &Config) -> Router {
    let expose = config.debug_headers;
    routes
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            count_ddb_calls(req, next, expose)
        }))
        .layer(cors(&config.cors_origins))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("Route not found")
}

async fn count_ddb_calls(req: Request, next: Next, expose: bool) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let (calls, mut response) = metrics::count_ddb_calls(next.run(req)).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), ddb_calls = calls, "request");
    if expose {
        response.headers_mut().insert(
            HeaderName::from_static(DDB_CALLS_HEADER),
            HeaderValue::from(calls),
        );
    }
    response.into_response()
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.is_empty() || origins.iter().any(|o| o == "*") {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .max_age(Duration::from_secs(600))
}
