//! The API's documentation: `GET /api/docs` is an interactive page (Swagger UI, its assets
//! vendored in the binary from the npm package `swagger-ui-dist`, nothing fetched at run time)
//! for the document `GET /api/openapi.json` serves: `docs/openapi.yaml` as JSON, with its
//! `servers` dropped so "Try it out" calls the origin that served the page (local stack or the
//! deployed HTTP API alike).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

const OPENAPI_YAML: &str = include_str!("../../../docs/openapi.yaml");
const INDEX_HTML: &str = include_str!("../assets/index.html");
const INIT_JS: &str = include_str!("../assets/init.js");
const SWAGGER_UI_JS: &str = include_str!("../assets/swagger-ui-bundle.js");
const SWAGGER_UI_CSS: &str = include_str!("../assets/swagger-ui.css");

/// Scripts and styles from this origin only; Swagger UI sets inline styles and data: images.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The Lambda's router: [`routes`] with an envelope 404 for anything else.
pub fn router() -> Router {
    routes().fallback(not_found)
}

/// The docs routes alone (the local stack merges them next to every other function's).
pub fn routes() -> Router {
    Router::new()
        .route("/api/docs", get(page))
        .route("/api/docs/{asset}", get(asset))
        .route("/api/openapi.json", get(openapi))
}

/// The OpenAPI document as JSON, converted once per process on first use.
pub fn openapi_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document: Value = match serde_yaml::from_str(OPENAPI_YAML) {
            Ok(document) => document,
            // A unit test parses the same text: this cannot ship broken.
            Err(err) => json!({ "openapi": "3.0.3", "info": { "title": format!("docs/openapi.yaml: {err}"), "version": "0" }, "paths": {} }),
        };
        if let Some(object) = document.as_object_mut() {
            object.remove("servers");
        }
        document
    })
}

async fn page() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn asset(Path(asset): Path<String>) -> Response {
    let (content_type, body) = match asset.as_str() {
        "swagger-ui-bundle.js" => ("text/javascript; charset=utf-8", SWAGGER_UI_JS),
        "swagger-ui.css" => ("text/css; charset=utf-8", SWAGGER_UI_CSS),
        "init.js" => ("text/javascript; charset=utf-8", INIT_JS),
        _ => return not_found().await,
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "success": false, "message": "Route not found" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_converts_and_drops_its_servers() {
        let parsed: Result<Value, _> = serde_yaml::from_str(OPENAPI_YAML);
        assert!(parsed.is_ok(), "docs/openapi.yaml: {parsed:?}");
        let document = openapi_document();
        assert_eq!(document["openapi"], "3.0.3");
        assert!(document.get("servers").is_none());
        assert!(document["paths"]["/api/docs"].is_object());
    }
}
