//! Social sign-in (seed 004) against a local identity provider with its own keys
//! (`api_tests::idp`): Google ID tokens and the redirect flow, Apple codes and ID tokens,
//! Facebook access tokens; linking, account creation, refusals, and the 501 of an unconfigured
//! provider.

use api_tests::idp::{self, FacebookUser, Idp, RsaKey};
use api_tests::{
    spawn_app, spawn_app_with, unique_name, TestApp, TestResponse, TestUser, PASSWORD,
};
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Url;
use serde_json::{json, Value};

async fn social_app() -> (TestApp, Idp) {
    let idp = Idp::start().await;
    let app = spawn_app_with(idp.config()).await;
    (app, idp)
}

fn subject() -> String {
    format!("1{}", ulid::Ulid::new().0 % 10u128.pow(20))
}

fn new_email() -> String {
    format!("{}@example.com", unique_name("soc"))
}

async fn set_user_attribute(app: &TestApp, user_id: &str, name: &str, value: AttributeValue) {
    let result = app
        .state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .key("PK", AttributeValue::S(format!("USER#{user_id}")))
        .key("SK", AttributeValue::S("PROFILE".into()))
        .update_expression("SET #a = :v")
        .expression_attribute_names("#a", name)
        .expression_attribute_values(":v", value)
        .send()
        .await;
    assert!(result.is_ok(), "update failed: {result:?}");
}

async fn disable(app: &TestApp, user_id: &str) {
    set_user_attribute(app, user_id, "status", AttributeValue::S("disabled".into())).await;
}

/// A password account whose email is verified (set in the table: no mail round trip).
async fn verified_password_user(app: &TestApp) -> TestUser {
    let user = app.signed_in_user().await;
    set_user_attribute(app, &user.id, "isVerified", AttributeValue::Bool(true)).await;
    user
}

async fn google(app: &TestApp, token: &str) -> TestResponse {
    app.post("/api/auth/google", None, json!({ "idToken": token }))
        .await
}

async fn apple_id_token(app: &TestApp, token: &str) -> TestResponse {
    app.post("/api/auth/apple", None, json!({ "idToken": token }))
        .await
}

async fn facebook(app: &TestApp, token: &str) -> TestResponse {
    app.post("/api/auth/facebook", None, json!({ "accessToken": token }))
        .await
}

