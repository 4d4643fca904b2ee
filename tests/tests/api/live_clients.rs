//! What clients written against the live service read and call (`shared/CLIENTS.md`), field by
//! field: populated `userId`, `likedBy`/`savedBy`, flat paging facts, toggling likes that
//! answer the whole post or comment, the aliases they call, and envelopes for every refusal.

use api_tests::{TestApp, TestResponse, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

use crate::messages::{conversation_between, sent};
use crate::posts_support::*;
use crate::social_support::*;

/// Every post object a live client renders: the author populated as `userId` (and `user`),
/// and `likedBy`/`savedBy` arrays that answer `.includes(myId)` truthfully for the viewer.
fn assert_live_post(post: &Value, viewer: Option<&str>) {
    assert!(post["_id"].is_string(), "{post}");
    assert!(
        post["userId"]["_id"].is_string(),
        "userId populated: {post}"
    );
    assert_eq!(post["userId"], post["user"], "userId is the author: {post}");
    for field in ["username", "fullName"] {
        assert!(post["userId"][field].is_string(), "userId.{field}: {post}");
    }
    assert!(post["userId"].get("profilePicture").is_some(), "{post}");
    let liked_by = post["likedBy"]
        .as_array()
        .unwrap_or_else(|| panic!("likedBy: {post}"));
    let saved_by = post["savedBy"]
        .as_array()
        .unwrap_or_else(|| panic!("savedBy: {post}"));
    assert!(liked_by.len() <= 20, "{post}");
    assert!(
        liked_by.len() as i64 <= post["likes"].as_i64().unwrap_or(-1),
        "{post}"
    );
    if let Some(me) = viewer {
        assert_eq!(
            liked_by.iter().any(|id| id == me),
            post["isLiked"] == true,
            "likedBy.includes(me) == isLiked: {post}"
        );
        assert_eq!(
            saved_by.iter().any(|id| id == me),
            post["isSaved"] == true,
            "savedBy.includes(me) == isSaved: {post}"
        );
    }
    // Saves are private: nobody but the viewer is ever listed.
    assert!(saved_by
        .iter()
        .all(|id| Some(id.as_str().unwrap_or_default()) == viewer));
}

/// The paging facts live clients read flat under `data`, equal to the `pagination` block.
fn assert_flat_paging(response: &TestResponse, total_field: &str, what: &str) {
    response.expect(200);
    let data = response.data();
    let pagination = &data["pagination"];
    assert!(data["hasMore"].is_boolean(), "{what}: {data}");
    assert_eq!(data["hasMore"], pagination["hasMore"], "{what}: {data}");
    assert_eq!(data["total"], pagination[total_field], "{what}: {data}");
    assert!(data["limit"].is_u64(), "{what}: {data}");
    for key in ["offset", "page"] {
        assert!(data.get(key).is_some(), "{what}: no {key}: {data}");
    }
}

#[tokio::test]
async fn feed_posts_carry_the_populated_author_liked_by_and_saved_by() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let viewer = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let liked = create_post(&app, &author, "liked one").await;
    let saved = create_post(&app, &author, "saved one").await;
    like(&app, &other, &liked).await.expect(200);
    like(&app, &viewer, &liked).await.expect(200);
    app.post(
        &format!("/api/posts/{saved}/save"),
        Some(&viewer.access_token),
        json!({}),
    )
    .await
    .expect(200);

    let feed = app
        .get(
            "/api/posts/feed?limit=10&offset=0",
            Some(&viewer.access_token),
        )
        .await;
    assert_flat_paging(&feed, "totalPosts", "feed");
    assert_eq!(feed.data()["offset"], 0);
    assert_eq!(feed.data()["limit"], 10);
    let posts = feed.data()["posts"].as_array().cloned().unwrap_or_default();
    assert!(!posts.is_empty(), "{}", feed.body);
    for post in &posts {
        assert_live_post(post, Some(&viewer.id));
    }
    let find = |id: &str| -> Value {
        posts
            .iter()
            .find(|p| p["_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in the feed"))
    };
    let liked_post = find(&liked);
    assert_eq!(liked_post["userId"]["_id"], author.id.as_str());
    assert_eq!(liked_post["likes"], 2);
    assert_eq!(
        liked_post["likedBy"][0],
        viewer.id.as_str(),
        "the viewer first"
    );
    assert_eq!(liked_post["likedBy"][1], other.id.as_str());
    assert_eq!(find(&saved)["savedBy"], json!([viewer.id]));

    // Someone else sees the likers but not the viewer's save.
    let detail = get_post(&app, Some(&other), &saved).await;
    detail.expect(200);
    assert_live_post(detail.data(), Some(&other.id));
    assert_eq!(detail.data()["savedBy"], json!([]));
    let anonymous = get_post(&app, None, &liked).await;
    assert_live_post(anonymous.data(), None);
    assert_eq!(
        anonymous.data()["likedBy"].as_array().map(Vec::len),
        Some(2)
    );

    // The same shape on every other post answer: timeline, explore, hashtag, a user's posts,
    // create and edit.
    follow(&app, &viewer, &author.id).await.expect(200);
    let tagged = create_post(&app, &author, "tagged #livetag").await;
    timeline_shows(&app, &viewer, &tagged).await;
    for path in [
        "/api/posts/timeline".to_string(),
        "/api/posts/explore".to_string(),
        "/api/posts/hashtag/livetag".to_string(),
        format!("/api/posts/user/{}", author.id),
    ] {
        let list = app.get(&path, Some(&viewer.access_token)).await;
        assert_flat_paging(&list, "totalPosts", &path);
        let posts = list.data()["posts"].as_array().cloned().unwrap_or_default();
        assert!(!posts.is_empty(), "{path}: {}", list.body);
        posts
            .iter()
            .for_each(|p| assert_live_post(p, Some(&viewer.id)));
    }
    let edited = patch(
        &app,
        &format!("/api/posts/{tagged}"),
        Some(&author.access_token),
        json!({ "caption": "edited #livetag" }),
    )
    .await;
    edited.expect(200);
    assert_live_post(edited.data(), Some(&author.id));
    let created = multipart_post(
        &app,
        Some(&author.access_token),
        Some((PNG.to_vec(), "fresh.png")),
        "fresh",
    )
    .await;
    created.expect(201);
    assert_live_post(created.data(), Some(&author.id));
}

