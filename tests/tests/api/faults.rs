//! Dependency faults over real HTTP: with AWS unreachable (a closed loopback port) and with a
//! proxy that throttles every DynamoDB call, every route of `docs/openapi.yaml` answers 503 with
//! `Retry-After` (or its documented non-DynamoDB answer), never a 500 and never past the
//! configured timeout; and a like, a follow, a message and a comment whose transaction fails leave
//! nothing behind, then succeed exactly once after recovery; a transaction that lost a race
//! (`TransactionConflict`) is retried by the SDK and counts once.

use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_tests::{spawn_app_with, spawn_unprovisioned_app, test_env, TestApp, TestUser, PASSWORD};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::header::RETRY_AFTER;
use serde_json::{json, Value};
use shared::db::users::Role;

use crate::messages::{conversation_between, send_text};
use crate::posts_support::{add_comment, create_post, get_post, like};
use crate::social_support::{concrete, counts, follow};

/// The faulty apps' AWS timeouts: every answer must come within `BOUND`.
const ATTEMPT_TIMEOUT_MS: u64 = 300;
const OPERATION_TIMEOUT_MS: u64 = 1_000;
const BOUND: Duration = Duration::from_millis(3 * OPERATION_TIMEOUT_MS);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Routes that answer without DynamoDB, with the status they answer and why. Every other route
/// must answer 503 when DynamoDB is unreachable or throttling.
const EXCEPTIONS: &[(&str, &str, u16, &str)] = &[
    ("GET", "/api/docs", 200, "a static page"),
    (
        "GET",
        "/api/docs/{asset}",
        404,
        "static assets; a made-up name",
    ),
    ("GET", "/api/openapi.json", 200, "the embedded document"),
    ("GET", "/api/alive", 200, "liveness never reads"),
    ("GET", "/api/auth/providers", 200, "configuration only"),
    (
        "GET",
        "/api/auth/verify-email/{token}",
        200,
        "the page; verifying is its button's POST",
    ),
    (
        "GET",
        "/api/auth/reset-password/{token}",
        200,
        "the page; resetting is its form's POST",
    ),
    (
        "GET",
        "/api/auth/google",
        501,
        "Google sign-in is not configured",
    ),
    (
        "POST",
        "/api/auth/google",
        501,
        "Google sign-in is not configured",
    ),
    (
        "GET",
        "/api/auth/google/callback",
        400,
        "no state: refused before any read",
    ),
    (
        "POST",
        "/api/auth/apple",
        501,
        "Apple sign-in is not configured",
    ),
    (
        "POST",
        "/api/auth/facebook",
        501,
        "Facebook sign-in is not configured",
    ),
];

/// Required query parameters, so that those routes get past validation to DynamoDB.
const QUERIES: &[(&str, &str)] = &[("/api/users/search", "?q=fault")];

const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"throttled"}"#;

/// What the proxy does with DynamoDB calls.
const FORWARD: u8 = 0;
const THROTTLE_ALL: u8 = 1;
const THROTTLE_TRANSACTIONS: u8 = 2;
/// The next TransactWriteItems loses a race (`TransactionConflict`), then calls are forwarded.
const CONFLICT_ONCE: u8 = 3;

const CONFLICTED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}"#;

/// A loopback AWS endpoint: DynamoDB calls are throttled or forwarded per `mode`; everything
/// else (S3, SES) goes to `upstream`, or is answered 503 without one.
struct Proxy {
    upstream: Option<String>,
    mode: AtomicU8,
    /// DynamoDB calls answered with the throttling error.
    throttled: AtomicUsize,
    /// Transactions answered with a lost race.
    conflicts: AtomicUsize,
    client: reqwest::Client,
}

fn throttled() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.0")],
        THROTTLED,
    )
        .into_response()
}

