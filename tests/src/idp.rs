//! A small identity provider for the social sign-in tests: a real HTTP server on 127.0.0.1 with
//! its own keys (test-only keys committed under `tests/fixtures/test-*`), speaking the shapes of
//! Google and Apple (JWKS, authorization and token endpoints) and of Facebook's Graph API
//! (`debug_token`, `/me`). The API under test is configured to call it instead of the real
//! providers and verifies everything with its production code path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shared::Config;

pub const GOOGLE_CLIENT_ID: &str = "test-web-client.apps.googleusercontent.com";
pub const GOOGLE_IOS_CLIENT_ID: &str = "test-ios-client.apps.googleusercontent.com";
pub const GOOGLE_CLIENT_SECRET: &str = "test-google-client-secret";
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
pub const APPLE_CLIENT_ID: &str = "app.insta.test";
pub const APPLE_TEAM_ID: &str = "TESTTEAM01";
pub const APPLE_KEY_ID: &str = "TESTKEY001";
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
pub const FACEBOOK_APP_ID: &str = "100200300400500";
pub const FACEBOOK_APP_SECRET: &str = "test-facebook-app-secret";
/// The client redirect URI on the allow-list.
pub const REDIRECT_URI: &str = "http://app.test/oauth/done";
/// The API's callback as registered with the provider; tests follow it by path.
pub const CALLBACK_URL: &str = "http://api.test/api/auth/google/callback";

const RSA_1: &str = include_str!("../fixtures/test-idp-rsa-1.pem");
const RSA_2: &str = include_str!("../fixtures/test-idp-rsa-2.pem");
const RSA_ROGUE: &str = include_str!("../fixtures/test-idp-rsa-rogue.pem");
/// The P-256 key the API signs Apple client secrets with (the `.p8` of a test team).
pub const APPLE_CLIENT_KEY_PEM: &str = include_str!("../fixtures/test-apple-client-ec.pem");
const PUBLIC_KEYS: &str = include_str!("../fixtures/test-keys.public.json");

/// The IdP's RSA keys: `One` is published from the start, `Two` once `publish_second_key` is
/// called (a rotation), `Rogue` never (a forger's key).
#[derive(Clone, Copy, Debug)]
pub enum RsaKey {
    One,
    Two,
    Rogue,
}

impl RsaKey {
    pub fn kid(self) -> &'static str {
        match self {
            Self::One => "test-key-1",
            Self::Two => "test-key-2",
            Self::Rogue => "test-key-rogue",
        }
    }

    fn pem(self) -> &'static str {
        match self {
            Self::One => RSA_1,
            Self::Two => RSA_2,
            Self::Rogue => RSA_ROGUE,
        }
    }

    fn public_name(self) -> &'static str {
        match self {
            Self::One => "rsa-1",
            Self::Two => "rsa-2",
            Self::Rogue => "rsa-rogue",
        }
    }

    fn jwk(self) -> Value {
        let public: Value = serde_json::from_str(PUBLIC_KEYS).unwrap_or_default();
        let key = &public[self.public_name()];
        json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid(), "n": key["n"], "e": key["e"] })
    }
}

/// Signs `claims` as an RS256 JWT with `key`, naming `kid` in the header.
pub fn sign(key: RsaKey, kid: &str, claims: &Value) -> String {
    let der = shared::config::pem_to_der(key.pem()).unwrap_or_default();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(&der))
        .unwrap_or_else(|e| panic!("signing a test token: {e}"))
}

pub fn now() -> i64 {
    shared::time::now_epoch()
}

enum Grant {
    Google {
        claims: Value,
        challenge: String,
        redirect_uri: String,
    },
    Apple {
        claims: Value,
    },
}

/// A Facebook user token the Graph API knows.
#[derive(Clone, Debug)]
pub struct FacebookUser {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// The app the token was issued to.
    pub app_id: String,
    pub valid: bool,
}

#[derive(Default)]
struct Inner {
    jwks_fetches: AtomicUsize,
    second_key: AtomicBool,
    token_calls: AtomicUsize,
    next_google_user: Mutex<Option<Value>>,
    grants: Mutex<HashMap<String, Grant>>,
    facebook: Mutex<HashMap<String, FacebookUser>>,
}

#[derive(Clone)]
pub struct Idp {
    pub url: String,
    inner: Arc<Inner>,
}

fn random(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new().to_string().to_lowercase())
}