#[tokio::test]
async fn post_like_toggles_and_put_delete_are_idempotent() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let post = create_post(&app, &author, "toggle me").await;
    let path = format!("/api/posts/{post}/like");
    let token = Some(fan.access_token.as_str());

    // POST toggles and answers the whole post.
    let on = app.post(&path, token, json!({})).await;
    on.expect(200);
    assert_live_post(on.data(), Some(&fan.id));
    assert_eq!(on.data()["_id"], post.as_str());
    assert_eq!(on.data()["caption"], "toggle me");
    assert_eq!(on.data()["isLiked"], true);
    assert_eq!(on.data()["likes"], 1);
    assert_eq!(on.data()["likedBy"], json!([fan.id]));
    let off = app.post(&path, token, json!({})).await;
    off.expect(200);
    assert_eq!(off.data()["isLiked"], false);
    assert_eq!(
        off.data()["likes"],
        0,
        "a second POST returns to the original count"
    );
    assert_eq!(off.data()["likedBy"], json!([]));

    // PUT sets, DELETE clears, each counted once however often it is retried.
    for _ in 0..2 {
        let put = app.request(Method::PUT, &path, token, None).await;
        put.expect(200);
        assert_eq!(put.data()["likes"], 1);
        assert_eq!(put.data()["isLiked"], true);
    }
    assert_eq!(get_post(&app, Some(&fan), &post).await.data()["likes"], 1);
    for _ in 0..2 {
        let gone = delete(&app, &path, token).await;
        gone.expect(200);
        assert_eq!(gone.data()["likes"], 0);
        assert_eq!(gone.data()["isLiked"], false);
    }

    // Saves answer the whole post too, idempotently.
    let save = format!("/api/posts/{post}/save");
    for _ in 0..2 {
        let saved = app.post(&save, token, json!({})).await;
        saved.expect(200);
        assert_live_post(saved.data(), Some(&fan.id));
        assert_eq!(saved.data()["isSaved"], true);
        assert_eq!(saved.data()["savedBy"], json!([fan.id]));
        assert_eq!(saved.data()["saves"], 1);
    }
    let unsaved = delete(&app, &save, token).await;
    unsaved.expect(200);
    assert_eq!(unsaved.data()["isSaved"], false);
    assert_eq!(unsaved.data()["savedBy"], json!([]));

    // The unhappy paths keep their statuses.
    app.post(&path, None, json!({})).await.expect(401);
    app.request(
        Method::PUT,
        "/api/posts/01JXXXXXXXXXXXXXXXXXXXXXXX/like",
        token,
        None,
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn fifty_concurrent_toggles_by_fifty_users_count_exactly_fifty() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let post = create_post(&app, &author, "popular").await;
    let fans = many_users(&app, 50).await;
    let path = format!("/api/posts/{post}/like");
    let answers = futures_util::future::join_all(
        fans.iter()
            .map(|fan| app.post(&path, Some(&fan.access_token), json!({}))),
    )
    .await;
    for answer in &answers {
        answer.expect(200);
        assert_eq!(answer.data()["isLiked"], true);
    }
    let read = get_post(&app, Some(&fans[0]), &post).await;
    assert_eq!(read.data()["likes"], 50);
    let liked_by = read.data()["likedBy"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(liked_by.len(), 20, "{}", read.body);
    assert_eq!(liked_by[0], fans[0].id.as_str());
    let ids: std::collections::HashSet<&str> = fans.iter().map(|f| f.id.as_str()).collect();
    assert!(liked_by
        .iter()
        .all(|id| ids.contains(id.as_str().unwrap_or_default())));

    // And toggled back off, all at once: zero, and nobody left in likedBy.
    futures_util::future::join_all(
        fans.iter()
            .map(|fan| app.post(&path, Some(&fan.access_token), json!({}))),
    )
    .await
    .iter()
    .for_each(|answer| {
        answer.expect(200);
    });
    let read = get_post(&app, Some(&author), &post).await;
    assert_eq!(read.data()["likes"], 0);
    assert_eq!(read.data()["likedBy"], json!([]));
}

#[tokio::test]
async fn comment_likes_toggle_and_comments_carry_liked_by_and_replies() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let post = create_post(&app, &author, "talk").await;
    let comment = add_comment(&app, &author, &post, None, "first!").await;
    let reply = add_comment(&app, &fan, &post, Some(&comment), "second").await;
    let path = format!("/api/posts/{post}/comments/{comment}/like");
    let token = Some(fan.access_token.as_str());

    let on = app.post(&path, token, json!({})).await;
    on.expect(200);
    assert_eq!(on.data()["_id"], comment.as_str());
    assert_eq!(on.data()["content"], "first!");
    assert_eq!(on.data()["userId"]["_id"], author.id.as_str());
    assert_eq!(on.data()["isLiked"], true);
    assert_eq!(on.data()["likes"], 1);
    assert_eq!(on.data()["likedBy"], json!([fan.id]));
    let off = app.post(&path, token, json!({})).await;
    off.expect(200);
    assert_eq!(off.data()["isLiked"], false);
    assert_eq!(off.data()["likes"], 0);
    assert_eq!(off.data()["likedBy"], json!([]));
    for _ in 0..2 {
        let put = app.request(Method::PUT, &path, token, None).await;
        put.expect(200);
        assert_eq!(put.data()["likes"], 1);
    }

    let list = app
        .get(&format!("/api/posts/{post}/comments?limit=5"), token)
        .await;
    assert_flat_paging(&list, "totalComments", "comments");
    let top = &list.data()["comments"][0];
    assert_eq!(top["likedBy"], json!([fan.id]));
    assert_eq!(top["isLiked"], true);
    assert!(top["replies"].is_array(), "replies is an array: {top}");
    assert_eq!(top["repliesCount"], 1);
    assert_eq!(top["userId"]["_id"], author.id.as_str());

    let replies = app
        .get(
            &format!("/api/posts/{post}/comments/{comment}/replies"),
            token,
        )
        .await;
    assert_flat_paging(&replies, "totalReplies", "replies");
    let first = &replies.data()["replies"][0];
    assert_eq!(first["_id"], reply.as_str());
    assert_eq!(first["likedBy"], json!([]));
    assert_eq!(first["userId"]["_id"], fan.id.as_str());
    let reply_like = format!("/api/posts/{post}/comments/{reply}/like");
    let liked_reply = app
        .post(&reply_like, Some(&author.access_token), json!({}))
        .await;
    liked_reply.expect(200);
    assert_eq!(liked_reply.data()["likedBy"], json!([author.id]));
}

