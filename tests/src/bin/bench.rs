//! The project's benchmark (`make bench`): cold starts of every function binary under a fake Lambda
//! Runtime API, binary sizes, peak RSS, DynamoDB round trips per route, and a load run against the
//! local stack with p50/p99 latency and app-process CPU per request. Prints markdown for BENCHMARKS.md.
//!
//! Needs moto (`AWS_ENDPOINT_URL`) and the release binaries in `BENCH_BIN_DIR`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use api_tests::lambda::FakeRuntime;
use api_tests::{moto_url, test_env, unique_name, JPEG, PASSWORD};
use serde_json::{json, Value};

fn bin_dir() -> PathBuf {
    std::env::var("BENCH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| api_tests::lambda::binary_dir())
}

fn env_pairs() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = test_env()
        .into_iter()
        .filter(|(k, _)| k != "DEBUG_HEADERS")
        .collect();
    env.push(("AWS_ENDPOINT_URL".into(), moto_url()));
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        env.push((
            key.into(),
            std::env::var(key).unwrap_or_else(|_| "local".into()),
        ));
    }
    env.push(("AWS_LC_SYS_NO_JITTER_ENTROPY".into(), "1".into()));
    env
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(|a, b| a.total_cmp(b));
    values
}

/// An HTTP API v2 event for `method path` with an optional JSON body.
fn http_event(method: &str, path: &str, body: Option<Value>) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "content-type": "application/json", "host": "bench.execute-api.us-east-1.amazonaws.com" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench", "requestId": "bench", "routeKey": "$default", "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000", "timeEpoch": 0,
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench" }
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

/// The first request each function gets in the cold-start run: cheap and DynamoDB-free, so the
/// figure is the runtime's and the binary's, not moto's. A path outside `/api` matches no route
/// (`/api/<group>/<x>` could: `/api/users/{user_id}` would read the table).
fn cold_start_event(function: &str) -> Value {
    match function {
        "health" => http_event("GET", "/api/alive", None),
        // API Gateway's `$connect` with a malformed token: refused before any table read.
        "ws" => {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ws-connect.json");
            let text = std::fs::read_to_string(path).unwrap_or_default();
            serde_json::from_str(&text.replace("__TOKEN__", "not-a-token")).unwrap_or_default()
        }
        _ => http_event("GET", "/__cold_start_probe", None),
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn functions() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

async fn cold_starts(iterations: usize) {
    println!("## Cold start, size and memory per function\n");
    println!("Spawn of the release binary → first answered invocation under a fake Lambda Runtime API, {iterations} runs each.\n");
    println!(
        "| function | binary (MB) | cold start median (ms) | p90 (ms) | max (ms) | peak RSS (MB) |"
    );
    println!("|---|---|---|---|---|---|");
    for function in functions() {
        let binary = bin_dir().join(&function);
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        let mut times = Vec::new();
        let mut rss = 0u64;
        for _ in 0..iterations {
            let runtime = match FakeRuntime::start(&binary, &env_pairs()).await {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("{function}: {err}");
                    break;
                }
            };
            if runtime.invoke(cold_start_event(&function)).await.is_some() {
                times.push(runtime.spawned_at.elapsed().as_secs_f64() * 1000.0);
            }
            if let Some(kib) = runtime.pid().and_then(peak_rss_kib) {
                rss = rss.max(kib);
            }
        }
        let times = sorted(times);
        println!(
            "| {function} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            size as f64 / 1_048_576.0,
            percentile(&times, 50.0),
            percentile(&times, 90.0),
            times.last().copied().unwrap_or(f64::NAN),
            rss as f64 / 1024.0
        );
    }
    println!();
}

struct Stack {
    child: tokio::process::Child,
    base: String,
    client: reqwest::Client,
    /// The emulated WebSocket API of the local stack.
    ws_port: u16,
}

async fn start_stack() -> Stack {
    let free_port = || {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("port: {e}"));
        listener.local_addr().map(|a| a.port()).unwrap_or(3999)
    };
    let port = free_port();
    let ws_port = free_port();
    let child = tokio::process::Command::new(bin_dir().join("local"))
        .envs(env_pairs())
        .env("DEBUG_HEADERS", "1")
        .env("PORT", port.to_string())
        .env("WS_PORT", ws_port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning the local stack: {e}"));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/api/alive")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Stack {
        child,
        base,
        client,
        ws_port,
    }
}

