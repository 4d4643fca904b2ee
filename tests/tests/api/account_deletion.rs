//! `DELETE /api/users/profile`: the password is required; the cascade removes the profile,
//! claims, sessions, follow edges (fixing others' counters), requests, search index and
//! history, and the picture.

use api_tests::PASSWORD;
use serde_json::json;

use crate::social_support::*;

#[tokio::test]
async fn deleting_an_account_removes_everything_it_owns() {
    let app = spawn_isolated_app().await;
    let word = unique_word();
    let leaving = named_user(&app, &word, "Leaving User").await;
    let follower = fixture_user(&app).await;
    let followee = fixture_user(&app).await;
    let private = fixture_user(&app).await;
    let requester = fixture_user(&app).await;
    make_private(&app, &private).await;
    make_private(&app, &leaving).await;
    follow(&app, &follower, &leaving.id).await; // a request: leaving is private
    app.post(
        &format!("/api/follow/requests/{}/accept", follower.id),
        Some(&leaving.access_token),
        json!({}),
    )
    .await
    .expect(200);
    follow(&app, &leaving, &followee.id).await.expect(200);
    assert_eq!(
        follow(&app, &leaving, &private.id).await.data()["status"],
        "requested"
    );
    assert_eq!(
        follow(&app, &requester, &leaving.id).await.data()["status"],
        "requested"
    );
    app.post(
        "/api/search-history",
        Some(&leaving.access_token),
        json!({ "searchedUserId": followee.id, "searchQuery": "x" }),
    )
    .await
    .expect(201);
    multipart_patch(
        &app,
        &leaving,
        Some(("profilePicture", PNG.to_vec(), "me.png")),
        &[],
    )
    .await
    .expect(200);
    let picture = picture_key(&app, &leaving).await.unwrap_or_default();
    assert_eq!(counts(&app, &follower).await, (0, 1));
    assert_eq!(counts(&app, &followee).await, (1, 0));

    // While the account exists its name is taken.
    app.register(&leaving.username, &leaving.email, PASSWORD)
        .await
        .expect(409);

    let path = "/api/users/profile";
    let missing = delete_with(&app, path, Some(&leaving.access_token), json!({})).await;
    missing.expect(400);
    assert!(missing.body["errors"]["password"].is_string());
    let wrong = delete_with(
        &app,
        path,
        Some(&leaving.access_token),
        json!({ "password": "wrong-password" }),
    )
    .await;
    wrong.expect(400);
    assert!(wrong.body["errors"]["password"].is_string());
    delete_with(&app, path, None, json!({ "password": PASSWORD }))
        .await
        .expect(401);
    app.get(path, Some(&leaving.access_token)).await.expect(200);

    delete_with(
        &app,
        path,
        Some(&leaving.access_token),
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(200);

    app.get(path, Some(&leaving.access_token)).await.expect(401);
    profile(&app, None, &leaving.id).await.expect(404);
    assert_eq!(counts(&app, &follower).await, (0, 0));
    assert_eq!(counts(&app, &followee).await, (0, 0));
    let requests = app
        .get("/api/follow/requests", Some(&private.access_token))
        .await;
    assert_eq!(
        requests.data()["requests"].as_array().map(Vec::len),
        Some(0)
    );
    let followers = app
        .get(&format!("/api/follow/{}/followers", followee.id), None)
        .await;
    assert_eq!(
        followers.data()["followers"].as_array().map(Vec::len),
        Some(0)
    );
    assert!(!object_exists(&app, &picture).await, "picture deleted");
    let left = app
        .state
        .db
        .partition_keys(&leaving.id, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_empty(), "partition emptied: {left:?}");
    let requester_copies = app
        .state
        .db
        .partition_keys(&requester.id, shared::db::keys::SENT_REQUEST_PREFIX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(requester_copies.is_empty());
    let search = app.get(&format!("/api/users/search?q={word}"), None).await;
    search.expect(200);
    assert!(!search.body.to_string().contains(&leaving.id));

    // The username and email can be registered again.
    let again = app
        .register(&leaving.username, &leaving.email, PASSWORD)
        .await;
    again.expect(201);
}