#[tokio::test]
async fn every_list_route_has_the_flat_paging_facts() {
    let (app, _slot) = posts_app().await;
    let me = app.signed_in_user().await;
    let friend = app.signed_in_user().await;
    follow(&app, &me, &friend.id).await.expect(200);
    follow(&app, &friend, &me.id).await.expect(200);
    let post = create_post(&app, &friend, "listed").await;
    let comment = add_comment(&app, &me, &post, None, "a comment").await;
    add_comment(&app, &friend, &post, Some(&comment), "a reply").await;
    let conversation = conversation_between(&app, &me, &friend).await;
    sent(&app, &friend, &me, &conversation, "hello").await;
    let story = crate::stories::create_story(&app, &me).await;
    app.request(
        Method::PATCH,
        &format!("/api/stories/{story}/view"),
        Some(&friend.access_token),
        None,
    )
    .await
    .expect(200);

    let routes = [
        ("/api/posts/feed".to_string(), "totalPosts"),
        ("/api/posts/feed?page=1&limit=5".to_string(), "totalPosts"),
        ("/api/posts/timeline".to_string(), "totalPosts"),
        (
            "/api/posts/explore?offset=0&limit=5".to_string(),
            "totalPosts",
        ),
        (format!("/api/posts/user/{}", friend.id), "totalPosts"),
        (
            format!("/api/posts/user/{}?filter=saved", me.id),
            "totalPosts",
        ),
        (format!("/api/posts/{post}/comments"), "totalComments"),
        (
            format!("/api/posts/{post}/comments/{comment}/replies"),
            "totalReplies",
        ),
        (format!("/api/follow/{}/followers", me.id), "totalFollowers"),
        (format!("/api/follow/{}/following", me.id), "totalFollowing"),
        (format!("/api/users/{}/followers", me.id), "totalFollowers"),
        (format!("/api/users/{}/following", me.id), "totalFollowing"),
        ("/api/follow/requests".to_string(), "totalRequests"),
        ("/api/users/blocked".to_string(), "totalUsers"),
        (
            "/api/messages/conversations".to_string(),
            "totalConversations",
        ),
        (
            format!("/api/messages/conversations/{conversation}/messages"),
            "totalMessages",
        ),
        ("/api/notifications".to_string(), "totalNotifications"),
        (format!("/api/stories/{story}/viewers"), "totalViewers"),
    ];
    for (path, total) in &routes {
        let response = app.get(path, Some(&me.access_token)).await;
        assert_flat_paging(&response, total, path);
    }
    // The two prefixes serve the same lists.
    let by_follow = app
        .get(&format!("/api/follow/{}/followers", me.id), None)
        .await;
    let by_users = app
        .get(&format!("/api/users/{}/followers", me.id), None)
        .await;
    assert_eq!(by_follow.data(), by_users.data());
    assert_eq!(by_users.data()["followers"][0]["_id"], friend.id.as_str());
    // A second page of an offset list says where it is.
    let second = app
        .get("/api/posts/feed?page=2&limit=1", Some(&me.access_token))
        .await;
    assert_eq!(second.data()["page"], 2);
    assert_eq!(second.data()["offset"], 1);
}

