//! `/api/posts`: creation from real media (multipart and presigned uploads), reading with the
//! viewer's flags, owner-only edits, deletion cascades, likes and saves with exact counts,
//! user post lists and stats, private accounts and blocks.

use api_tests::{TestApp, TestUser};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use shared::db::keys;

use crate::posts_support::*;
use crate::social_support::*;

async fn upload_ticket(app: &TestApp, user: &TestUser, content_type: &str, size: usize) -> Value {
    let response = app
        .post(
            "/api/uploads",
            Some(&user.access_token),
            json!({ "purpose": "post", "contentType": content_type, "size": size }),
        )
        .await;
    response.expect(201);
    response.data().clone()
}

async fn put_upload(app: &TestApp, ticket: &Value, bytes: Vec<u8>) {
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
async fn a_real_jpeg_becomes_a_post_with_its_author_tags_and_mentions() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let created = multipart_post(
        &app,
        Some(&author.access_token),
        Some((JPEG.to_vec(), "photo.jpg")),
        "Sunset at the #Beach with @Friend.One #beach #golden_hour",
    )
    .await;
    created.expect(201);
    assert!(
        created.ddb_calls() <= 4,
        "auth + the post budget + one transaction, and the day index entry once a day per \
         process (the @mention is resolved by the table's stream): {}",
        created.ddb_calls()
    );
    let post = created.data();
    assert_eq!(post["mediaType"], "image");
    assert!(post["video"].is_null());
    assert_eq!(post["likes"], 0);
    assert_eq!(post["comments"], 0);
    assert_eq!(post["isLiked"], false);
    assert_eq!(post["hashtags"], json!(["beach", "golden_hour"]));
    assert_eq!(post["mentions"], json!(["friend.one"]));
    assert_eq!(post["user"]["_id"], author.id.as_str());
    assert_eq!(post["user"]["username"], author.username.as_str());
    assert!(post["user"]["fullName"].is_string());
    let image = post["image"].as_str().unwrap_or_default().to_string();
    assert_eq!(fetch_bytes(&app, &image).await, JPEG);
    assert_eq!(posts_count(&app, &author).await, 1);

    let id = post["_id"].as_str().unwrap_or_default();
    let anonymous = get_post(&app, None, id).await;
    anonymous.expect(200);
    assert_eq!(anonymous.ddb_calls(), 2, "GetItem + one BatchGetItem");
    assert_eq!(anonymous.data()["caption"], post["caption"]);
    assert_eq!(anonymous.data()["user"]["_id"], author.id.as_str());
    let viewer = app.signed_in_user().await;
    let seen = get_post(&app, Some(&viewer), id).await;
    seen.expect(200);
    assert_eq!(seen.ddb_calls(), 3, "auth + GetItem + one BatchGetItem");
    assert_eq!(seen.data()["isLiked"], false);
    assert_eq!(seen.data()["isSaved"], false);
}

#[tokio::test]
async fn videos_come_as_a_small_mp4_or_through_a_presigned_upload() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let direct = multipart_post(
        &app,
        Some(&author.access_token),
        Some((mp4(), "clip.bin")),
        "a clip",
    )
    .await;
    direct.expect(201);
    assert_eq!(direct.data()["mediaType"], "video");
    assert!(direct.data()["image"].is_null());
    let video = direct.data()["video"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fetch_bytes(&app, &video).await, mp4());

    let ticket = upload_ticket(&app, &author, "video/mp4", mp4().len()).await;
    put_upload(&app, &ticket, mp4()).await;
    let key = ticket["key"].as_str().unwrap_or_default();
    let uploaded = app
        .post(
            "/api/posts",
            Some(&author.access_token),
            json!({ "caption": "uploaded #clip", "mediaKey": key }),
        )
        .await;
    uploaded.expect(201);
    assert_eq!(uploaded.data()["mediaType"], "video");
    assert_eq!(uploaded.data()["hashtags"], json!(["clip"]));
    // A key is claimed once.
    app.post(
        "/api/posts",
        Some(&author.access_token),
        json!({ "caption": "again", "mediaKey": key }),
    )
    .await
    .expect(400);
    // Someone else's upload key.
    let other = app.signed_in_user().await;
    let ticket = upload_ticket(&app, &author, "image/jpeg", JPEG.len()).await;
    put_upload(&app, &ticket, JPEG.to_vec()).await;
    app.post(
        "/api/posts",
        Some(&other.access_token),
        json!({ "caption": "not mine", "mediaKey": ticket["key"] }),
    )
    .await
    .expect(403);
    // An upload whose bytes are not media.
    let ticket = upload_ticket(&app, &author, "image/jpeg", 20).await;
    put_upload(&app, &ticket, b"just some plain text".to_vec()).await;
    app.post(
        "/api/posts",
        Some(&author.access_token),
        json!({ "caption": "text", "mediaKey": ticket["key"] }),
    )
    .await
    .expect(415);
    assert_eq!(posts_count(&app, &author).await, 2);
}