impl Stack {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, u32, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let calls = response
                    .headers()
                    .get("x-ddb-calls")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(u32::MAX);
                (status, calls, response.json().await.unwrap_or_default())
            }
            Err(_) => (0, u32::MAX, Value::Null),
        }
    }

    /// Calls a route, prints its table row and answers the response's `data`.
    async fn probe(
        &self,
        label: &str,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, calls, answer) = self.call(method, path, Some(token), body).await;
        println!("| {label} | {status} | {calls} |");
        answer["data"].clone()
    }

    /// A multipart POST of the tiny JPEG in the part `file_part`, printed like `probe`.
    async fn probe_upload(&self, label: &str, path: &str, token: &str, file_part: &str) -> Value {
        let (status, calls, data) = self.upload(path, token, file_part).await;
        println!("| {label} | {status} | {calls} |");
        data
    }

    /// A multipart POST of the tiny JPEG: (status, `x-ddb-calls`, `data`).
    async fn upload(&self, path: &str, token: &str, file_part: &str) -> (u16, String, Value) {
        let part = reqwest::multipart::Part::bytes(JPEG.to_vec())
            .file_name("bench.jpg")
            .mime_str("image/jpeg");
        let Ok(part) = part else {
            return (0, "-".into(), Value::Null);
        };
        let form = reqwest::multipart::Form::new()
            .text("caption", "bench #benchmark")
            .part(file_part.to_string(), part);
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await;
        let Ok(response) = response else {
            return (0, "-".into(), Value::Null);
        };
        let status = response.status().as_u16();
        let calls = response
            .headers()
            .get("x-ddb-calls")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        let answer: Value = response.json().await.unwrap_or_default();
        (status, calls, answer["data"].clone())
    }

    /// A registered, logged-in user: (id, access token).
    async fn new_member(&self) -> (String, String) {
        let (_, access, _) = self.new_user().await;
        let (_, _, me) = self
            .call(
                reqwest::Method::GET,
                "/api/users/profile",
                Some(&access),
                None,
            )
            .await;
        (id_of(&me["data"]), access)
    }

    async fn new_user(&self) -> (String, String, String) {
        let name = unique_name("bench");
        let email = format!("{name}@example.com");
        let body = json!({"email": email, "username": name, "password": PASSWORD, "confirmPassword": PASSWORD, "fullName": "Bench"});
        self.call(
            reqwest::Method::POST,
            "/api/auth/register",
            None,
            Some(body),
        )
        .await;
        let (_, _, login) = self
            .call(
                reqwest::Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        let token = |k: &str| login["data"][k].as_str().unwrap_or_default().to_string();
        (email, token("accessToken"), token("refreshToken"))
    }
}

fn id_of(value: &Value) -> String {
    value["_id"].as_str().unwrap_or_default().to_string()
}

/// label, method, path, bearer token, JSON body.
type RouteProbe<'a> = (
    &'a str,
    reqwest::Method,
    String,
    Option<&'a str>,
    Option<Value>,
);

