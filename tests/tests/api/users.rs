//! `/api/users` profile routes: own and public profiles, whitelisted edits (JSON and multipart),
//! the picture (bytes decide the type, old objects deleted), and their unhappy paths.

use reqwest::Method;
use serde_json::json;

use crate::social_support::*;

#[tokio::test]
async fn own_profile_has_the_email_and_public_profiles_never_do() {
    let app = spawn_isolated_app().await;
    let owner = app.signed_in_user().await;
    let viewer = app.signed_in_user().await;

    let own = app
        .get("/api/users/profile", Some(&owner.access_token))
        .await;
    own.expect(200);
    assert_eq!(own.data()["email"], owner.email.as_str());
    assert_eq!(own.data()["_id"], owner.id.as_str());
    assert_eq!(own.ddb_calls(), 1, "only the auth read");

    for (viewer, calls) in [(Some(&viewer), 2), (None, 1)] {
        let public = profile(&app, viewer, &owner.id).await;
        public.expect(200);
        let data = public.data();
        assert!(data.get("email").is_none(), "no email in {data}");
        assert!(data.get("passwordHash").is_none());
        assert_eq!(data["username"], owner.username.as_str());
        for field in ["followersCount", "followingCount", "postsCount"] {
            assert_eq!(data[field], 0, "{field}");
        }
        assert_eq!(data["isFollowing"], false);
        assert_eq!(data["followStatus"], "none");
        assert_eq!(data["isPrivate"], false);
        assert_eq!(
            public.ddb_calls(),
            calls,
            "profile + relation in one BatchGet (+auth)"
        );
    }

    let by_name = app
        .get(
            &format!("/api/users/username/{}", owner.username.to_uppercase()),
            Some(&viewer.access_token),
        )
        .await;
    by_name.expect(200);
    assert_eq!(by_name.data()["_id"], owner.id.as_str());
    assert!(by_name.data().get("email").is_none());
    assert_eq!(by_name.ddb_calls(), 3, "auth + claim + BatchGet");
}

#[tokio::test]
async fn unknown_users_are_404_and_own_routes_need_a_valid_token() {
    let app = spawn_isolated_app().await;
    app.get("/api/users/01HZZZZZZZZZZZZZZZZZZZZZZZ", None)
        .await
        .expect(404);
    app.get("/api/users/username/nobody_here_at_all", None)
        .await
        .expect(404);
    for (method, path) in [
        (Method::GET, "/api/users/profile"),
        (Method::PATCH, "/api/users/profile"),
        (Method::DELETE, "/api/users/profile"),
        (Method::DELETE, "/api/users/profile/picture"),
        (Method::GET, "/api/users/suggested"),
        (Method::GET, "/api/users/blocked"),
    ] {
        app.request(method.clone(), path, None, Some(json!({})))
            .await
            .expect(401);
        app.request(method, path, Some("not-a-token"), Some(json!({})))
            .await
            .expect(401);
    }
}

#[tokio::test]
async fn json_patch_changes_only_whitelisted_fields() {
    let app = spawn_isolated_app().await;
    let user = app.signed_in_user().await;
    let response = patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({
            "fullName": "  New Name ", "bio": "Photographer", "website": "https://example.com",
            "gender": "Female", "isPrivate": true,
            "role": "admin", "isVerified": true, "followersCount": 999, "postsCount": 5,
            "_id": "someone-else", "id": "x", "email": "evil@example.com", "username": "hijack",
            "tokenVersion": 0, "passwordHash": "x"
        }),
    )
    .await;
    response.expect(200);
    assert_eq!(response.ddb_calls(), 2, "auth + one transaction");
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    own.expect(200);
    let data = own.data();
    assert_eq!(data["fullName"], "New Name");
    assert_eq!(data["bio"], "Photographer");
    assert_eq!(data["website"], "https://example.com");
    assert_eq!(data["gender"], "female");
    assert_eq!(data["isPrivate"], true);
    assert_eq!(data["role"], "user");
    assert_eq!(data["isVerified"], false);
    assert_eq!(data["followersCount"], 0);
    assert_eq!(data["postsCount"], 0);
    assert_eq!(data["_id"], user.id.as_str());
    assert_eq!(data["email"], user.email.as_str());
    assert_eq!(data["username"], user.username.as_str());

    // Empty strings clear optional fields.
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "bio": "", "website": "" }),
    )
    .await
    .expect(200);
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert!(own.data()["bio"].is_null());
    assert!(own.data()["website"].is_null());
}

