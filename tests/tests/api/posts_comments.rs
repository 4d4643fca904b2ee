//! `/api/posts/:postId/comments`: comments and replies with counts, edits by the author,
//! deletes by the author or the post's owner (replies and counts follow), comment likes,
//! private accounts and blocks.

use api_tests::{TestApp, TestResponse, TestUser};
use reqwest::Method;
use serde_json::json;
use shared::db::keys;

use crate::posts_support::*;
use crate::social_support::*;

async fn comment(
    app: &TestApp,
    user: &TestUser,
    post_id: &str,
    content: &str,
    parent: Option<&str>,
) -> TestResponse {
    app.post(
        &format!("/api/posts/{post_id}/comments"),
        Some(&user.access_token),
        json!({ "content": content, "parentCommentId": parent }),
    )
    .await
}

async fn comment_id(app: &TestApp, user: &TestUser, post_id: &str, content: &str) -> String {
    add_comment(app, user, post_id, None, content).await
}

fn ids(response: &TestResponse, field: &str) -> Vec<String> {
    response.data()[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field}: {}", response.body))
        .iter()
        .map(|c| c["_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn comments_and_replies_are_listed_with_their_counts() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let post = create_post(&app, &author, "talk to me").await;

    let first = comment(&app, &fan, &post, "  Amazing photo!  ", None).await;
    first.expect(201);
    assert_eq!(
        first.ddb_calls(),
        4,
        "auth + post + visibility + 1 transaction (the budget in it)"
    );
    assert_eq!(first.data()["content"], "Amazing photo!");
    assert_eq!(first.data()["postId"], post.as_str());
    assert_eq!(first.data()["userId"]["_id"], fan.id.as_str());
    assert_eq!(first.data()["userId"]["username"], fan.username.as_str());
    assert!(first.data()["parentCommentId"].is_null());
    assert_eq!(first.data()["likes"], 0);
    let first_id = first.data()["_id"].as_str().unwrap_or_default().to_string();
    let second_id = comment_id(&app, &author, &post, "thanks").await;

    let reply = comment(&app, &author, &post, "glad you like it", Some(&first_id)).await;
    reply.expect(201);
    assert_eq!(reply.ddb_calls(), 4, "a reply costs the same");
    assert_eq!(reply.data()["parentCommentId"], first_id.as_str());
    let reply_id = reply.data()["_id"].as_str().unwrap_or_default().to_string();
    let reply2 = app
        .post(
            &format!("/api/posts/{post}/comments/{first_id}/replies"),
            Some(&fan.access_token),
            json!({ "content": "me too" }),
        )
        .await;
    reply2.expect(201);
    let reply2_id = reply2.data()["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // One level deep.
    let nested = comment(&app, &fan, &post, "deeper", Some(&reply_id)).await;
    nested.expect(400);
    assert!(nested.body["errors"]["parentCommentId"].is_string());
    comment(
        &app,
        &fan,
        &post,
        "orphan",
        Some("01JXXXXXXXXXXXXXXXXXXXXXXX"),
    )
    .await
    .expect(404);

    let list = app
        .get(
            &format!("/api/posts/{post}/comments"),
            Some(&fan.access_token),
        )
        .await;
    list.expect(200);
    assert_eq!(
        ids(&list, "comments"),
        vec![second_id.clone(), first_id.clone()]
    );
    assert_eq!(list.data()["comments"][1]["repliesCount"], 2);
    assert_eq!(list.data()["pagination"]["totalComments"], 4);
    assert!(
        list.ddb_calls() <= 5,
        "auth + post + BatchGet (access, before the list) + Query + BatchGet: {}",
        list.ddb_calls()
    );
    let replies = app
        .get(
            &format!("/api/posts/{post}/comments/{first_id}/replies"),
            None,
        )
        .await;
    replies.expect(200);
    assert_eq!(
        ids(&replies, "replies"),
        vec![reply_id.clone(), reply2_id.clone()]
    );
    assert_eq!(replies.data()["pagination"]["totalReplies"], 2);
    assert_eq!(get_post(&app, None, &post).await.data()["comments"], 4);

    // Paging by cursor.
    let page1 = app
        .get(&format!("/api/posts/{post}/comments?limit=1"), None)
        .await;
    let cursor = page1.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let page2 = app
        .get(
            &format!("/api/posts/{post}/comments?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&page1, "comments"), vec![second_id.clone()]);
    assert_eq!(ids(&page2, "comments"), vec![first_id.clone()]);

    // Deleting the top-level comment removes its replies and fixes the post's count.
    delete(
        &app,
        &format!("/api/posts/{post}/comments/{first_id}"),
        Some(&fan.access_token),
    )
    .await
    .expect(200);
    assert_eq!(get_post(&app, None, &post).await.data()["comments"], 1);
    assert!(!item_exists(&app, &keys::comment(&post, &reply_id)).await);
    assert!(!item_exists(&app, &keys::commented(&author.id, &post, &reply_id)).await);
    let list = app.get(&format!("/api/posts/{post}/comments"), None).await;
    assert_eq!(ids(&list, "comments"), vec![second_id.clone()]);
    app.get(
        &format!("/api/posts/{post}/comments/{first_id}/replies"),
        None,
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn only_authors_edit_and_authors_or_post_owners_delete() {
    let (app, _slot) = posts_app().await;
    let owner = app.signed_in_user().await;
    let writer = app.signed_in_user().await;
    let stranger = app.signed_in_user().await;
    let post = create_post(&app, &owner, "comments welcome").await;
    let id = comment_id(&app, &writer, &post, "first").await;
    let path = format!("/api/posts/{post}/comments/{id}");

    patch(
        &app,
        &path,
        Some(&stranger.access_token),
        json!({ "content": "hijack" }),
    )
    .await
    .expect(403);
    patch(
        &app,
        &path,
        Some(&owner.access_token),
        json!({ "content": "owner edit" }),
    )
    .await
    .expect(403);
    patch(&app, &path, None, json!({ "content": "anon" }))
        .await
        .expect(401);
    patch(
        &app,
        &path,
        Some(&writer.access_token),
        json!({ "content": "" }),
    )
    .await
    .expect(400);
    patch(
        &app,
        &path,
        Some(&writer.access_token),
        json!({ "content": "z".repeat(2201) }),
    )
    .await
    .expect(400);
    let token = writer.access_token.as_str();
    not_json(&app, Method::PATCH, &path, token)
        .await
        .expect(415);
    let comments = format!("/api/posts/{post}/comments");
    not_json(&app, Method::POST, &comments, token)
        .await
        .expect(415);
    not_json(&app, Method::POST, &format!("{path}/replies"), token)
        .await
        .expect(415);
    let edited = patch(
        &app,
        &path,
        Some(&writer.access_token),
        json!({ "content": "edited" }),
    )
    .await;
    edited.expect(200);
    assert_eq!(edited.data()["content"], "edited");
    delete(&app, &path, Some(&stranger.access_token))
        .await
        .expect(403);
    delete(&app, &path, None).await.expect(401);
    // The post's owner may delete someone else's comment.
    delete(&app, &path, Some(&owner.access_token))
        .await
        .expect(200);
    delete(&app, &path, Some(&owner.access_token))
        .await
        .expect(404);
    assert_eq!(get_post(&app, None, &post).await.data()["comments"], 0);

    comment(&app, &writer, &post, "", None).await.expect(400);
    comment(&app, &writer, &post, &"c".repeat(2201), None)
        .await
        .expect(400);
    comment(&app, &writer, "01JXXXXXXXXXXXXXXXXXXXXXXX", "nope", None)
        .await
        .expect(404);
    app.post(
        &format!("/api/posts/{post}/comments"),
        None,
        json!({ "content": "anon" }),
    )
    .await
    .expect(401);
    app.get("/api/posts/01JXXXXXXXXXXXXXXXXXXXXXXX/comments", None)
        .await
        .expect(404);
}

#[tokio::test]
async fn comment_likes_are_idempotent_and_exact() {
    let (app, _slot) = posts_app().await;
    let owner = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let post = create_post(&app, &owner, "like the comments").await;
    let id = comment_id(&app, &owner, &post, "like this").await;
    let path = format!("/api/posts/{post}/comments/{id}/like");
    for _ in 0..3 {
        let liked = app
            .request(Method::PUT, &path, Some(&fan.access_token), None)
            .await;
        liked.expect(200);
        assert_eq!(liked.data()["_id"], id.as_str());
        assert_eq!(liked.data()["likes"], 1);
    }
    app.request(Method::PUT, &path, Some(&owner.access_token), None)
        .await
        .expect(200);
    let list = app
        .get(
            &format!("/api/posts/{post}/comments"),
            Some(&fan.access_token),
        )
        .await;
    assert_eq!(list.data()["comments"][0]["likes"], 2);
    assert_eq!(list.data()["comments"][0]["isLiked"], true);
    let off = delete(&app, &path, Some(&fan.access_token)).await;
    off.expect(200);
    assert_eq!(off.data()["likes"], 1);
    delete(&app, &path, Some(&fan.access_token))
        .await
        .expect(200);
    app.post(&path, None, json!({})).await.expect(401);
    let unknown = format!("/api/posts/{post}/comments/01JXXXXXXXXXXXXXXXXXXXXXXX/like");
    app.request(Method::PUT, &unknown, Some(&fan.access_token), None)
        .await
        .expect(404);
    delete(&app, &unknown, Some(&fan.access_token))
        .await
        .expect(404);
    // Deleting the post takes the comment and its likes along.
    delete(
        &app,
        &format!("/api/posts/{post}"),
        Some(&owner.access_token),
    )
    .await
    .expect(200);
    assert!(!item_exists(&app, &keys::comment(&post, &id)).await);
    assert!(!item_exists(&app, &keys::comment_like(&post, &id, &owner.id)).await);
    assert!(!item_exists(&app, &keys::commented(&owner.id, &post, &id)).await);
}

#[tokio::test]
async fn private_and_blocked_posts_hide_their_comments() {
    let (app, _slot) = posts_app().await;
    let owner = app.signed_in_user().await;
    let stranger = app.signed_in_user().await;
    make_private(&app, &owner).await;
    let post = create_post(&app, &owner, "private").await;
    let own = comment_id(&app, &owner, &post, "my own").await;
    app.get(
        &format!("/api/posts/{post}/comments"),
        Some(&stranger.access_token),
    )
    .await
    .expect(403);
    app.get(&format!("/api/posts/{post}/comments"), None)
        .await
        .expect(403);
    comment(&app, &stranger, &post, "let me in", None)
        .await
        .expect(403);
    let token = Some(stranger.access_token.as_str());
    let replies = format!("/api/posts/{post}/comments/{own}/replies");
    app.get(&replies, token).await.expect(403);
    app.post(&replies, token, json!({ "content": "let me in" }))
        .await
        .expect(403);
    let comment_like = format!("/api/posts/{post}/comments/{own}/like");
    app.post(&comment_like, token, json!({})).await.expect(403);
    delete(&app, &comment_like, token).await.expect(403);

    let public = app.signed_in_user().await;
    let open_post = create_post(&app, &public, "open").await;
    let id = comment_id(&app, &stranger, &open_post, "hello").await;
    app.post(
        &format!("/api/users/{}/block", stranger.id),
        Some(&public.access_token),
        json!({}),
    )
    .await
    .expect(200);
    app.get(
        &format!("/api/posts/{open_post}/comments"),
        Some(&stranger.access_token),
    )
    .await
    .expect(404);
    comment(&app, &stranger, &open_post, "again", None)
        .await
        .expect(404);
    app.post(
        &format!("/api/posts/{open_post}/comments/{id}/like"),
        Some(&stranger.access_token),
        json!({}),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn deleting_an_account_removes_its_posts_comments_and_likes() {
    let (app, _slot) = posts_app().await;
    let leaving = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let own_post = create_post(&app, &leaving, "mine #leaving").await;
    let stored = app
        .state
        .db
        .get_post(&own_post)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("stored"));
    let their_post = create_post(&app, &other, "theirs").await;
    let their_comment = comment_id(&app, &other, &their_post, "by the other").await;
    like(&app, &leaving, &their_post).await.expect(200);
    app.post(
        &format!("/api/posts/{their_post}/comments/{their_comment}/like"),
        Some(&leaving.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let my_comment = comment_id(&app, &leaving, &their_post, "by the leaver").await;
    comment(&app, &leaving, &their_post, "a reply", Some(&their_comment))
        .await
        .expect(201);
    comment_id(&app, &other, &own_post, "on the leaver's post").await;
    let before = get_post(&app, None, &their_post).await;
    assert_eq!(before.data()["likes"], 1);
    assert_eq!(before.data()["comments"], 3);

    delete_with(
        &app,
        "/api/users/profile",
        Some(&leaving.access_token),
        json!({ "password": leaving.password }),
    )
    .await
    .expect(200);

    get_post(&app, None, &own_post).await.expect(404);
    assert!(!item_exists(&app, &keys::post(&own_post)).await);
    assert!(!item_exists(&app, &keys::hashtag_entry("leaving", &own_post)).await);
    assert!(!object_exists(&app, &stored.media_key).await);
    let after = get_post(&app, None, &their_post).await;
    after.expect(200);
    assert_eq!(after.data()["likes"], 0);
    assert_eq!(after.data()["comments"], 1);
    assert!(!item_exists(&app, &keys::comment(&their_post, &my_comment)).await);
    assert!(!item_exists(&app, &keys::post_like(&their_post, &leaving.id)).await);
    let list = app
        .get(&format!("/api/posts/{their_post}/comments"), None)
        .await;
    assert_eq!(ids(&list, "comments"), vec![their_comment.clone()]);
    assert_eq!(list.data()["comments"][0]["likes"], 0);
    assert_eq!(list.data()["comments"][0]["repliesCount"], 0);
}

pub const ROUTES: &[Route] = &[
    (
        "PUT",
        "/api/posts/{post_id}/comments/{comment_id}/like",
        Access::Token,
    ),
    ("GET", "/api/posts/{post_id}/comments", Access::Optional),
    ("POST", "/api/posts/{post_id}/comments", Access::Token),
    (
        "PATCH",
        "/api/posts/{post_id}/comments/{comment_id}",
        Access::Token,
    ),
    (
        "DELETE",
        "/api/posts/{post_id}/comments/{comment_id}",
        Access::Token,
    ),
    (
        "GET",
        "/api/posts/{post_id}/comments/{comment_id}/replies",
        Access::Optional,
    ),
    (
        "POST",
        "/api/posts/{post_id}/comments/{comment_id}/replies",
        Access::Token,
    ),
    (
        "POST",
        "/api/posts/{post_id}/comments/{comment_id}/like",
        Access::Token,
    ),
    (
        "DELETE",
        "/api/posts/{post_id}/comments/{comment_id}/like",
        Access::Token,
    ),
];

#[tokio::test]
async fn every_route_needs_a_valid_token_or_none() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}

#[tokio::test]
async fn comment_lists_refuse_bad_paging() {
    let (app, _slot) = posts_app().await;
    let owner = app.signed_in_user().await;
    let post = create_post(&app, &owner, "paged").await;
    let id = comment_id(&app, &owner, &post, "parent").await;
    let paths = [
        format!("/api/posts/{post}/comments"),
        format!("/api/posts/{post}/comments/{id}/replies"),
    ];
    assert_bad_paging_gets_400(&app, Some(&owner.access_token), &paths).await;
}