#[tokio::test]
async fn a_conversation_is_marked_read_in_one_call_and_the_sender_hears_it() {
    let app = api_tests::spawn_app().await;
    let me = app.signed_in_user().await;
    let friend = app.signed_in_user().await;
    let conversation = conversation_between(&app, &friend, &me).await;
    let first = sent(&app, &friend, &me, &conversation, "one").await;
    let second = sent(&app, &friend, &me, &conversation, "two").await;
    let mine = sent(&app, &me, &friend, &conversation, "mine").await;
    let mut friend_socket = app.ws(&friend).await;
    assert_eq!(crate::messages::unread(&app, &me).await, 2);

    let path = format!("/api/messages/conversations/{conversation}/read");
    let read = app
        .request(Method::PUT, &path, Some(&me.access_token), None)
        .await;
    read.expect(200);
    assert_eq!(read.data()["markedCount"], 2);
    let marked: Vec<&str> = read.data()["messageIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(marked.contains(&first.as_str()) && marked.contains(&second.as_str()));
    assert!(!marked.contains(&mine.as_str()), "only messages to me");
    let receipt = friend_socket
        .expect_event("message_read", std::time::Duration::from_secs(2))
        .await;
    assert_eq!(receipt["data"]["conversationId"], conversation.as_str());
    assert_eq!(receipt["data"]["readBy"], me.id.as_str());
    assert_eq!(crate::messages::unread(&app, &me).await, 0);
    // Again: nothing left to mark.
    let again = app
        .request(Method::PUT, &path, Some(&me.access_token), None)
        .await;
    again.expect(200);
    assert_eq!(again.data()["markedCount"], 0);

    // Only participants.
    let stranger = app.signed_in_user().await;
    app.request(Method::PUT, &path, Some(&stranger.access_token), None)
        .await
        .expect(404);
    app.request(Method::PUT, &path, None, None)
        .await
        .expect(401);
}

#[tokio::test]
async fn the_auth_spellings_live_clients_use_work() {
    let app = api_tests::spawn_app().await;
    let user = unverified_user(&app).await;
    // resend-verify-email is resend-verification-email under its other name: the same answer,
    // known address or not, and the same mail budget per address.
    let ghost = format!("{}@example.com", api_tests::unique_name("ghost"));
    let other_ghost = format!("{}@example.com", api_tests::unique_name("ghost"));
    // Budgets are fixed windows (30 s for a mail burst): the sends below must share one.
    crate::hardening::fresh_window(30, 10).await;
    let resend = |path: &'static str, email: String| {
        let app = &app;
        async move { app.post(path, None, json!({ "email": email })).await }
    };
    let alias = resend("/api/auth/resend-verify-email", ghost.clone()).await;
    alias.expect(200);
    let canonical = resend("/api/auth/resend-verification-email", other_ghost.clone()).await;
    assert_eq!(alias.body, canonical.body);
    let known = resend("/api/auth/resend-verify-email", user.email.clone()).await;
    assert_eq!(known.status, canonical.status);
    assert_eq!(
        known.body, canonical.body,
        "the same answer for a known address"
    );
    // The canonical spelling spent that address's budget: the alias counts against it too.
    resend("/api/auth/resend-verify-email", other_ghost)
        .await
        .expect(429);
    let missing = app
        .post("/api/auth/resend-verify-email", None, json!({}))
        .await;
    missing.expect(400);
    assert!(missing.body["errors"]["email"].is_string());

    // reset-password with the token in the body.
    app.post(
        "/api/auth/forgot-password",
        None,
        json!({ "email": user.email }),
    )
    .await
    .expect(200);
    let token = app
        .last_mail(&user.email, "Reset")
        .await
        .field("Reset token");
    let mail = app.last_mail(&user.email, "Reset").await;
    assert!(
        mail.body
            .contains(&format!("http://app.test/reset-password/{token}")),
        "the reset mail links to the app's page: {}",
        mail.body
    );
    let mismatch = app
        .post(
            "/api/auth/reset-password",
            None,
            json!({ "token": token, "password": "Another-pass1", "confirmPassword": "different1" }),
        )
        .await;
    mismatch.expect(400);
    assert!(mismatch.body["errors"]["confirmPassword"].is_string());
    app.post(
        "/api/auth/reset-password",
        None,
        json!({ "password": "Another-pass1", "confirmPassword": "Another-pass1" }),
    )
    .await
    .expect(400);
    app.post(
        "/api/auth/reset-password",
        None,
        json!({ "token": token, "password": "Another-pass1", "confirmPassword": "Another-pass1" }),
    )
    .await
    .expect(200);
    app.login(&user.email, "Another-pass1").await.expect(200);
    app.post(
        "/api/auth/reset-password",
        None,
        json!({ "token": token, "password": "Third-pass11", "confirmPassword": "Third-pass11" }),
    )
    .await
    .expect(400);
}