impl Idp {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/debug_token", get(debug_token))
            .route("/me", get(me))
            .with_state(inner.clone());
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(err) => panic!("binding the test IdP: {err}"),
        };
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(err) => panic!("test IdP address: {err}"),
        };
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inner }
    }

    /// The test configuration with every provider pointed at this IdP.
    pub fn env(&self) -> HashMap<String, String> {
        let mut env = crate::test_env();
        let url = &self.url;
        for (key, value) in [
            (
                "GOOGLE_CLIENT_IDS",
                format!("{GOOGLE_CLIENT_ID},{GOOGLE_IOS_CLIENT_ID}"),
            ),
            ("GOOGLE_CLIENT_SECRET", GOOGLE_CLIENT_SECRET.into()),
            ("GOOGLE_JWKS_URL", format!("{url}/jwks")),
            ("GOOGLE_AUTH_URL", format!("{url}/authorize")),
            ("GOOGLE_TOKEN_URL", format!("{url}/token")),
            ("OAUTH_REDIRECT_ALLOWLIST", REDIRECT_URI.into()),
            ("OAUTH_CALLBACK_URL", CALLBACK_URL.into()),
            ("APPLE_CLIENT_IDS", APPLE_CLIENT_ID.into()),
            ("APPLE_TEAM_ID", APPLE_TEAM_ID.into()),
            ("APPLE_KEY_ID", APPLE_KEY_ID.into()),
            ("APPLE_PRIVATE_KEY", APPLE_CLIENT_KEY_PEM.into()),
            ("APPLE_JWKS_URL", format!("{url}/jwks")),
            ("APPLE_TOKEN_URL", format!("{url}/token")),
            ("FACEBOOK_APP_ID", FACEBOOK_APP_ID.into()),
            ("FACEBOOK_APP_SECRET", FACEBOOK_APP_SECRET.into()),
            ("FACEBOOK_GRAPH_URL", url.clone()),
        ] {
            env.insert(key.to_string(), value);
        }
        env
    }

    pub fn config(&self) -> Config {
        match Config::from_map(&self.env()) {
            Ok(config) => config,
            Err(err) => panic!("IdP test configuration: {err}"),
        }
    }

    pub fn jwks_fetches(&self) -> usize {
        self.inner.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn token_calls(&self) -> usize {
        self.inner.token_calls.load(Ordering::SeqCst)
    }

    /// Rotation: the JWKS document starts publishing key two as well.
    pub fn publish_second_key(&self) {
        self.inner.second_key.store(true, Ordering::SeqCst);
    }

    /// Claims of a Google ID token for `sub` (aud, iss, iat, exp filled in; override at will).
    pub fn google_claims(sub: &str, email: Option<&str>, verified: bool) -> Value {
        let mut claims = json!({
            "iss": GOOGLE_ISSUER,
            "azp": GOOGLE_CLIENT_ID,
            "aud": GOOGLE_CLIENT_ID,
            "sub": sub,
            "email_verified": verified,
            "name": "Gina Google",
            "picture": "https://lh3.googleusercontent.test/a/photo.jpg",
            "iat": now(),
            "exp": now() + 3600,
        });
        if let Some(email) = email {
            claims["email"] = json!(email);
        }
        claims
    }

    /// Claims of an Apple ID token (Apple sends `email_verified` as a string).
    pub fn apple_claims(sub: &str, email: Option<&str>, verified: bool) -> Value {
        let mut claims = json!({
            "iss": APPLE_ISSUER,
            "aud": APPLE_CLIENT_ID,
            "sub": sub,
            "email_verified": if verified { "true" } else { "false" },
            "iat": now(),
            "exp": now() + 3600,
        });
        if let Some(email) = email {
            claims["email"] = json!(email);
        }
        claims
    }

    /// A token signed with key one, as the provider would sign it.
    pub fn id_token(claims: &Value) -> String {
        sign(RsaKey::One, RsaKey::One.kid(), claims)
    }

    /// The identity `/authorize` signs in next (the person at the browser).
    pub fn set_google_user(&self, claims: Value) {
        if let Ok(mut next) = self.inner.next_google_user.lock() {
            *next = Some(claims);
        }
    }

    /// An Apple authorization code whose exchange answers an ID token with `claims`.
    pub fn apple_code(&self, claims: Value) -> String {
        let code = random("c.apple.");
        if let Ok(mut grants) = self.inner.grants.lock() {
            grants.insert(code.clone(), Grant::Apple { claims });
        }
        code
    }

    /// A Facebook user token for `user`.
    pub fn facebook_token(&self, user: FacebookUser) -> String {
        let token = random("EAAtest");
        if let Ok(mut tokens) = self.inner.facebook.lock() {
            tokens.insert(token.clone(), user);
        }
        token
    }
}

/// A client that does not follow redirects, to walk the redirect flow step by step.
pub fn manual_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

async fn jwks(State(inner): State<Arc<Inner>>) -> Response {
    inner.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let mut keys = vec![RsaKey::One.jwk()];
    if inner.second_key.load(Ordering::SeqCst) {
        keys.push(RsaKey::Two.jwk());
    }
    (
        [(
            header::CACHE_CONTROL,
            "public, max-age=300, must-revalidate",
        )],
        Json(json!({ "keys": keys })),
    )
        .into_response()
}