#[tokio::test]
async fn bad_creations_are_refused_with_their_status() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let token = Some(author.access_token.as_str());
    let text = multipart_post(
        &app,
        token,
        Some((b"hello, this is text".to_vec(), "photo.jpg")),
        "",
    )
    .await;
    text.expect(415);
    multipart_post(&app, None, Some((JPEG.to_vec(), "a.jpg")), "")
        .await
        .expect(401);
    multipart_post(
        &app,
        Some("not-a-token"),
        Some((JPEG.to_vec(), "a.jpg")),
        "",
    )
    .await
    .expect(401);
    let missing = multipart_post(&app, token, None, "no file").await;
    missing.expect(400);
    assert!(
        missing.body["errors"]["file"].is_string(),
        "{}",
        missing.body
    );
    let long = "x".repeat(2201);
    let too_long = multipart_post(&app, token, Some((JPEG.to_vec(), "a.jpg")), &long).await;
    too_long.expect(400);
    assert!(too_long.body["errors"]["caption"].is_string());
    let mut big = JPEG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    multipart_post(&app, token, Some((big, "big.jpg")), "")
        .await
        .expect(413);
    app.post("/api/posts", token, json!({ "caption": "no media" }))
        .await
        .expect(400);
    app.post(
        "/api/posts",
        token,
        json!({ "caption": "bad key", "mediaKey": "somewhere/else" }),
    )
    .await
    .expect(400);
    let plain = app
        .send(
            app.client
                .post(app.url("/api/posts"))
                .bearer_auth(&author.access_token)
                .header("content-type", "text/plain")
                .body("caption"),
        )
        .await;
    plain.expect(415);
    // The raised limit is for files: a JSON body keeps the default 1 MB.
    let huge_json = app
        .send(
            app.client
                .post(app.url("/api/posts"))
                .bearer_auth(&author.access_token)
                .header("content-type", "application/json")
                .body(format!(r#"{{"caption":"{}"}}"#, "x".repeat(1_100_000))),
        )
        .await;
    huge_json.expect(413);
    assert_eq!(posts_count(&app, &author).await, 0);
    get_post(&app, None, "01JXXXXXXXXXXXXXXXXXXXXXXX")
        .await
        .expect(404);
    get_post(&app, None, "not-an-id").await.expect(404);
}

#[tokio::test]
async fn only_the_owner_edits_and_only_the_owner_or_an_admin_deletes() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let stranger = app.signed_in_user().await;
    let id = create_post(&app, &author, "first #one").await;
    let path = format!("/api/posts/{id}");

    patch(
        &app,
        &path,
        Some(&stranger.access_token),
        json!({ "caption": "mine" }),
    )
    .await
    .expect(403);
    patch(&app, &path, None, json!({ "caption": "anon" }))
        .await
        .expect(401);
    delete(&app, &path, Some(&stranger.access_token))
        .await
        .expect(403);
    delete(&app, &path, None).await.expect(401);
    patch(&app, &path, Some(&author.access_token), json!({}))
        .await
        .expect(400);
    patch(
        &app,
        &path,
        Some(&author.access_token),
        json!({ "caption": "y".repeat(2201) }),
    )
    .await
    .expect(400);
    not_json(&app, Method::PATCH, &path, &author.access_token)
        .await
        .expect(415);

    let edited = patch(
        &app,
        &path,
        Some(&author.access_token),
        json!({ "caption": "second #two @someone" }),
    )
    .await;
    edited.expect(200);
    assert_eq!(edited.data()["caption"], "second #two @someone");
    assert_eq!(edited.data()["hashtags"], json!(["two"]));
    assert_eq!(edited.data()["mentions"], json!(["someone"]));
    assert!(!item_exists(&app, &keys::hashtag_entry("one", &id)).await);
    assert!(item_exists(&app, &keys::hashtag_entry("two", &id)).await);
    let read = get_post(&app, Some(&stranger), &id).await;
    assert_eq!(read.data()["caption"], "second #two @someone");

    patch(
        &app,
        "/api/posts/01JXXXXXXXXXXXXXXXXXXXXXXX",
        Some(&author.access_token),
        json!({ "caption": "x" }),
    )
    .await
    .expect(404);
    delete(
        &app,
        "/api/posts/01JXXXXXXXXXXXXXXXXXXXXXXX",
        Some(&author.access_token),
    )
    .await
    .expect(404);
    delete(&app, &path, Some(&author.access_token))
        .await
        .expect(200);
    get_post(&app, None, &id).await.expect(404);
    delete(&app, &path, Some(&author.access_token))
        .await
        .expect(404);
}

