//! `/api/stories`: creation (multipart `story` or an upload key), the 24 h expiry enforced on
//! read while the item still exists, views counted once per viewer under concurrency, the tray
//! (unseen first), private accounts and blocks, owner-only viewers and deletes, delete all,
//! the cap on active stories, and account deletion.

use api_tests::{TestApp, TestResponse, TestUser, PASSWORD};
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{json, Value};
use shared::db::keys;

use crate::posts_support::*;
use crate::social_support::*;
use crate::uploads::{put, ticket};

/// `POST /api/stories` as multipart with a `story` part (when given) and a caption.
async fn multipart_story(
    app: &TestApp,
    token: Option<&str>,
    file: Option<(Vec<u8>, &str)>,
    caption: &str,
) -> TestResponse {
    multipart_create(app, "/api/stories", "story", token, file, caption).await
}

/// Creates an image story and answers its id.
pub async fn create_story(app: &TestApp, user: &TestUser) -> String {
    let response = multipart_story(
        app,
        Some(&user.access_token),
        Some((JPEG.to_vec(), "story.jpg")),
        "",
    )
    .await;
    response.expect(201);
    id_of(response.data())
}

fn id_of(value: &Value) -> String {
    value["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no _id: {value}"))
        .to_string()
}

async fn view(app: &TestApp, user: &TestUser, story_id: &str) -> TestResponse {
    app.request(
        Method::PATCH,
        &format!("/api/stories/{story_id}/view"),
        Some(&user.access_token),
        None,
    )
    .await
}

async fn user_stories(app: &TestApp, viewer: Option<&TestUser>, owner: &str) -> TestResponse {
    app.get(
        &format!("/api/stories/user/{owner}"),
        viewer.map(|v| v.access_token.as_str()),
    )
    .await
}

fn story_ids(response: &TestResponse) -> Vec<String> {
    response.data()["stories"]
        .as_array()
        .unwrap_or_else(|| panic!("no stories: {}", response.body))
        .iter()
        .map(id_of)
        .collect()
}

