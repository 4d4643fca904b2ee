use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
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
        .layer(middleware::from_fn(envelope_rejections))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            count_ddb_calls(req, next, expose)
        }))
        .layer(cors(&config.cors_origins))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("Route not found")
}

/// The framework's own refusals (405 from the method router, path and query rejections, an
/// over-limit body) come as plain text or empty bodies: answer them as the envelope too, keeping
/// their status and headers (`Allow` on a 405). JSON and HTML answers pass untouched.
async fn envelope_rejections(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Framework rejections are short; anything longer is cut, never buffered whole.
    let text = axum::body::to_bytes(body, 2048).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match (status, text.trim()) {
        (StatusCode::METHOD_NOT_ALLOWED, _) => "Method not allowed on this route".to_string(),
        (_, "") => status
            .canonical_reason()
            .unwrap_or("Request refused")
            .to_string(),
        (_, text) => text.to_string(),
    };
    let body = serde_json::json!({ "success": false, "message": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
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