fn user_id(response: &TestResponse) -> String {
    response.data()["user"]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The login answer plus `signedInWith` and `expiresAt`, and tokens that work.
async fn assert_signed_in(app: &TestApp, response: &TestResponse, provider: &str) -> Value {
    response.expect(200);
    let data = response.data();
    assert_eq!(data["signedInWith"], provider);
    let access = data["accessToken"].as_str().unwrap_or_default();
    assert_eq!(data["tokens"]["accessToken"], access);
    assert_eq!(data["token"], access);
    assert!(data["refreshToken"].as_str().is_some_and(|t| !t.is_empty()));
    let expires_at = data["expiresAt"].as_i64().unwrap_or_default();
    let now = idp::now();
    assert!(
        expires_at > now && expires_at <= now + 900 + 5,
        "expiresAt: {expires_at}"
    );
    let profile = app.get("/api/users/profile", Some(access)).await;
    profile.expect(200);
    assert_eq!(profile.data()["_id"], data["user"]["_id"]);
    profile.data().clone()
}

fn new_facebook_user(email: Option<&str>) -> FacebookUser {
    FacebookUser {
        id: subject(),
        name: "Fay Facebook".into(),
        email: email.map(str::to_string),
        app_id: idp::FACEBOOK_APP_ID.into(),
        valid: true,
    }
}

// ---------- configuration ----------

#[tokio::test]
async fn unconfigured_providers_answer_501_and_the_list_is_empty() {
    let app = spawn_app().await;
    let cases = [
        ("/api/auth/google", json!({ "idToken": "x" }), "Google"),
        ("/api/auth/apple", json!({ "code": "x" }), "Apple"),
        (
            "/api/auth/facebook",
            json!({ "accessToken": "x" }),
            "Facebook",
        ),
    ];
    for (path, body, name) in cases {
        let response = app.post(path, None, body).await;
        response.expect(501);
        assert_eq!(
            response.message(),
            format!("{name} sign-in is not configured on this server")
        );
    }
    let redirect = app
        .get(
            &format!("/api/auth/google?redirect_uri={}", idp::REDIRECT_URI),
            None,
        )
        .await;
    redirect.expect(501);
    let listed = app.get("/api/auth/providers", None).await;
    listed.expect(200);
    assert_eq!(listed.data()["providers"], json!([]));
    assert_eq!(listed.data()["google"]["configured"], false);
}

#[tokio::test]
async fn the_provider_list_names_what_is_configured() {
    let (app, _idp) = social_app().await;
    let listed = app.get("/api/auth/providers", None).await;
    listed.expect(200);
    assert_eq!(
        listed.data()["providers"],
        json!(["google", "apple", "facebook"])
    );
    assert_eq!(listed.data()["google"]["redirect"], true);
    assert_eq!(listed.data()["apple"]["code"], true);
}

// ---------- Google ID tokens ----------

#[tokio::test]
async fn a_google_id_token_creates_an_account_then_signs_in_to_the_same_one() {
    let (app, idp) = social_app().await;
    let sub = subject();
    let email = new_email();
    let token = Idp::id_token(&Idp::google_claims(&sub, Some(&email), true));
    let first = google(&app, &token).await;
    let profile = assert_signed_in(&app, &first, "google").await;
    assert_eq!(
        first.ddb_calls(),
        4,
        "identity and email claims, 1 transaction, the session"
    );
    let user = &first.data()["user"];
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["isVerified"], true);
    assert_eq!(user["fullName"], "Gina Google");
    assert!(user["username"]
        .as_str()
        .is_some_and(|u| u.starts_with("soc_") && u.len() <= 30));
    assert_eq!(user["provider"]["google"]["userId"], sub.as_str());
    assert_eq!(
        user["provider"]["google"]["picture"],
        "https://lh3.googleusercontent.test/a/photo.jpg"
    );
    assert!(
        user["provider"].get("local").is_none(),
        "no password: {user}"
    );
    assert_eq!(profile["provider"], user["provider"]);

    // A second token for the same person (another client id of the app): the same account.
    let mut claims = Idp::google_claims(&sub, Some(&email), true);
    claims["aud"] = json!(idp::GOOGLE_IOS_CLIENT_ID);
    let again = google(&app, &Idp::id_token(&claims)).await;
    assert_signed_in(&app, &again, "google").await;
    assert_eq!(again.ddb_calls(), 3, "identity claim, profile, session");
    assert_eq!(user_id(&again), user_id(&first));
    assert_eq!(again.data()["user"]["username"], user["username"]);
    assert_eq!(idp.jwks_fetches(), 1, "the JWKS is cached (max-age=300)");
}

#[tokio::test]
async fn a_google_token_with_a_bad_signature_is_refused() {
    let (app, _idp) = social_app().await;
    // Signed by another key but naming the provider's key id.
    let claims = Idp::google_claims(&subject(), Some(&new_email()), true);
    let forged = idp::sign(RsaKey::Rogue, RsaKey::One.kid(), &claims);
    let response = google(&app, &forged).await;
    response.expect(401);
    assert_eq!(
        response.message(),
        "Invalid Google ID token: the signature does not verify"
    );
    // A payload swapped under a genuine signature is the same failure.
    let genuine = Idp::id_token(&claims);
    let other = Idp::id_token(&Idp::google_claims(&subject(), None, true));
    let parts: Vec<&str> = genuine.split('.').collect();
    let other_payload = other.split('.').nth(1).unwrap_or_default();
    let spliced = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    google(&app, &spliced).await.expect(401);
}

async fn refused_google_claims(edit: impl Fn(&mut Value), message: &str) {
    let (app, _idp) = social_app().await;
    let mut claims = Idp::google_claims(&subject(), Some(&new_email()), true);
    edit(&mut claims);
    let response = google(&app, &Idp::id_token(&claims)).await;
    response.expect(401);
    assert_eq!(response.message(), message);
}

#[tokio::test]
async fn a_google_token_for_another_audience_is_refused() {
    refused_google_claims(
        |c| c["aud"] = json!("someone-else.apps.googleusercontent.com"),
        "Invalid Google ID token: it was issued for another client (aud)",
    )
    .await;
}

#[tokio::test]
async fn a_google_token_from_another_issuer_is_refused() {
    refused_google_claims(
        |c| c["iss"] = json!("https://accounts.evil.test"),
        "Invalid Google ID token: it was not issued by the provider (iss)",
    )
    .await;
}