async fn round_trips(stack: &Stack) {
    use reqwest::Method;
    println!("## DynamoDB round trips per route\n");
    println!("Counted by the SDK interceptor and reported in `x-ddb-calls`; \"auth\" (1 GetItem) is included.\n");
    println!("| route | status | round trips |");
    println!("|---|---|---|");
    let (email, access, refresh) = stack.new_user().await;
    let name = unique_name("rt");
    let rows: Vec<RouteProbe> = vec![
        (
            "GET /api/health",
            Method::GET,
            "/api/health".into(),
            None,
            None,
        ),
        (
            "GET /api/alive",
            Method::GET,
            "/api/alive".into(),
            None,
            None,
        ),
        (
            "POST /api/auth/register",
            Method::POST,
            "/api/auth/register".into(),
            None,
            Some(
                json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD, "confirmPassword": PASSWORD, "fullName": "R"}),
            ),
        ),
        (
            "POST /api/auth/login",
            Method::POST,
            "/api/auth/login".into(),
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        ),
        (
            "POST /api/auth/login (wrong password)",
            Method::POST,
            "/api/auth/login".into(),
            None,
            Some(json!({"email": email, "password": "wrong-password"})),
        ),
        (
            "POST /api/auth/refresh-token",
            Method::POST,
            "/api/auth/refresh-token".into(),
            None,
            Some(json!({"refreshToken": refresh})),
        ),
        (
            "POST /api/auth/verify-jwt-token",
            Method::POST,
            "/api/auth/verify-jwt-token".into(),
            Some(&access),
            Some(json!({})),
        ),
        (
            "POST /api/auth/resend-verification-email",
            Method::POST,
            "/api/auth/resend-verification-email".into(),
            None,
            Some(json!({"email": email})),
        ),
        (
            "POST /api/auth/forgot-password",
            Method::POST,
            "/api/auth/forgot-password".into(),
            None,
            Some(json!({"email": email})),
        ),
        (
            "POST /api/auth/invalidate-all-jwt-tokens",
            Method::POST,
            "/api/auth/invalidate-all-jwt-tokens".into(),
            Some(&access),
            None,
        ),
    ];
    for (label, method, path, token, body) in rows {
        let (status, calls, _) = stack.call(method, &path, token, body).await;
        println!("| {label} | {status} | {calls} |");
    }
    social_round_trips(stack).await;
    println!();
}

/// One pass over the social routes: `a` follows `b`, `b` posts and posts a story, `a` likes,
/// comments, saves, reads feeds, views the story and messages `b`, and `b` reads it all.
async fn social_round_trips(stack: &Stack) {
    use reqwest::Method;
    let (a_id, a) = stack.new_member().await;
    let (b_id, b) = stack.new_member().await;
    let _ = a_id;
    stack
        .probe(
            "GET /api/users/profile",
            Method::GET,
            "/api/users/profile",
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "PATCH /api/users/profile",
            Method::PATCH,
            "/api/users/profile",
            &a,
            Some(json!({"bio": "benchmarking"})),
        )
        .await;
    stack
        .probe(
            "GET /api/users/{id}",
            Method::GET,
            &format!("/api/users/{b_id}"),
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/users/search?q=bench",
            Method::GET,
            "/api/users/search?q=bench",
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/users/suggested",
            Method::GET,
            "/api/users/suggested",
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "POST /api/follow/{id}/follow",
            Method::POST,
            &format!("/api/follow/{b_id}/follow"),
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/follow/{id}/followers",
            Method::GET,
            &format!("/api/follow/{b_id}/followers"),
            &a,
            None,
        )
        .await;
    let post = stack
        .probe_upload("POST /api/posts (multipart JPEG)", "/api/posts", &b, "file")
        .await;
    let post = id_of(&post);
    let post_path = format!("/api/posts/{post}");
    stack
        .probe("GET /api/posts/{id}", Method::GET, &post_path, &a, None)
        .await;
    let like = format!("{post_path}/like");
    stack
        .probe("POST /api/posts/{id}/like", Method::POST, &like, &a, None)
        .await;
    stack
        .probe(
            "DELETE /api/posts/{id}/like",
            Method::DELETE,
            &like,
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "POST /api/posts/{id}/save",
            Method::POST,
            &format!("{post_path}/save"),
            &a,
            None,
        )
        .await;
    let comments = format!("{post_path}/comments");
    stack
        .probe(
            "POST /api/posts/{id}/comments",
            Method::POST,
            &comments,
            &a,
            Some(json!({"content": "nice @bench"})),
        )
        .await;
    stack
        .probe(
            "GET /api/posts/{id}/comments",
            Method::GET,
            &comments,
            &a,
            None,
        )
        .await;
    for feed in ["feed", "timeline", "explore"] {
        stack
            .probe(
                &format!("GET /api/posts/{feed}"),
                Method::GET,
                &format!("/api/posts/{feed}"),
                &a,
                None,
            )
            .await;
    }
    let conversation = stack
        .probe(
            "POST /api/messages/conversations",
            Method::POST,
            "/api/messages/conversations",
            &a,
            Some(json!({"userId": b_id})),
        )
        .await;
    let conversation = id_of(&conversation);
    stack
        .probe(
            "POST /api/messages/messages (text)",
            Method::POST,
            "/api/messages/messages",
            &a,
            Some(json!({"conversationId": conversation, "recipientId": b_id, "messageType": "text", "content": "hi"})),
        )
        .await;
    stack
        .probe(
            "GET /api/messages/conversations",
            Method::GET,
            "/api/messages/conversations",
            &b,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/messages/conversations/{id}/messages",
            Method::GET,
            &format!("/api/messages/conversations/{conversation}/messages"),
            &b,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/messages/unread-count",
            Method::GET,
            "/api/messages/unread-count",
            &b,
            None,
        )
        .await;
    let story = stack
        .probe_upload(
            "POST /api/stories (multipart JPEG)",
            "/api/stories",
            &b,
            "story",
        )
        .await;
    let story = id_of(&story);
    stack
        .probe(
            "GET /api/stories/feed (1 followed account)",
            Method::GET,
            "/api/stories/feed",
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/stories/user/{id}",
            Method::GET,
            &format!("/api/stories/user/{b_id}"),
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "PATCH /api/stories/{id}/view (first view)",
            Method::PATCH,
            &format!("/api/stories/{story}/view"),
            &a,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/stories/{id}/viewers",
            Method::GET,
            &format!("/api/stories/{story}/viewers"),
            &b,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/notifications",
            Method::GET,
            "/api/notifications",
            &b,
            None,
        )
        .await;
    stack
        .probe(
            "GET /api/notifications/unread-count",
            Method::GET,
            "/api/notifications/unread-count",
            &b,
            None,
        )
        .await;
    stack
        .probe(
            "PUT /api/notifications/read-all",
            Method::PUT,
            "/api/notifications/read-all",
            &b,
            None,
        )
        .await;
}

