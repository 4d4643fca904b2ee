//! Access tokens that must be refused: missing, malformed, tampered, expired, `alg: none`,
//! signed with another key, or for a user that no longer exists.

use api_tests::{spawn_app, TEST_JWT_SECRET};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use shared::db::users::Role;

const ROUTE: &str = "/api/auth/verify-jwt-token";

#[tokio::test]
async fn requests_without_a_token_or_with_a_bad_scheme_get_401() {
    let app = spawn_app().await;
    let none = app.post(ROUTE, None, json!({})).await;
    none.expect(401);
    assert_eq!(none.message(), "Unauthorized - Token is required");
    let basic = app
        .send(
            app.client
                .post(app.url(ROUTE))
                .header("authorization", "Basic abc")
                .json(&json!({})),
        )
        .await;
    basic.expect(401);
    app.post(ROUTE, Some("not.a.jwt"), json!({}))
        .await
        .expect(401);
}

#[tokio::test]
async fn a_tampered_token_gets_401() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let mut parts: Vec<String> = user.access_token.split('.').map(str::to_string).collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap_or_default())
        .unwrap_or_default();
    parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("\"role\":\"user\"", "\"role\":\"root\""));
    app.post(ROUTE, Some(&parts.join(".")), json!({}))
        .await
        .expect(401);
}

#[tokio::test]
async fn an_expired_token_gets_401() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let expired = app
        .state
        .tokens
        .issue_access(&user.id, 0, Role::User, 1_000)
        .unwrap_or_default();
    let response = app.post(ROUTE, Some(&expired), json!({})).await;
    response.expect(401);
    assert!(response.message().contains("expired"));
}

#[tokio::test]
async fn an_alg_none_token_gets_401() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        json!({ "sub": user.id, "tv": 0, "role": "user", "iat": 0, "exp": 4_000_000_000u64 })
            .to_string(),
    );
    app.post(ROUTE, Some(&format!("{header}.{payload}.")), json!({}))
        .await
        .expect(401);
}

#[tokio::test]
async fn a_token_signed_with_another_key_gets_401() {
    let mut env = api_tests::test_env();
    env.insert(
        "JWT_SECRET".into(),
        format!("{TEST_JWT_SECRET}-but-another-one"),
    );
    let other = shared::auth::tokens::TokenKeys::new(
        &shared::Config::from_map(&env).unwrap_or_else(|e| panic!("{e}")),
    );
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let forged = other
        .issue_access(&user.id, 0, Role::Root, shared::time::now_epoch())
        .unwrap_or_default();
    app.post(ROUTE, Some(&forged), json!({})).await.expect(401);
}

#[tokio::test]
async fn a_valid_token_for_an_unknown_user_gets_401() {
    let app = spawn_app().await;
    let ghost = ulid::Ulid::new().to_string();
    let token = app
        .state
        .tokens
        .issue_access(&ghost, 0, Role::User, shared::time::now_epoch())
        .unwrap_or_default();
    app.post(ROUTE, Some(&token), json!({})).await.expect(401);
}
