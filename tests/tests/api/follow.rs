//! `/api/follow`: follow/unfollow with exact counters, private accounts and requests, and
//! paginated lists.

use std::collections::HashSet;

use api_tests::{TestApp, TestUser};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::social_support::*;

#[tokio::test]
async fn following_a_public_account_is_immediate_idempotent_and_exact() {
    let app = spawn_isolated_app().await;
    let fan = fixture_user(&app).await;
    let star = fixture_user(&app).await;

    let first = follow(&app, &fan, &star.id).await;
    first.expect(200);
    assert_eq!(first.data()["status"], "following");
    assert_eq!(
        first.ddb_calls(),
        3,
        "auth + the follow budget + one transaction (the follow notification comes from the \
         table's stream)"
    );
    let again = follow(&app, &fan, &star.id).await;
    again.expect(200);
    assert_eq!(again.data()["status"], "following");
    assert_eq!(counts(&app, &star).await, (1, 0));
    assert_eq!(counts(&app, &fan).await, (0, 1));

    let seen = profile(&app, Some(&fan), &star.id).await;
    assert_eq!(seen.data()["isFollowing"], true);
    assert_eq!(seen.data()["followStatus"], "following");
    assert_eq!(seen.data()["followersCount"], 1);

    let gone = unfollow(&app, &fan, &star.id).await;
    gone.expect(200);
    assert_eq!(gone.ddb_calls(), 2, "auth + one transaction");
    unfollow(&app, &fan, &star.id).await.expect(200);
    assert_eq!(counts(&app, &star).await, (0, 0));
    assert_eq!(counts(&app, &fan).await, (0, 0));
    let seen = profile(&app, Some(&fan), &star.id).await;
    assert_eq!(seen.data()["followStatus"], "none");
}

#[tokio::test]
async fn follow_refuses_self_unknown_users_and_anonymous_callers() {
    let app = spawn_isolated_app().await;
    let user = fixture_user(&app).await;
    let own = follow(&app, &user, &user.id).await;
    own.expect(400);
    assert!(own.message().contains("yourself"));
    let own = unfollow(&app, &user, &user.id).await;
    own.expect(400);
    assert!(own.message().contains("yourself"));
    follow(&app, &user, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
        .await
        .expect(404);
    app.get("/api/follow/01HZZZZZZZZZZZZZZZZZZZZZZZ/following", None)
        .await
        .expect(404);
    app.post(&format!("/api/follow/{}/follow", user.id), None, json!({}))
        .await
        .expect(401);
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/follow/{}/follow", user.id),
        Some("bad"),
        None,
    )
    .await
    .expect(401);
    app.get("/api/follow/requests", None).await.expect(401);
    app.get("/api/follow/01HZZZZZZZZZZZZZZZZZZZZZZZ/followers", None)
        .await
        .expect(404);
    assert_eq!(counts(&app, &user).await, (0, 0));
}

#[tokio::test]
async fn thirty_concurrent_follows_leave_exactly_thirty_followers() {
    let app = spawn_isolated_app().await;
    let star = fixture_user(&app).await;
    let fans: Vec<TestUser> = many_users(&app, 30).await;
    // All at once. (Each fan follows once in the burst: moto, unlike DynamoDB, rolls a failed
    // transaction back by restoring a whole-table snapshot, which would undo its neighbours'
    // commits. Repeats are checked right after.)
    let responses = join_all(fans.iter().map(|fan| follow(&app, fan, &star.id))).await;
    for response in &responses {
        response.expect(200);
        assert_eq!(response.data()["status"], "following");
    }
    assert_eq!(counts(&app, &star).await, (30, 0));
    for fan in fans.iter().take(5) {
        follow(&app, fan, &star.id).await.expect(200);
    }
    assert_eq!(counts(&app, &star).await, (30, 0));
    for fan in fans.iter().take(3) {
        assert_eq!(counts(&app, fan).await, (0, 1));
    }
    let list = app
        .get(
            &format!("/api/follow/{}/followers?limit=100", star.id),
            None,
        )
        .await;
    list.expect(200);
    assert_eq!(list.data()["followers"].as_array().map(Vec::len), Some(30));
    assert_eq!(list.data()["pagination"]["totalFollowers"], 30);

    let responses = join_all(
        fans.iter()
            .take(10)
            .map(|fan| unfollow(&app, fan, &star.id)),
    )
    .await;
    for response in &responses {
        response.expect(200);
    }
    assert_eq!(counts(&app, &star).await, (20, 0));
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["_id"].as_str().map(str::to_string))
        .collect()
}

async fn followers_page(app: &TestApp, target: &str, query: &str) -> Value {
    let response = app
        .get(&format!("/api/follow/{target}/followers?{query}"), None)
        .await;
    response.expect(200);
    assert_eq!(
        response.ddb_calls(),
        3,
        "1 BatchGet (owner, before the list) + 1 Query + 1 BatchGet"
    );
    response.data().clone()
}

