//! Suggested users: 1 Query + 1 BatchGetItem + 1 BatchGetItem after auth, from the small items
//! the table's stream keeps (`RECENTFOLLOWS`, `POPULAR`, `RECENTIMAGES`); every exclusion from
//! fresh reads; a replayed follow record changes nothing twice.

use std::collections::BTreeMap;
use std::time::Instant;

use api_tests::{TestApp, TestResponse, TestUser};
use serde_json::{json, Value};
use shared::db::keys;
use shared::db::Item;

use crate::posts_support::*;
use crate::social_support::*;

fn ids_of(response: &TestResponse) -> Vec<String> {
    response
        .data()
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["_id"].as_str().map(str::to_string))
        .collect()
}

/// `me`'s suggestions (default limit) once `done` holds for them. Bounded wait: they come from
/// the table's stream.
async fn suggestions_once(
    app: &TestApp,
    me: &TestUser,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) -> TestResponse {
    let deadline = Instant::now() + STREAM_WAIT;
    loop {
        let response = app
            .get("/api/users/suggested", Some(&me.access_token))
            .await;
        response.expect(200);
        if done(&ids_of(&response)) {
            return response;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within {STREAM_WAIT:?}: {}",
            response.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn block(app: &TestApp, who: &TestUser, target: &str) {
    app.post(
        &format!("/api/users/{target}/block"),
        Some(&who.access_token),
        json!({}),
    )
    .await
    .expect(200);
}

async fn stored(app: &TestApp, key: &keys::Key) -> Option<Item> {
    let db = &app.state.db;
    db.client
        .get_item()
        .table_name(&db.table)
        .set_key(Some(key.to_item()))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("reading {key:?}: {e}"))
        .item
}

/// `user`'s `RECENTFOLLOWS` entries as stored: edge id → followee id.
async fn recent_follows(app: &TestApp, user: &TestUser) -> BTreeMap<String, String> {
    let item = stored(app, &keys::recent_follows(&user.id)).await;
    match item.as_ref().and_then(|item| item.get("followees")) {
        Some(aws_sdk_dynamodb::types::AttributeValue::M(map)) => map
            .iter()
            .filter_map(|(edge, id)| Some((edge.clone(), id.as_s().ok()?.clone())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

async fn recent_follows_become(app: &TestApp, user: &TestUser, followees: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + STREAM_WAIT;
    loop {
        let entries = recent_follows(app, user).await;
        let mut ids: Vec<&str> = entries.values().map(String::as_str).collect();
        ids.sort_unstable();
        let mut expected = followees.to_vec();
        expected.sort_unstable();
        if ids == expected {
            return entries.into_keys().collect();
        }
        assert!(
            Instant::now() < deadline,
            "{}'s recent follows {entries:?}, expected {followees:?}",
            user.username
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The follow edge `follower -> followee` minted as `edge_id`, as a Lambda stream record.
fn edge_record(name: &str, sequence: u64, follower: &str, followee: &str, edge_id: &str) -> Value {
    let image = json!({
        "PK": { "S": format!("USER#{follower}") },
        "SK": { "S": format!("FOLLOWING#{followee}") },
        "GSI1PK": { "S": format!("FOLLOWINGOF#{follower}") },
        "GSI1SK": { "S": edge_id },
        "followerId": { "S": follower },
        "followeeId": { "S": followee },
        "createdAt": { "S": "2026-12-01T10:00:00.000Z" },
    });
    api_tests::stream_record(name, sequence, image)
}

async fn invoke(app: &TestApp, batch: &[Value]) {
    let failed = local::streams::invoke(&app.state, batch)
        .await
        .unwrap_or_else(|e| panic!("invoking fanout: {e}"));
    assert_eq!(failed, None);
}

#[tokio::test]
async fn suggestions_cost_four_round_trips_and_keep_every_exclusion() {
    let (app, _slot) = posts_app_with(|config| config.popular_refresh_seconds = 0).await;
    let me = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    let friend_of_friend = fixture_user(&app).await;
    let already = fixture_user(&app).await;
    let requested = fixture_user(&app).await;
    let i_blocked = fixture_user(&app).await;
    let blocked_me = fixture_user(&app).await;
    make_private(&app, &requested).await;
    for target in [
        &friend_of_friend,
        &already,
        &requested,
        &i_blocked,
        &blocked_me,
    ] {
        follow(&app, &friend, &target.id).await.expect(200);
    }
    // `already` is older than my 10 newest follows, so only the BatchGetItem excludes it.
    follow(&app, &me, &already.id).await.expect(200);
    for _ in 0..9 {
        let filler = fixture_user(&app).await;
        follow(&app, &me, &filler.id).await.expect(200);
    }
    follow(&app, &me, &friend.id).await.expect(200);
    follow(&app, &me, &requested.id).await.expect(200);
    block(&app, &me, &i_blocked.id).await;
    block(&app, &blocked_me, &me.id).await;

    let response = suggestions_once(&app, &me, "the friend of a friend", |ids| {
        ids.contains(&friend_of_friend.id)
    })
    .await;
    let ids = ids_of(&response);
    assert_eq!(ids.first(), Some(&friend_of_friend.id), "{ids:?}");
    for excluded in [&me, &friend, &already, &requested, &i_blocked, &blocked_me] {
        assert!(
            !ids.contains(&excluded.id),
            "{} suggested",
            excluded.username
        );
    }
    let first = &response.data()[0];
    assert_eq!(first["mutualCount"], 1);
    assert_eq!(first["isFollowing"], false);
    // auth + 1 Query (my newest follows) + 1 BatchGetItem (their RECENTFOLLOWS, POPULAR) +
    // 1 BatchGetItem (the candidates).
    assert_eq!(response.ddb_calls(), 4);

    // Someone who follows nobody: auth + the POPULAR BatchGetItem + the candidates'.
    let newcomer = fixture_user(&app).await;
    let response = suggestions_once(&app, &newcomer, "the popular accounts", |ids| {
        ids.contains(&friend_of_friend.id) && ids.contains(&friend.id)
    })
    .await;
    assert_eq!(response.ddb_calls(), 3);
    // The most followed first: `already` has two followers, the others one at most.
    let ids = ids_of(&response);
    assert_eq!(ids.first(), Some(&already.id), "{ids:?}");
    assert!(!ids.contains(&newcomer.id), "{ids:?}");
    assert_eq!(ids.len(), 10, "{ids:?}");
}

#[tokio::test]
async fn suggestions_on_an_empty_table_are_empty_in_two_round_trips() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    let response = app
        .get("/api/users/suggested", Some(&me.access_token))
        .await;
    response.expect(200);
    assert_eq!(response.data(), &json!([]));
    // auth + the POPULAR item (missing: no candidates, so no second BatchGetItem).
    assert_eq!(response.ddb_calls(), 2);
}

#[tokio::test]
async fn a_replayed_follow_record_changes_the_seeds_once() {
    let (app, _slot) = posts_app().await;
    let me = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    let star = fixture_user(&app).await;
    follow(&app, &me, &friend.id).await.expect(200);
    follow(&app, &friend, &star.id).await.expect(200);
    let first_edge = recent_follows_become(&app, &friend, &[&star.id]).await;
    let first_edge = first_edge[0].clone();

    // The INSERT again, twice in one batch: one entry.
    let inserted = edge_record("INSERT", 300, &friend.id, &star.id, &first_edge);
    invoke(&app, &[inserted.clone(), inserted.clone()]).await;
    assert_eq!(
        recent_follows_become(&app, &friend, &[&star.id]).await,
        vec![first_edge.clone()]
    );
    let response = suggestions_once(&app, &me, "the star", |ids| ids.contains(&star.id)).await;
    assert_eq!(response.data()[0]["mutualCount"], 1);

    // Unfollowed: the replayed INSERT must not bring the entry back.
    unfollow(&app, &friend, &star.id).await.expect(200);
    recent_follows_become(&app, &friend, &[]).await;
    invoke(&app, std::slice::from_ref(&inserted)).await;
    assert!(recent_follows(&app, &friend).await.is_empty());

    // Followed again: a replayed REMOVE of the first edge leaves the new one alone.
    follow(&app, &friend, &star.id).await.expect(200);
    let second_edge = recent_follows_become(&app, &friend, &[&star.id]).await;
    assert_ne!(second_edge, vec![first_edge.clone()]);
    let removed = edge_record("REMOVE", 301, &friend.id, &star.id, &first_edge);
    invoke(&app, &[removed.clone(), inserted, removed]).await;
    assert_eq!(
        recent_follows(&app, &friend)
            .await
            .into_keys()
            .collect::<Vec<_>>(),
        second_edge
    );
}

#[tokio::test]
async fn the_popular_list_is_rebuilt_at_most_once_per_interval() {
    let (app, _slot) = posts_app().await;
    let fan = fixture_user(&app).await;
    let first = fixture_user(&app).await;
    let second = fixture_user(&app).await;
    let marker = fixture_user(&app).await;
    follow(&app, &fan, &first.id).await.expect(200);
    let deadline = Instant::now() + STREAM_WAIT;
    let popular = || async {
        stored(&app, &keys::popular_accounts())
            .await
            .map(|item| shared::db::popular::popular_in(&item))
            .unwrap_or_default()
    };
    while popular().await != vec![first.id.clone()] {
        assert!(Instant::now() < deadline, "{:?}", popular().await);
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // Within the minute, a second account's follower does not rebuild it (the marker's follow
    // comes after it in the stream, so once it is applied the second's has been too).
    follow(&app, &fan, &second.id).await.expect(200);
    follow(&app, &fan, &marker.id).await.expect(200);
    recent_follows_become(&app, &fan, &[&first.id, &second.id, &marker.id]).await;
    assert_eq!(popular().await, vec![first.id.clone()]);
}