#[tokio::test]
async fn an_expired_google_token_is_refused() {
    refused_google_claims(
        |c| {
            c["iat"] = json!(idp::now() - 7200);
            c["exp"] = json!(idp::now() - 3600);
        },
        "Invalid Google ID token: it has expired",
    )
    .await;
}

#[tokio::test]
async fn a_google_token_issued_in_the_future_is_refused() {
    refused_google_claims(
        |c| c["iat"] = json!(idp::now() + 600),
        "Invalid Google ID token: it was issued in the future (iat)",
    )
    .await;
}

#[tokio::test]
async fn malformed_google_tokens_are_refused_with_400_or_401() {
    let (app, _idp) = social_app().await;
    app.post("/api/auth/google", None, json!({}))
        .await
        .expect(400);
    google(&app, "not-a-jwt").await.expect(401);
    google(&app, &"a".repeat(20_000)).await.expect(401);
    // No key id in the header.
    let claims = Idp::google_claims(&subject(), None, true);
    let token = Idp::id_token(&claims);
    let payload_and_signature = token
        .split_once('.')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let header = base64_url(r#"{"alg":"RS256","typ":"JWT"}"#);
    let response = google(&app, &format!("{header}.{payload_and_signature}")).await;
    response.expect(401);
    assert!(response.message().contains("kid"), "{}", response.message());
    // alg none.
    let header = base64_url(r#"{"alg":"none","kid":"test-key-1"}"#);
    google(&app, &format!("{header}.{payload_and_signature}"))
        .await
        .expect(401);
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn an_unknown_key_id_refetches_the_keys_once_then_is_refused() {
    let (app, idp) = social_app().await;
    let sub = subject();
    let claims = Idp::google_claims(&sub, Some(&new_email()), true);
    google(&app, &Idp::id_token(&claims)).await.expect(200);
    assert_eq!(idp.jwks_fetches(), 1);

    let unknown = idp::sign(RsaKey::Rogue, RsaKey::Rogue.kid(), &claims);
    let response = google(&app, &unknown).await;
    response.expect(401);
    assert_eq!(
        response.message(),
        "Invalid Google ID token: it is signed with a key the provider does not publish"
    );
    assert_eq!(idp.jwks_fetches(), 2, "an unknown kid refetches the keys");

    // A flood of made-up key ids does not reach the provider again.
    for n in 0..5 {
        let bogus = idp::sign(RsaKey::Rogue, &format!("bogus-{n}"), &claims);
        google(&app, &bogus).await.expect(401);
    }
    assert_eq!(
        idp.jwks_fetches(),
        2,
        "unknown-kid refetches are rate limited"
    );
}

#[tokio::test]
async fn a_rotated_google_key_is_fetched_when_a_token_names_it() {
    let (app, idp) = social_app().await;
    let claims = Idp::google_claims(&subject(), Some(&new_email()), true);
    google(&app, &Idp::id_token(&claims)).await.expect(200);
    idp.publish_second_key();
    let rotated = idp::sign(RsaKey::Two, RsaKey::Two.kid(), &claims);
    google(&app, &rotated).await.expect(200);
    assert_eq!(idp.jwks_fetches(), 2);
}

// ---------- accounts: linking, no takeover, no password ----------

#[tokio::test]
async fn a_verified_google_email_links_to_the_existing_verified_account() {
    let (app, _idp) = social_app().await;
    let existing = verified_password_user(&app).await;
    let sub = subject();
    let token = Idp::id_token(&Idp::google_claims(&sub, Some(&existing.email), true));
    let response = google(&app, &token).await;
    let profile = assert_signed_in(&app, &response, "google").await;
    assert_eq!(user_id(&response), existing.id);
    assert_eq!(profile["provider"]["google"]["userId"], sub.as_str());
    assert_eq!(
        response.ddb_calls(),
        5,
        "identity and email claims, profile, 1 transaction, the session"
    );
    assert_eq!(profile["provider"]["local"]["userId"], existing.id.as_str());
    // The password and the sessions of a verified account stay.
    app.login(&existing.email, PASSWORD).await.expect(200);
    app.post(
        "/api/auth/verify-jwt-token",
        Some(&existing.access_token),
        json!({}),
    )
    .await
    .expect(200);
    // Next time the identity resolves directly.
    assert_eq!(user_id(&google(&app, &token).await), existing.id);
}

#[tokio::test]
async fn an_unverified_google_email_never_links_and_creates_a_new_account() {
    let (app, _idp) = social_app().await;
    let existing = verified_password_user(&app).await;
    let token = Idp::id_token(&Idp::google_claims(
        &subject(),
        Some(&existing.email),
        false,
    ));
    let response = google(&app, &token).await;
    assert_signed_in(&app, &response, "google").await;
    assert_ne!(user_id(&response), existing.id, "no takeover");
    let user = &response.data()["user"];
    assert_eq!(user["isVerified"], false);
    assert_eq!(user["email"], "", "an unverified email is not claimed");
    // The existing account is untouched.
    let own = app
        .get("/api/users/profile", Some(&existing.access_token))
        .await;
    own.expect(200);
    assert!(own.data()["provider"].get("google").is_none());
    // A token without any email also creates its own account.
    let bare = google(
        &app,
        &Idp::id_token(&Idp::google_claims(&subject(), None, true)),
    )
    .await;
    assert_signed_in(&app, &bare, "google").await;
    assert_ne!(user_id(&bare), user_id(&response));
}

#[tokio::test]
async fn linking_to_an_account_that_never_verified_its_email_removes_its_password() {
    let (app, _idp) = social_app().await;
    // Whoever registered this address never proved they own it.
    let squatter = app.signed_in_user().await;
    let token = Idp::id_token(&Idp::google_claims(&subject(), Some(&squatter.email), true));
    let response = google(&app, &token).await;
    let profile = assert_signed_in(&app, &response, "google").await;
    assert_eq!(user_id(&response), squatter.id);
    assert_eq!(profile["isVerified"], true);
    assert!(profile["provider"].get("local").is_none());
    app.login(&squatter.email, PASSWORD).await.expect(401);
    app.post(
        "/api/auth/verify-jwt-token",
        Some(&squatter.access_token),
        json!({}),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn a_social_account_has_no_password_until_one_is_set_by_reset() {
    let (app, _idp) = social_app().await;
    let email = new_email();
    let token = Idp::id_token(&Idp::google_claims(&subject(), Some(&email), true));
    google(&app, &token).await.expect(200);
    let no_password = app.login(&email, "").await;
    no_password.expect(400);
    let guess = app.login(&email, PASSWORD).await;
    guess.expect(401);
    let wrong = app
        .login(&app.signed_in_user().await.email, "wrong-password")
        .await;
    assert_eq!(guess.body, wrong.body, "the same 401 as a wrong password");

    app.post("/api/auth/forgot-password", None, json!({ "email": email }))
        .await
        .expect(200);
    let reset = app.last_mail(&email, "Reset").await.field("Reset token");
    app.post(
        &format!("/api/auth/reset-password/{reset}"),
        None,
        json!({ "password": "chosen-password-1", "confirmPassword": "chosen-password-1" }),
    )
    .await
    .expect(200);
    let login = app.login(&email, "chosen-password-1").await;
    login.expect(200);
    assert!(login.data()["user"]["provider"].get("local").is_some());
    assert!(login.data()["user"]["provider"].get("google").is_some());
}

#[tokio::test]
async fn a_disabled_account_is_refused_by_every_provider() {
    let (app, idp) = social_app().await;
    let google_token = Idp::id_token(&Idp::google_claims(&subject(), Some(&new_email()), true));
    let apple_token = Idp::id_token(&Idp::apple_claims(&subject(), Some(&new_email()), true));
    let facebook_token = idp.facebook_token(new_facebook_user(Some(&new_email())));
    let first = [
        google(&app, &google_token).await,
        apple_id_token(&app, &apple_token).await,
        facebook(&app, &facebook_token).await,
    ];
    for response in &first {
        response.expect(200);
        disable(&app, &user_id(response)).await;
    }
    let again = [
        google(&app, &google_token).await,
        apple_id_token(&app, &apple_token).await,
        facebook(&app, &facebook_token).await,
    ];
    for response in &again {
        response.expect(403);
        assert_eq!(response.message(), "Account is disabled");
    }
    // Linking through a verified email to a disabled account is refused too.
    let existing = verified_password_user(&app).await;
    disable(&app, &existing.id).await;
    let link = Idp::id_token(&Idp::google_claims(&subject(), Some(&existing.email), true));
    google(&app, &link).await.expect(403);
}

// ---------- Google redirect flow ----------

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    Url::parse(location)
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The `name=value` of the cookie that binds the flow to the browser.
fn browser_cookie(start: &reqwest::Response) -> String {
    let set_cookie = start
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && set_cookie.contains("Path=/api/auth/google/callback"),
        "{set_cookie}"
    );
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// Steps 1-3 of the flow: the API's 302 to the provider, the provider's 302 to the callback, and
/// the callback's 302 back to the client (carrying the flow's cookie, as the browser would).
/// Answers the callback URL (path and query, to replay), where the callback sent the browser, and
/// the cookie.
async fn run_redirect_flow(app: &TestApp, idp: &Idp, claims: Value) -> (String, String, String) {
    idp.set_google_user(claims);
    let browser = idp::manual_redirects();
    let start = browser
        .get(app.url(&format!(
            "/api/auth/google?redirect_uri={}",
            idp::REDIRECT_URI
        )))
        .send()
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    assert_eq!(start.status(), 302);
    let cookie = browser_cookie(&start);
    let to_provider = location(&start);
    assert!(to_provider.starts_with(&format!("{}/authorize?", idp.url)));
    let params = query_of(&to_provider);
    assert_eq!(params["client_id"], idp::GOOGLE_CLIENT_ID);
    assert_eq!(params["redirect_uri"], idp::CALLBACK_URL);
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert!(params["state"].len() >= 43 && !params["nonce"].is_empty());

    let consent = browser
        .get(&to_provider)
        .send()
        .await
        .unwrap_or_else(|e| panic!("authorize: {e}"));
    assert_eq!(consent.status(), 302);
    let to_callback = location(&consent);
    let path_and_query = to_callback
        .strip_prefix("http://api.test")
        .unwrap_or_else(|| panic!("callback {to_callback}"))
        .to_string();
    let back = browser
        .get(app.url(&path_and_query))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("callback: {e}"));
    assert_eq!(back.status(), 302);
    (path_and_query, location(&back), cookie)
}

#[tokio::test]
async fn the_google_redirect_flow_ends_with_a_one_time_code_for_the_token_pair() {
    let (app, idp) = social_app().await;
    let sub = subject();
    let email = new_email();
    let (_, to_client, _) =
        run_redirect_flow(&app, &idp, Idp::google_claims(&sub, Some(&email), true)).await;
    assert!(to_client.starts_with(&format!("{}?", idp::REDIRECT_URI)));
    let params = query_of(&to_client);
    assert_eq!(params.len(), 1, "only the code, never tokens: {to_client}");
    let code = &params["code"];

    let exchanged = app
        .post("/api/auth/exchange", None, json!({ "code": code }))
        .await;
    let profile = assert_signed_in(&app, &exchanged, "google").await;
    assert_eq!(exchanged.ddb_calls(), 3, "spend the code, profile, session");
    assert_eq!(profile["email"], email.as_str());
    assert_eq!(profile["provider"]["google"]["userId"], sub.as_str());

    let reused = app
        .post("/api/auth/exchange", None, json!({ "code": code }))
        .await;
    reused.expect(400);
    assert_eq!(reused.message(), "Invalid, expired or already used code");
    app.post("/api/auth/exchange", None, json!({ "code": "made-up" }))
        .await
        .expect(400);
    app.post("/api/auth/exchange", None, json!({}))
        .await
        .expect(400);

    // The same person through the ID-token endpoint: the same account.
    let direct = google(
        &app,
        &Idp::id_token(&Idp::google_claims(&sub, Some(&email), true)),
    )
    .await;
    assert_eq!(user_id(&direct), user_id(&exchanged));
}

#[tokio::test]
async fn a_replayed_or_forged_state_is_refused() {
    let (app, idp) = social_app().await;
    let (callback, _, cookie) = run_redirect_flow(
        &app,
        &idp,
        Idp::google_claims(&subject(), Some(&new_email()), true),
    )
    .await;
    let token_calls = idp.token_calls();
    let replay = app
        .send(
            app.client
                .get(app.url(&callback))
                .header(reqwest::header::COOKIE, &cookie),
        )
        .await;
    replay.expect(400);
    assert_eq!(replay.message(), "Invalid, expired or already used state");
    assert_eq!(
        idp.token_calls(),
        token_calls,
        "a replay never reaches the provider"
    );

    let forged = app
        .get(
            "/api/auth/google/callback?code=abc&state=forged-state",
            None,
        )
        .await;
    forged.expect(400);
    assert_eq!(forged.message(), "Invalid, expired or already used state");
    app.get("/api/auth/google/callback?code=abc", None)
        .await
        .expect(400);
}

#[tokio::test]
async fn an_expired_state_is_refused_even_while_its_item_exists() {
    let (app, idp) = social_app().await;
    idp.set_google_user(Idp::google_claims(&subject(), Some(&new_email()), true));
    let browser = idp::manual_redirects();
    let start = browser
        .get(app.url(&format!(
            "/api/auth/google?redirect_uri={}",
            idp::REDIRECT_URI
        )))
        .send()
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    let state = query_of(&location(&start))["state"].clone();
    let digest = app.state.tokens.digest(&state);
    let key = shared::db::keys::oauth_state(&digest);
    let result = app
        .state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .key("PK", AttributeValue::S(key.pk))
        .key("SK", AttributeValue::S(key.sk))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N((idp::now() - 1).to_string()))
        .send()
        .await;
    assert!(result.is_ok(), "{result:?}");
    let response = app
        .get(
            &format!("/api/auth/google/callback?code=abc&state={state}"),
            None,
        )
        .await;
    response.expect(400);
}

#[tokio::test]
async fn a_redirect_uri_off_the_allow_list_is_refused() {
    let (app, idp) = social_app().await;
    for uri in [
        "http://evil.test/oauth/done",
        "http://app.test/oauth/done.evil.test",
        "http://app.test/oauth/done/../steal",
        "",
    ] {
        let response = app
            .get(&format!("/api/auth/google?redirect_uri={uri}"), None)
            .await;
        response.expect(400);
        assert!(response.body["errors"]["redirect_uri"].is_string(), "{uri}");
    }
    app.get("/api/auth/google", None).await.expect(400);
    assert_eq!(idp.token_calls(), 0);
}

#[tokio::test]
async fn a_failed_redirect_sign_in_goes_back_to_the_client_as_an_error_without_a_code() {
    let (app, idp) = social_app().await;
    let mut claims = Idp::google_claims(&subject(), Some(&new_email()), true);
    claims["aud"] = json!("someone-else.apps.googleusercontent.com");
    let (_, to_client, _) = run_redirect_flow(&app, &idp, claims).await;
    let params = query_of(&to_client);
    assert!(to_client.starts_with(idp::REDIRECT_URI));
    assert_eq!(params["error"], "access_denied");
    assert!(params["error_description"].contains("aud"));
    assert!(!params.contains_key("code"));
}

// ---------- Apple ----------

#[tokio::test]
async fn an_apple_code_creates_an_account_keeping_the_first_name_then_signs_in_again() {
    let (app, idp) = social_app().await;
    let sub = format!(
        "001765.{}.2416",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let relay = format!("{}@privaterelay.appleid.com", unique_name("rel"));
    let mut claims = Idp::apple_claims(&sub, Some(&relay), false);
    claims["is_private_email"] = json!("true");
    let code = idp.apple_code(claims.clone());
    let first = app
        .post(
            "/api/auth/apple",
            None,
            json!({ "code": code, "user": { "name": { "firstName": "Ada", "lastName": "Lovelace" } } }),
        )
        .await;
    let profile = assert_signed_in(&app, &first, "apple").await;
    assert_eq!(profile["fullName"], "Ada Lovelace");
    assert_eq!(profile["email"], relay.as_str());
    assert_eq!(
        profile["isVerified"], true,
        "private-relay emails are verified"
    );
    assert_eq!(profile["provider"]["apple"]["userId"], sub.as_str());

    // Apple sends the name only once; the code is single use.
    let reused = app
        .post("/api/auth/apple", None, json!({ "code": code }))
        .await;
    reused.expect(401);
    assert!(reused
        .message()
        .contains("Apple refused the authorization code"));
    let again = app
        .post(
            "/api/auth/apple",
            None,
            json!({ "code": idp.apple_code(claims) }),
        )
        .await;
    assert_signed_in(&app, &again, "apple").await;
    assert_eq!(user_id(&again), user_id(&first));
    assert_eq!(again.data()["user"]["fullName"], "Ada Lovelace");
}

#[tokio::test]
async fn an_apple_id_token_is_accepted_directly_and_links_a_verified_email() {
    let (app, _idp) = social_app().await;
    let existing = verified_password_user(&app).await;
    let token = Idp::id_token(&Idp::apple_claims(&subject(), Some(&existing.email), true));
    let response = apple_id_token(&app, &token).await;
    assert_signed_in(&app, &response, "apple").await;
    assert_eq!(user_id(&response), existing.id);

    let unverified = Idp::id_token(&Idp::apple_claims(&subject(), Some(&existing.email), false));
    let response = apple_id_token(&app, &unverified).await;
    assert_signed_in(&app, &response, "apple").await;
    assert_ne!(
        user_id(&response),
        existing.id,
        "email_verified false never links"
    );
    app.post("/api/auth/apple", None, json!({}))
        .await
        .expect(400);
}

#[tokio::test]
async fn apple_tokens_that_do_not_verify_are_refused() {
    let (app, idp) = social_app().await;
    let good = || Idp::apple_claims(&subject(), Some(&new_email()), true);
    let mut wrong_aud = good();
    wrong_aud["aud"] = json!("com.other.app");
    let mut wrong_iss = good();
    wrong_iss["iss"] = json!(idp::GOOGLE_ISSUER);
    let mut expired = good();
    expired["iat"] = json!(idp::now() - 7200);
    expired["exp"] = json!(idp::now() - 3600);
    let cases = [
        (
            idp::sign(RsaKey::Rogue, RsaKey::One.kid(), &good()),
            "the signature does not verify",
        ),
        (
            Idp::id_token(&wrong_aud),
            "it was issued for another client (aud)",
        ),
        (
            Idp::id_token(&wrong_iss),
            "it was not issued by the provider (iss)",
        ),
        (Idp::id_token(&expired), "it has expired"),
        (
            idp::sign(RsaKey::Rogue, RsaKey::Rogue.kid(), &good()),
            "it is signed with a key the provider does not publish",
        ),
    ];
    for (token, reason) in cases {
        let response = apple_id_token(&app, &token).await;
        response.expect(401);
        assert_eq!(
            response.message(),
            format!("Invalid Apple ID token: {reason}")
        );
    }
    // The same checks apply to the token a code exchange answers.
    let response = app
        .post(
            "/api/auth/apple",
            None,
            json!({ "code": idp.apple_code(expired_claims()) }),
        )
        .await;
    response.expect(401);
    assert_eq!(response.message(), "Invalid Apple ID token: it has expired");
    assert_eq!(
        idp.jwks_fetches(),
        2,
        "one fetch, one refetch for the unknown kid"
    );
}

fn expired_claims() -> Value {
    let mut claims = Idp::apple_claims(&subject(), None, true);
    claims["iat"] = json!(idp::now() - 7200);
    claims["exp"] = json!(idp::now() - 3600);
    claims
}

#[tokio::test]
async fn an_apple_code_needs_the_signing_key_configured() {
    let idp = Idp::start().await;
    let mut env = idp.env();
    for key in ["APPLE_TEAM_ID", "APPLE_KEY_ID", "APPLE_PRIVATE_KEY"] {
        env.remove(key);
    }
    let config = shared::Config::from_map(&env).unwrap_or_else(|e| panic!("{e}"));
    let app = spawn_app_with(config).await;
    let response = app
        .post(
            "/api/auth/apple",
            None,
            json!({ "code": idp.apple_code(Idp::apple_claims(&subject(), None, true)) }),
        )
        .await;
    response.expect(501);
    let token = Idp::id_token(&Idp::apple_claims(&subject(), None, true));
    apple_id_token(&app, &token).await.expect(200);
}

// ---------- Facebook ----------

#[tokio::test]
async fn a_facebook_token_creates_an_account_then_signs_in_to_the_same_one() {
    let (app, idp) = social_app().await;
    let email = new_email();
    let fb = new_facebook_user(Some(&email));
    let token = idp.facebook_token(fb.clone());
    let first = facebook(&app, &token).await;
    let profile = assert_signed_in(&app, &first, "facebook").await;
    assert_eq!(profile["email"], email.as_str());
    assert_eq!(profile["fullName"], "Fay Facebook");
    assert_eq!(profile["provider"]["facebook"]["userId"], fb.id.as_str());
    assert!(profile["provider"]["facebook"]["picture"]
        .as_str()
        .is_some_and(|p| p.contains(&fb.id)));
    let again = facebook(&app, &idp.facebook_token(fb)).await;
    assert_signed_in(&app, &again, "facebook").await;
    assert_eq!(user_id(&again), user_id(&first));
}

#[tokio::test]
async fn facebook_tokens_that_do_not_check_out_are_refused() {
    let (app, idp) = social_app().await;
    let mut other_app = new_facebook_user(Some(&new_email()));
    other_app.app_id = "999999".into();
    let mut expired = new_facebook_user(Some(&new_email()));
    expired.valid = false;
    let cases = [
        ("EAAmadeup".to_string(), "it is invalid, expired or revoked"),
        (
            idp.facebook_token(other_app),
            "it was issued for another app",
        ),
        (
            idp.facebook_token(expired),
            "it is invalid, expired or revoked",
        ),
    ];
    for (token, reason) in cases {
        let response = facebook(&app, &token).await;
        response.expect(401);
        assert_eq!(
            response.message(),
            format!("Invalid Facebook access token: {reason}")
        );
    }
    app.post("/api/auth/facebook", None, json!({}))
        .await
        .expect(400);
}

#[tokio::test]
async fn facebook_links_only_through_an_email_it_answers() {
    let (app, idp) = social_app().await;
    let existing = verified_password_user(&app).await;
    let linked = facebook(
        &app,
        &idp.facebook_token(new_facebook_user(Some(&existing.email))),
    )
    .await;
    assert_signed_in(&app, &linked, "facebook").await;
    assert_eq!(user_id(&linked), existing.id);

    // No (confirmed) email: a new account, no link.
    let phone_only = facebook(&app, &idp.facebook_token(new_facebook_user(None))).await;
    assert_signed_in(&app, &phone_only, "facebook").await;
    assert_ne!(user_id(&phone_only), existing.id);
    assert_eq!(phone_only.data()["user"]["isVerified"], false);
}

#[tokio::test]
async fn a_deleted_account_frees_its_identity_for_a_new_account() {
    let (app, _idp) = social_app().await;
    let email = new_email();
    let token = Idp::id_token(&Idp::google_claims(&subject(), Some(&email), true));
    let first = google(&app, &token).await;
    first.expect(200);
    let user = app
        .state
        .db
        .get_user(&user_id(&first))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no user"));
    shared::cascade::delete_account(&app.state, &user)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let claim = shared::db::keys::identity("google", &user.providers["google"].user_id);
    assert_eq!(
        app.state.db.claimed_user_id(&claim).await.ok().flatten(),
        None,
        "the cascade removes the identity claim"
    );
    let again = google(&app, &token).await;
    assert_signed_in(&app, &again, "google").await;
    assert_ne!(user_id(&again), user.id);
    assert_eq!(again.data()["user"]["email"], email.as_str());
}

#[tokio::test]
async fn a_callback_in_a_browser_that_did_not_start_the_flow_is_refused() {
    let (app, idp) = social_app().await;
    // The attacker starts a flow and consents as themselves, then sends the victim the callback.
    idp.set_google_user(Idp::google_claims(&subject(), Some(&new_email()), true));
    let attacker = idp::manual_redirects();
    let start = attacker
        .get(app.url(&format!(
            "/api/auth/google?redirect_uri={}",
            idp::REDIRECT_URI
        )))
        .send()
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    let consent = attacker
        .get(location(&start))
        .send()
        .await
        .unwrap_or_else(|e| panic!("authorize: {e}"));
    let callback = location(&consent).replace("http://api.test", "");
    let victim = app.get(&callback, None).await;
    victim.expect(400);
    assert!(victim.message().contains("started in another browser"));
    let forged_cookie = app
        .send(
            app.client
                .get(app.url(&callback))
                .header(reqwest::header::COOKIE, "insta_oauth=guessed"),
        )
        .await;
    forged_cookie.expect(400);
    assert_eq!(idp.token_calls(), 0, "the code was never exchanged");
}

#[tokio::test]
async fn the_redirect_flow_needs_its_secret_and_an_unreachable_provider_is_a_503() {
    let idp = Idp::start().await;
    let mut env = idp.env();
    env.remove("GOOGLE_CLIENT_SECRET");
    // Nothing listens on port 9 of the loopback.
    env.insert("GOOGLE_JWKS_URL".into(), "http://127.0.0.1:9/jwks".into());
    let config = shared::Config::from_map(&env).unwrap_or_else(|e| panic!("{e}"));
    let app = spawn_app_with(config).await;
    let redirect = app
        .get(
            &format!("/api/auth/google?redirect_uri={}", idp::REDIRECT_URI),
            None,
        )
        .await;
    redirect.expect(501);
    assert_eq!(
        redirect.message(),
        "Google redirect sign-in is not configured on this server"
    );
    let listed = app.get("/api/auth/providers", None).await;
    assert_eq!(listed.data()["google"]["redirect"], false);

    let token = Idp::id_token(&Idp::google_claims(&subject(), None, true));
    let unreachable = google(&app, &token).await;
    unreachable.expect(503);
    assert!(unreachable.headers.contains_key("retry-after"));
}
