//! Each function binary, started under a fake Lambda Runtime API, answers the JSON events that
//! API Gateway's HTTP API (payload v2) sends: proof that the Lambda wiring works end to end.

use api_tests::lambda::FakeRuntime;
use api_tests::{spawn_app, unique_name};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn start(function: &str) -> FakeRuntime {
    FakeRuntime::function(function).await
}

fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap_or_default()).unwrap_or_default()
}

#[tokio::test]
async fn health_function_answers_an_http_api_event() {
    let runtime = start("health").await;
    let answer = runtime
        .invoke(fixture("http-alive.json"))
        .await
        .unwrap_or_default();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(body(&answer)["data"]["status"], "pass");
    assert!(answer["headers"]["content-type"]
        .as_str()
        .unwrap_or_default()
        .starts_with("application/json"));
}

#[tokio::test]
async fn auth_function_registers_through_an_http_api_event() {
    let _resources = spawn_app().await; // makes sure the table exists
    let runtime = start("auth").await;
    let username = unique_name("lambda");
    let event = fixture("http-auth-register.json")
        .to_string()
        .replace("__USERNAME__", &username);
    let event: Value = serde_json::from_str(&event).unwrap_or_default();

    let created = runtime.invoke(event.clone()).await.unwrap_or_default();
    assert_eq!(created["statusCode"], 201, "{created}");
    assert_eq!(
        body(&created)["data"]["user"]["username"],
        username.as_str()
    );

    // The same process serves the next invocation: the duplicate is refused.
    let duplicate = runtime.invoke(event).await.unwrap_or_default();
    assert_eq!(duplicate["statusCode"], 409, "{duplicate}");
    assert_eq!(body(&duplicate)["success"], false);
}

#[tokio::test]
async fn follow_function_lists_followers_through_an_http_api_event() {
    let app = spawn_app().await;
    let star = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    app.post(
        &format!("/api/follow/{}/follow", star.id),
        Some(&fan.access_token),
        serde_json::json!({}),
    )
    .await
    .expect(200);
    let runtime = start("follow").await;
    let event = fixture("http-follow-followers.json")
        .to_string()
        .replace("__USER_ID__", &star.id);
    let event: Value = serde_json::from_str(&event).unwrap_or_default();
    let answer = runtime.invoke(event).await.unwrap_or_default();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let data = &body(&answer)["data"];
    assert_eq!(data["followers"][0]["_id"], fan.id.as_str());
    assert_eq!(data["pagination"]["totalFollowers"], 1);
    assert_eq!(data["pagination"]["limit"], 5);
}

#[tokio::test]
async fn stories_function_lists_a_users_stories_through_an_http_api_event() {
    let app = spawn_app().await;
    let author = app.signed_in_user().await;
    let form = reqwest::multipart::Form::new().part(
        "story",
        reqwest::multipart::Part::bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec())
            .file_name("story.gif")
            .mime_str("application/octet-stream")
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let created = app
        .send(
            app.client
                .post(app.url("/api/stories"))
                .bearer_auth(&author.access_token)
                .multipart(form),
        )
        .await;
    created.expect(201);
    let runtime = start("stories").await;
    let event = fixture("http-stories-user.json")
        .to_string()
        .replace("__USER_ID__", &author.id);
    let event: Value = serde_json::from_str(&event).unwrap_or_default();
    let answer = runtime.invoke(event).await.unwrap_or_default();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let data = &body(&answer)["data"];
    assert_eq!(data["user"]["_id"], author.id.as_str());
    assert_eq!(data["stories"][0]["_id"], created.data()["_id"]);
    assert_eq!(data["stories"][0]["mediaType"], "image");
}

#[tokio::test]
async fn admin_function_lists_users_through_an_http_api_event() {
    let app = spawn_app().await;
    let root = app.signed_in_user().await;
    let listed = app.signed_in_user().await;
    match shared::admin::manage::grant_root(&app.state.db, &root.email).await {
        Ok(shared::admin::manage::Granted::Now(_)) => {}
        other => panic!("grant-root: {other:?}"),
    }
    let runtime = start("admin").await;
    let event = fixture("http-admin-users.json")
        .to_string()
        .replace("__USERNAME__", &listed.username)
        .replace("__TOKEN__", &root.access_token);
    let event: Value = serde_json::from_str(&event).unwrap_or_default();
    let answer = runtime.invoke(event).await.unwrap_or_default();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let data = &body(&answer)["data"];
    assert_eq!(data["usersCount"], 1);
    assert_eq!(data["users"][0]["_id"], listed.id.as_str());
    assert_eq!(data["users"][0]["status"], "unverified-email");

    // A user without the permission is refused by the same process.
    let event = fixture("http-admin-users.json")
        .to_string()
        .replace("__USERNAME__", &listed.username)
        .replace("__TOKEN__", &listed.access_token);
    let event: Value = serde_json::from_str(&event).unwrap_or_default();
    let refused = runtime.invoke(event).await.unwrap_or_default();
    assert_eq!(refused["statusCode"], 403, "{refused}");
    assert_eq!(body(&refused)["success"], false);
}