#[tokio::test]
async fn follower_pages_have_no_duplicates_or_gaps_while_followers_are_added() {
    let app = spawn_isolated_app().await;
    let target = fixture_user(&app).await;
    let early: Vec<TestUser> = many_users(&app, 25).await;
    for fan in &early {
        follow(&app, fan, &target.id).await.expect(200);
    }
    let late: Vec<TestUser> = many_users(&app, 5).await;

    // Page/limit: newest first, page 2 continues page 1.
    let page1 = followers_page(&app, &target.id, "page=1&limit=10").await;
    let page2 = followers_page(&app, &target.id, "page=2&limit=10").await;
    let newest_first: Vec<String> = early.iter().rev().map(|u| u.id.clone()).collect();
    assert_eq!(ids(&page1, "followers"), newest_first[..10].to_vec());
    assert_eq!(ids(&page2, "followers"), newest_first[10..20].to_vec());
    assert_eq!(page1["pagination"]["totalFollowers"], 25);
    assert_eq!(page1["pagination"]["totalPages"], 3);
    assert_eq!(page1["pagination"]["currentPage"], 1);
    assert_eq!(page1["pagination"]["hasMore"], true);
    let page3 = followers_page(&app, &target.id, "page=3&limit=10").await;
    assert_eq!(ids(&page3, "followers").len(), 5);
    assert_eq!(page3["pagination"]["hasMore"], false);

    // Cursor paging while new followers arrive between pages.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut late_iter = late.iter();
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=7&cursor={c}"),
            None => "limit=7".to_string(),
        };
        let page = followers_page(&app, &target.id, &query).await;
        seen.extend(ids(&page, "followers"));
        if let Some(fan) = late_iter.next() {
            follow(&app, fan, &target.id).await.expect(200);
        }
        match page["pagination"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    for fan in &early {
        assert!(seen.contains(&fan.id), "gap: {} missing", fan.id);
    }
    for fan in late_iter {
        follow(&app, fan, &target.id).await.expect(200);
    }
    assert_eq!(counts(&app, &target).await.0, 30);

    let following = app
        .get(&format!("/api/follow/{}/following", early[0].id), None)
        .await;
    following.expect(200);
    assert_eq!(ids(following.data(), "following"), vec![target.id.clone()]);
    assert_eq!(following.data()["pagination"]["totalFollowing"], 1);

    app.get(
        &format!("/api/follow/{}/followers?cursor=garbage", target.id),
        None,
    )
    .await
    .expect(400);
    app.get(
        &format!("/api/follow/{}/followers?limit=0", target.id),
        None,
    )
    .await
    .expect(400);
}