#[tokio::test]
async fn invalid_edits_name_their_field() {
    let app = spawn_isolated_app().await;
    let user = app.signed_in_user().await;
    for (field, body) in [
        ("fullName", json!({ "fullName": " " })),
        ("fullName", json!({ "fullName": "n".repeat(61) })),
        ("bio", json!({ "bio": "b".repeat(151) })),
        ("website", json!({ "website": "ftp://example.com" })),
        ("gender", json!({ "gender": "robot" })),
    ] {
        let response = patch(&app, "/api/users/profile", Some(&user.access_token), body).await;
        response.expect(400);
        assert!(
            response.body["errors"][field].is_string(),
            "{field}: {}",
            response.body
        );
    }
    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "isPrivate": "yes" }),
    )
    .await
    .expect(400);
    let text = app
        .send(
            app.client
                .patch(app.url("/api/users/profile"))
                .bearer_auth(&user.access_token)
                .header("content-type", "text/plain")
                .body("fullName=x"),
        )
        .await;
    text.expect(415);
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert_eq!(own.data()["fullName"], "Test User", "nothing changed");
}

#[tokio::test]
async fn a_real_png_uploaded_as_multipart_is_served_back_and_replaced_objects_are_deleted() {
    let app = spawn_isolated_app().await;
    let user = app.signed_in_user().await;
    // The name and declared type lie; the bytes decide.
    let response = multipart_patch(
        &app,
        &user,
        Some(("profilePicture", PNG.to_vec(), "notes.txt")),
        &[
            ("fullName", "Pic Owner"),
            ("isPrivate", "false"),
            ("role", "admin"),
        ],
    )
    .await;
    response.expect(200);
    assert_eq!(response.data()["fullName"], "Pic Owner");
    assert_eq!(response.data()["role"], "user");
    let url = response.data()["profilePicture"]
        .as_str()
        .unwrap_or_else(|| panic!("no picture URL: {}", response.body))
        .to_string();
    assert_eq!(fetch_bytes(&app, &url).await, PNG);
    let first_key = picture_key(&app, &user).await.unwrap_or_default();
    assert!(first_key.starts_with(&format!("media/avatar/{}/", user.id)));
    assert!(first_key.ends_with(".png"));

    // Others see a loadable URL too.
    let other = app.signed_in_user().await;
    let public = profile(&app, Some(&other), &user.id).await;
    let public_url = public.data()["profilePicture"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fetch_bytes(&app, &public_url).await, PNG);

    // Replacing deletes the old object.
    multipart_patch(
        &app,
        &user,
        Some(("profilePicture", GIF.to_vec(), "a.png")),
        &[],
    )
    .await
    .expect(200);
    let second_key = picture_key(&app, &user).await.unwrap_or_default();
    assert!(second_key.ends_with(".gif"), "{second_key}");
    assert!(
        !object_exists(&app, &first_key).await,
        "old picture deleted"
    );
    assert!(object_exists(&app, &second_key).await);

    // Removing deletes it as well.
    let removed = delete(&app, "/api/users/profile/picture", Some(&user.access_token)).await;
    removed.expect(200);
    assert!(removed.data().is_null());
    assert!(!object_exists(&app, &second_key).await);
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert!(own.data()["profilePicture"].is_null());
    assert_eq!(picture_key(&app, &user).await, None);
}

#[tokio::test]
async fn multipart_pictures_that_are_not_images_or_too_large_are_refused() {
    let app = spawn_isolated_app().await;
    let user = app.signed_in_user().await;
    let text = multipart_patch(
        &app,
        &user,
        Some((
            "profilePicture",
            b"just some text, not an image".to_vec(),
            "a.png",
        )),
        &[("fullName", "Should Not Stick")],
    )
    .await;
    text.expect(415);

    let mut video = b"\0\0\0\x18ftypisom".to_vec();
    video.resize(64, 0);
    multipart_patch(&app, &user, Some(("profilePicture", video, "a.mp4")), &[])
        .await
        .expect(415);

    let mut large = PNG.to_vec();
    large.resize(5 * 1024 * 1024 + 1, 0);
    multipart_patch(&app, &user, Some(("profilePicture", large, "big.png")), &[])
        .await
        .expect(413);

    multipart_patch(&app, &user, None, &[("isPrivate", "maybe")])
        .await
        .expect(400);

    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert_eq!(own.data()["fullName"], "Test User");
    assert!(own.data()["profilePicture"].is_null());
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/users/profile", Access::Token),
    ("PATCH", "/api/users/profile", Access::Token),
    ("DELETE", "/api/users/profile", Access::Token),
    ("DELETE", "/api/users/profile/picture", Access::Token),
    ("GET", "/api/users/search", Access::Optional),
    ("GET", "/api/users/suggested", Access::Token),
    ("GET", "/api/users/blocked", Access::Token),
    ("GET", "/api/users/username/{username}", Access::Optional),
    ("GET", "/api/users/{user_id}", Access::Optional),
    ("GET", "/api/users/{user_id}/followers", Access::Optional),
    ("GET", "/api/users/{user_id}/following", Access::Optional),
    ("POST", "/api/users/{user_id}/block", Access::Token),
    ("DELETE", "/api/users/{user_id}/block", Access::Token),
];

#[tokio::test]
async fn every_route_needs_a_valid_token_or_none() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
    let me = app.signed_in_user().await;
    assert_bad_paging_gets_400(
        &app,
        Some(&me.access_token),
        &["/api/users/blocked".to_string()],
    )
    .await;
}
