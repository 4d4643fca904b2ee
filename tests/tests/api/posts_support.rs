//! Helpers for the post, feed and comment tests: real media bytes and post creation.

pub use api_tests::JPEG;
use api_tests::{TestApp, TestResponse, TestUser};
use serde_json::{json, Value};

use crate::social_support::*;

/// A small MP4: an `ftyp` box (isom brand) followed by an empty `mdat` box.
pub fn mp4() -> Vec<u8> {
    let mut bytes = vec![0x00, 0x00, 0x00, 0x18];
    bytes.extend_from_slice(b"ftypisom");
    bytes.extend_from_slice(&[0x00, 0x00, 0x02, 0x00]);
    bytes.extend_from_slice(b"isommp41");
    bytes.extend_from_slice(&[0x00, 0x00, 0x00, 0x08]);
    bytes.extend_from_slice(b"mdat");
    bytes
}

/// A multipart POST of a caption and, when given, a file in the part `part_name`: how posts
/// and stories are created from a file.
pub async fn multipart_create(
    app: &TestApp,
    path: &str,
    part_name: &str,
    token: Option<&str>,
    file: Option<(Vec<u8>, &str)>,
    caption: &str,
) -> TestResponse {
    let mut form = reqwest::multipart::Form::new().text("caption", caption.to_string());
    if let Some((bytes, file_name)) = file {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str("application/octet-stream")
            .unwrap_or_else(|e| panic!("{e}"));
        form = form.part(part_name.to_string(), part);
    }
    let mut request = app.client.post(app.url(path)).multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    app.send(request).await
}

/// `POST /api/posts` as multipart with a `file` part (when given) and a caption.
pub async fn multipart_post(
    app: &TestApp,
    token: Option<&str>,
    file: Option<(Vec<u8>, &str)>,
    caption: &str,
) -> TestResponse {
    multipart_create(app, "/api/posts", "file", token, file, caption).await
}

