//! Helpers for the profile, follow, block, search and upload tests.

use api_tests::{TestApp, TestResponse, TestUser, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// A valid 1x1 transparent PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A minimal GIF header followed by filler: enough for the type check.
pub const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

pub async fn patch(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> TestResponse {
    app.request(Method::PATCH, path, token, Some(body)).await
}

pub async fn delete(app: &TestApp, path: &str, token: Option<&str>) -> TestResponse {
    app.request(Method::DELETE, path, token, None).await
}

pub async fn delete_with(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> TestResponse {
    app.request(Method::DELETE, path, token, Some(body)).await
}

pub async fn follow(app: &TestApp, who: &TestUser, target: &str) -> TestResponse {
    app.post(
        &format!("/api/follow/{target}/follow"),
        Some(&who.access_token),
        json!({}),
    )
    .await
}

pub async fn unfollow(app: &TestApp, who: &TestUser, target: &str) -> TestResponse {
    delete(
        app,
        &format!("/api/follow/{target}/follow"),
        Some(&who.access_token),
    )
    .await
}

pub async fn profile(app: &TestApp, viewer: Option<&TestUser>, target: &str) -> TestResponse {
    app.get(
        &format!("/api/users/{target}"),
        viewer.map(|v| v.access_token.as_str()),
    )
    .await
}

/// A user's exact counters, as the owner sees them.
pub async fn counts(app: &TestApp, user: &TestUser) -> (i64, i64) {
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    own.expect(200);
    (
        own.data()["followersCount"].as_i64().unwrap_or(-1),
        own.data()["followingCount"].as_i64().unwrap_or(-1),
    )
}

pub async fn make_private(app: &TestApp, user: &TestUser) {
    patch(
        app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "isPrivate": true }),
    )
    .await
    .expect(200);
}

/// Registers and signs in a user with the given username and full name.
pub async fn named_user(app: &TestApp, username: &str, full_name: &str) -> TestUser {
    let email = format!("{username}@example.com");
    let registered = app
        .post(
            "/api/auth/register",
            None,
            json!({
                "email": email, "username": username, "password": PASSWORD,
                "confirmPassword": PASSWORD, "fullName": full_name,
            }),
        )
        .await;
    registered.expect(201);
    let login = app.login(&email, PASSWORD).await;
    login.expect(200);
    TestUser {
        id: registered.data()["user"]["_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        username: username.to_string(),
        email,
        password: PASSWORD.to_string(),
        access_token: login.data()["accessToken"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        refresh_token: login.data()["refreshToken"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// A lower-case word of letters no other test uses (a username or name prefix).
pub fn unique_word() -> String {
    ulid::Ulid::new()
        .to_string()
        .to_lowercase()
        .chars()
        .rev()
        .take(10)
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from(b'a' + d as u8),
            None => c,
        })
        .collect()
}

/// `PATCH /api/users/profile` as multipart with one file part and text fields.
pub async fn multipart_patch(
    app: &TestApp,
    user: &TestUser,
    file: Option<(&str, Vec<u8>, &str)>,
    fields: &[(&str, &str)],
) -> TestResponse {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    if let Some((name, bytes, file_name)) = file {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str("application/octet-stream")
            .unwrap_or_else(|e| panic!("{e}"));
        form = form.part(name.to_string(), part);
    }
    app.send(
        app.client
            .patch(app.url("/api/users/profile"))
            .bearer_auth(&user.access_token)
            .multipart(form),
    )
    .await
}

/// Fetches a media URL the API returned and answers its bytes.
pub async fn fetch_bytes(app: &TestApp, url: &str) -> Vec<u8> {
    let response = app
        .client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.bytes().await.unwrap_or_default().to_vec()
}

/// Whether an object exists in the media bucket.
pub async fn object_exists(app: &TestApp, key: &str) -> bool {
    app.state
        .media
        .client
        .head_object()
        .bucket(&app.state.media.bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

/// The stored profile picture key of a user.
pub async fn picture_key(app: &TestApp, user: &TestUser) -> Option<String> {
    app.state
        .db
        .get_user(&user.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .and_then(|u| u.profile_picture_key)
}

/// One argon2 hash of `PASSWORD`, shared by every fixture user.
static PASSWORD_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// A signed-in user created through the library (the registration transaction and a session),
/// skipping the HTTP sign-up and a fresh argon2 hash each time: for tests that need many users
/// as fixtures rather than testing sign-up. They can still sign in with `PASSWORD`.
pub async fn fixture_user(app: &TestApp) -> TestUser {
    let hash = PASSWORD_HASH
        .get_or_init(|| async {
            shared::auth::password::hash(PASSWORD.to_string())
                .await
                .unwrap_or_else(|e| panic!("hash: {e}"))
        })
        .await
        .clone();
    let username = api_tests::unique_name("fx");
    let user = shared::db::users::UserRecord::new_account(
        username.clone(),
        format!("{username}@example.com"),
        "Fixture User".into(),
        hash,
        true,
    );
    match app.state.db.create_user(&user, Vec::new()).await {
        Ok(Ok(())) => {}
        other => panic!("creating a fixture user: {other:?}"),
    }
    let pair = shared::auth::accounts::open_session(&app.state, &user)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    TestUser {
        id: user.id,
        username,
        email: user.email,
        password: PASSWORD.to_string(),
        access_token: pair.access_token,
        refresh_token: pair.refresh_token,
    }
}

/// `n` fresh fixture users, created one after another (moto's transactions are not safe under
/// many concurrent writes; the tests' concurrency is in the follows themselves).
pub async fn many_users(app: &TestApp, n: usize) -> Vec<TestUser> {
    let mut users = Vec::with_capacity(n);
    for _ in 0..n {
        users.push(fixture_user(app).await);
    }
    users
}

/// The whole API against a table of its own. moto copies an entire table for every item of
/// every transaction, and is not thread-safe while doing it: a small private table keeps these
/// write-heavy tests fast, and keeps them from slowing down the rest of the suite.
pub async fn spawn_isolated_app() -> TestApp {
    spawn_isolated_app_with(|_| {}).await
}

/// `spawn_isolated_app` with a configuration changed by `change` (e.g. a raised or lowered limit).
pub async fn spawn_isolated_app_with(change: impl FnOnce(&mut shared::Config)) -> TestApp {
    let shared_config = api_tests::test_config();
    let mut config = shared_config.clone();
    change(&mut config);
    config.table_name = format!(
        "insta-test-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let sdk = shared::aws::load_sdk_config(&shared_config).await;
    let clients = shared::aws::Clients::new(&sdk, &shared_config);
    for config in [&shared_config, &config] {
        if let Err(err) =
            local::bootstrap::ensure_resources(&clients, config, &local::bootstrap::template_path())
                .await
        {
            panic!("creating test resources in moto: {err}");
        }
    }
    api_tests::spawn_app_with(config).await
}

/// How a route treats a request without an `Authorization` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// 401 without a valid token.
    Token,
    /// Serves anonymous callers; a header with a bad token is still a 401.
    Optional,
}

/// `(METHOD, path as in docs/openapi.yaml, access)`: each module lists its routes, and
/// `openapi.rs` checks that together they cover every route the document secures.
pub type Route = (&'static str, &'static str, Access);

/// An access token that was valid until its user revoked every session.
pub async fn revoked_token(app: &TestApp) -> String {
    let user = app.signed_in_user().await;
    app.post(
        "/api/auth/invalidate-all-jwt-tokens",
        Some(&user.access_token),
        json!({}),
    )
    .await
    .expect(200);
    user.access_token
}

/// `path` with every `{placeholder}` replaced by a fresh ULID.
pub fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push_str(&ulid::Ulid::new().to_string());
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    out.push_str(rest);
    out
}

/// Every route answers 401 to a garbage token and to a revoked one; `Access::Token` routes also
/// to a missing one, `Access::Optional` routes serve it (whatever they answer, it is not a 401).
pub async fn assert_bad_tokens_get_401(app: &TestApp, routes: &[Route]) {
    let revoked = revoked_token(app).await;
    for (method, template, access) in routes {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let path = concrete(template);
        let body = (method != Method::GET).then(|| json!({}));
        for token in ["garbage", "not.a.jwt", revoked.as_str()] {
            let response = app
                .request(method.clone(), &path, Some(token), body.clone())
                .await;
            assert_eq!(
                response.status.as_u16(),
                401,
                "{method} {path} with token {token:?}: {}",
                response.body
            );
            assert_eq!(response.body["success"], false, "{method} {path}");
        }
        let anonymous = app.request(method.clone(), &path, None, body).await;
        match access {
            Access::Token => {
                anonymous.expect(401);
                assert_eq!(
                    anonymous.message(),
                    "Unauthorized - Token is required",
                    "{method} {path}"
                );
            }
            Access::Optional => assert_ne!(
                anonymous.status.as_u16(),
                401,
                "{method} {path} serves anonymous callers: {}",
                anonymous.body
            ),
        }
    }
}

/// Every list route answers a named 400 to a bad `limit` and to a cursor it never issued.
pub async fn assert_bad_paging_gets_400(app: &TestApp, token: Option<&str>, paths: &[String]) {
    for path in paths {
        let sep = if path.contains('?') { '&' } else { '?' };
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=ten", "limit"),
            ("cursor=not-a-cursor", "cursor"),
        ] {
            let response = app.get(&format!("{path}{sep}{query}"), token).await;
            assert_eq!(
                response.status.as_u16(),
                400,
                "GET {path}{sep}{query}: {}",
                response.body
            );
            assert!(
                response.body["errors"][field].is_string(),
                "GET {path}{sep}{query} names {field}: {}",
                response.body
            );
        }
    }
}

/// `method path` with a body that is not JSON (`text/plain`): a JSON route answers 415.
pub async fn not_json(app: &TestApp, method: Method, path: &str, token: &str) -> TestResponse {
    app.send(
        app.client
            .request(method, app.url(path))
            .bearer_auth(token)
            .header("content-type", "text/plain")
            .body("content=plain"),
    )
    .await
}