/// Runs `concurrency` workers doing `scenario` for `duration`; prints latency and CPU per request.
async fn load<F, Fut>(
    stack: &Stack,
    label: &str,
    concurrency: usize,
    duration: Duration,
    scenario: F,
) where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let pid = stack.child.id().unwrap_or(0);
    let ticks_before = cpu_ticks(pid);
    let started = Instant::now();
    let workers = (0..concurrency).map(|worker| {
        let scenario = scenario.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = 0usize;
            while started.elapsed() < duration {
                let t = Instant::now();
                let ok = scenario(worker * 1_000_000 + i).await;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    errors += 1;
                }
                i += 1;
            }
            (latencies, errors)
        })
    });
    // Spawn them all before awaiting any: the iterator is lazy.
    let workers: Vec<_> = workers.collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((l, e)) = worker.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ticks = cpu_ticks(pid).saturating_sub(ticks_before);
    let ticks_per_sec = 100.0; // Linux USER_HZ
    let requests = latencies.len().max(1);
    let latencies = sorted(latencies);
    let mean = latencies.iter().sum::<f64>() / requests as f64;
    println!(
        "| {label} | {concurrency} | {} | {errors} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} |",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        mean,
        latencies.last().copied().unwrap_or(f64::NAN),
        ticks as f64 / ticks_per_sec * 1000.0 / requests as f64
    );
}