/// Google's authorization endpoint: the person set with `set_google_user` consents at once.
async fn authorize(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| query.get(name).cloned().unwrap_or_default();
    if param("client_id") != GOOGLE_CLIENT_ID
        || param("response_type") != "code"
        || param("code_challenge_method") != "S256"
        || param("code_challenge").is_empty()
        || !param("scope").split(' ').any(|s| s == "openid")
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let Some(mut claims) = inner.next_google_user.lock().ok().and_then(|n| n.clone()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "no user is signed in at the IdP");
    };
    claims["nonce"] = json!(param("nonce"));
    let code = random("4/0test");
    if let Ok(mut grants) = inner.grants.lock() {
        grants.insert(
            code.clone(),
            Grant::Google {
                claims,
                challenge: param("code_challenge"),
                redirect_uri: param("redirect_uri"),
            },
        );
    }
    let location = reqwest::Url::parse_with_params(
        &param("redirect_uri"),
        [("code", code.as_str()), ("state", param("state").as_str())],
    )
    .map(String::from)
    .unwrap_or_default();
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Checks an Apple client secret: ES256 by the team's key, iss = team, sub = client, aud = Apple.
fn apple_client_secret_ok(secret: &str) -> bool {
    let public: Value = serde_json::from_str(PUBLIC_KEYS).unwrap_or_default();
    let (Some(x), Some(y)) = (public["ec"]["x"].as_str(), public["ec"]["y"].as_str()) else {
        return false;
    };
    let Ok(key) = DecodingKey::from_ec_components(x, y) else {
        return false;
    };
    let Ok(header) = jsonwebtoken::decode_header(secret) else {
        return false;
    };
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[APPLE_ISSUER]);
    validation.set_issuer(&[APPLE_TEAM_ID]);
    validation.sub = Some(APPLE_CLIENT_ID.to_string());
    header.kid.as_deref() == Some(APPLE_KEY_ID)
        && jsonwebtoken::decode::<Value>(secret, &key, &validation).is_ok()
}

/// The token endpoint of both: codes are single use; Google checks the client secret, the
/// redirect URI and the PKCE verifier, Apple the client secret JWT.
async fn token(
    State(inner): State<Arc<Inner>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    inner.token_calls.fetch_add(1, Ordering::SeqCst);
    let param = |name: &str| form.get(name).cloned().unwrap_or_default();
    if param("grant_type") != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let grant = inner
        .grants
        .lock()
        .ok()
        .and_then(|mut g| g.remove(&param("code")));
    let claims = match grant {
        Some(Grant::Google {
            claims,
            challenge,
            redirect_uri,
        }) => {
            let verifier_matches = URL_SAFE_NO_PAD
                .encode(Sha256::digest(param("code_verifier").as_bytes()))
                == challenge;
            if param("client_id") != GOOGLE_CLIENT_ID
                || param("client_secret") != GOOGLE_CLIENT_SECRET
            {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
            }
            if !verifier_matches || param("redirect_uri") != redirect_uri {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            claims
        }
        Some(Grant::Apple { claims }) => {
            if param("client_id") != APPLE_CLIENT_ID
                || !apple_client_secret_ok(&param("client_secret"))
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
            }
            claims
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
    };
    Json(json!({
        "access_token": random("ya29.test"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": Idp::id_token(&claims),
    }))
    .into_response()
}

async fn debug_token(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let app_token = format!("{FACEBOOK_APP_ID}|{FACEBOOK_APP_SECRET}");
    if query.get("access_token") != Some(&app_token) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "Invalid OAuth access token.", "code": 190}})),
        )
            .into_response();
    }
    let user = query
        .get("input_token")
        .and_then(|t| inner.facebook.lock().ok()?.get(t).cloned());
    let data = match user {
        Some(user) => json!({
            "app_id": user.app_id,
            "type": "USER",
            "application": "Insta test",
            "is_valid": user.valid,
            "user_id": user.id,
            "expires_at": now() + 3600,
            "scopes": ["email", "public_profile"],
        }),
        None => json!({
            "is_valid": false,
            "error": {"code": 190, "message": "Invalid OAuth access token."},
        }),
    };
    Json(json!({ "data": data })).into_response()
}

async fn me(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let token = query.get("access_token").cloned().unwrap_or_default();
    let proof = Hmac::<Sha256>::new_from_slice(FACEBOOK_APP_SECRET.as_bytes())
        .map(|mut mac| {
            mac.update(token.as_bytes());
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let user = inner
        .facebook
        .lock()
        .ok()
        .and_then(|t| t.get(&token).cloned());
    match user {
        Some(user) if query.get("appsecret_proof") == Some(&proof) && user.valid => {
            let mut me = json!({
                "id": user.id,
                "name": user.name,
                "picture": {"data": {"url": format!("https://graph.facebook.test/{}/picture", user.id)}},
            });
            if let Some(email) = user.email {
                me["email"] = json!(email);
            }
            Json(me).into_response()
        }
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "Invalid OAuth access token.", "code": 190}})),
        )
            .into_response(),
    }
}
