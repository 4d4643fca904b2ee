//! Helpers for the black-box suite: `spawn_app` starts the real router on a free port against
//! moto, and typed helpers speak to it over real HTTP.

pub mod browser;
pub mod iam;
pub mod idp;
pub mod lambda;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::{AppState, Config};
use tokio::sync::OnceCell;

pub const TEST_JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";
pub const PASSWORD: &str = "Sup3r-secret!";

/// The smallest valid JPEG (1x1 grey, JFIF, arithmetic coded): 125 bytes.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x01, 0x00, 0x48,
    0x00, 0x48, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x02, 0x02, 0x02, 0x03,
    0x02, 0x02, 0x02, 0x03, 0x03, 0x03, 0x03, 0x04, 0x06, 0x04, 0x04, 0x04, 0x04, 0x04, 0x08, 0x06,
    0x06, 0x05, 0x06, 0x09, 0x08, 0x0A, 0x0A, 0x09, 0x08, 0x09, 0x09, 0x0A, 0x0C, 0x0F, 0x0C, 0x0A,
    0x0B, 0x0E, 0x0B, 0x09, 0x09, 0x0D, 0x11, 0x0D, 0x0E, 0x0F, 0x10, 0x10, 0x11, 0x10, 0x0A, 0x0C,
    0x12, 0x13, 0x12, 0x10, 0x13, 0x0F, 0x10, 0x10, 0x10, 0xFF, 0xC9, 0x00, 0x0B, 0x08, 0x00, 0x01,
    0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xCC, 0x00, 0x06, 0x00, 0x10, 0x10, 0x05, 0xFF, 0xDA,
    0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0xD2, 0xCF, 0x20, 0xFF, 0xD9,
];

/// moto's address; `make test` starts moto and exports it.
pub fn moto_url() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) => url,
        Err(_) => {
            panic!("AWS_ENDPOINT_URL is not set: run the suite with `make test`, which starts moto")
        }
    }
}

/// The configuration every test app gets; one table and bucket per test run.
pub fn test_env() -> HashMap<String, String> {
    [
        ("TABLE_NAME", "insta-test"),
        ("MEDIA_BUCKET", "insta-test-media"),
        ("JWT_SECRET", TEST_JWT_SECRET),
        ("MAIL_FROM", "no-reply@insta.test"),
        ("APP_BASE_URL", "http://app.test"),
        ("DEBUG_HEADERS", "1"),
        ("S3_FORCE_PATH_STYLE", "1"),
        ("LOGIN_MAX_FAILURES", "5"),
        // Every test signs up and signs in from 127.0.0.1: the per-source budgets are high here
        // (as in `make dev`); every per-user and per-account limit keeps its default.
        ("RATE_LIMIT_LOGIN_SOURCE", "100000/900"),
        ("RATE_LIMIT_REGISTER_SOURCE", "100000/3600"),
        // moto on a loaded CI machine can be slow; production keeps the tight defaults.
        ("AWS_ATTEMPT_TIMEOUT_MS", "15000"),
        ("AWS_OPERATION_TIMEOUT_MS", "30000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub fn test_config() -> Config {
    match Config::from_map(&test_env()) {
        Ok(config) => config,
        Err(err) => panic!("test configuration: {err}"),
    }
}

static RESOURCES: OnceCell<()> = OnceCell::const_new();

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// `host:port` of the emulated WebSocket API (and its `@connections` endpoint).
    pub ws_address: String,
    /// The poller feeding this table's stream to the fanout handler (shared by every app on it);
    /// none for an unprovisioned app.
    pub streams: Option<local::streams::StreamPoller>,
}

/// What every app on one table shares: the emulated WebSocket API (pushes from the stream reach
/// every test's sockets) and the table's stream poller. They run on a runtime of their own, since
/// each `#[tokio::test]` runtime ends with its test.
struct TableStack {
    ws_address: String,
    streams: local::streams::StreamPoller,
}

static STACKS: tokio::sync::Mutex<Option<HashMap<String, (String, local::streams::StreamPoller)>>> =
    tokio::sync::Mutex::const_new(None);

fn background() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("table-stack")
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(err) => panic!("starting the background runtime: {err}"),
        }
    })
}

/// The table's stack, started on first use (its resources must exist by then).
async fn table_stack(config: &Config) -> TableStack {
    let mut stacks = STACKS.lock().await;
    let stacks = stacks.get_or_insert_with(HashMap::new);
    if let Some((ws_address, streams)) = stacks.get(&config.table_name) {
        return TableStack {
            ws_address: ws_address.clone(),
            streams: streams.clone(),
        };
    }
    let table = config.table_name.clone();
    let mut config = config.clone();
    let started = background()
        .spawn(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let ws_address = listener.local_addr()?.to_string();
            config.ws_management_endpoint = Some(format!("http://{ws_address}"));
            let state = AppState::new(config).await;
            local::websocket::spawn_websocket(state.clone(), listener);
            let streams = local::streams::spawn(state).await?;
            Ok::<_, local::bootstrap::BoxError>((ws_address, streams))
        })
        .await;
    let (ws_address, streams) = match started {
        Ok(Ok(stack)) => stack,
        Ok(Err(err)) => panic!("starting the table's WebSocket API and stream poller: {err}"),
        Err(err) => panic!("starting the table's WebSocket API and stream poller: {err}"),
    };
    stacks.insert(table, (ws_address.clone(), streams.clone()));
    TableStack {
        ws_address,
        streams,
    }
}