#[tokio::test]
async fn deleting_a_post_removes_its_likes_saves_entries_and_media() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let id = create_post(&app, &author, "gone soon #cascade").await;
    let created = get_post(&app, None, &id).await;
    let image = created.data()["image"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    like(&app, &fan, &id).await.expect(200);
    app.post(
        &format!("/api/posts/{id}/save"),
        Some(&fan.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let stored = app
        .state
        .db
        .get_post(&id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("post stored"));
    assert!(object_exists(&app, &stored.media_key).await);
    let day = shared::db::posts::day_of(&id);
    let related = [
        keys::post(&id),
        keys::post_like(&id, &fan.id),
        keys::post_save(&id, &fan.id),
        keys::hashtag_entry("cascade", &id),
        keys::feed_entry(&day, &id),
        keys::post_of_type(&author.id, "image", &id),
    ];
    for key in &related {
        assert!(item_exists(&app, key).await, "{key:?} exists before");
    }
    assert_eq!(posts_count(&app, &author).await, 1);

    delete(
        &app,
        &format!("/api/posts/{id}"),
        Some(&author.access_token),
    )
    .await
    .expect(200);
    for key in &related {
        assert!(!item_exists(&app, key).await, "{key:?} is gone");
    }
    assert!(!object_exists(&app, &stored.media_key).await);
    assert!(app
        .client
        .get(&image)
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true));
    assert_eq!(posts_count(&app, &author).await, 0);
    let saved = app
        .get(
            &format!("/api/posts/user/{}?filter=saved", fan.id),
            Some(&fan.access_token),
        )
        .await;
    saved.expect(200);
    assert!(post_ids(&saved).is_empty());
}

#[tokio::test]
async fn fifty_concurrent_likes_by_fifty_users_count_exactly_fifty() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let id = create_post(&app, &author, "like me").await;
    let fans = many_users(&app, 50).await;
    let responses = join_all(fans.iter().map(|fan| like(&app, fan, &id))).await;
    for response in &responses {
        response.expect(200);
        assert_eq!(response.data()["_id"], id.as_str());
        let likes = response.data()["likes"].as_i64().unwrap_or(-1);
        assert!((1..=50).contains(&likes), "{likes}");
    }
    let read = get_post(&app, None, &id).await;
    assert_eq!(read.data()["likes"], 50);
    // Repeats change nothing.
    for fan in fans.iter().take(3) {
        let again = like(&app, fan, &id).await;
        again.expect(200);
        assert_eq!(again.data()["likes"], 50);
    }
    let seen = get_post(&app, Some(&fans[0]), &id).await;
    assert_eq!(seen.data()["isLiked"], true);
    assert_eq!(seen.data()["likes"], 50);
}

#[tokio::test]
async fn likes_are_idempotent_and_exact() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let id = create_post(&app, &author, "once").await;
    let first = like(&app, &fan, &id).await;
    first.expect(200);
    assert_eq!(first.data()["likes"], 1);
    assert_eq!(first.data()["isLiked"], true);
    assert_eq!(
        first.ddb_calls(),
        4,
        "auth + post + relation + transaction; the count is the pre-read's + 1 (no read-back)"
    );
    for _ in 0..3 {
        let again = like(&app, &fan, &id).await;
        again.expect(200);
        assert_eq!(again.data()["likes"], 1);
    }
    like(&app, &author, &id).await.expect(200);
    assert_eq!(get_post(&app, None, &id).await.data()["likes"], 2);
    let off = unlike(&app, &fan, &id).await;
    off.expect(200);
    assert_eq!(off.data()["likes"], 1);
    assert_eq!(off.ddb_calls(), 4, "auth + post + relation + transaction");
    let saved = app
        .post(
            &format!("/api/posts/{id}/save"),
            Some(&fan.access_token),
            json!({}),
        )
        .await;
    saved.expect(200);
    assert_eq!(saved.data()["isSaved"], true);
    assert_eq!(saved.ddb_calls(), 4, "auth + post + relation + transaction");
    assert_eq!(off.data()["isLiked"], false);
    let off_again = unlike(&app, &fan, &id).await;
    off_again.expect(200);
    assert_eq!(off_again.data()["likes"], 1);
    let unknown = "01JXXXXXXXXXXXXXXXXXXXXXXX";
    like(&app, &fan, unknown).await.expect(404);
    unlike(&app, &fan, unknown).await.expect(404);
    let token = Some(fan.access_token.as_str());
    let save_path = format!("/api/posts/{unknown}/save");
    app.post(&save_path, token, json!({})).await.expect(404);
    delete(&app, &save_path, token).await.expect(404);
    app.post(&format!("/api/posts/{id}/like"), None, json!({}))
        .await
        .expect(401);
    delete(&app, &format!("/api/posts/{id}/like"), None)
        .await
        .expect(401);
}

