//! The API docs: `GET /api/openapi.json` is docs/openapi.yaml as JSON, `GET /api/docs` an
//! interactive page whose assets come from the API itself; in headless Chromium it shows every
//! tag, expands a route and "tries it out" against the running API.

use std::collections::BTreeSet;
use std::time::Duration;

use api_tests::browser::Browser;
use api_tests::spawn_app;
use fantoccini::Locator;
use serde_json::Value;

fn documented() -> Value {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml"),
    )
    .unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"))
}

fn tags(document: &Value) -> BTreeSet<String> {
    document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
        .flat_map(|op| op["tags"].as_array().cloned().unwrap_or_default())
        .filter_map(|tag| tag.as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /api/openapi.json: {e}"));
    assert_eq!(response.status(), 200);
    let served: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("not JSON: {e}"));
    let mut expected = documented();
    if let Some(object) = expected.as_object_mut() {
        object.remove("servers");
    }
    assert_eq!(served, expected, "the served document is docs/openapi.yaml");
}

#[tokio::test]
async fn the_docs_page_and_its_assets_are_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /api/docs: {e}"));
    assert_eq!(page.status(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let html = page.text().await.unwrap_or_default();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing external: {html}"
    );
    for (asset, kind) in [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "css"),
        ("init.js", "javascript"),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/docs/{asset}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {asset}: {e}"));
        assert_eq!(response.status(), 200, "{asset}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(content_type.contains(kind), "{asset}: {content_type}");
    }
    let missing = app.get("/api/docs/nope.js", None).await;
    missing.expect(404);
}

#[tokio::test]
async fn the_docs_page_works_in_headless_chromium() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    let wait = Duration::from_secs(30);
    if let Err(err) = browser.goto(&app.url("/api/docs")).await {
        panic!("opening the docs page: {err}");
    }
    browser.wait_for(".opblock-tag-section", wait).await;

    // Every tag of the document is a section of the page.
    let mut shown = BTreeSet::new();
    for section in browser
        .find_all(Locator::Css(".opblock-tag"))
        .await
        .unwrap_or_default()
    {
        if let Ok(Some(tag)) = section.attr("data-tag").await {
            shown.insert(tag);
        }
    }
    assert_eq!(shown, tags(&documented()), "the page's tags");

    // Expand GET /api/alive, "Try it out", "Execute": the live answer of this API.
    let alive = browser
        .wait_for(
            "#operations-health-get_api_alive .opblock-summary-control",
            wait,
        )
        .await;
    if let Err(err) = alive.click().await {
        panic!("expanding GET /api/alive: {err}");
    }
    let try_out = browser
        .wait_for("#operations-health-get_api_alive .try-out__btn", wait)
        .await;
    if let Err(err) = try_out.click().await {
        panic!("clicking Try it out: {err}");
    }
    let execute = browser
        .wait_for("#operations-health-get_api_alive .execute", wait)
        .await;
    if let Err(err) = execute.click().await {
        panic!("clicking Execute: {err}");
    }
    let status = browser
        .wait_for(
            "#operations-health-get_api_alive .live-responses-table tr.response .response-col_status",
            wait,
        )
        .await;
    let status = status.text().await.unwrap_or_default();
    let body = browser
        .wait_for(
            "#operations-health-get_api_alive .live-responses-table tr.response .response-col_description .highlight-code",
            wait,
        )
        .await
        .text()
        .await
        .unwrap_or_default();
    browser.close().await;
    assert!(status.trim().starts_with("200"), "status {status:?}");
    assert!(body.contains("pass"), "the live answer: {body}");
}