async fn proxy_handler(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if target.starts_with("DynamoDB_") {
        let fail = match proxy.mode.load(Ordering::SeqCst) {
            THROTTLE_ALL => true,
            THROTTLE_TRANSACTIONS => target.ends_with(".TransactWriteItems"),
            _ => false,
        };
        if fail {
            proxy.throttled.fetch_add(1, Ordering::SeqCst);
            return throttled();
        }
        if target.ends_with(".TransactWriteItems")
            && proxy
                .mode
                .compare_exchange(CONFLICT_ONCE, FORWARD, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            proxy.conflicts.fetch_add(1, Ordering::SeqCst);
            return (
                StatusCode::BAD_REQUEST,
                [("content-type", "application/x-amz-json-1.0")],
                CONFLICTED,
            )
                .into_response();
        }
    }
    let Some(upstream) = &proxy.upstream else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no upstream").into_response();
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let method =
        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = proxy.client.request(method, format!("{upstream}{path}"));
    for (name, value) in &headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(err) => return (StatusCode::BAD_GATEWAY, err.to_string()).into_response(),
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers() {
        if matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_str().as_bytes()),
            axum::http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, out, bytes).into_response()
}

/// Starts a proxy on 127.0.0.1:0 and answers it with its URL.
async fn spawn_proxy(upstream: Option<String>, mode: u8) -> (Arc<Proxy>, String) {
    let proxy = Arc::new(Proxy {
        upstream,
        mode: AtomicU8::new(mode),
        throttled: AtomicUsize::new(0),
        conflicts: AtomicUsize::new(0),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default(),
    });
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => panic!("binding the proxy: {err}"),
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(err) => panic!("proxy address: {err}"),
    };
    let router = axum::Router::new()
        .fallback(proxy_handler)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (proxy, url)
}

/// A loopback URL nothing listens on (bound, then released).
async fn closed_port_url() -> String {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => panic!("binding a port to close: {err}"),
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(err) => panic!("closed port: {err}"),
    };
    drop(listener);
    url
}

/// The test configuration with AWS at `endpoint` and the small timeouts.
fn faulty_config(endpoint: &str) -> shared::Config {
    let mut env = test_env();
    env.insert("AWS_ENDPOINT_URL".into(), endpoint.into());
    env.insert(
        "AWS_ATTEMPT_TIMEOUT_MS".into(),
        ATTEMPT_TIMEOUT_MS.to_string(),
    );
    env.insert(
        "AWS_OPERATION_TIMEOUT_MS".into(),
        OPERATION_TIMEOUT_MS.to_string(),
    );
    match shared::Config::from_map(&env) {
        Ok(config) => config,
        Err(err) => panic!("faulty configuration: {err}"),
    }
}

/// `(METHOD, path template, secured, serves anonymous callers)` for every documented route.
fn documented_routes() -> Vec<(String, String, bool, bool)> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml");
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let paths = doc["paths"].as_mapping().cloned().unwrap_or_default();
    let mut routes = Vec::new();
    for (path, item) in &paths {
        let path = path.as_str().unwrap_or_default().to_string();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let security = op
                .get("security")
                .and_then(|s| s.as_sequence())
                .cloned()
                .unwrap_or_default();
            let secured = !security.is_empty();
            let anonymous = !secured
                || security
                    .iter()
                    .any(|s| s.as_mapping().is_some_and(|m| m.is_empty()));
            routes.push((method.to_uppercase(), path.clone(), secured, anonymous));
        }
    }
    routes
}

/// 43 characters: the shape of a link or refresh token's secret (it matches nothing stored).
const SECRET: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A well-formed email link token, so that the token routes reach DynamoDB.
fn link_token() -> String {
    format!("{}.{SECRET}", ulid::Ulid::new())
}

/// A body most routes accept past validation, so that they reach DynamoDB.
fn plausible_body() -> Value {
    json!({
        "username": "fault_user",
        "email": "fault@insta.test",
        "identifier": "fault@insta.test",
        "password": format!("{PASSWORD}2"),
        "currentPassword": PASSWORD,
        "newPassword": format!("{PASSWORD}2"),
        "confirmPassword": format!("{PASSWORD}2"),
        "refreshToken": format!("{}.{}.{SECRET}", ulid::Ulid::new(), ulid::Ulid::new()),
        "token": link_token(),
        "code": "123456",
        "fullName": "Fault User",
        "content": "hello",
        "text": "hello",
        "userId": ulid::Ulid::new().to_string(),
        "recipientId": ulid::Ulid::new().to_string(),
        "conversationId": ulid::Ulid::new().to_string(),
        "messageType": "text",
        "targetType": "post",
        "targetId": ulid::Ulid::new().to_string(),
        "reason": "spam",
    })
}