/// Comments on a post, or replies to `parent`, and answers the new comment's id.
pub async fn add_comment(
    app: &TestApp,
    user: &TestUser,
    post: &str,
    parent: Option<&str>,
    content: &str,
) -> String {
    let path = match parent {
        Some(parent) => format!("/api/posts/{post}/comments/{parent}/replies"),
        None => format!("/api/posts/{post}/comments"),
    };
    let response = app
        .post(
            &path,
            Some(&user.access_token),
            json!({ "content": content }),
        )
        .await;
    response.expect(201);
    response.data()["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Creates an image post and answers its id.
pub async fn create_post(app: &TestApp, user: &TestUser, caption: &str) -> String {
    let response = multipart_post(
        app,
        Some(&user.access_token),
        Some((JPEG.to_vec(), "photo.jpg")),
        caption,
    )
    .await;
    response.expect(201);
    response.data()["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no post id: {}", response.body))
        .to_string()
}

/// `PUT .../like`: likes, idempotently (`POST` toggles).
pub async fn like(app: &TestApp, user: &TestUser, post_id: &str) -> TestResponse {
    app.request(
        reqwest::Method::PUT,
        &format!("/api/posts/{post_id}/like"),
        Some(&user.access_token),
        None,
    )
    .await
}

pub async fn unlike(app: &TestApp, user: &TestUser, post_id: &str) -> TestResponse {
    delete(
        app,
        &format!("/api/posts/{post_id}/like"),
        Some(&user.access_token),
    )
    .await
}

pub async fn get_post(app: &TestApp, viewer: Option<&TestUser>, post_id: &str) -> TestResponse {
    app.get(
        &format!("/api/posts/{post_id}"),
        viewer.map(|v| v.access_token.as_str()),
    )
    .await
}

/// The ids of a list answer's `posts`, in order.
pub fn post_ids(response: &TestResponse) -> Vec<String> {
    response.data()["posts"]
        .as_array()
        .unwrap_or_else(|| panic!("no posts: {}", response.body))
        .iter()
        .map(|p: &Value| p["_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The number of posts the owner's profile counts.
pub async fn posts_count(app: &TestApp, user: &TestUser) -> i64 {
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    own.expect(200);
    own.data()["postsCount"].as_i64().unwrap_or(-1)
}

/// Whether an item with this key exists in the table (read back after cascades).
pub async fn item_exists(app: &TestApp, key: &shared::db::keys::Key) -> bool {
    let found = app
        .state
        .db
        .get_items(std::slice::from_ref(key), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    !found.is_empty()
}

/// The post tests are write-heavy and moto is one Python process: at most this many run at
/// once, so the shared-table suites running beside them (auth, follow) keep their timing.
const POST_TEST_SLOTS: usize = 2;
static RUNNING: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static FREED: std::sync::Condvar = std::sync::Condvar::new();

/// A running post test's slot, given back when the test ends (or panics).
pub struct Slot;

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running = running.saturating_sub(1);
        FREED.notify_one();
    }
}

/// Waits for a slot (each test has its own thread), then the API against a table of its own.
pub async fn posts_app() -> (TestApp, Slot) {
    posts_app_with(|_| {}).await
}

/// `posts_app` with a configuration changed by `change`.
pub async fn posts_app_with(change: impl FnOnce(&mut shared::Config)) -> (TestApp, Slot) {
    let slot = {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= POST_TEST_SLOTS {
            running = FREED.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Slot
    };
    (spawn_isolated_app_with(change).await, slot)
}

/// How long a test waits for the stream to carry a write into timelines (locally tens of ms).
pub const STREAM_WAIT: std::time::Duration = std::time::Duration::from_secs(15);
const STREAM_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// Polls `user`'s timeline (its first 100 posts) until `done` holds for its post ids, within
/// `STREAM_WAIT`; answers that page.
async fn timeline_until(
    app: &TestApp,
    user: &TestUser,
    wanted: &str,
    done: impl Fn(&[String]) -> bool,
) -> TestResponse {
    let deadline = std::time::Instant::now() + STREAM_WAIT;
    loop {
        let page = app
            .get("/api/posts/timeline?limit=100", Some(&user.access_token))
            .await;
        page.expect(200);
        if done(&post_ids(&page)) {
            return page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the timeline listed {:?}; wanted {wanted} within {STREAM_WAIT:?}",
            post_ids(&page)
        );
        tokio::time::sleep(STREAM_POLL).await;
    }
}

/// Waits until `user`'s timeline lists exactly `expected`, newest first; answers that page.
pub async fn timeline_becomes(app: &TestApp, user: &TestUser, expected: &[String]) -> TestResponse {
    timeline_until(app, user, &format!("{expected:?}"), |ids| ids == expected).await
}

/// Waits until `post_id` is in `user`'s timeline.
pub async fn timeline_shows(app: &TestApp, user: &TestUser, post_id: &str) {
    timeline_until(app, user, post_id, |ids| ids.iter().any(|id| id == post_id)).await;
}

/// The post ids of the entries stored in `owner`'s timeline partition (only `author`'s when
/// given), newest first.
pub async fn stored_entries(app: &TestApp, owner: &TestUser, author: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = app
        .state
        .db
        .timeline_entry_keys(&owner.id, author)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|key| key.sk)
        .collect();
    ids.sort_by(|a, b| b.cmp(a));
    ids
}

/// Waits (bounded) until `stored_entries` answers `expected`.
pub async fn stored_entries_become(
    app: &TestApp,
    owner: &TestUser,
    author: Option<&str>,
    expected: &[String],
) {
    let deadline = std::time::Instant::now() + STREAM_WAIT;
    loop {
        let stored = stored_entries(app, owner, author).await;
        if stored == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}'s timeline stores {stored:?}, expected {expected:?} within {STREAM_WAIT:?}",
            owner.username
        );
        tokio::time::sleep(STREAM_POLL).await;
    }
}

/// `me`'s suggestions once `user`'s card shows `images` recent images (they come from the
/// table's stream, so a little after the posts): the list and that card. Bounded wait.
pub async fn suggestions_once_images(
    app: &TestApp,
    me: &TestUser,
    user: &str,
    images: usize,
) -> (TestResponse, Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let response = app
            .get("/api/users/suggested?limit=30", Some(&me.access_token))
            .await;
        response.expect(200);
        let card = response
            .data()
            .as_array()
            .and_then(|list| list.iter().find(|u| u["_id"] == user).cloned());
        if let Some(card) = card {
            if card["recentImages"].as_array().map(Vec::len) == Some(images) {
                return (response, card);
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{user} did not show {images} recent images: {}",
            response.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
