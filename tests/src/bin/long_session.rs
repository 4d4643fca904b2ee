//! The long-session benchmark (`make bench-long`): thousands of mixed requests against ONE local
//! stack as `make dev` runs it (registrations, posts with images, likes, comments, messages, feed
//! reads), then the p50 of the first and the last 500 requests and the resident memory of the
//! local process and of moto along the way. Prints markdown for BENCHMARKS.md.
//!
//! Needs `BENCH_BASE_URL` (the stack), `BENCH_LOCAL_PID` and `BENCH_MOTO_PID` (for RSS);
//! `BENCH_REQUESTS` (5000) and `BENCH_CONCURRENCY` (4).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use api_tests::{unique_name, JPEG, PASSWORD};
use reqwest::{Client, Method};
use serde_json::{json, Value};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

fn p50(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

#[derive(Clone)]
struct Api {
    base: String,
    client: Client,
}

#[derive(Clone)]
struct Member {
    id: String,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
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
                (status, response.json().await.unwrap_or_default())
            }
            Err(_) => (0, Value::Null),
        }
    }

    async fn post_image(&self, token: &str) -> (u16, Value) {
        let Ok(part) = reqwest::multipart::Part::bytes(JPEG.to_vec())
            .file_name("long.jpg")
            .mime_str("image/jpeg")
        else {
            return (0, Value::Null);
        };
        let form = reqwest::multipart::Form::new()
            .text("caption", "long session #bench")
            .part("file", part);
        let response = self
            .client
            .post(format!("{}/api/posts", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or_default())
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Registers and logs in (2 requests).
    async fn member(&self) -> Option<Member> {
        let name = unique_name("long");
        let email = format!("{name}@example.com");
        let body = json!({"email": email, "username": name, "password": PASSWORD, "confirmPassword": PASSWORD, "fullName": "Long"});
        let (status, registered) = self
            .call(Method::POST, "/api/auth/register", None, Some(body))
            .await;
        if status != 201 {
            return None;
        }
        let (_, login) = self
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        Some(Member {
            id: registered["data"]["user"]["_id"].as_str()?.to_string(),
            token: login["data"]["accessToken"].as_str()?.to_string(),
        })
    }
}

/// Shared state of the session: members and posts created so far.
#[derive(Default)]
struct World {
    members: Vec<Member>,
    posts: Vec<String>,
}

#[tokio::main]
async fn main() {
    let base = std::env::var("BENCH_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let requests: usize = env_or("BENCH_REQUESTS", 5000);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 4);
    let local_pid: u32 = env_or("BENCH_LOCAL_PID", 0);
    let moto_pid: u32 = env_or("BENCH_MOTO_PID", 0);
    let api = Api {
        base,
        client: Client::new(),
    };

    // A few members and posts to start from (not timed).
    let world = Arc::new(Mutex::new(World::default()));
    for _ in 0..8 {
        if let Some(member) = api.member().await {
            let (_, post) = api.post_image(&member.token).await;
            let mut w = world
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(id) = post["data"]["_id"].as_str() {
                w.posts.push(id.to_string());
            }
            w.members.push(member);
        }
    }
    let rss_start = (rss_mib(local_pid), rss_mib(moto_pid));

    let next = Arc::new(AtomicUsize::new(0));
    // (index, kind, latency ms, status)
    let samples = Arc::new(Mutex::new(Vec::with_capacity(requests)));
    let rss_mid = Arc::new(Mutex::new((f64::NAN, f64::NAN)));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (api, world, next, samples, rss_mid) =
                (api.clone(), world.clone(), next.clone(), samples.clone(), rss_mid.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= requests {
                        break;
                    }
                    if i == requests / 2 {
                        let mut mid = rss_mid.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        *mid = (rss_mib(local_pid), rss_mib(moto_pid));
                    }
                    let (me, other, post) = {
                        let w = world.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let n = w.members.len().max(1);
                        let me = w.members.get(i % n).cloned();
                        let other = w.members.get((i * 7 + 3) % n).cloned();
                        let post = w.posts.get((i * 13) % w.posts.len().max(1)).cloned();
                        (me, other, post)
                    };
                    let (Some(me), Some(other), Some(post)) = (me, other, post) else {
                        continue;
                    };
                    let t = Instant::now();
                    // 1 in 20 a registration, then a mix of the main flows.
                    let (kind, status) = match i % 20 {
                        0 => {
                            let name = unique_name("lreg");
                            let body = json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD, "confirmPassword": PASSWORD, "fullName": "Long"});
                            let (status, _) = api.call(Method::POST, "/api/auth/register", None, Some(body)).await;
                            ("register", status)
                        }
                        1 | 11 => {
                            let (status, created) = api.post_image(&me.token).await;
                            if let Some(id) = created["data"]["_id"].as_str() {
                                world.lock().unwrap_or_else(std::sync::PoisonError::into_inner).posts.push(id.to_string());
                            }
                            ("post with image", status)
                        }
                        2 | 5 | 8 | 14 | 17 => {
                            let method = if (i / 20) % 2 == 0 { Method::POST } else { Method::DELETE };
                            let (status, _) = api.call(method, &format!("/api/posts/{post}/like"), Some(&me.token), None).await;
                            ("like/unlike", status)
                        }
                        3 | 9 | 15 => {
                            let (status, _) = api
                                .call(Method::POST, &format!("/api/posts/{post}/comments"), Some(&me.token), Some(json!({"content": "nice one"})))
                                .await;
                            ("comment", status)
                        }
                        4 | 10 | 16 => {
                            let (status, conversation) = api
                                .call(Method::POST, "/api/messages/conversations", Some(&me.token), Some(json!({"userId": other.id})))
                                .await;
                            let conversation = conversation["data"]["_id"].as_str().unwrap_or_default().to_string();
                            if status >= 400 || me.id == other.id {
                                ("message", status)
                            } else {
                                let body = json!({"conversationId": conversation, "recipientId": other.id, "messageType": "text", "content": "hello"});
                                let (status, _) = api.call(Method::POST, "/api/messages/messages", Some(&me.token), Some(body)).await;
                                ("message", status)
                            }
                        }
                        6 | 12 | 18 => {
                            let (status, _) = api.call(Method::POST, &format!("/api/follow/{}/follow", other.id), Some(&me.token), None).await;
                            ("follow", status)
                        }
                        7 | 13 => {
                            let (status, _) = api.call(Method::GET, "/api/posts/feed", Some(&me.token), None).await;
                            ("feed", status)
                        }
                        _ => {
                            let (status, _) = api.call(Method::GET, &format!("/api/posts/{post}/comments"), Some(&me.token), None).await;
                            ("comments page", status)
                        }
                    };
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((i, kind, ms, status));
                    // Every 100th request adds a member (not timed) so the user pool grows too.
                    if i % 100 == 99 {
                        if let Some(member) = api.member().await {
                            world.lock().unwrap_or_else(std::sync::PoisonError::into_inner).members.push(member);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = (rss_mib(local_pid), rss_mib(moto_pid));
    let mut samples = samples
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    samples.sort_by_key(|s| s.0);
    let latencies: Vec<f64> = samples.iter().map(|s| s.2).collect();
    let errors = samples.iter().filter(|s| s.3 == 0 || s.3 >= 500).count();
    let window = 500.min(latencies.len());
    let first = p50(&latencies[..window]);
    let last = p50(&latencies[latencies.len() - window..]);
    let rss_mid = *rss_mid
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);

    println!("| requests | clients | time (s) | 5xx/failed | p50 first 500 (ms) | p50 last 500 (ms) | last/first | local RSS start/mid/end (MiB) | moto RSS start/mid/end (MiB) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {concurrency} | {elapsed:.0} | {errors} | {first:.1} | {last:.1} | {:.2} | {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} |",
        samples.len(),
        last / first,
        rss_start.0, rss_mid.0, rss_end.0, rss_start.1, rss_mid.1, rss_end.1
    );
    println!();
    println!("| kind | requests | p50 first half (ms) | p50 second half (ms) |");
    println!("|---|---|---|---|");
    let half = samples.len() / 2;
    let mut kinds: Vec<&str> = samples.iter().map(|s| s.1).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let of = |range: &[(usize, &str, f64, u16)]| -> Vec<f64> {
            range.iter().filter(|s| s.1 == kind).map(|s| s.2).collect()
        };
        let count = samples.iter().filter(|s| s.1 == kind).count();
        println!(
            "| {kind} | {count} | {:.1} | {:.1} |",
            p50(&of(&samples[..half])),
            p50(&of(&samples[half..]))
        );
    }
}