/// `(userId, hasUnseen)` of each tray entry, in order.
async fn tray(app: &TestApp, user: &TestUser) -> Vec<(String, bool)> {
    let response = app.get("/api/stories/feed", Some(&user.access_token)).await;
    response.expect(200);
    response.data()["tray"]
        .as_array()
        .unwrap_or_else(|| panic!("no tray: {}", response.body))
        .iter()
        .map(|e| {
            (
                e["user"]["_id"].as_str().unwrap_or_default().to_string(),
                e["hasUnseen"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

/// Moves the story's `expiresAt` into the past, leaving the item (and its TTL) in place: what a
/// story looks like between its expiry and DynamoDB's late TTL deletion.
async fn expire(app: &TestApp, story_id: &str) {
    let past = shared::time::now_epoch() - 5;
    app.state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .set_key(Some(keys::story(story_id).to_item()))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("expiring a story: {e:?}"));
}

async fn media_key_of(app: &TestApp, story_id: &str) -> String {
    app.state
        .db
        .get_story(story_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("story {story_id} is not stored"))
        .media_key
}

async fn block(app: &TestApp, blocker: &TestUser, blocked: &str) {
    app.post(
        &format!("/api/users/{blocked}/block"),
        Some(&blocker.access_token),
        json!({}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn stories_are_created_from_a_multipart_file_or_an_upload_key() {
    let (app, _slot) = posts_app().await;
    let user = fixture_user(&app).await;

    let response = multipart_story(
        &app,
        Some(&user.access_token),
        Some((JPEG.to_vec(), "story.jpg")),
        "good morning",
    )
    .await;
    response.expect(201);
    assert_eq!(
        response.ddb_calls(),
        5,
        "auth + story budget + the slots GetItem + the Query seeding them (first story) + \
         1 transaction"
    );
    let story = response.data();
    assert_eq!(story["mediaType"], "image");
    assert_eq!(story["caption"], "good morning");
    assert_eq!(story["viewCount"], 0);
    assert_eq!(story["user"]["_id"], user.id.as_str());
    assert!(story["expiresAt"].is_string() && story["createdAt"].is_string());
    let id = id_of(story);
    let stored = app
        .state
        .db
        .get_items(&[keys::story(&id)], true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let item = stored
        .values()
        .next()
        .unwrap_or_else(|| panic!("not stored"));
    let number = |name: &str| -> i64 {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing: {item:?}"))
    };
    let created = ulid::Ulid::from_string(&id)
        .map(|u| (u.timestamp_ms() / 1000) as i64)
        .unwrap_or_default();
    assert_eq!(
        number("expiresAt"),
        created + 24 * 3600,
        "24 h after creation"
    );
    assert_eq!(number("ttl"), number("expiresAt"), "TTL attribute set");
    let image = story["image"].as_str().unwrap_or_default();
    assert_eq!(fetch_bytes(&app, image).await, JPEG);
    let key = media_key_of(&app, &id_of(story)).await;
    assert!(
        key.starts_with(&format!("media/story/{}/", user.id)),
        "{key}"
    );

    // A video through a presigned upload.
    let video = mp4();
    let upload = ticket(&app, &user, "story", "video/mp4", video.len()).await;
    put(&app, &upload, video.clone()).await;
    let upload_key = upload["key"].as_str().unwrap_or_default();
    let response = app
        .post(
            "/api/stories",
            Some(&user.access_token),
            json!({ "mediaKey": upload_key, "caption": "clip" }),
        )
        .await;
    response.expect(201);
    assert_eq!(response.data()["mediaType"], "video");
    assert!(response.data()["video"].is_string());
    let key = media_key_of(&app, &id_of(response.data())).await;
    assert!(key.starts_with("media/story/"), "{key}");
    assert!(
        !object_exists(&app, upload_key).await,
        "the upload was claimed"
    );

    let own = user_stories(&app, Some(&user), &user.id).await;
    own.expect(200);
    assert_eq!(own.data()["stories"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn creating_a_story_refuses_bad_requests() {
    let (app, _slot) = posts_app().await;
    let user = fixture_user(&app).await;
    let token = Some(user.access_token.as_str());

    multipart_story(&app, None, Some((JPEG.to_vec(), "a.jpg")), "")
        .await
        .expect(401);
    app.post("/api/stories", None, json!({ "mediaKey": "x" }))
        .await
        .expect(401);
    let text = multipart_story(&app, token, Some((b"just some text".to_vec(), "a.jpg")), "").await;
    text.expect(415);
    let mut big = JPEG.to_vec();
    big.resize(10 * 1024 * 1024 + 10, 0);
    multipart_story(&app, token, Some((big, "big.jpg")), "")
        .await
        .expect(413);
    let missing = multipart_story(&app, token, None, "no file").await;
    missing.expect(400);
    assert!(missing.body["errors"]["story"].is_string());
    let no_key = app
        .post("/api/stories", token, json!({ "caption": "x" }))
        .await;
    no_key.expect(400);
    assert!(no_key.body["errors"]["mediaKey"].is_string());
    app.post("/api/stories", token, json!({ "mediaKey": "not/a/key" }))
        .await
        .expect(400);
    let long = "a".repeat(2201);
    multipart_story(&app, token, Some((JPEG.to_vec(), "a.jpg")), &long)
        .await
        .expect(400);
    // Another user's upload key.
    let other = fixture_user(&app).await;
    let upload = ticket(&app, &other, "story", "image/png", PNG.len()).await;
    put(&app, &upload, PNG.to_vec()).await;
    app.post(
        "/api/stories",
        token,
        json!({ "mediaKey": upload["key"].as_str().unwrap_or_default() }),
    )
    .await
    .expect(403);
    // Nothing was stored by the refused requests.
    let own = user_stories(&app, Some(&user), &user.id).await;
    assert_eq!(story_ids(&own), Vec::<String>::new());
}

#[tokio::test]
async fn an_expired_story_is_gone_from_every_read_while_its_item_still_exists() {
    let (app, _slot) = posts_app().await;
    let owner = fixture_user(&app).await;
    let viewer = fixture_user(&app).await;
    follow(&app, &viewer, &owner.id).await.expect(200);
    let old = create_story(&app, &owner).await;
    let fresh = create_story(&app, &owner).await;
    expire(&app, &old).await;
    assert!(
        item_exists(&app, &keys::story(&old)).await,
        "TTL has not run"
    );

    let list = user_stories(&app, Some(&viewer), &owner.id).await;
    list.expect(200);
    assert_eq!(story_ids(&list), vec![fresh.clone()]);
    assert_eq!(
        story_ids(&user_stories(&app, Some(&owner), &owner.id).await),
        vec![fresh.clone()]
    );
    app.get(&format!("/api/stories/{old}"), Some(&viewer.access_token))
        .await
        .expect(404);
    app.get(&format!("/api/stories/{old}"), Some(&owner.access_token))
        .await
        .expect(404);
    view(&app, &viewer, &old).await.expect(404);
    app.get(
        &format!("/api/stories/{old}/viewers"),
        Some(&owner.access_token),
    )
    .await
    .expect(404);
    let feed = app
        .get("/api/stories/feed", Some(&viewer.access_token))
        .await;
    feed.expect(200);
    assert_eq!(feed.data()["tray"][0]["storiesCount"], 1);
    assert_eq!(feed.data()["tray"][0]["latestStoryId"], fresh.as_str());

    expire(&app, &fresh).await;
    assert!(story_ids(&user_stories(&app, Some(&viewer), &owner.id).await).is_empty());
    assert!(tray(&app, &viewer).await.is_empty());
    view(&app, &viewer, &fresh).await.expect(404);
}

#[tokio::test]
async fn each_viewer_counts_once_even_when_views_race() {
    let (app, _slot) = posts_app().await;
    let owner = fixture_user(&app).await;
    let viewers = many_users(&app, 10).await;
    let story = create_story(&app, &owner).await;

    // The owner's own views never count.
    let own = view(&app, &owner, &story).await;
    own.expect(200);
    assert_eq!(own.data()["viewCount"], 0);
    assert_eq!(own.ddb_calls(), 2, "auth + GetItem");

    let requests = viewers
        .iter()
        .chain(viewers.iter())
        .map(|viewer| view(&app, viewer, &story));
    let answers = futures_util::future::join_all(requests).await;
    for answer in &answers {
        answer.expect(200);
        let count = answer.data()["viewCount"].as_i64().unwrap_or(-1);
        assert!((1..=10).contains(&count), "{}", answer.body);
    }
    let single = app
        .get(&format!("/api/stories/{story}"), Some(&owner.access_token))
        .await;
    single.expect(200);
    assert_eq!(single.data()["viewCount"], 10);
    assert_eq!(single.ddb_calls(), 3, "auth + GetItem + BatchGet");

    // A repeat view writes nothing.
    let again = view(&app, &viewers[0], &story).await;
    again.expect(200);
    assert_eq!(again.data()["viewCount"], 10);
    assert_eq!(
        again.ddb_calls(),
        4,
        "auth + GetItem + BatchGet + exact count"
    );
    let newcomer = fixture_user(&app).await;
    let first = view(&app, &newcomer, &story).await;
    first.expect(200);
    assert_eq!(first.data()["viewCount"], 11);
    assert_eq!(
        first.ddb_calls(),
        5,
        "auth + GetItem + BatchGet + transaction + exact count"
    );
    let seen = app
        .get(
            &format!("/api/stories/{story}"),
            Some(&newcomer.access_token),
        )
        .await;
    assert_eq!(seen.data()["isViewed"], true);

    // The owner's viewer list: newest first, paginated.
    let path = format!("/api/stories/{story}/viewers?limit=4");
    let page = app.get(&path, Some(&owner.access_token)).await;
    page.expect(200);
    assert_eq!(
        page.ddb_calls(),
        4,
        "auth + GetItem story (owner checked first) + Query + BatchGet"
    );
    let listed = page.data()["viewers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0]["_id"], newcomer.id.as_str());
    assert!(listed[0]["viewedAt"].is_string());
    assert_eq!(page.data()["pagination"]["totalViewers"], 11);
    assert_eq!(page.data()["pagination"]["hasMore"], true);
    let mut everyone = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/stories/{story}/viewers?limit=4&cursor={c}"),
            None => format!("/api/stories/{story}/viewers?limit=4"),
        };
        let page = app.get(&url, Some(&owner.access_token)).await;
        page.expect(200);
        for v in page.data()["viewers"].as_array().into_iter().flatten() {
            everyone.push(id_of(v));
        }
        match page.data()["pagination"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    everyone.sort();
    everyone.dedup();
    assert_eq!(everyone.len(), 11);
}

#[tokio::test]
async fn the_tray_shows_followed_accounts_unseen_first_then_newest() {
    let (app, _slot) = posts_app().await;
    let me = fixture_user(&app).await;
    let first = fixture_user(&app).await;
    let second = fixture_user(&app).await;
    let third = fixture_user(&app).await;
    let quiet = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    for user in [&first, &second, &third, &quiet] {
        follow(&app, &me, &user.id).await.expect(200);
    }
    assert!(tray(&app, &me).await.is_empty());
    create_story(&app, &first).await;
    let seen = create_story(&app, &second).await;
    create_story(&app, &third).await;
    create_story(&app, &stranger).await;
    view(&app, &me, &seen).await.expect(200);

    let response = app.get("/api/stories/feed", Some(&me.access_token)).await;
    response.expect(200);
    assert_eq!(
        response.ddb_calls(),
        1 + 1 + 4 + 1,
        "auth + follow edges + one Query per followed account + BatchGet"
    );
    assert_eq!(
        tray(&app, &me).await,
        vec![
            (third.id.clone(), true),
            (first.id.clone(), true),
            (second.id.clone(), false),
        ]
    );
    // A new story makes the account unseen again, and newest.
    create_story(&app, &second).await;
    let order: Vec<String> = tray(&app, &me)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        order,
        vec![second.id.clone(), third.id.clone(), first.id.clone()]
    );
    app.get("/api/stories/feed", None).await.expect(401);
    // Live clients call GET /api/stories for the same tray.
    let alias = app.get("/api/stories", Some(&me.access_token)).await;
    alias.expect(200);
    let feed = app.get("/api/stories/feed", Some(&me.access_token)).await;
    assert_eq!(alias.data(), feed.data());
    app.get("/api/stories", None).await.expect(401);
}

#[tokio::test]
async fn private_accounts_show_stories_to_followers_and_blocks_hide_them() {
    let (app, _slot) = posts_app().await;
    let private = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    make_private(&app, &private).await;
    let story = create_story(&app, &private).await;
    follow(&app, &follower, &private.id).await.expect(200);
    app.post(
        &format!("/api/follow/requests/{}/accept", follower.id),
        Some(&private.access_token),
        json!({}),
    )
    .await
    .expect(200);

    user_stories(&app, Some(&stranger), &private.id)
        .await
        .expect(403);
    user_stories(&app, None, &private.id).await.expect(403);
    app.get(
        &format!("/api/stories/{story}"),
        Some(&stranger.access_token),
    )
    .await
    .expect(403);
    view(&app, &stranger, &story).await.expect(403);
    let allowed = user_stories(&app, Some(&follower), &private.id).await;
    allowed.expect(200);
    assert_eq!(allowed.ddb_calls(), 3, "auth + Query + BatchGet");
    assert_eq!(story_ids(&allowed), vec![story.clone()]);
    assert_eq!(allowed.data()["stories"][0]["isViewed"], false);
    view(&app, &follower, &story).await.expect(200);
    let after = user_stories(&app, Some(&follower), &private.id).await;
    assert_eq!(after.data()["stories"][0]["isViewed"], true);
    assert_eq!(after.data()["stories"][0]["viewCount"], 1);

    // Blocks hide stories either way, as if the account did not exist.
    let public = fixture_user(&app).await;
    let blocked = fixture_user(&app).await;
    let blocker = fixture_user(&app).await;
    let public_story = create_story(&app, &public).await;
    user_stories(&app, None, &public.id).await.expect(200);
    app.get(&format!("/api/stories/{public_story}"), None)
        .await
        .expect(200);
    block(&app, &public, &blocked.id).await;
    block(&app, &blocker, &public.id).await;
    for viewer in [&blocked, &blocker] {
        user_stories(&app, Some(viewer), &public.id)
            .await
            .expect(404);
        app.get(
            &format!("/api/stories/{public_story}"),
            Some(&viewer.access_token),
        )
        .await
        .expect(404);
        view(&app, viewer, &public_story).await.expect(404);
    }
    user_stories(&app, None, &ulid::Ulid::new().to_string())
        .await
        .expect(404);
}

#[tokio::test]
async fn only_the_owner_sees_viewers_and_deletes_and_can_delete_all() {
    let (app, _slot) = posts_app().await;
    let owner = fixture_user(&app).await;
    let other = fixture_user(&app).await;
    let story = create_story(&app, &owner).await;
    let key = media_key_of(&app, &story).await;
    view(&app, &other, &story).await.expect(200);

    let viewers_path = format!("/api/stories/{story}/viewers");
    app.get(&viewers_path, Some(&other.access_token))
        .await
        .expect(403);
    app.get(&viewers_path, None).await.expect(401);
    let path = format!("/api/stories/{story}");
    delete(&app, &path, Some(&other.access_token))
        .await
        .expect(403);
    delete(&app, &path, None).await.expect(401);
    let unknown = ulid::Ulid::new().to_string();
    delete(
        &app,
        &format!("/api/stories/{unknown}"),
        Some(&owner.access_token),
    )
    .await
    .expect(404);
    delete(&app, "/api/stories/not-a-story", Some(&owner.access_token))
        .await
        .expect(404);
    app.get(&format!("/api/stories/{unknown}"), None)
        .await
        .expect(404);
    app.get(
        &format!("/api/stories/{unknown}/viewers"),
        Some(&owner.access_token),
    )
    .await
    .expect(404);
    view(&app, &other, &unknown).await.expect(404);

    let deleted = delete(&app, &path, Some(&owner.access_token)).await;
    deleted.expect(200);
    assert_eq!(
        deleted.ddb_calls(),
        4,
        "auth + Query + BatchWriteItem + the UpdateItem freeing its slot"
    );
    app.get(&path, Some(&owner.access_token)).await.expect(404);
    assert!(!object_exists(&app, &key).await, "media deleted");
    assert!(!item_exists(&app, &keys::story_view(&story, &other.id)).await);
    delete(&app, &path, Some(&owner.access_token))
        .await
        .expect(404);

    // Delete all: every story of mine (an expired leftover too), nobody else's.
    let mut keys_of_mine = Vec::new();
    for _ in 0..3 {
        let id = create_story(&app, &owner).await;
        keys_of_mine.push(media_key_of(&app, &id).await);
    }
    expire(&app, &story_id_of_first(&app, &owner).await).await;
    let theirs = create_story(&app, &other).await;
    let all = delete(&app, "/api/stories", Some(&owner.access_token)).await;
    all.expect(200);
    assert_eq!(all.data()["deletedCount"], 3);
    assert!(story_ids(&user_stories(&app, Some(&owner), &owner.id).await).is_empty());
    for key in &keys_of_mine {
        assert!(!object_exists(&app, key).await, "{key} deleted");
    }
    let left = app
        .state
        .db
        .all_stories_of(&owner.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        story_ids(&user_stories(&app, None, &other.id).await),
        vec![theirs]
    );
    delete(&app, "/api/stories", None).await.expect(401);
}

async fn story_id_of_first(app: &TestApp, owner: &TestUser) -> String {
    let list = user_stories(app, Some(owner), &owner.id).await;
    story_ids(&list)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no stories: {}", list.body))
}

#[tokio::test]
async fn active_stories_are_capped() {
    let (app, _slot) = posts_app().await;
    let user = fixture_user(&app).await;
    let now = shared::time::now_epoch();
    for _ in 0..shared::stories::MAX_ACTIVE_STORIES {
        let record = shared::db::stories::StoryRecord {
            story_id: ulid::Ulid::new().to_string(),
            author_id: user.id.clone(),
            caption: String::new(),
            media_key: "media/story/none.jpg".into(),
            media_type: shared::db::posts::PostMediaType::Image,
            view_count: 0,
            created_at: shared::time::now_rfc3339(),
            expires_at: now + 3600,
        };
        app.state
            .db
            .create_story(&record)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let refused = multipart_story(
        &app,
        Some(&user.access_token),
        Some((JPEG.to_vec(), "one-too-many.jpg")),
        "",
    )
    .await;
    refused.expect(429);
    assert!(
        refused.message().contains("100 active stories"),
        "{}",
        refused.body
    );
    assert!(refused.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn deleting_an_account_removes_its_stories_and_their_media() {
    let (app, _slot) = posts_app().await;
    let leaving = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    let story = create_story(&app, &leaving).await;
    let key = media_key_of(&app, &story).await;
    view(&app, &friend, &story).await.expect(200);
    let friends_story = create_story(&app, &friend).await;
    view(&app, &leaving, &friends_story).await.expect(200);

    delete_with(
        &app,
        "/api/users/profile",
        Some(&leaving.access_token),
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(200);

    assert!(
        !item_exists(&app, &keys::story(&story)).await,
        "story removed"
    );
    assert!(!item_exists(&app, &keys::story_view(&story, &friend.id)).await);
    assert!(!object_exists(&app, &key).await, "media removed");
    app.get(&format!("/api/stories/{story}"), None)
        .await
        .expect(404);
    user_stories(&app, None, &leaving.id).await.expect(404);
    // The friend's story stays, with the view it got.
    let theirs = app
        .get(
            &format!("/api/stories/{friends_story}"),
            Some(&friend.access_token),
        )
        .await;
    theirs.expect(200);
    assert_eq!(theirs.data()["viewCount"], 1);
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/stories", Access::Token),
    ("POST", "/api/stories", Access::Token),
    ("DELETE", "/api/stories", Access::Token),
    ("GET", "/api/stories/feed", Access::Token),
    ("GET", "/api/stories/user/{user_id}", Access::Optional),
    ("GET", "/api/stories/{story_id}", Access::Optional),
    ("DELETE", "/api/stories/{story_id}", Access::Token),
    ("PATCH", "/api/stories/{story_id}/view", Access::Token),
    ("GET", "/api/stories/{story_id}/viewers", Access::Token),
];

#[tokio::test]
async fn every_route_needs_a_valid_token_or_none() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}

#[tokio::test]
async fn viewers_refuse_bad_paging() {
    let (app, _slot) = posts_app().await;
    let owner = fixture_user(&app).await;
    let story = create_story(&app, &owner).await;
    let paths = [format!("/api/stories/{story}/viewers")];
    assert_bad_paging_gets_400(&app, Some(&owner.access_token), &paths).await;
}