#[tokio::main]
async fn main() {
    let iterations: usize = std::env::var("BENCH_COLD_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seconds: u64 = std::env::var("BENCH_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);

    // `BENCH_ONLY=login-flood` runs the memory case alone.
    if std::env::var("BENCH_ONLY").is_ok_and(|v| v == "login-flood") {
        login_flood(100, 3).await;
        return;
    }

    // Resources first (the functions expect the table to exist).
    let stack = start_stack().await;
    // BENCH_QUICK=1: round trips and stream latency only (no cold starts, no load run).
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    if !quick {
        cold_starts(iterations).await;
    }
    round_trips(&stack).await;
    stream_latency(&stack, 50).await;
    timeline_scale(&stack).await;
    if quick {
        return;
    }

    println!("## Load run against the local stack (release `local` binary, moto behind it)\n");
    println!("{concurrency} concurrent clients per flow for {seconds} s each. CPU is the app process's user+system time per request (moto's is not included).\n");
    println!(
        "| flow | clients | requests | errors | req/s | p50 (ms) | p99 (ms) | mean (ms) | max (ms) | app CPU (ms/req) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let duration = Duration::from_secs(seconds);
    let base = stack.base.clone();
    let client = stack.client.clone();
    let (_, access, _) = stack.new_user().await;

    let (b, c) = (base.clone(), client.clone());
    load(&stack, "GET /api/alive", concurrency, duration, move |_| {
        let (b, c) = (b.clone(), c.clone());
        async move {
            c.get(format!("{b}/api/alive"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await;

    let (b, c) = (base.clone(), client.clone());
    load(
        &stack,
        "GET /api/health (1 GetItem)",
        concurrency,
        duration,
        move |_| {
            let (b, c) = (b.clone(), c.clone());
            async move {
                c.get(format!("{b}/api/health"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await;

    let (b, c, a) = (base.clone(), client.clone(), access.clone());
    load(
        &stack,
        "POST verify-jwt-token (JWT + auth read)",
        concurrency,
        duration,
        move |_| {
            let (b, c, a) = (b.clone(), c.clone(), a.clone());
            async move {
                c.post(format!("{b}/api/auth/verify-jwt-token"))
                    .bearer_auth(a)
                    .json(&json!({}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await;

    let (b, c) = (base.clone(), client.clone());
    load(&stack, "POST register (argon2id + 1 transaction)", concurrency.min(4), duration, move |i| {
        let (b, c) = (b.clone(), c.clone());
        async move {
            let name = format!("ld{}_{i}", ulid::Ulid::new().to_string().to_lowercase().get(..10).unwrap_or("x"));
            c.post(format!("{b}/api/auth/register"))
                .json(&json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD, "confirmPassword": PASSWORD, "fullName": "Load"}))
                .send()
                .await
                .is_ok_and(|r| r.status() == 201)
        }
    })
    .await;
    social_load(&stack, concurrency, duration).await;
    println!();
    drop(stack);
    login_flood(100, 3).await;
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `clients` concurrent failed logins (each for a name nobody has, so each one costs a full
/// argon2id check of the dummy hash), `waves` times, against a fresh `local` process: its peak
/// RSS must stay under 200 MB (hashing is bounded to the cores, its memory blocks pooled).
async fn login_flood(clients: usize, waves: usize) {
    let stack = start_stack().await;
    let pid = stack.child.id().unwrap_or(0);
    // One login first so the dummy hash and the pools exist: the baseline is a warm process.
    let _ = stack
        .call(
            reqwest::Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "username": unique_name("warm"), "password": "guess" })),
        )
        .await;
    let baseline = rss_kib(pid).unwrap_or(0);
    let mut statuses: std::collections::BTreeMap<u16, usize> = Default::default();
    let started = Instant::now();
    for _ in 0..waves {
        let attempts = (0..clients).map(|_| {
            stack.call(
                reqwest::Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "username": unique_name("flood"), "password": "guess" })),
            )
        });
        for (status, _, _) in futures_util::future::join_all(attempts).await {
            *statuses.entry(status).or_default() += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak = peak_rss_kib(pid).unwrap_or(0);
    println!("## Failed-login flood (argon2id bounded)\n");
    println!(
        "{clients} concurrent failed logins (unknown names: each a full argon2id check), {waves} waves, against a fresh release `local` process.\n"
    );
    println!("| clients | waves | answers | wall (s) | RSS before (MB) | peak RSS (MB) |");
    println!("|---|---|---|---|---|---|");
    let answers: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}× {s}")).collect();
    println!(
        "| {clients} | {waves} | {} | {elapsed:.1} | {:.1} | {:.1} |\n",
        answers.join(", "),
        baseline as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}

/// The main social flows: every client is its own user who follows one author, likes and unlikes
/// the author's post, and messages the author in their own conversation.
async fn social_load(stack: &Stack, concurrency: usize, duration: Duration) {
    use reqwest::Method;
    let (author_id, author) = stack.new_member().await;
    let (_, _, post) = stack.upload("/api/posts", &author, "file").await;
    let post = id_of(&post);
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let (_, token) = stack.new_member().await;
        let follow = format!("/api/follow/{author_id}/follow");
        stack.call(Method::POST, &follow, Some(&token), None).await;
        let body = json!({ "userId": author_id });
        let (_, _, conversation) = stack
            .call(
                Method::POST,
                "/api/messages/conversations",
                Some(&token),
                Some(body),
            )
            .await;
        clients.push((token, id_of(&conversation["data"])));
    }
    let clients = std::sync::Arc::new(clients);
    // The scenario's argument is `worker * 1_000_000 + iteration`.
    let client_of =
        |n: usize, clients: &[(String, String)]| clients[(n / 1_000_000) % clients.len()].clone();
    let (b, c) = (stack.base.clone(), stack.client.clone());

    let (b1, c1, k1) = (b.clone(), c.clone(), clients.clone());
    load(
        stack,
        "GET /api/posts/feed (follows 1 author)",
        concurrency,
        duration,
        move |n| {
            let (b, c, (token, _)) = (b1.clone(), c1.clone(), client_of(n, &k1));
            async move {
                c.get(format!("{b}/api/posts/feed"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await;

    let (b2, c2, k2, p2) = (b.clone(), c.clone(), clients.clone(), post.clone());
    load(
        stack,
        "POST/DELETE /api/posts/{id}/like (alternating)",
        concurrency,
        duration,
        move |n| {
            let (b, c, (token, _)) = (b2.clone(), c2.clone(), client_of(n, &k2));
            let url = format!("{b}/api/posts/{p2}/like");
            async move {
                let request = if n % 2 == 0 {
                    c.post(url)
                } else {
                    c.delete(url)
                };
                request
                    .bearer_auth(token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await;

    let (b3, c3, k3, a3) = (b.clone(), c.clone(), clients.clone(), author_id.clone());
    load(stack, "POST /api/messages/messages (text + push + notification)", concurrency, duration, move |n| {
        let (b, c, (token, conversation)) = (b3.clone(), c3.clone(), client_of(n, &k3));
        let body = json!({"conversationId": conversation, "recipientId": a3, "messageType": "text", "content": "load"});
        async move {
            c.post(format!("{b}/api/messages/messages"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .is_ok_and(|r| r.status() == 201)
        }
    })
    .await;

    let (b4, c4) = (b.clone(), c.clone());
    load(
        stack,
        "GET /api/notifications (the author's)",
        concurrency,
        duration,
        move |_| {
            let (b, c, token) = (b4.clone(), c4.clone(), author.clone());
            async move {
                c.get(format!("{b}/api/notifications"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await;
}

/// The table's stream end to end: the time from a like's 200 to the `notification` frame arriving
/// on the post author's socket (the local poller → the fanout handler → the push), over `likes`
/// like/unlike pairs (each like after an unlike notifies again); and a message's `notification`
/// frame (also from the stream since the message notification moved there).
async fn stream_latency(stack: &Stack, likes: usize) {
    let (author_id, author) = stack.new_member().await;
    let (_, fan) = stack.new_member().await;
    let url = format!("ws://127.0.0.1:{}/?token={author}", stack.ws_port);
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("WebSocket: {e}"));
    let (_, _, post) = stack.upload("/api/posts", &author, "file").await;
    let post = id_of(&post);
    let like = format!("/api/posts/{post}/like");
    let mut waits = Vec::with_capacity(likes);
    let mut lost = 0;
    for _ in 0..likes {
        let (status, _, _) = stack
            .call(reqwest::Method::PUT, &like, Some(&fan), Some(json!({})))
            .await;
        let answered = Instant::now();
        assert_eq!(status, 200, "like");
        match next_notification(&mut socket, answered).await {
            Some(ms) => waits.push(ms),
            None => lost += 1,
        }
        stack
            .call(reqwest::Method::DELETE, &like, Some(&fan), None)
            .await;
    }
    let (_, conversation) = {
        let (status, _, body) = stack
            .call(
                reqwest::Method::POST,
                "/api/messages/conversations",
                Some(&fan),
                Some(json!({ "userId": author_id })),
            )
            .await;
        (status, id_of(&body["data"]))
    };
    let mut message_waits = Vec::with_capacity(likes);
    for i in 0..likes {
        // A repeat while unread refreshes the `message` notification, which pushes it again.
        let (status, _, _) = stack
            .call(
                reqwest::Method::POST,
                "/api/messages/messages",
                Some(&fan),
                Some(json!({ "conversationId": conversation, "recipientId": author_id, "messageType": "text", "content": format!("m{i}") })),
            )
            .await;
        let answered = Instant::now();
        assert_eq!(status, 201, "message");
        if let Some(ms) = next_notification(&mut socket, answered).await {
            message_waits.push(ms);
        }
    }
    let waits = sorted(waits);
    let message_waits = sorted(message_waits);
    println!("## Notification delivery: the table's stream vs the request path\n");
    println!("Time from the acknowledging response to the `notification` frame on the recipient's socket (local stack: stream poller, 20 ms idle sleep).\n");
    println!("| path | samples | lost | p50 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| like 200 → frame (stream → fanout) | {} | {lost} | {:.1} | {:.1} | {:.1} |",
        waits.len(),
        percentile(&waits, 50.0),
        percentile(&waits, 99.0),
        waits.last().copied().unwrap_or_default()
    );
    println!(
        "| message 201 → frame (stream → fanout) | {} | 0 | {:.1} | {:.1} | {:.1} |",
        message_waits.len(),
        percentile(&message_waits, 50.0),
        percentile(&message_waits, 99.0),
        message_waits.last().copied().unwrap_or_default()
    );
    println!();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Milliseconds from `started` to the next `notification` frame (10 s at most).
async fn next_notification(socket: &mut Socket, started: Instant) -> Option<f64> {
    use futures_util::StreamExt;
    let deadline = started + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                if frame["event"] == "notification" {
                    return Some(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// The benchmark's own handle on the table (the same configuration as the local stack).
async fn bench_state() -> shared::state::AppState {
    let env: std::collections::HashMap<String, String> = env_pairs().into_iter().collect();
    let config = shared::Config::from_map(&env).unwrap_or_else(|e| panic!("configuration: {e}"));
    shared::state::AppState::new(config).await
}

/// Puts items 25 per BatchWriteItem, 8 calls at a time (setup only: edges nobody made by hand).
async fn put_items(state: &shared::state::AppState, items: Vec<shared::db::Item>) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use futures_util::stream::{self, StreamExt};
    let chunks: Vec<Vec<WriteRequest>> = items
        .chunks(25)
        .map(|chunk| {
            chunk
                .iter()
                .filter_map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .ok()
                })
                .map(|put| WriteRequest::builder().put_request(put).build())
                .collect()
        })
        .collect();
    stream::iter(chunks)
        .for_each_concurrent(8, |chunk| async {
            let mut pending = chunk;
            while !pending.is_empty() {
                let out = state
                    .db
                    .client
                    .batch_write_item()
                    .request_items(&state.db.table, pending)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("BatchWriteItem: {e:?}"));
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&state.db.table))
                    .unwrap_or_default();
            }
        })
        .await;
}

/// One side of a follow edge as `Db::follow` writes it: `following` (the follower's partition)
/// or the followee's mirror.
fn edge_item(follower: &str, followee: &str, following: bool) -> shared::db::Item {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    use shared::db::keys;
    let (key, list) = if following {
        (
            keys::following(follower, followee),
            keys::following_list(follower),
        )
    } else {
        (
            keys::follower(followee, follower),
            keys::followers_list(followee),
        )
    };
    let mut item = key.to_item();
    item.insert(keys::GSI1PK.into(), S(list));
    item.insert(keys::GSI1SK.into(), S(ulid::Ulid::new().to_string()));
    item.insert("followerId".into(), S(follower.to_string()));
    item.insert("followeeId".into(), S(followee.to_string()));
    item.insert("createdAt".into(), S("2026-12-01T12:00:00.000Z".into()));
    item
}

/// Polls `user`'s timeline until it lists something (bounded); answers the last round trips.
async fn settled_timeline(stack: &Stack, token: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, calls, answer) = stack
            .call(
                reqwest::Method::GET,
                "/api/posts/timeline",
                Some(token),
                None,
            )
            .await;
        let listed = answer["data"]["posts"].as_array().map_or(0, Vec::len);
        if status == 200 && listed > 0 {
            return calls;
        }
        assert!(Instant::now() < deadline, "the timeline stayed empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Issue 12's timeline figures: the timeline read's round trips for readers following 1 / 50 /
/// 500 accounts, and one large account on top; then what one post costs the fanout function for
/// 10 / 1 000 / 10 000 followers (follower edges written straight into the table; the handler
/// called in process with the JSON Lambda sends). Reads first: the 11 000 edges and entries
/// written after them keep the local stream poller busy for a while.
async fn timeline_scale(stack: &Stack) {
    let state = bench_state().await;
    println!("## Timeline read by number of follows\n");
    println!("| reader follows | GET /api/posts/timeline round trips (auth included) |");
    println!("|---|---|");
    let (author_id, author) = stack.new_member().await;
    stack.upload("/api/posts", &author, "file").await;
    let (star_id, star) = stack.new_member().await;
    stack.upload("/api/posts", &star, "file").await;
    state
        .db
        .mark_large_account(&star_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for follows in [1usize, 50, 500] {
        let (reader_id, reader) = stack.new_member().await;
        let (status, _, _) = stack
            .call(
                reqwest::Method::POST,
                &format!("/api/follow/{author_id}/follow"),
                Some(&reader),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200, "follow");
        put_items(
            &state,
            (1..follows)
                .map(|_| edge_item(&reader_id, &ulid::Ulid::new().to_string(), true))
                .collect(),
        )
        .await;
        let calls = settled_timeline(stack, &reader).await;
        println!("| {follows} | {calls} |");
        if follows == 500 {
            let (status, _, _) = stack
                .call(
                    reqwest::Method::POST,
                    &format!("/api/follow/{star_id}/follow"),
                    Some(&reader),
                    Some(json!({})),
                )
                .await;
            assert_eq!(status, 200, "follow the large account");
            let deadline = Instant::now() + Duration::from_secs(30);
            let calls = loop {
                let (_, calls, answer) = stack
                    .call(
                        reqwest::Method::GET,
                        "/api/posts/timeline",
                        Some(&reader),
                        None,
                    )
                    .await;
                if answer["data"]["posts"].as_array().map_or(0, Vec::len) >= 2 {
                    break calls;
                }
                assert!(
                    Instant::now() < deadline,
                    "the large account was not merged"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            println!("| 500 + 1 large account (merged at read time) | {calls} |");
        }
    }
    println!();

    println!("## Timeline fan-out on write\n");
    println!("One post INSERT record through `fanout::handle` (the author's GetItem, the follower Query, the entries 25 per BatchWriteItem, 8 in flight).\n");
    println!("| followers | entries written | BatchWriteItem calls | fanout handler (ms) | per entry (ms) |");
    println!("|---|---|---|---|---|");
    for followers in [10usize, 1_000, 10_000] {
        let (author_id, _) = stack.new_member().await;
        let fans: Vec<String> = (0..followers)
            .map(|_| ulid::Ulid::new().to_string())
            .collect();
        put_items(
            &state,
            fans.iter()
                .map(|fan| edge_item(fan, &author_id, false))
                .collect(),
        )
        .await;
        let post_id = ulid::Ulid::new().to_string();
        let event = serde_json::from_value(
            json!({ "Records": [api_tests::stream_record("INSERT", 1, api_tests::post_image(&post_id, &author_id, "fan-out bench"))] }),
        )
        .unwrap_or_else(|e| panic!("event: {e}"));
        let started = Instant::now();
        let response = shared::fanout::handle(&state, event).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert!(
            response.batch_item_failures.is_empty(),
            "the fan-out failed"
        );
        // The first and the last follower have the entry.
        for fan in [&fans[0], &fans[followers - 1]] {
            let stored = state
                .db
                .timeline_entry_keys(fan, None)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stored.len(), 1, "{fan} has no entry");
        }
        let entries = followers + 1;
        println!(
            "| {followers} | {entries} | {} | {ms:.0} | {:.2} |",
            entries.div_ceil(25),
            ms / entries as f64
        );
    }
    println!();
}