/// A registered user whose email is not verified yet.
async fn unverified_user(app: &TestApp) -> TestUser {
    let username = api_tests::unique_name("live");
    let email = format!("{username}@example.com");
    let registered = app.register(&username, &email, api_tests::PASSWORD).await;
    registered.expect(201);
    TestUser {
        id: registered.data()["user"]["_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        username,
        email,
        password: api_tests::PASSWORD.to_string(),
        access_token: String::new(),
        refresh_token: String::new(),
    }
}

async fn is_verified(app: &TestApp, user_id: &str) -> bool {
    app.state
        .db
        .get_user(user_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some_and(|user| user.is_verified)
}

fn html(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

#[tokio::test]
async fn the_mail_link_pages_spend_tokens_only_on_submit() {
    let app = api_tests::spawn_app().await;
    let user = unverified_user(&app).await;
    let mail = app.last_mail(&user.email, "Verify").await;
    let token = mail.field("Verification token");
    assert!(
        mail.body
            .contains(&format!("http://app.test/verify-email/{token}")),
        "{}",
        mail.body
    );
    let page_url = app.url(&format!("/api/auth/verify-email/{token}"));

    // Opening the link (as a mail scanner would, twice) shows a page and spends nothing.
    for _ in 0..2 {
        let page = app.client.get(&page_url).send().await.expect("page");
        assert_eq!(page.status(), 200);
        assert!(html(&page));
        let csp = page
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(
            page.headers().get("referrer-policy").map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..])
        );
        let body = page.text().await.unwrap_or_default();
        assert!(body.contains("<form method=\"post\">"), "{body}");
        assert!(!body.contains("<script"), "no script: {body}");
    }
    assert!(!is_verified(&app, &user.id).await);

    // The page's form (urlencoded) gets a page back with the outcome.
    let submit = || {
        app.client
            .post(&page_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
    };
    let done = submit().await.expect("submit");
    assert_eq!(done.status(), 200);
    assert!(html(&done));
    assert!(done
        .text()
        .await
        .unwrap_or_default()
        .contains("your email is verified"));
    assert!(is_verified(&app, &user.id).await);
    let spent = submit().await.expect("submit again");
    assert_eq!(spent.status(), 400);
    assert!(html(&spent));
    assert!(spent
        .text()
        .await
        .unwrap_or_default()
        .contains("invalid, has expired, or was already used"));

    // The reset form: a mismatch re-shows the form with the reason, then a success.
    app.post(
        "/api/auth/forgot-password",
        None,
        json!({ "email": user.email }),
    )
    .await
    .expect(200);
    let token = app
        .last_mail(&user.email, "Reset")
        .await
        .field("Reset token");
    let reset_url = app.url(&format!("/api/auth/reset-password/{token}"));
    let form = app.client.get(&reset_url).send().await.expect("form");
    assert_eq!(form.status(), 200);
    assert!(form
        .text()
        .await
        .unwrap_or_default()
        .contains("name=\"confirmPassword\""));
    let post_form = |body: &'static str| {
        app.client
            .post(&reset_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let mismatch = post_form("password=New-pass-123&confirmPassword=Other-pass-123")
        .await
        .expect("mismatch");
    assert_eq!(mismatch.status(), 400);
    let text = mismatch.text().await.unwrap_or_default();
    assert!(
        text.contains("The two passwords are not the same"),
        "{text}"
    );
    assert!(text.contains("<form"), "the form again: {text}");
    let changed = post_form("password=New-pass-123&confirmPassword=New-pass-123")
        .await
        .expect("reset");
    assert_eq!(changed.status(), 200);
    assert!(changed
        .text()
        .await
        .unwrap_or_default()
        .contains("Your password has been changed"));
    app.login(&user.email, "New-pass-123").await.expect(200);
    let reused = post_form("password=New-pass-456&confirmPassword=New-pass-456")
        .await
        .expect("reuse");
    assert_eq!(reused.status(), 400);
    assert!(reused
        .text()
        .await
        .unwrap_or_default()
        .contains("was already used"));
}

#[tokio::test]
async fn framework_refusals_are_envelopes_too() {
    let app = api_tests::spawn_app().await;
    let user = app.signed_in_user().await;
    let envelope = |response: &TestResponse, status: u16| {
        response.expect(status);
        assert_eq!(response.body["success"], false, "{}", response.body);
        assert!(
            response.body["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            response.body
        );
    };
    // 405, with Allow.
    let wrong_method = app
        .client
        .request(Method::PATCH, app.url("/api/posts/feed"))
        .send()
        .await
        .expect("405");
    assert_eq!(wrong_method.status(), 405);
    let allow = wrong_method
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(allow.contains("GET"), "Allow: {allow}");
    let body: Value = wrong_method.json().await.expect("405 is JSON");
    assert_eq!(body["success"], false);
    envelope(
        &app.request(Method::PUT, "/api/auth/login", None, Some(json!({})))
            .await,
        405,
    );
    // A path parameter that is not valid UTF-8, a malformed query string, an unknown route.
    envelope(&app.get("/api/users/%FF%FE", None).await, 400);
    envelope(&app.get("/api/posts/feed?limit=1&limit=2", None).await, 400);
    envelope(&app.get("/api/nowhere", None).await, 404);
    // Bad JSON and a body over the limit.
    let bad_json = app
        .send(
            app.client
                .post(app.url("/api/auth/login"))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    envelope(&bad_json, 400);
    let huge = app
        .send(
            app.client
                .patch(app.url("/api/users/profile"))
                .bearer_auth(&user.access_token)
                .header("content-type", "application/json")
                .body(format!("{{\"bio\":\"{}\"}}", "x".repeat(2 * 1024 * 1024))),
        )
        .await;
    envelope(&huge, 413);
}

/// Fills the reset form's two fields and submits it.
async fn submit_reset_form(browser: &api_tests::browser::Browser, password: &str, confirm: &str) {
    let wait = std::time::Duration::from_secs(20);
    for (field, value) in [("#password", password), ("#confirmPassword", confirm)] {
        let input = browser.wait_for(field, wait).await;
        if let Err(err) = input.clear().await {
            panic!("clearing {field}: {err}");
        }
        if let Err(err) = input.send_keys(value).await {
            panic!("typing into {field}: {err}");
        }
    }
    let button = browser.wait_for("button[type=submit]", wait).await;
    if let Err(err) = button.click().await {
        panic!("submitting the reset form: {err}");
    }
}

/// With `PAGE_SCREENSHOTS=<dir>` set, saves what the browser shows as `<dir>/<name>.png` (how the
/// pictures in docs/screenshots were made).
async fn screenshot(browser: &api_tests::browser::Browser, name: &str) {
    let Ok(dir) = std::env::var("PAGE_SCREENSHOTS") else {
        return;
    };
    match browser.screenshot().await {
        Ok(png) => {
            let path = std::path::Path::new(&dir).join(format!("{name}.png"));
            if let Err(err) = std::fs::write(&path, png) {
                panic!("writing {}: {err}", path.display());
            }
        }
        Err(err) => panic!("screenshot {name}: {err}"),
    }
}

/// The text of the page's outcome paragraph (`.ok` or `.error`), once the page shows one.
async fn outcome(browser: &api_tests::browser::Browser, class: &str) -> String {
    browser
        .wait_for(&format!("p.{class}"), std::time::Duration::from_secs(20))
        .await
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn the_verify_and_reset_pages_work_in_headless_chromium() {
    let app = api_tests::spawn_app().await;
    let user = unverified_user(&app).await;
    let token = app
        .last_mail(&user.email, "Verify")
        .await
        .field("Verification token");
    let browser = api_tests::browser::Browser::start().await;

    // The verify link: opening it spends nothing; the button confirms.
    if let Err(err) = browser
        .goto(&app.url(&format!("/api/auth/verify-email/{token}")))
        .await
    {
        panic!("opening the verify page: {err}");
    }
    let button = browser
        .wait_for("button[type=submit]", std::time::Duration::from_secs(20))
        .await;
    assert!(
        !is_verified(&app, &user.id).await,
        "opening the page verified nothing"
    );
    screenshot(&browser, "verify-email-page").await;
    if let Err(err) = button.click().await {
        panic!("clicking the verify button: {err}");
    }
    let done = outcome(&browser, "ok").await;
    assert!(done.contains("your email is verified"), "{done}");
    screenshot(&browser, "verify-email-done").await;
    assert!(is_verified(&app, &user.id).await);
    // Back and again: the spent link says so in plain words.
    if let Err(err) = browser
        .goto(&app.url(&format!("/api/auth/verify-email/{token}")))
        .await
    {
        panic!("opening the verify page again: {err}");
    }
    let again = browser
        .wait_for("button[type=submit]", std::time::Duration::from_secs(20))
        .await;
    if let Err(err) = again.click().await {
        panic!("clicking the verify button again: {err}");
    }
    let spent = outcome(&browser, "error").await;
    assert!(spent.contains("already used"), "{spent}");
    screenshot(&browser, "verify-email-spent").await;

    // The reset form: a mismatch shows its reason with the form again, then a success.
    app.post(
        "/api/auth/forgot-password",
        None,
        json!({ "email": user.email }),
    )
    .await
    .expect(200);
    let reset = app
        .last_mail(&user.email, "Reset")
        .await
        .field("Reset token");
    if let Err(err) = browser
        .goto(&app.url(&format!("/api/auth/reset-password/{reset}")))
        .await
    {
        panic!("opening the reset page: {err}");
    }
    submit_reset_form(&browser, "Browser-pass-1", "Browser-pass-2").await;
    let mismatch = outcome(&browser, "error").await;
    assert!(mismatch.contains("not the same"), "{mismatch}");
    screenshot(&browser, "reset-password-mismatch").await;
    submit_reset_form(&browser, "Browser-pass-1", "Browser-pass-1").await;
    let changed = outcome(&browser, "ok").await;
    assert!(
        changed.contains("Your password has been changed"),
        "{changed}"
    );
    screenshot(&browser, "reset-password-done").await;
    browser.close().await;
    app.login(&user.email, "Browser-pass-1").await.expect(200);
}