/// One call's outcome.
struct Outcome {
    label: String,
    status: u16,
    retry_after: bool,
    envelope_ok: bool,
    message: String,
    elapsed: Duration,
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Outcome {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
        request = request.json(&plausible_body());
    }
    let started = Instant::now();
    let label = format!(
        "{method} {path} ({})",
        if token.is_some() {
            "bearer"
        } else {
            "anonymous"
        }
    );
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => panic!("{label}: {err}"),
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key(RETRY_AFTER);
    let is_json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let elapsed = started.elapsed();
    // Errors are always the envelope; a success is too unless it is a document or a page.
    let envelope = body["success"] == json!(status < 400) && body["message"].is_string();
    let envelope_ok = if status >= 400 {
        is_json && envelope
    } else {
        !is_json || path.starts_with("/api/openapi.json") || body["success"] == json!(true)
    };
    Outcome {
        label,
        status,
        retry_after,
        envelope_ok,
        message: body["message"].as_str().unwrap_or_default().to_string(),
        elapsed,
    }
}

/// Calls every documented route (with a token for a user that was never stored, and anonymously
/// where the route allows it) and checks the answers against a DynamoDB that fails.
async fn every_route_answers_503(app: &TestApp) {
    let token = match app.state.tokens.issue_access(
        &ulid::Ulid::new().to_string(),
        0,
        Role::User,
        shared::time::now_epoch(),
    ) {
        Ok(token) => token,
        Err(err) => panic!("issuing a token: {err}"),
    };
    let routes = documented_routes();
    assert!(
        routes.len() >= 60,
        "too few documented routes: {}",
        routes.len()
    );
    let mut failures = Vec::new();
    let mut calls = 0;
    let mut slowest = Duration::ZERO;
    for (method, template, secured, anonymous) in &routes {
        let query = QUERIES
            .iter()
            .find(|(p, _)| p == template)
            .map_or("", |(_, q)| q);
        let path = format!(
            "{}{query}",
            concrete(&template.replace("{token}", &link_token()))
        );
        let mut tokens = Vec::new();
        if *secured {
            tokens.push(Some(token.as_str()));
        }
        if *anonymous {
            tokens.push(None);
        }
        let exception = EXCEPTIONS
            .iter()
            .find(|(m, p, _, _)| m == method && p == template);
        for token in tokens {
            let outcome = call(app, method, &path, token).await;
            calls += 1;
            slowest = slowest.max(outcome.elapsed);
            let expected = exception.map_or(503, |(_, _, status, _)| *status);
            if outcome.status != expected {
                failures.push(format!(
                    "{}: {} (expected {expected}): {}",
                    outcome.label, outcome.status, outcome.message
                ));
            }
            if outcome.status == 503 && !outcome.retry_after {
                failures.push(format!("{}: 503 without Retry-After", outcome.label));
            }
            if !outcome.envelope_ok {
                failures.push(format!("{}: not the envelope", outcome.label));
            }
            if outcome.elapsed > BOUND {
                failures.push(format!("{}: took {:?}", outcome.label, outcome.elapsed));
            }
        }
    }
    eprintln!("faults: {calls} calls, slowest answer {slowest:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn with_aws_unreachable_every_route_answers_503_in_time() {
    let endpoint = closed_port_url().await;
    let app = spawn_unprovisioned_app(faulty_config(&endpoint)).await;
    every_route_answers_503(&app).await;
}

#[tokio::test]
async fn with_dynamodb_throttling_every_route_answers_503_in_time() {
    let (proxy, url) = spawn_proxy(None, THROTTLE_ALL).await;
    let app = spawn_unprovisioned_app(faulty_config(&url)).await;
    every_route_answers_503(&app).await;
    assert!(
        proxy.throttled.load(Ordering::SeqCst) >= 60,
        "the proxy throttled too few calls: {}",
        proxy.throttled.load(Ordering::SeqCst)
    );
}

/// An app whose AWS calls go through a forwarding proxy to moto; the proxy's mode switches.
async fn proxied_app() -> (TestApp, Arc<Proxy>) {
    let (proxy, url) = spawn_proxy(Some(api_tests::moto_url()), FORWARD).await;
    let mut env = test_env();
    env.insert("AWS_ENDPOINT_URL".into(), url);
    let config = match shared::Config::from_map(&env) {
        Ok(config) => config,
        Err(err) => panic!("proxied configuration: {err}"),
    };
    (spawn_app_with(config).await, proxy)
}

/// Runs `action` with every TransactWriteItems throttled and expects a 503, through at least one
/// failed transaction; then recovers.
async fn fails_in_its_transaction<F, Fut>(proxy: &Proxy, what: &str, action: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = api_tests::TestResponse>,
{
    let before = proxy.throttled.load(Ordering::SeqCst);
    proxy.mode.store(THROTTLE_TRANSACTIONS, Ordering::SeqCst);
    let response = action().await;
    proxy.mode.store(FORWARD, Ordering::SeqCst);
    response.expect(503);
    assert!(
        response.headers.contains_key(RETRY_AFTER),
        "{what}: no Retry-After"
    );
    assert!(
        proxy.throttled.load(Ordering::SeqCst) > before,
        "{what} made no TransactWriteItems call"
    );
}

fn count(response: &api_tests::TestResponse, field: &str) -> i64 {
    response.data()[field].as_i64().unwrap_or(-1)
}

async fn unread_of(app: &TestApp, user: &TestUser) -> i64 {
    crate::messages::unread(app, user).await
}

async fn messages_in(app: &TestApp, user: &TestUser, conversation: &str) -> Vec<String> {
    let response = app
        .get(
            &format!("/api/messages/conversations/{conversation}/messages"),
            Some(&user.access_token),
        )
        .await;
    response.expect(200);
    let data = response.data();
    let list = data["messages"].as_array().or(data.as_array());
    list.map(|l| {
        l.iter()
            .filter_map(|m| m["content"].as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

async fn comments_of(app: &TestApp, user: &TestUser, post: &str) -> Vec<String> {
    let response = app
        .get(
            &format!("/api/posts/{post}/comments"),
            Some(&user.access_token),
        )
        .await;
    response.expect(200);
    let data = response.data();
    let list = data["comments"].as_array().or(data.as_array());
    list.map(|l| {
        l.iter()
            .filter_map(|c| c["content"].as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

#[tokio::test]
async fn a_failed_transaction_leaves_no_partial_write_and_the_retry_succeeds_once() {
    let (app, proxy) = proxied_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let post = create_post(&app, &author, "faults").await;

    // A like: the edge and the post's counter.
    fails_in_its_transaction(&proxy, "like", || like(&app, &fan, &post)).await;
    let seen = get_post(&app, Some(&fan), &post).await;
    seen.expect(200);
    assert_eq!(count(&seen, "likes"), 0, "{}", seen.body);
    assert_eq!(seen.data()["isLiked"], json!(false), "{}", seen.body);
    like(&app, &fan, &post).await.expect(200);
    like(&app, &fan, &post).await.expect(200);
    let seen = get_post(&app, Some(&fan), &post).await;
    assert_eq!(count(&seen, "likes"), 1, "{}", seen.body);
    assert_eq!(seen.data()["isLiked"], json!(true), "{}", seen.body);

    // A follow: both edges and both counters.
    fails_in_its_transaction(&proxy, "follow", || follow(&app, &fan, &author.id)).await;
    assert_eq!(counts(&app, &fan).await, (0, 0), "the follower's counters");
    assert_eq!(
        counts(&app, &author).await,
        (0, 0),
        "the followed's counters"
    );
    let followers = app
        .get(
            &format!("/api/users/{}/followers", author.id),
            Some(&author.access_token),
        )
        .await;
    followers.expect(200);
    assert!(
        !followers.body.to_string().contains(&fan.id),
        "a follower edge was left: {}",
        followers.body
    );
    let following = app
        .get(
            &format!("/api/users/{}/following", fan.id),
            Some(&fan.access_token),
        )
        .await;
    following.expect(200);
    assert!(
        !following.body.to_string().contains(&author.id),
        "a following edge was left: {}",
        following.body
    );
    let followed = follow(&app, &fan, &author.id).await;
    assert!(followed.status.is_success(), "{}", followed.body);
    assert_eq!(counts(&app, &fan).await, (0, 1));
    assert_eq!(counts(&app, &author).await, (1, 0));

    // A message: the message, the conversation's last message and the recipient's unread.
    let conversation = conversation_between(&app, &fan, &author).await;
    let unread_before = unread_of(&app, &author).await;
    fails_in_its_transaction(&proxy, "message", || {
        send_text(&app, &fan, &author, &conversation, "lost in transit")
    })
    .await;
    assert_eq!(
        unread_of(&app, &author).await,
        unread_before,
        "unread after a failed send"
    );
    assert!(messages_in(&app, &author, &conversation).await.is_empty());
    assert!(messages_in(&app, &fan, &conversation).await.is_empty());
    send_text(&app, &fan, &author, &conversation, "arrived")
        .await
        .expect(201);
    assert_eq!(unread_of(&app, &author).await, unread_before + 1);
    assert_eq!(
        messages_in(&app, &author, &conversation).await,
        vec!["arrived"]
    );

    // A comment: the comment and the post's counter.
    let comments = format!("/api/posts/{post}/comments");
    fails_in_its_transaction(&proxy, "comment", || {
        app.post(
            &comments,
            Some(&fan.access_token),
            json!({ "content": "lost comment" }),
        )
    })
    .await;
    let seen = get_post(&app, Some(&fan), &post).await;
    assert_eq!(count(&seen, "comments"), 0, "{}", seen.body);
    assert!(comments_of(&app, &fan, &post).await.is_empty());
    add_comment(&app, &fan, &post, None, "kept comment").await;
    let seen = get_post(&app, Some(&fan), &post).await;
    assert_eq!(count(&seen, "comments"), 1, "{}", seen.body);
    assert_eq!(comments_of(&app, &fan, &post).await, vec!["kept comment"]);
}

#[tokio::test]
async fn a_transaction_that_lost_a_race_is_retried_and_counts_once() {
    let (app, proxy) = proxied_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;

    // A message's transaction (the message, both memberships, the unread counter and the
    // sender's budget) loses a race once: the send still lands, once.
    let conversation = conversation_between(&app, &fan, &author).await;
    let unread_before = unread_of(&app, &author).await;
    // Just before, another app's calls, all throttled, spend its client's retry quota. Each
    // client owns its quota (the SDK's default shares one per service across the process):
    // with a shared one, this drained it and the race below went unretried, a 503.
    let (noisy, noisy_proxy) = proxied_app().await;
    let someone = noisy.signed_in_user().await;
    noisy_proxy.mode.store(THROTTLE_ALL, Ordering::SeqCst);
    let throttled = (0..40).map(|_| noisy.get("/api/users/profile", Some(&someone.access_token)));
    for answer in futures_util::future::join_all(throttled).await {
        answer.expect(503);
    }
    // 40 first attempts, and retries (5 tokens each) until a quota of 500 ran out.
    let spent = noisy_proxy.throttled.load(Ordering::SeqCst);
    assert!(
        spent >= 40 + 500 / 5,
        "{spent} throttled calls: the quota was not spent"
    );

    proxy.mode.store(CONFLICT_ONCE, Ordering::SeqCst);
    send_text(&app, &fan, &author, &conversation, "raced")
        .await
        .expect(201);
    assert_eq!(
        proxy.conflicts.load(Ordering::SeqCst),
        1,
        "the race was run"
    );
    // (Before reading the conversation, which marks it read.)
    assert_eq!(unread_of(&app, &author).await, unread_before + 1);
    assert_eq!(
        messages_in(&app, &author, &conversation).await,
        vec!["raced"]
    );

    // A comment's likewise.
    let post = create_post(&app, &author, "raced").await;
    proxy.mode.store(CONFLICT_ONCE, Ordering::SeqCst);
    add_comment(&app, &fan, &post, None, "raced comment").await;
    assert_eq!(proxy.conflicts.load(Ordering::SeqCst), 2);
    assert_eq!(comments_of(&app, &fan, &post).await, vec!["raced comment"]);
    let seen = get_post(&app, Some(&fan), &post).await;
    assert_eq!(count(&seen, "comments"), 1, "{}", seen.body);
}
