//! Blocks: follow edges both ways and requests removed with exact counters, the blocked user
//! loses sight of the blocker and cannot follow; the blocked list; unblock.

use serde_json::json;

use crate::social_support::*;

#[tokio::test]
async fn blocking_removes_follows_both_ways_and_hides_the_blocker() {
    let app = spawn_isolated_app().await;
    let blocker = fixture_user(&app).await;
    let blocked = fixture_user(&app).await;
    let bystander = fixture_user(&app).await;
    follow(&app, &blocker, &blocked.id).await.expect(200);
    follow(&app, &blocked, &blocker.id).await.expect(200);
    follow(&app, &bystander, &blocker.id).await.expect(200);
    assert_eq!(counts(&app, &blocker).await, (2, 1));

    let response = app
        .post(
            &format!("/api/users/{}/block", blocked.id),
            Some(&blocker.access_token),
            json!({}),
        )
        .await;
    response.expect(200);
    assert!(
        response.ddb_calls() <= 9,
        "auth + BatchGet + one transaction, then the two follow notifications between them \
         removed (2 Queries, 1 transaction and 1 pointer delete each): {}",
        response.ddb_calls()
    );
    app.post(
        &format!("/api/users/{}/block", blocked.id),
        Some(&blocker.access_token),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(counts(&app, &blocker).await, (1, 0));
    assert_eq!(counts(&app, &blocked).await, (0, 0));

    // The blocked user no longer sees the blocker, nor can follow.
    profile(&app, Some(&blocked), &blocker.id).await.expect(404);
    app.get(
        &format!("/api/follow/{}/followers", blocker.id),
        Some(&blocked.access_token),
    )
    .await
    .expect(404);
    follow(&app, &blocked, &blocker.id).await.expect(403);
    follow(&app, &blocker, &blocked.id).await.expect(403);
    // The blocker still sees the header, marked as blocked.
    let seen = profile(&app, Some(&blocker), &blocked.id).await;
    seen.expect(200);
    assert_eq!(seen.data()["isBlocked"], true);
    // Others are not affected.
    profile(&app, Some(&bystander), &blocker.id)
        .await
        .expect(200);

    let list = app
        .get("/api/users/blocked", Some(&blocker.access_token))
        .await;
    list.expect(200);
    let ids: Vec<&str> = list.data()["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["_id"].as_str())
        .collect();
    assert_eq!(ids, vec![blocked.id.as_str()]);
    assert!(list.data()["users"][0].get("email").is_none());
    assert_eq!(list.data()["pagination"]["totalUsers"], 1);
    let past_the_end = app
        .get("/api/users/blocked?offset=50", Some(&blocker.access_token))
        .await;
    past_the_end.expect(200);
    assert_eq!(past_the_end.data()["users"], json!([]));
    assert_eq!(past_the_end.data()["pagination"]["totalUsers"], 1);

    let unblocked = crate::social_support::delete(
        &app,
        &format!("/api/users/{}/block", blocked.id),
        Some(&blocker.access_token),
    )
    .await;
    unblocked.expect(200);
    crate::social_support::delete(
        &app,
        &format!("/api/users/{}/block", blocked.id),
        Some(&blocker.access_token),
    )
    .await
    .expect(200);
    profile(&app, Some(&blocked), &blocker.id).await.expect(200);
    follow(&app, &blocked, &blocker.id).await.expect(200);
    assert_eq!(counts(&app, &blocker).await, (2, 0));
    let list = app
        .get("/api/users/blocked", Some(&blocker.access_token))
        .await;
    assert_eq!(list.data()["users"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn blocking_drops_pending_requests_and_refuses_bad_targets() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    let requester = fixture_user(&app).await;
    make_private(&app, &owner).await;
    let asked = follow(&app, &requester, &owner.id).await;
    assert_eq!(asked.data()["status"], "requested");
    app.post(
        &format!("/api/users/{}/block", requester.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let requests = app
        .get("/api/follow/requests", Some(&owner.access_token))
        .await;
    assert_eq!(
        requests.data()["requests"].as_array().map(Vec::len),
        Some(0)
    );
    follow(&app, &requester, &owner.id).await.expect(403);

    let own = app
        .post(
            &format!("/api/users/{}/block", owner.id),
            Some(&owner.access_token),
            json!({}),
        )
        .await;
    own.expect(400);
    let own = delete(
        &app,
        &format!("/api/users/{}/block", owner.id),
        Some(&owner.access_token),
    )
    .await;
    own.expect(400);
    assert!(own.message().contains("yourself"));
    app.post(
        "/api/users/01HZZZZZZZZZZZZZZZZZZZZZZZ/block",
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(404);
    app.post(
        &format!("/api/users/{}/block", requester.id),
        None,
        json!({}),
    )
    .await
    .expect(401);
}
