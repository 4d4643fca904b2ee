//! A fake Lambda Runtime API: hands a function binary API Gateway events the way AWS does and
//! collects its answers. Proves the Lambda wiring in tests and measures cold starts in the benchmark.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Mutex, Notify};

#[derive(Default)]
struct Queue {
    events: Mutex<VecDeque<(String, Value)>>,
    ready: Notify,
}

/// A running fake Runtime API with one function process attached.
pub struct FakeRuntime {
    queue: Arc<Queue>,
    answers: Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    child: Child,
    pub spawned_at: Instant,
}

/// Where cargo put the workspace's binaries (next to the running test or bench executable).
pub fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    } else {
        dir
    }
}

impl FakeRuntime {
    /// Spawns the function binary `function` (built by `make test` before the suite) with the
    /// test configuration, pointed at the suite's moto.
    pub async fn function(function: &str) -> Self {
        Self::function_with_env(function, &[]).await
    }

    /// `function` with some of the test configuration changed: `(name, Some(value))` sets a
    /// variable, `(name, None)` takes it away.
    pub async fn function_with_env(function: &str, changes: &[(&str, Option<&str>)]) -> Self {
        let binary = binary_dir().join(function);
        assert!(
            binary.exists(),
            "{} is missing: `make test` builds every function binary before the suite",
            binary.display()
        );
        let mut env: Vec<(String, String)> = crate::test_env().into_iter().collect();
        env.push(("AWS_ENDPOINT_URL".into(), crate::moto_url()));
        for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            env.push((
                key.into(),
                std::env::var(key).unwrap_or_else(|_| "test".into()),
            ));
        }
        for (name, value) in changes {
            env.retain(|(k, _)| k != name);
            if let Some(value) = value {
                env.push((name.to_string(), value.to_string()));
            }
        }
        Self::start(&binary, &env)
            .await
            .unwrap_or_else(|e| panic!("spawning {function}: {e}"))
    }

    /// Starts the runtime API on a free port and spawns `binary` against it with `env`.
    pub async fn start(binary: &Path, env: &[(String, String)]) -> std::io::Result<Self> {
        let queue = Arc::new(Queue::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post({
                    let tx = tx.clone();
                    move |UrlPath(id): UrlPath<String>, body: String| async move {
                        let _ = tx.send((
                            id,
                            serde_json::from_str(&body).unwrap_or(Value::String(body)),
                        ));
                        "{}"
                    }
                }),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(
                    move |UrlPath(id): UrlPath<String>, body: String| async move {
                        let _ = tx.send((id, serde_json::json!({ "invocationError": body })));
                        "{}"
                    },
                ),
            )
            .with_state(queue.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });

        let spawned_at = Instant::now();
        let child = Command::new(binary)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "fixture")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "local")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        Ok(Self {
            queue,
            answers: Mutex::new(rx),
            child,
            spawned_at,
        })
    }

    /// Sends one event and waits for the function's answer.
    pub async fn invoke(&self, event: Value) -> Option<Value> {
        let id = ulid::Ulid::new().to_string();
        self.queue
            .events
            .lock()
            .await
            .push_back((id.clone(), event));
        self.queue.ready.notify_one();
        let mut answers = self.answers.lock().await;
        loop {
            match tokio::time::timeout(Duration::from_secs(20), answers.recv()).await {
                Ok(Some((answered, body))) if answered == id => return Some(body),
                Ok(Some(_)) => continue,
                _ => return None,
            }
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

async fn next_event(State(queue): State<Arc<Queue>>) -> (HeaderMap, String) {
    loop {
        if let Some((id, event)) = queue.events.lock().await.pop_front() {
            let mut headers = HeaderMap::new();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 30_000)
                .unwrap_or_default();
            let insert = |headers: &mut HeaderMap, name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            insert(&mut headers, "lambda-runtime-aws-request-id", id);
            insert(
                &mut headers,
                "lambda-runtime-deadline-ms",
                deadline.to_string(),
            );
            insert(
                &mut headers,
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:fixture".into(),
            );
            insert(
                &mut headers,
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".into(),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (headers, event.to_string());
        }
        queue.ready.notified().await;
    }
}