#[tokio::test]
async fn saves_are_idempotent_and_listed_for_their_owner_only() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let first = create_post(&app, &author, "one").await;
    let second = create_post(&app, &author, "two").await;
    let save_path = |id: &str| format!("/api/posts/{id}/save");
    for id in [&first, &second, &second] {
        let saved = app
            .post(&save_path(id), Some(&fan.access_token), json!({}))
            .await;
        saved.expect(200);
        assert_eq!(saved.data()["isSaved"], true);
        assert_eq!(saved.data()["saves"], 1);
    }
    let list = app
        .get(
            &format!("/api/posts/user/{}?filter=saved", fan.id),
            Some(&fan.access_token),
        )
        .await;
    list.expect(200);
    assert_eq!(post_ids(&list), vec![second.clone(), first.clone()]);
    assert!(list.data()["posts"][0]["isSaved"]
        .as_bool()
        .unwrap_or(false));
    assert!(
        list.ddb_calls() <= 4,
        "auth + profile + Query + BatchGet: {}",
        list.ddb_calls()
    );
    app.get(
        &format!("/api/posts/user/{}?filter=saved", fan.id),
        Some(&author.access_token),
    )
    .await
    .expect(403);
    app.get(&format!("/api/posts/user/{}?filter=saved", fan.id), None)
        .await
        .expect(403);
    let seen = get_post(&app, Some(&fan), &first).await;
    assert_eq!(seen.data()["isSaved"], true);

    let unsaved = delete(&app, &save_path(&first), Some(&fan.access_token)).await;
    unsaved.expect(200);
    assert_eq!(unsaved.data()["saves"], 0);
    delete(&app, &save_path(&first), Some(&fan.access_token))
        .await
        .expect(200);
    let list = app
        .get(
            &format!("/api/posts/user/{}?filter=saved", fan.id),
            Some(&fan.access_token),
        )
        .await;
    assert_eq!(post_ids(&list), vec![second.clone()]);
    app.post(&save_path(&first), None, json!({}))
        .await
        .expect(401);
}

#[tokio::test]
async fn user_posts_filter_by_media_type_page_and_count() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let mut images = Vec::new();
    for i in 0..3 {
        images.push(create_post(&app, &author, &format!("image {i}")).await);
    }
    let video = multipart_post(
        &app,
        Some(&author.access_token),
        Some((mp4(), "v.mp4")),
        "video",
    )
    .await;
    video.expect(201);
    let video_id = video.data()["_id"].as_str().unwrap_or_default().to_string();
    like(&app, &fan, &images[0]).await.expect(200);
    like(&app, &fan, &video_id).await.expect(200);

    let all = app
        .get(&format!("/api/posts/user/{}", author.id), None)
        .await;
    all.expect(200);
    assert_eq!(
        post_ids(&all),
        vec![
            video_id.clone(),
            images[2].clone(),
            images[1].clone(),
            images[0].clone()
        ]
    );
    assert_eq!(all.data()["pagination"]["totalPosts"], 4);
    assert_eq!(
        all.ddb_calls(),
        3,
        "profile BatchGet + Query + hydration BatchGet"
    );
    let only_images = app
        .get(&format!("/api/posts/user/{}?filter=image", author.id), None)
        .await;
    assert_eq!(
        post_ids(&only_images),
        vec![images[2].clone(), images[1].clone(), images[0].clone()]
    );
    let only_videos = app
        .get(
            &format!("/api/posts/user/{}?filter=video", author.id),
            Some(&fan.access_token),
        )
        .await;
    assert_eq!(post_ids(&only_videos), vec![video_id.clone()]);
    assert_eq!(only_videos.data()["posts"][0]["isLiked"], true);
    app.get(&format!("/api/posts/user/{}?filter=reels", author.id), None)
        .await
        .expect(400);

    // Pages: offset and cursor give the same sequence with no duplicates.
    let first = app
        .get(&format!("/api/posts/user/{}?limit=2", author.id), None)
        .await;
    assert_eq!(post_ids(&first).len(), 2);
    assert_eq!(first.data()["pagination"]["hasMore"], true);
    let cursor = first.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let next = app
        .get(
            &format!("/api/posts/user/{}?limit=2&cursor={cursor}", author.id),
            None,
        )
        .await;
    let by_page = app
        .get(
            &format!("/api/posts/user/{}?limit=2&page=2", author.id),
            None,
        )
        .await;
    assert_eq!(post_ids(&next), post_ids(&by_page));
    let mut seen = post_ids(&first);
    seen.extend(post_ids(&next));
    assert_eq!(seen, post_ids(&all));
    assert_eq!(next.data()["pagination"]["hasMore"], false);

    let stats = app
        .get(&format!("/api/posts/user/{}/stats", author.id), None)
        .await;
    stats.expect(200);
    assert_eq!(
        stats.data().clone(),
        json!({ "totalPosts": 4, "totalLikes": 2, "totalComments": 0, "totalVideos": 1, "totalImages": 3 })
    );
    app.get("/api/posts/user/01JXXXXXXXXXXXXXXXXXXXXXXX", None)
        .await
        .expect(404);
    app.get("/api/posts/user/01JXXXXXXXXXXXXXXXXXXXXXXX/stats", None)
        .await
        .expect(404);
}