/// Starts the whole API (every function's router, as `make dev` serves it) on a random port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

pub async fn spawn_app_with(mut config: Config) -> TestApp {
    RESOURCES
        .get_or_init(|| async {
            let config = test_config();
            let sdk = shared::aws::load_sdk_config(&config).await;
            let clients = shared::aws::Clients::new(&sdk, &config);
            if let Err(err) = local::bootstrap::ensure_resources(
                &clients,
                &config,
                &local::bootstrap::template_path(),
            )
            .await
            {
                panic!("creating test resources in moto: {err}");
            }
        })
        .await;
    let stack = table_stack(&config).await;
    if config.ws_management_endpoint.is_none() {
        config.ws_management_endpoint = Some(format!("http://{}", stack.ws_address));
    }
    let state = AppState::new(config).await;
    serve(state, stack.ws_address, Some(stack.streams)).await
}

/// `spawn_app_with` without creating the table and bucket, and without the table's stream
/// poller: nothing touches AWS before the first request (the fault tests point `config` at a
/// closed port or a failing proxy). Its WebSocket API is its own.
pub async fn spawn_unprovisioned_app(mut config: Config) -> TestApp {
    let ws_listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => panic!("binding a WebSocket test port: {err}"),
    };
    let ws_address = match ws_listener.local_addr() {
        Ok(addr) => addr.to_string(),
        Err(err) => panic!("WebSocket test port: {err}"),
    };
    if config.ws_management_endpoint.is_none() {
        config.ws_management_endpoint = Some(format!("http://{ws_address}"));
    }
    let state = AppState::new(config).await;
    local::websocket::spawn_websocket(state.clone(), ws_listener);
    serve(state, ws_address, None).await
}

/// Serves every router for `state` on a random port.
async fn serve(
    state: AppState,
    ws_address: String,
    streams: Option<local::streams::StreamPoller>,
) -> TestApp {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => panic!("binding a test port: {err}"),
    };
    let address = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(err) => panic!("test port: {err}"),
    };
    let app = local::app(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    TestApp {
        address,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default(),
        state,
        ws_address,
        streams,
    }
}

/// A response with its JSON body parsed.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// DynamoDB operations the request made (the `x-ddb-calls` header).
    pub fn ddb_calls(&self) -> u32 {
        self.headers
            .get("x-ddb-calls")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(u32::MAX)
    }

    /// Asserts the status and the envelope's `success` flag together.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.body["success"],
            json!(status < 400),
            "envelope: {}",
            self.body
        );
        self
    }
}