#[tokio::test]
async fn private_accounts_take_requests_and_show_lists_only_to_followers() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    let requester = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    // A follower from before the switch keeps access.
    follow(&app, &follower, &owner.id).await.expect(200);
    make_private(&app, &owner).await;

    let asked = follow(&app, &requester, &owner.id).await;
    asked.expect(200);
    assert_eq!(asked.data()["status"], "requested");
    follow(&app, &requester, &owner.id).await.expect(200);
    assert_eq!(
        counts(&app, &owner).await,
        (1, 0),
        "a request is not a follow"
    );

    let seen = profile(&app, Some(&requester), &owner.id).await;
    seen.expect(200);
    assert_eq!(seen.data()["followStatus"], "requested");
    assert_eq!(seen.data()["isFollowing"], false);
    assert_eq!(seen.data()["isPrivate"], true);

    let followers = format!("/api/follow/{}/followers", owner.id);
    let following = format!("/api/follow/{}/following", owner.id);
    for path in [&followers, &following] {
        app.get(path, None).await.expect(403);
        app.get(path, Some(&stranger.access_token))
            .await
            .expect(403);
        app.get(path, Some(&requester.access_token))
            .await
            .expect(403);
        app.get(path, Some(&follower.access_token))
            .await
            .expect(200);
        app.get(path, Some(&owner.access_token)).await.expect(200);
    }
    // The profile header itself stays visible.
    profile(&app, Some(&stranger), &owner.id).await.expect(200);

    let requests = app
        .get("/api/follow/requests", Some(&owner.access_token))
        .await;
    requests.expect(200);
    let listed: Vec<&str> = requests.data()["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["user"]["_id"].as_str())
        .collect();
    assert_eq!(listed, vec![requester.id.as_str()]);
    assert!(requests.ddb_calls() <= 3, "auth + Query + BatchGet");
    assert_eq!(requests.data()["pagination"]["totalRequests"], 1);
    // An offset past the end still counts what is there (the fuzzer saw `offset` answered as
    // the total: 786 requests for an offset of 786).
    let past_the_end = app
        .get("/api/follow/requests?offset=786", Some(&owner.access_token))
        .await;
    past_the_end.expect(200);
    assert_eq!(past_the_end.data()["requests"], json!([]));
    assert_eq!(past_the_end.data()["pagination"]["totalRequests"], 1);
    assert_eq!(past_the_end.data()["total"], 1);

    let accepted = app
        .post(
            &format!("/api/follow/requests/{}/accept", requester.id),
            Some(&owner.access_token),
            json!({}),
        )
        .await;
    accepted.expect(200);
    assert_eq!(
        accepted.ddb_calls(),
        2,
        "auth + one transaction (follow_accept comes from the table's stream)"
    );
    assert_eq!(counts(&app, &owner).await, (2, 0));
    assert_eq!(counts(&app, &requester).await, (0, 1));
    app.get(&followers, Some(&requester.access_token))
        .await
        .expect(200);
    let seen = profile(&app, Some(&requester), &owner.id).await;
    assert_eq!(seen.data()["followStatus"], "following");
    app.post(
        &format!("/api/follow/requests/{}/accept", requester.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(404);

    // Reject, and withdraw by unfollowing.
    follow(&app, &stranger, &owner.id).await.expect(200);
    app.post(
        &format!("/api/follow/requests/{}/reject", stranger.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/follow/requests/{}/reject", stranger.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(404);
    let seen = profile(&app, Some(&stranger), &owner.id).await;
    assert_eq!(seen.data()["followStatus"], "none");

    follow(&app, &stranger, &owner.id).await.expect(200);
    unfollow(&app, &stranger, &owner.id).await.expect(200);
    let requests = app
        .get("/api/follow/requests", Some(&owner.access_token))
        .await;
    assert_eq!(
        requests.data()["requests"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(counts(&app, &owner).await, (2, 0));
}

#[tokio::test]
async fn going_public_accepts_every_pending_request() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    make_private(&app, &owner).await;
    let requesters = join_all((0..3).map(|_| fixture_user(&app))).await;
    for requester in &requesters {
        let asked = follow(&app, requester, &owner.id).await;
        asked.expect(200);
        assert_eq!(asked.data()["status"], "requested");
    }
    assert_eq!(counts(&app, &owner).await, (0, 0));

    patch(
        &app,
        "/api/users/profile",
        Some(&owner.access_token),
        json!({ "isPrivate": false }),
    )
    .await
    .expect(200);

    assert_eq!(counts(&app, &owner).await, (3, 0));
    for requester in &requesters {
        let seen = profile(&app, Some(requester), &owner.id).await;
        assert_eq!(seen.data()["isFollowing"], true, "{}", seen.body);
        assert_eq!(counts(&app, requester).await, (0, 1));
        crate::notifications::listed_becomes(&app, requester, "?type=follow_accept", 1).await;
    }
    let pending = app
        .get("/api/follow/requests", Some(&owner.access_token))
        .await;
    pending.expect(200);
    assert_eq!(
        pending.data()["requests"].as_array().map(Vec::len),
        Some(0),
        "{}",
        pending.body
    );
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/follow/requests", Access::Token),
    (
        "POST",
        "/api/follow/requests/{user_id}/accept",
        Access::Token,
    ),
    (
        "POST",
        "/api/follow/requests/{user_id}/reject",
        Access::Token,
    ),
    ("POST", "/api/follow/{user_id}/follow", Access::Token),
    ("DELETE", "/api/follow/{user_id}/follow", Access::Token),
    ("GET", "/api/follow/{user_id}/followers", Access::Optional),
    ("GET", "/api/follow/{user_id}/following", Access::Optional),
];

#[tokio::test]
async fn every_route_needs_a_valid_token_or_none() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}

#[tokio::test]
async fn every_list_refuses_bad_paging() {
    let app = api_tests::spawn_app().await;
    let me = app.signed_in_user().await;
    let paths = [
        "/api/follow/requests".to_string(),
        format!("/api/follow/{}/followers", me.id),
        format!("/api/follow/{}/following", me.id),
    ];
    assert_bad_paging_gets_400(&app, Some(&me.access_token), &paths).await;
}

/// Found by schema fuzzing: accepting or rejecting a "request" from oneself was a 500 (one
/// transaction touched the one profile item twice); nobody requests to follow themselves.
#[tokio::test]
async fn a_request_from_oneself_is_not_found() {
    let app = api_tests::spawn_app().await;
    let me = app.signed_in_user().await;
    for action in ["accept", "reject"] {
        app.post(
            &format!("/api/follow/requests/{}/{action}", me.id),
            Some(&me.access_token),
            json!({}),
        )
        .await
        .expect(404);
    }
    assert_eq!(counts(&app, &me).await, (0, 0));
}
