//! `/api/uploads`: presigned PUTs with per-purpose limits, and the server-side check of the
//! uploaded object when its key is used (moto enforces nothing in the URL).

use api_tests::{TestApp, TestUser};
use serde_json::{json, Value};

use crate::social_support::*;

pub async fn ticket(
    app: &TestApp,
    user: &TestUser,
    purpose: &str,
    content_type: &str,
    size: usize,
) -> Value {
    let response = app
        .post(
            "/api/uploads",
            Some(&user.access_token),
            json!({ "purpose": purpose, "contentType": content_type, "size": size }),
        )
        .await;
    response.expect(201);
    response.data().clone()
}

/// PUTs bytes to a presigned URL with the headers the ticket lists (Content-Type always sent).
pub async fn put(app: &TestApp, ticket: &Value, bytes: Vec<u8>) {
    let url = ticket["url"].as_str().unwrap_or_default();
    let mut request = app.client.put(url).body(bytes);
    for (name, value) in ticket["headers"].as_object().into_iter().flatten() {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("host") {
            continue;
        }
        request = request.header(name.as_str(), value.as_str().unwrap_or_default());
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("PUT: {e}"));
    assert!(response.status().is_success(), "PUT: {}", response.status());
}

#[tokio::test]
async fn a_presigned_avatar_upload_round_trips_into_the_profile() {
    let app = spawn_isolated_app().await;
    let user = fixture_user(&app).await;
    let ticket = ticket(&app, &user, "avatar", "image/png", PNG.len()).await;
    assert_eq!(ticket["method"], "PUT");
    assert!(ticket["expiresAt"].is_string());
    assert_eq!(ticket["headers"]["Content-Type"], "image/png");
    let key = ticket["key"].as_str().unwrap_or_default().to_string();
    assert!(
        key.starts_with(&format!("uploads/avatar/{}/", user.id)),
        "{key}"
    );
    let url = ticket["url"].as_str().unwrap_or_default();
    assert!(url.contains("X-Amz-Signature"), "{url}");
    assert!(
        url.to_lowercase().contains("content-type"),
        "type is signed: {url}"
    );
    put(&app, &ticket, PNG.to_vec()).await;

    let response = patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": key }),
    )
    .await;
    response.expect(200);
    let picture = response.data()["profilePicture"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fetch_bytes(&app, &picture).await, PNG);
    let stored = picture_key(&app, &user).await.unwrap_or_default();
    assert!(
        stored.starts_with("media/avatar/"),
        "moved under media/: {stored}"
    );
    assert!(!object_exists(&app, &key).await, "the upload was claimed");

    // A key is claimed once.
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": key }),
    )
    .await
    .expect(400);
}

#[tokio::test]
async fn uploaded_objects_are_checked_by_their_bytes_size_and_owner() {
    let app = spawn_isolated_app().await;
    let user = fixture_user(&app).await;
    let other = fixture_user(&app).await;

    // Declared a PNG, sent text: the bytes decide.
    let lie = ticket(&app, &user, "avatar", "image/png", 20).await;
    put(&app, &lie, b"this is not an image".to_vec()).await;
    let key = lie["key"].as_str().unwrap_or_default();
    let response = patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": key }),
    )
    .await;
    response.expect(415);

    // Declared small, sent more than the avatar limit.
    let big = ticket(&app, &user, "avatar", "image/png", 100).await;
    let mut bytes = PNG.to_vec();
    bytes.resize(5 * 1024 * 1024 + 10, 0);
    put(&app, &big, bytes).await;
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": big["key"] }),
    )
    .await
    .expect(413);

    // Someone else's key, a key never uploaded, a key for another purpose, not a key at all.
    let theirs = ticket(&app, &other, "avatar", "image/png", PNG.len()).await;
    put(&app, &theirs, PNG.to_vec()).await;
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": theirs["key"] }),
    )
    .await
    .expect(403);
    let never = ticket(&app, &user, "avatar", "image/png", PNG.len()).await;
    let missing = patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": never["key"] }),
    )
    .await;
    missing.expect(400);
    assert!(missing.body["errors"]["profilePictureKey"].is_string());
    let for_post = ticket(&app, &user, "post", "image/png", PNG.len()).await;
    put(&app, &for_post, PNG.to_vec()).await;
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": for_post["key"] }),
    )
    .await
    .expect(400);
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "profilePictureKey": "media/avatar/x/y.png" }),
    )
    .await
    .expect(400);

    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert!(
        own.data()["profilePicture"].is_null(),
        "nothing was accepted"
    );
}

#[tokio::test]
async fn presign_checks_purpose_type_and_size_up_front() {
    let app = spawn_isolated_app().await;
    let user = fixture_user(&app).await;
    let post = |body: Value| {
        let app = &app;
        let token = user.access_token.clone();
        async move { app.post("/api/uploads", Some(&token), body).await }
    };
    let video =
        post(json!({ "purpose": "post", "contentType": "video/mp4", "size": 40 * 1024 * 1024 }))
            .await;
    video.expect(201);
    assert_eq!(video.ddb_calls(), 2, "the auth read and the upload budget");
    post(json!({ "purpose": "story", "contentType": "image/webp", "size": 1000 }))
        .await
        .expect(201);
    post(json!({ "purpose": "message", "contentType": "image/gif", "size": 1000 }))
        .await
        .expect(201);
    post(json!({ "purpose": "avatar", "contentType": "video/mp4", "size": 1000 }))
        .await
        .expect(415);
    post(json!({ "purpose": "message", "contentType": "video/mp4", "size": 1000 }))
        .await
        .expect(415);
    post(json!({ "purpose": "post", "contentType": "application/pdf", "size": 1000 }))
        .await
        .expect(415);
    post(json!({ "purpose": "avatar", "contentType": "image/png", "size": 6 * 1024 * 1024 }))
        .await
        .expect(413);
    post(json!({ "purpose": "post", "contentType": "video/mp4", "size": 51 * 1024 * 1024 }))
        .await
        .expect(413);
    let bad = post(json!({ "purpose": "banner", "contentType": "image/png", "size": 10 })).await;
    bad.expect(400);
    assert!(bad.body["errors"]["purpose"].is_string());
    post(json!({ "purpose": "post", "contentType": "image/png" }))
        .await
        .expect(400);
    post(json!({ "purpose": "post", "contentType": "image/png", "size": 0 }))
        .await
        .expect(400);
    app.post(
        "/api/uploads",
        None,
        json!({ "purpose": "post", "contentType": "image/png", "size": 10 }),
    )
    .await
    .expect(401);
}

pub const ROUTES: &[Route] = &[("POST", "/api/uploads", Access::Token)];

#[tokio::test]
async fn presign_needs_a_valid_token() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}