/// A user the test created, with whatever tokens it holds.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new().to_string().to_lowercase())
        .chars()
        .take(30)
        .collect()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => panic!("request failed: {err}"),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn register(&self, username: &str, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/auth/register",
            None,
            json!({
                "email": email,
                "username": username,
                "password": password,
                "confirmPassword": password,
                "fullName": "Test User",
            }),
        )
        .await
    }

    pub async fn login(&self, identifier: &str, password: &str) -> TestResponse {
        let field = if identifier.contains('@') {
            "email"
        } else {
            "username"
        };
        self.post(
            "/api/auth/login",
            None,
            json!({ field: identifier, "password": password }),
        )
        .await
    }

    /// Registers a fresh user and signs it in.
    pub async fn signed_in_user(&self) -> TestUser {
        let username = unique_name("user");
        let email = format!("{username}@example.com");
        let registered = self.register(&username, &email, PASSWORD).await;
        registered.expect(201);
        let login = self.login(&email, PASSWORD).await;
        login.expect(200);
        TestUser {
            id: registered.data()["user"]["_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            username,
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

    /// Messages SES accepted for `to`, oldest first, from the local stack's inbox
    /// (`GET /_aws/ses?email=`, LocalStack's shape).
    pub async fn mail_to(&self, to: &str) -> Vec<Mail> {
        let response = match self
            .client
            .get(self.url("/_aws/ses"))
            .query(&[("email", to)])
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => panic!("reading the local inbox: {err}"),
        };
        let data: Value = response.json().await.unwrap_or_default();
        data["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m["Destination"]["ToAddresses"]
                    .as_array()
                    .is_some_and(|to_list| to_list.iter().any(|a| a == to))
            })
            .map(|m| Mail {
                subject: m["Subject"].as_str().unwrap_or_default().to_string(),
                body: m["Body"]["text_part"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect()
    }

    /// The latest mail to `to` whose subject contains `subject`.
    pub async fn last_mail(&self, to: &str, subject: &str) -> Mail {
        for _ in 0..20 {
            if let Some(mail) = self
                .mail_to(to)
                .await
                .into_iter()
                .rev()
                .find(|m| m.subject.contains(subject))
            {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail with subject {subject:?} to {to}");
    }
}

pub struct Mail {
    pub subject: String,
    pub body: String,
}

impl Mail {
    /// The value on the line `"<label>: value"`.
    pub fn field(&self, label: &str) -> String {
        self.body
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{label}: ")))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("mail has no {label:?} line: {}", self.body))
    }
}

/// A real WebSocket client connected to the emulated WebSocket API.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl TestApp {
    /// Opens a WebSocket as a browser would (`?token=` in the URL). A refused `$connect` comes
    /// back as `Err` (`tungstenite::Error::Http` carries the status).
    pub async fn ws_connect(
        &self,
        token: Option<&str>,
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        let url = match token {
            Some(token) => format!("ws://{}/?token={token}", self.ws_address),
            None => format!("ws://{}/", self.ws_address),
        };
        let (stream, _response) = tokio_tungstenite::connect_async(url).await?;
        Ok(WsClient { stream })
    }

    /// A signed-in connection; panics when it is refused.
    pub async fn ws(&self, user: &TestUser) -> WsClient {
        self.ws_connect(Some(&user.access_token))
            .await
            .unwrap_or_else(|e| panic!("WebSocket connect for {}: {e}", user.username))
    }
}

impl WsClient {
    pub async fn send_json(&mut self, frame: Value) {
        use futures_util::SinkExt;
        let text = frame.to_string();
        if let Err(err) = self
            .stream
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
        {
            panic!("sending a frame: {err}");
        }
    }

    /// The next text frame, parsed, or `None` when nothing arrives within `within` (or the
    /// socket closed).
    pub async fn next_frame(&mut self, within: Duration) -> Option<Value> {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next()).await;
            match next {
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => {
                    return Some(
                        serde_json::from_str(&text).unwrap_or(Value::String(text.to_string())),
                    )
                }
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))) | Ok(None) => {
                    return None
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) | Err(_) => return None,
            }
        }
    }

    /// Waits up to `within` for a frame whose `event` is `name` (other frames are skipped) and
    /// returns it whole; panics when none comes.
    pub async fn expect_event(&mut self, name: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                Some(frame) if frame["event"] == name => return frame,
                Some(frame) => seen.push(frame),
                None => panic!("no {name:?} frame within {within:?}; saw {seen:?}"),
            }
        }
    }

    /// Asserts that no frame arrives within `within`.
    pub async fn expect_silence(&mut self, within: Duration) {
        if let Some(frame) = self.next_frame(within).await {
            panic!("expected no frame, got {frame}");
        }
    }

    /// Asserts that the server closes the socket within `within` (frames before it are skipped).
    pub async fn expect_closed(&mut self, within: Duration) {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return,
                Ok(Some(Ok(_))) => continue,
                Err(_) => panic!("the socket was still open after {within:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // Drain until the server acknowledges the close.
        while self.next_frame(Duration::from_secs(2)).await.is_some() {}
    }
}

/// A DynamoDB stream record as Lambda hands it to the fanout function (`eventName` INSERT,
/// MODIFY or REMOVE; `image` in DynamoDB JSON, its `PK` and `SK` the record's keys): the new
/// image for an INSERT or MODIFY, the old one for a REMOVE.
pub fn stream_record(event_name: &str, sequence: u64, image: Value) -> Value {
    let keys = serde_json::json!({ "PK": image["PK"].clone(), "SK": image["SK"].clone() });
    let mut change = serde_json::json!({
        "ApproximateCreationDateTime": 1764583200,
        "Keys": keys,
        "SequenceNumber": sequence.to_string(),
        "SizeBytes": 200,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    let side = if event_name == "REMOVE" {
        "OldImage"
    } else {
        "NewImage"
    };
    change[side] = image;
    serde_json::json!({
        "eventID": ulid::Ulid::new().to_string(),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/insta-test/stream/2026-12-01T09:00:00.000",
        "dynamodb": change,
    })
}

/// A post item's image in DynamoDB JSON (what a post INSERT record carries).
pub fn post_image(post_id: &str, author_id: &str, caption: &str) -> Value {
    serde_json::json!({
        "PK": { "S": format!("POST#{post_id}") },
        "SK": { "S": "POST" },
        "postId": { "S": post_id },
        "authorId": { "S": author_id },
        "caption": { "S": caption },
        "mediaKey": { "S": format!("posts/{author_id}/{post_id}.jpg") },
        "mediaType": { "S": "image" },
        "createdAt": { "S": "2026-12-01T10:00:00.000Z" },
        "updatedAt": { "S": "2026-12-01T10:00:00.000Z" },
    })
}
