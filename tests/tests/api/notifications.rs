//! `/api/notifications` and the `notification` frame: every type produced by its real cause
//! over the API and pushed to a real WebSocket, none for acting on your own content, repeats
//! collapsed, an exact unread counter (also under concurrency), read marks, the type filter,
//! pagination, auth, and account deletion.

use std::collections::HashSet;
use std::time::Duration;

use api_tests::{TestApp, TestResponse, TestUser, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

use crate::messages::{conversation_between, sent};
use crate::posts_support::*;
use crate::social_support::*;

/// Delivery bound, from the acknowledging REST response: notifications come from the table's
/// stream (the local poller feeds the fanout handler), shortly after the action.
const WITHIN: Duration = Duration::from_secs(5);
/// How long a stored state may take to appear (the stream), polled every [`POLL`].
const EVENTUALLY: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(25);
const QUIET: Duration = Duration::from_millis(300);

/// Waits (bounded) until the unread counter is `expected`; panics with the last value.
pub async fn unread_becomes(app: &TestApp, user: &TestUser, expected: i64) {
    let deadline = std::time::Instant::now() + EVENTUALLY;
    loop {
        let now = unread_notifications(app, user).await;
        if now == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "unread count stayed {now}, expected {expected} within {EVENTUALLY:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits (bounded) until the list `query` holds `expected` notifications; answers that page.
pub async fn listed_becomes(
    app: &TestApp,
    user: &TestUser,
    query: &str,
    expected: usize,
) -> TestResponse {
    let deadline = std::time::Instant::now() + EVENTUALLY;
    loop {
        let listed = list(app, user, query).await;
        listed.expect(200);
        if items(&listed).len() == expected {
            return listed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query} listed {}, expected {expected} within {EVENTUALLY:?}",
            listed.body
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn put(app: &TestApp, path: &str, user: &TestUser) -> TestResponse {
    app.request(Method::PUT, path, Some(&user.access_token), Some(json!({})))
        .await
}

async fn list(app: &TestApp, user: &TestUser, query: &str) -> TestResponse {
    let response = app
        .get(
            &format!("/api/notifications{query}"),
            Some(&user.access_token),
        )
        .await;
    response
}

fn items(response: &TestResponse) -> Vec<Value> {
    response.data()["notifications"]
        .as_array()
        .unwrap_or_else(|| panic!("no notifications: {}", response.body))
        .clone()
}

pub async fn unread_notifications(app: &TestApp, user: &TestUser) -> i64 {
    let response = app
        .get("/api/notifications/unread-count", Some(&user.access_token))
        .await;
    response.expect(200);
    response.data()["unreadCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("no unreadCount: {}", response.body))
}

async fn comment(app: &TestApp, user: &TestUser, post: &str, content: &str) -> String {
    add_comment(app, user, post, None, content).await
}

async fn reply(app: &TestApp, user: &TestUser, post: &str, parent: &str, content: &str) -> String {
    add_comment(app, user, post, Some(parent), content).await
}

/// Waits for the next `notification` frame and checks its type and actor.
async fn expect_notification(
    socket: &mut api_tests::WsClient,
    kind: &str,
    actor: &TestUser,
) -> Value {
    let frame = socket.expect_event("notification", WITHIN).await;
    let data = frame["data"].clone();
    assert_eq!(data["type"], kind, "{frame}");
    assert_eq!(data["actor"]["_id"], actor.id.as_str(), "{frame}");
    assert_eq!(data["actor"]["username"], actor.username.as_str());
    assert_eq!(data["isRead"], false);
    assert!(data["_id"].as_str().is_some_and(|id| id.len() == 26));
    assert!(data["text"]
        .as_str()
        .is_some_and(|t| t.starts_with(&actor.username)));
    data
}

#[tokio::test]
async fn every_type_is_stored_and_pushed_by_its_real_cause() {
    let (app, _slot) = posts_app().await;
    let a = fixture_user(&app).await;
    let b = fixture_user(&app).await;
    let private = fixture_user(&app).await;
    make_private(&app, &private).await;
    let mut b_socket = app.ws(&b).await;
    let mut a_socket = app.ws(&a).await;
    let mut private_socket = app.ws(&private).await;
    let post = create_post(&app, &b, "my post").await;

    // like
    let liked = like(&app, &a, &post).await;
    liked.expect(200);
    assert_eq!(
        liked.ddb_calls(),
        4,
        "auth + post + relation + transaction, no read-back (the notification is the stream's)"
    );
    let data = expect_notification(&mut b_socket, "like", &a).await;
    assert_eq!(data["postId"], post.as_str());

    // comment
    let comment_id = comment(&app, &a, &post, "lovely picture").await;
    let data = expect_notification(&mut b_socket, "comment", &a).await;
    assert_eq!(data["postId"], post.as_str());
    assert_eq!(data["commentId"], comment_id.as_str());
    assert_eq!(data["preview"], "lovely picture");

    // reply (to b's own comment)
    let own = comment(&app, &b, &post, "thanks all").await;
    let reply_id = reply(&app, &a, &post, &own, "you're welcome").await;
    let data = expect_notification(&mut b_socket, "reply", &a).await;
    assert_eq!(data["commentId"], reply_id.as_str());

    // comment_like
    app.post(
        &format!("/api/posts/{post}/comments/{own}/like"),
        Some(&a.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let data = expect_notification(&mut b_socket, "comment_like", &a).await;
    assert_eq!(data["commentId"], own.as_str());

    // follow (public account)
    let followed = follow(&app, &a, &b.id).await;
    followed.expect(200);
    assert_eq!(
        followed.ddb_calls(),
        3,
        "auth + follow budget + transaction (the notification is the stream's)"
    );
    expect_notification(&mut b_socket, "follow", &a).await;

    // follow_request (private account), then follow_accept
    let requested = follow(&app, &a, &private.id).await;
    assert_eq!(requested.data()["status"], "requested");
    expect_notification(&mut private_socket, "follow_request", &a).await;
    app.post(
        &format!("/api/follow/requests/{}/accept", a.id),
        Some(&private.access_token),
        json!({}),
    )
    .await
    .expect(200);
    expect_notification(&mut a_socket, "follow_accept", &private).await;

    // mention in a caption, and in a comment on someone else's post
    let mentioning = create_post(&app, &a, &format!("with @{} today", b.username)).await;
    let data = expect_notification(&mut b_socket, "mention", &a).await;
    assert_eq!(data["postId"], mentioning.as_str());
    assert!(data["commentId"].is_null());
    let c = fixture_user(&app).await;
    let other_post = create_post(&app, &c, "c's post").await;
    let mention_comment = comment(&app, &a, &other_post, &format!("look @{}", b.username)).await;
    let data = expect_notification(&mut b_socket, "mention", &a).await;
    assert_eq!(data["commentId"], mention_comment.as_str());

    // message (REST), collapsing per conversation
    let conversation = conversation_between(&app, &a, &b).await;
    sent(&app, &a, &b, &conversation, "hi there").await;
    let data = expect_notification(&mut b_socket, "message", &a).await;
    assert_eq!(data["conversationId"], conversation.as_str());
    assert_eq!(data["preview"], "hi there");
    sent(&app, &a, &b, &conversation, "second").await;
    let data = expect_notification(&mut b_socket, "message", &a).await;
    assert_eq!(data["preview"], "second");
    // …and over the socket too (the ws function shares send_message).
    a_socket
        .send_json(json!({
            "action": "sendMessage",
            "conversationId": conversation,
            "recipientId": b.id,
            "content": "over the socket",
        }))
        .await;
    let frame = b_socket
        .expect_event("notification", Duration::from_secs(5))
        .await;
    assert_eq!(frame["data"]["preview"], "over the socket");

    // Stored: b's list holds each type once (the messages collapsed), all unread and counted.
    let listed = listed_becomes(&app, &b, "", 8).await;
    let kinds: Vec<String> = items(&listed)
        .iter()
        .map(|n| n["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "message",
            "mention",
            "mention",
            "follow",
            "comment_like",
            "reply",
            "comment",
            "like"
        ],
        "newest first"
    );
    unread_becomes(&app, &b, 8).await;
    unread_becomes(&app, &private, 1).await;
    unread_becomes(&app, &a, 1).await;
}

#[tokio::test]
async fn acting_on_your_own_content_notifies_nobody() {
    let (app, _slot) = posts_app().await;
    let me = fixture_user(&app).await;
    let mut socket = app.ws(&me).await;
    let post = create_post(&app, &me, &format!("me, @{}", me.username)).await;
    like(&app, &me, &post).await.expect(200);
    let own = comment(&app, &me, &post, &format!("@{} again", me.username)).await;
    reply(&app, &me, &post, &own, "talking to myself").await;
    app.post(
        &format!("/api/posts/{post}/comments/{own}/like"),
        Some(&me.access_token),
        json!({}),
    )
    .await
    .expect(200);
    follow(&app, &me, &me.id).await.expect(400);
    socket.expect_silence(QUIET).await;
    assert!(items(list(&app, &me, "").await.expect(200)).is_empty());
    assert_eq!(unread_notifications(&app, &me).await, 0);
}

#[tokio::test]
async fn like_unlike_like_makes_one_notification_and_an_unlike_takes_it_back() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let fan = fixture_user(&app).await;
    let post = create_post(&app, &author, "once").await;
    for _ in 0..2 {
        like(&app, &fan, &post).await.expect(200);
        unread_becomes(&app, &author, 1).await;
        unlike(&app, &fan, &post).await.expect(200);
        // An unlike takes the notification back, off the counter too.
        unread_becomes(&app, &author, 0).await;
        listed_becomes(&app, &author, "", 0).await;
    }
    like(&app, &fan, &post).await.expect(200);
    let listed = listed_becomes(&app, &author, "", 1).await;
    unread_becomes(&app, &author, 1).await;

    // Read, then liked again: the same notification is unread again and counted once more.
    let id = items(&listed)[0]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    put(&app, &format!("/api/notifications/{id}/read"), &author)
        .await
        .expect(200);
    assert_eq!(unread_notifications(&app, &author).await, 0);
    unlike(&app, &fan, &post).await.expect(200);
    listed_becomes(&app, &author, "", 0).await;
    assert_eq!(
        unread_notifications(&app, &author).await,
        0,
        "a read one goes without a count"
    );
    like(&app, &fan, &post).await.expect(200);
    let listed = listed_becomes(&app, &author, "", 1).await;
    assert_eq!(items(&listed)[0]["_id"], id.as_str());
    assert_eq!(items(&listed)[0]["isRead"], false);
    unread_becomes(&app, &author, 1).await;

    // A comment's like is taken back the same way.
    let comment_id = comment(&app, &fan, &post, "nice").await;
    let like_path = format!("/api/posts/{post}/comments/{comment_id}/like");
    app.post(&like_path, Some(&author.access_token), json!({}))
        .await
        .expect(200);
    unread_becomes(&app, &fan, 1).await;
    app.request(Method::DELETE, &like_path, Some(&author.access_token), None)
        .await
        .expect(200);
    unread_becomes(&app, &fan, 0).await;
    listed_becomes(&app, &fan, "", 0).await;
}

#[tokio::test]
async fn unread_count_is_exact_under_concurrent_likes() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let post = create_post(&app, &author, "popular").await;
    let fans = many_users(&app, 20).await;
    let likes = fans.iter().map(|fan| like(&app, fan, &post));
    for response in futures_util::future::join_all(likes).await {
        response.expect(200);
    }
    unread_becomes(&app, &author, 20).await;
    let listed = listed_becomes(&app, &author, "?limit=50", 20).await;
    let actors: HashSet<String> = items(&listed)
        .iter()
        .filter_map(|n| n["actor"]["_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(actors.len(), 20);
}

#[tokio::test]
async fn marking_one_and_all_read_moves_the_counter_exactly() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    let post = create_post(&app, &author, "three likes").await;
    for fan in many_users(&app, 3).await {
        like(&app, &fan, &post).await.expect(200);
    }
    unread_becomes(&app, &author, 3).await;
    let listed = listed_becomes(&app, &author, "", 3).await;
    assert!(
        listed.ddb_calls() <= 3,
        "auth + Query + BatchGet: {}",
        listed.ddb_calls()
    );
    let id = items(&listed)[0]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let first = put(&app, &format!("/api/notifications/{id}/read"), &author).await;
    first.expect(200);
    assert_eq!(first.data()["isRead"], true);
    assert_eq!(first.ddb_calls(), 2, "auth + one transaction");
    assert_eq!(unread_notifications(&app, &author).await, 2);
    put(&app, &format!("/api/notifications/{id}/read"), &author)
        .await
        .expect(200);
    assert_eq!(
        unread_notifications(&app, &author).await,
        2,
        "no double count"
    );

    // Someone else's notification, and one that does not exist: 404.
    put(&app, &format!("/api/notifications/{id}/read"), &stranger)
        .await
        .expect(404);
    put(
        &app,
        "/api/notifications/01HZZZZZZZZZZZZZZZZZZZZZZZ/read",
        &author,
    )
    .await
    .expect(404);
    put(&app, "/api/notifications/not-an-id/read", &author)
        .await
        .expect(404);

    let all = put(&app, "/api/notifications/read-all", &author).await;
    all.expect(200);
    assert_eq!(all.data()["markedCount"], 2);
    assert_eq!(unread_notifications(&app, &author).await, 0);
    let listed = list(&app, &author, "").await;
    assert!(items(&listed).iter().all(|n| n["isRead"] == true));
    put(&app, "/api/notifications/read-all", &author)
        .await
        .expect(200);
    assert_eq!(unread_notifications(&app, &author).await, 0);
}

#[tokio::test]
async fn the_type_filter_and_pagination() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let post = create_post(&app, &author, "filtered").await;
    let fans = many_users(&app, 3).await;
    for fan in &fans {
        like(&app, fan, &post).await.expect(200);
        follow(&app, fan, &author.id).await.expect(200);
    }
    listed_becomes(&app, &author, "?limit=50", 6).await;
    let follows = list(&app, &author, "?type=follow").await;
    follows.expect(200);
    assert_eq!(items(&follows).len(), 3);
    assert!(items(&follows).iter().all(|n| n["type"] == "follow"));
    let likes = list(&app, &author, "?type=like&limit=2").await;
    assert_eq!(items(&likes).len(), 2);
    assert!(items(&likes).iter().all(|n| n["type"] == "like"));
    let cursor = likes.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no cursor: {}", likes.body))
        .to_string();
    let rest = list(
        &app,
        &author,
        &format!("?type=like&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(items(&rest).len(), 1);
    assert_eq!(rest.data()["pagination"]["hasMore"], false);
    let bad = list(&app, &author, "?type=poke").await;
    bad.expect(400);
    assert!(bad.body["errors"]["type"].is_string());

    // Pages by cursor cover everything once, newest first.
    let mut seen = Vec::new();
    let mut query = "?limit=4".to_string();
    loop {
        let page = list(&app, &author, &query).await;
        page.expect(200);
        seen.extend(
            items(&page)
                .iter()
                .filter_map(|n| n["_id"].as_str().map(str::to_string)),
        );
        match page.data()["pagination"]["nextCursor"].as_str() {
            Some(next) => query = format!("?limit=4&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 6);
    let second = list(&app, &author, "?limit=4&page=2").await;
    assert_eq!(items(&second).len(), 2);
    assert_eq!(second.data()["pagination"]["currentPage"], 2);
}

#[tokio::test]
async fn every_route_needs_a_token() {
    let app = api_tests::spawn_app().await;
    app.get("/api/notifications", None).await.expect(401);
    app.get("/api/notifications/unread-count", None)
        .await
        .expect(401);
    app.request(Method::PUT, "/api/notifications/read-all", None, None)
        .await
        .expect(401);
    app.request(
        Method::PUT,
        "/api/notifications/01HZZZZZZZZZZZZZZZZZZZZZZZ/read",
        Some("garbage"),
        None,
    )
    .await
    .expect(401);
    assert_bad_tokens_get_401(&app, ROUTES).await;
    let me = app.signed_in_user().await;
    assert_bad_paging_gets_400(
        &app,
        Some(&me.access_token),
        &["/api/notifications".to_string()],
    )
    .await;
}

#[tokio::test]
async fn deleting_an_account_removes_its_notifications_both_ways() {
    let (app, _slot) = posts_app().await;
    let leaving = fixture_user(&app).await;
    let staying = fixture_user(&app).await;
    let post = create_post(&app, &staying, "liked by someone leaving").await;
    like(&app, &leaving, &post).await.expect(200);
    follow(&app, &staying, &leaving.id).await.expect(200);
    unread_becomes(&app, &staying, 1).await;
    unread_becomes(&app, &leaving, 1).await;

    delete_with(
        &app,
        "/api/users/profile",
        Some(&leaving.access_token),
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(200);
    // What the leaving user caused is gone from the other side, counter fixed.
    assert_eq!(unread_notifications(&app, &staying).await, 0);
    assert!(items(&list(&app, &staying, "").await).is_empty());
    // What the leaving user had is gone with the account.
    let counter = shared::db::keys::notification_counter(&leaving.id);
    assert!(!item_exists(&app, &counter).await);
    let own = app
        .state
        .db
        .partition_keys(&leaving.id, shared::db::keys::NOTIFICATION_PREFIX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(own.is_empty());
}

#[tokio::test]
async fn a_reply_tells_the_comment_author_and_the_post_owner_and_deleting_takes_it_back() {
    let (app, _slot) = posts_app().await;
    let (owner, commenter, replier) = (
        fixture_user(&app).await,
        fixture_user(&app).await,
        fixture_user(&app).await,
    );
    let post = create_post(&app, &owner, "a post").await;
    let parent = comment(&app, &commenter, &post, "first!").await;
    let answer = reply(&app, &replier, &post, &parent, "second!").await;

    let to_commenter = listed_becomes(&app, &commenter, "?type=reply", 1).await;
    assert_eq!(items(&to_commenter)[0]["commentId"], answer.as_str());
    let to_owner = listed_becomes(&app, &owner, "?type=comment", 2).await;
    let ids: Vec<String> = items(&to_owner)
        .iter()
        .filter_map(|n| n["commentId"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids, vec![answer.clone(), parent.clone()], "newest first");
    unread_becomes(&app, &owner, 2).await;
    assert_eq!(unread_notifications(&app, &replier).await, 0);

    // Deleting the reply, then the comment, takes back what each notified.
    delete(
        &app,
        &format!("/api/posts/{post}/comments/{answer}"),
        Some(&replier.access_token),
    )
    .await
    .expect(200);
    assert_eq!(unread_notifications(&app, &commenter).await, 0);
    assert_eq!(items(&list(&app, &commenter, "").await).len(), 0);
    assert_eq!(unread_notifications(&app, &owner).await, 1);
    delete(
        &app,
        &format!("/api/posts/{post}/comments/{parent}"),
        Some(&commenter.access_token),
    )
    .await
    .expect(200);
    assert_eq!(unread_notifications(&app, &owner).await, 0);
    assert_eq!(items(&list(&app, &owner, "").await).len(), 0);
}

#[tokio::test]
async fn a_block_removes_what_each_notified_the_other_of() {
    let (app, _slot) = posts_app().await;
    let (author, fan, bystander) = (
        fixture_user(&app).await,
        fixture_user(&app).await,
        fixture_user(&app).await,
    );
    let post = create_post(&app, &author, "hello").await;
    like(&app, &fan, &post).await.expect(200);
    follow(&app, &fan, &author.id).await.expect(200);
    like(&app, &bystander, &post).await.expect(200);
    follow(&app, &author, &fan.id).await.expect(200);
    unread_becomes(&app, &author, 3).await;
    unread_becomes(&app, &fan, 1).await;

    app.post(
        &format!("/api/users/{}/block", fan.id),
        Some(&author.access_token),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(
        unread_notifications(&app, &author).await,
        1,
        "the bystander's like stays"
    );
    let left = list(&app, &author, "").await;
    left.expect(200);
    let actors: Vec<String> = items(&left)
        .iter()
        .filter_map(|n| n["actor"]["_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(actors, vec![bystander.id.clone()]);
    assert_eq!(unread_notifications(&app, &fan).await, 0);
    assert_eq!(items(&list(&app, &fan, "").await).len(), 0);
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/notifications", Access::Token),
    ("GET", "/api/notifications/unread-count", Access::Token),
    ("PUT", "/api/notifications/read-all", Access::Token),
    (
        "PUT",
        "/api/notifications/{notification_id}/read",
        Access::Token,
    ),
];