#[tokio::test]
async fn private_accounts_show_posts_to_followers_only() {
    let (app, _slot) = posts_app().await;
    let owner = app.signed_in_user().await;
    let stranger = app.signed_in_user().await;
    let follower = app.signed_in_user().await;
    make_private(&app, &owner).await;
    let id = create_post(&app, &owner, "private #hidden").await;
    get_post(&app, None, &id).await.expect(403);
    get_post(&app, Some(&stranger), &id).await.expect(403);
    like(&app, &stranger, &id).await.expect(403);
    unlike(&app, &stranger, &id).await.expect(403);
    let save_path = format!("/api/posts/{id}/save");
    let token = Some(stranger.access_token.as_str());
    app.post(&save_path, token, json!({})).await.expect(403);
    delete(&app, &save_path, token).await.expect(403);
    app.get(
        &format!("/api/posts/user/{}", owner.id),
        Some(&stranger.access_token),
    )
    .await
    .expect(403);
    get_post(&app, Some(&owner), &id).await.expect(200);

    follow(&app, &follower, &owner.id).await.expect(200);
    app.post(
        &format!("/api/follow/requests/{}/accept", follower.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(200);
    get_post(&app, Some(&follower), &id).await.expect(200);
    like(&app, &follower, &id).await.expect(200);
    let list = app
        .get(
            &format!("/api/posts/user/{}", owner.id),
            Some(&follower.access_token),
        )
        .await;
    list.expect(200);
    assert_eq!(post_ids(&list), vec![id.clone()]);
}

#[tokio::test]
async fn blocks_hide_posts_both_ways() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let blocked = app.signed_in_user().await;
    let id = create_post(&app, &author, "not for you").await;
    app.post(
        &format!("/api/users/{}/block", blocked.id),
        Some(&author.access_token),
        json!({}),
    )
    .await
    .expect(200);
    get_post(&app, Some(&blocked), &id).await.expect(404);
    like(&app, &blocked, &id).await.expect(404);
    unlike(&app, &blocked, &id).await.expect(404);
    let save_path = format!("/api/posts/{id}/save");
    let token = Some(blocked.access_token.as_str());
    app.post(&save_path, token, json!({})).await.expect(404);
    delete(&app, &save_path, token).await.expect(404);
    app.get(
        &format!("/api/posts/user/{}", author.id),
        Some(&blocked.access_token),
    )
    .await
    .expect(404);
    // The blocker no longer sees the blocked user's posts either.
    let theirs = create_post(&app, &blocked, "mine").await;
    get_post(&app, Some(&author), &theirs).await.expect(403);
    // Others still do.
    get_post(&app, None, &id).await.expect(200);
}

pub const ROUTES: &[Route] = &[
    ("POST", "/api/posts", Access::Token),
    ("GET", "/api/posts/{post_id}", Access::Optional),
    ("PATCH", "/api/posts/{post_id}", Access::Token),
    ("DELETE", "/api/posts/{post_id}", Access::Token),
    ("POST", "/api/posts/{post_id}/like", Access::Token),
    ("PUT", "/api/posts/{post_id}/like", Access::Token),
    ("DELETE", "/api/posts/{post_id}/like", Access::Token),
    ("POST", "/api/posts/{post_id}/save", Access::Token),
    ("DELETE", "/api/posts/{post_id}/save", Access::Token),
];

#[tokio::test]
async fn every_route_needs_a_valid_token_or_none() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}