#[tokio::test]
async fn fanout_function_stores_a_notification_from_a_dynamodb_stream_event() {
    let app = spawn_app().await;
    let author = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let post = crate::posts_support::create_post(&app, &author, "from the stream").await;
    let runtime = start("fanout").await;
    let event = fixture("dynamodb-post-like-insert.json")
        .to_string()
        .replace("__EVENT_ID__", &ulid::Ulid::new().to_string())
        .replace("__POST_ID__", &post)
        .replace("__USER_ID__", &fan.id);
    let event: Value = serde_json::from_str(&event).unwrap_or_default();

    let answer = runtime.invoke(event.clone()).await.unwrap_or_default();
    assert_eq!(answer, serde_json::json!({ "batchItemFailures": [] }));
    let unread = || async {
        app.get(
            "/api/notifications/unread-count",
            Some(&author.access_token),
        )
        .await
        .data()["unreadCount"]
            .clone()
    };
    assert_eq!(unread().await, 1);
    let listed = app
        .get("/api/notifications", Some(&author.access_token))
        .await;
    assert_eq!(listed.data()["notifications"][0]["type"], "like");
    assert_eq!(
        listed.data()["notifications"][0]["actor"]["_id"],
        fan.id.as_str()
    );

    // The same event delivered again (a Lambda retry): nothing more.
    let again = runtime.invoke(event).await.unwrap_or_default();
    assert_eq!(again, serde_json::json!({ "batchItemFailures": [] }));
    assert_eq!(unread().await, 1);

    // A record the handler cannot read is reported by its sequence number.
    let poison = fixture("dynamodb-post-like-insert.json")
        .to_string()
        .replace("__EVENT_ID__", &ulid::Ulid::new().to_string())
        .replace("__POST_ID__", &post)
        .replace(r#"{"S":"__USER_ID__"}"#, r#"{"N":"5"}"#)
        .replace("__USER_ID__", "poison");
    let poison: Value = serde_json::from_str(&poison).unwrap_or_default();
    let answer = runtime.invoke(poison).await.unwrap_or_default();
    assert_eq!(
        answer["batchItemFailures"][0]["itemIdentifier"], "4421584500000000017450439091",
        "{answer}"
    );
}

/// Creates a Secrets Manager secret in moto (its JSON API, as the SDK would call it).
async fn create_secret(name: &str, value: &str) {
    let answer = reqwest::Client::new()
        .post(api_tests::moto_url())
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "secretsmanager.CreateSecret")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(serde_json::json!({ "Name": name, "SecretString": value }).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSecret: {e}"));
    assert!(
        answer.status().is_success(),
        "CreateSecret: {}",
        answer.status()
    );
}

/// An authenticated `GET /api/users/profile` as API Gateway sends it.
fn profile_event(token: &str) -> Value {
    let mut event = fixture("http-follow-followers.json");
    event["rawPath"] = "/api/users/profile".into();
    event["rawQueryString"] = "".into();
    event["routeKey"] = "ANY /api/users/{proxy+}".into();
    event["requestContext"]["http"]["path"] = "/api/users/profile".into();
    event["requestContext"]["routeKey"] = "ANY /api/users/{proxy+}".into();
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    event["queryStringParameters"] = serde_json::json!({});
    event["pathParameters"] = serde_json::json!({ "proxy": "profile" });
    event
}

#[tokio::test]
async fn a_function_reads_its_jwt_secret_from_secrets_manager_at_start_up() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    // The same master the suite's apps use, kept in a secret instead of the environment.
    let secret = format!("insta/jwt-{}", unique_name("s"));
    create_secret(&secret, api_tests::TEST_JWT_SECRET).await;
    let runtime = FakeRuntime::function_with_env(
        "users",
        &[("JWT_SECRET", None), ("JWT_SECRET_ID", Some(&secret))],
    )
    .await;
    let answer = runtime
        .invoke(profile_event(&user.access_token))
        .await
        .unwrap_or_default();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(body(&answer)["data"]["_id"], user.id.as_str());

    // Health never sees a token: it starts with neither variable.
    let health = FakeRuntime::function_with_env("health", &[("JWT_SECRET", None)]).await;
    let alive = health
        .invoke(fixture("http-alive.json"))
        .await
        .unwrap_or_default();
    assert_eq!(alive["statusCode"], 200, "{alive}");
    // ...and a function without the secret refuses every token rather than trusting one.
    let blind = FakeRuntime::function_with_env("users", &[("JWT_SECRET", None)]).await;
    let refused = blind
        .invoke(profile_event(&user.access_token))
        .await
        .unwrap_or_default();
    assert_eq!(refused["statusCode"], 401, "{refused}");
}
