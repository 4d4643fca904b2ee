//! Issue 10 (hardening): each test here failed before its fix.

use api_tests::TestUser;
use serde_json::{json, Value};

use crate::posts_support::*;
use crate::social_support::*;

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["_id"].as_str().map(str::to_string))
        .collect()
}

async fn block(app: &api_tests::TestApp, who: &TestUser, target: &str) {
    app.post(
        &format!("/api/users/{target}/block"),
        Some(&who.access_token),
        json!({}),
    )
    .await
    .expect(200);
}

// ---------- privacy ----------

#[tokio::test]
async fn suggestions_never_show_a_private_accounts_images_nor_someone_i_blocked() {
    let (app, _slot) = posts_app().await;
    let me = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    let private = fixture_user(&app).await;
    let public = fixture_user(&app).await;
    let i_blocked = fixture_user(&app).await;
    for target in [&private, &public, &i_blocked] {
        follow(&app, &friend, &target.id).await.expect(200);
        create_post(&app, target, "newest").await;
    }
    make_private(&app, &private).await;
    follow(&app, &me, &friend.id).await.expect(200);
    block(&app, &me, &i_blocked.id).await;

    let response = app
        .get("/api/users/suggested?limit=30", Some(&me.access_token))
        .await;
    response.expect(200);
    let list = response.data().as_array().cloned().unwrap_or_default();
    assert!(!ids_of(response.data()).contains(&i_blocked.id), "{list:?}");
    let card = |id: &str| {
        list.iter()
            .find(|u| u["_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not suggested: {list:?}"))
    };
    let public_card = card(&public.id);
    assert_eq!(
        public_card["recentImages"].as_array().map(Vec::len),
        Some(1)
    );
    let private_card = card(&private.id);
    assert_eq!(private_card["isPrivate"], true);
    assert_eq!(private_card["recentImages"], json!([]), "{private_card}");
}

#[tokio::test]
async fn a_private_accounts_stats_are_forbidden_to_non_followers() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    follow(&app, &follower, &owner.id).await.expect(200);
    make_private(&app, &owner).await;
    let path = format!("/api/posts/user/{}/stats", owner.id);
    app.get(&path, Some(&stranger.access_token))
        .await
        .expect(403);
    app.get(&path, None).await.expect(403);
    app.get(&path, Some(&follower.access_token))
        .await
        .expect(200);
    app.get(&path, Some(&owner.access_token)).await.expect(200);
}

// ---------- bounds ----------

#[tokio::test]
async fn offsets_past_ten_thousand_are_a_400_that_names_the_cursor() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    for path in [
        "/api/posts/feed?offset=4294967000".to_string(),
        "/api/posts/feed?offset=10001".to_string(),
        "/api/posts/feed?page=4294967295".to_string(),
        "/api/posts/feed?page=102&limit=100".to_string(),
        "/api/posts/explore?offset=4294967000".to_string(),
        format!("/api/follow/{}/followers?offset=4294967000", me.id),
        format!("/api/posts/user/{}?page=500000", me.id),
    ] {
        let response = app.get(&path, None).await;
        response.expect(400);
        assert!(
            response.message().contains("cursor"),
            "{path}: {}",
            response.body
        );
    }
    let timeline = app
        .get(
            "/api/posts/timeline?offset=4294967000",
            Some(&me.access_token),
        )
        .await;
    timeline.expect(400);
    let deepest = app.get("/api/posts/feed?offset=10000", None).await;
    deepest.expect(200);
}

#[tokio::test]
async fn a_private_accounts_followers_are_refused_before_the_list_is_read() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    follow(&app, &follower, &owner.id).await.expect(200);
    make_private(&app, &owner).await;
    let refused = app
        .get(&format!("/api/follow/{}/followers", owner.id), None)
        .await;
    refused.expect(403);
    assert_eq!(
        refused.ddb_calls(),
        1,
        "only the owner and the relation are read"
    );
    let allowed = app
        .get(
            &format!("/api/follow/{}/followers", owner.id),
            Some(&follower.access_token),
        )
        .await;
    allowed.expect(200);
    assert_eq!(
        ids_of(&allowed.data()["followers"]),
        vec![follower.id.clone()]
    );
}

#[tokio::test]
async fn a_stranger_never_reads_the_messages_of_a_conversation() {
    let app = spawn_isolated_app().await;
    let (a, b, stranger) = (
        fixture_user(&app).await,
        fixture_user(&app).await,
        fixture_user(&app).await,
    );
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    crate::messages::send_text(&app, &a, &b, &conversation, "secret")
        .await
        .expect(201);
    let refused = app
        .get(
            &format!("/api/messages/conversations/{conversation}/messages"),
            Some(&stranger.access_token),
        )
        .await;
    refused.expect(404);
    assert_eq!(
        refused.ddb_calls(),
        2,
        "auth + the membership, no message read"
    );
}

#[tokio::test]
async fn a_cursor_from_another_list_is_a_400() {
    let app = spawn_isolated_app().await;
    let (a, b) = (fixture_user(&app).await, fixture_user(&app).await);
    let mut followers = Vec::new();
    for _ in 0..3 {
        let fan = fixture_user(&app).await;
        follow(&app, &fan, &a.id).await.expect(200);
        followers.push(fan);
    }
    let first = app
        .get(&format!("/api/follow/{}/followers?limit=1", a.id), None)
        .await;
    first.expect(200);
    let cursor = first.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no cursor: {}", first.body))
        .to_string();
    let post = create_post(&app, &b, "cursor target").await;
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    for path in [
        format!("/api/follow/{}/followers?cursor={cursor}", b.id),
        format!("/api/follow/{}/following?cursor={cursor}", a.id),
        format!("/api/posts/{post}/comments?cursor={cursor}"),
        format!("/api/posts/user/{}?cursor={cursor}", b.id),
        format!("/api/posts/feed?cursor={cursor}"),
        format!("/api/notifications?cursor={cursor}"),
        format!("/api/messages/conversations?cursor={cursor}"),
        format!("/api/messages/conversations/{conversation}/messages?cursor={cursor}"),
    ] {
        let response = app.get(&path, Some(&a.access_token)).await;
        response.expect(400);
        assert!(
            response.body["errors"]["cursor"].is_string(),
            "{path}: {}",
            response.body
        );
    }
    // The cursor still pages its own list.
    app.get(
        &format!("/api/follow/{}/followers?limit=1&cursor={cursor}", a.id),
        None,
    )
    .await
    .expect(200);
}
