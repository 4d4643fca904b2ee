//! `/api/search-history`: add, list with the searched user hydrated, delete one, clear, cap.

use serde_json::json;

use crate::social_support::*;

#[tokio::test]
async fn history_is_added_listed_newest_first_deleted_and_cleared() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    let found = fixture_user(&app).await;
    let other = fixture_user(&app).await;

    let first = app
        .post(
            "/api/search-history",
            Some(&me.access_token),
            json!({ "searchedUserId": found.id, "searchQuery": "fou" }),
        )
        .await;
    first.expect(201);
    assert_eq!(first.data()["searchedUserId"], found.id.as_str());
    assert_eq!(first.data()["userId"], me.id.as_str());
    assert_eq!(first.data()["searchQuery"], "fou");
    let first_id = first.data()["_id"].as_str().unwrap_or_default().to_string();
    let second = app
        .post(
            "/api/search-history",
            Some(&me.access_token),
            json!({ "searchQuery": "travel" }),
        )
        .await;
    second.expect(201);

    let list = app.get("/api/search-history", Some(&me.access_token)).await;
    list.expect(200);
    assert_eq!(list.ddb_calls(), 3, "auth + Query + BatchGet");
    let entries = list.data().as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["searchQuery"], "travel", "newest first");
    assert_eq!(entries[1]["searchedUser"]["_id"], found.id.as_str());
    assert_eq!(
        entries[1]["searchedUser"]["username"],
        found.username.as_str()
    );
    assert!(entries[1]["searchedUser"].get("email").is_none());
    let limited = app
        .get("/api/search-history?limit=1", Some(&me.access_token))
        .await;
    assert_eq!(limited.data().as_array().map(Vec::len), Some(1));

    // Another user's entry is not theirs to delete.
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/search-history/{first_id}"),
        Some(&other.access_token),
        None,
    )
    .await
    .expect(404);
    delete(
        &app,
        &format!("/api/search-history/{first_id}"),
        Some(&me.access_token),
    )
    .await
    .expect(200);
    delete(
        &app,
        &format!("/api/search-history/{first_id}"),
        Some(&me.access_token),
    )
    .await
    .expect(404);
    let list = app.get("/api/search-history", Some(&me.access_token)).await;
    assert_eq!(list.data().as_array().map(Vec::len), Some(1));

    delete(&app, "/api/search-history", Some(&me.access_token))
        .await
        .expect(200);
    let list = app.get("/api/search-history", Some(&me.access_token)).await;
    assert_eq!(list.data().as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn history_refuses_bad_input_and_anonymous_callers_and_is_capped() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    app.get("/api/search-history", None).await.expect(401);
    app.post("/api/search-history", None, json!({ "searchQuery": "x" }))
        .await
        .expect(401);
    delete(&app, "/api/search-history", None).await.expect(401);
    delete(&app, "/api/search-history/x", Some("bad"))
        .await
        .expect(401);
    let empty = app
        .post("/api/search-history", Some(&me.access_token), json!({}))
        .await;
    empty.expect(400);
    assert!(empty.body["errors"]["searchedUserId"].is_string());
    app.post(
        "/api/search-history",
        Some(&me.access_token),
        json!({ "searchedUserId": "01HZZZZZZZZZZZZZZZZZZZZZZZ" }),
    )
    .await
    .expect(404);
    not_json(
        &app,
        reqwest::Method::POST,
        "/api/search-history",
        &me.access_token,
    )
    .await
    .expect(415);
    for limit in ["0", "ten"] {
        let bad = app
            .get(
                &format!("/api/search-history?limit={limit}"),
                Some(&me.access_token),
            )
            .await;
        bad.expect(400);
        assert!(bad.body["errors"]["limit"].is_string());
    }

    for i in 0..55 {
        app.post(
            "/api/search-history",
            Some(&me.access_token),
            json!({ "searchQuery": format!("query {i}") }),
        )
        .await
        .expect(201);
    }
    let stored = app
        .state
        .db
        .partition_keys(&me.id, shared::db::keys::SEARCH_HISTORY_PREFIX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.len(), 50, "capped at 50");
    let list = app
        .get("/api/search-history?limit=100", Some(&me.access_token))
        .await;
    let entries = list.data().as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 50);
    assert_eq!(entries[0]["searchQuery"], "query 54");
    assert_eq!(
        entries[49]["searchQuery"], "query 5",
        "the oldest were trimmed"
    );
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/search-history", Access::Token),
    ("POST", "/api/search-history", Access::Token),
    ("DELETE", "/api/search-history", Access::Token),
    ("DELETE", "/api/search-history/{history_id}", Access::Token),
];

#[tokio::test]
async fn every_route_needs_a_valid_token() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}
