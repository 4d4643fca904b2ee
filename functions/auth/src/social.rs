//! Social sign-in (seed 004): Google, Apple and Facebook, the Google redirect flow and its
//! one-time code exchange, and the list of configured providers.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use shared::auth::accounts;
use shared::auth::social::identities::account_for;
use shared::auth::social::redirect::{self, CallbackQuery};
use shared::auth::social::{Identity, Provider};
use shared::db::users::UserRecord;
use shared::http::{ok, ApiJson};
use shared::time::now_epoch;
use shared::views::OwnUser;
use shared::{ApiError, ApiResult, AppState};

use super::with_tokens;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/auth/google",
            get(google_redirect).post(google_sign_in),
        )
        .route("/api/auth/google/callback", get(google_callback))
        .route("/api/auth/apple", post(apple_sign_in))
        .route("/api/auth/facebook", post(facebook_sign_in))
        .route("/api/auth/exchange", post(exchange))
        .route("/api/auth/providers", get(providers))
}

/// The login answer plus `signedInWith`, `expiresAt` (access token expiry, epoch seconds) and
/// seed 004's `token`.
async fn signed_in(state: &AppState, user: UserRecord, provider: Provider) -> ApiResult<Response> {
    let pair = accounts::open_session(state, &user).await?;
    let expires_at = now_epoch() + state.tokens.access_ttl();
    let access = pair.access_token.clone();
    let own = OwnUser::from_record(&user, &state.media).await;
    let mut data = with_tokens(json!({ "user": own }), pair);
    data["token"] = json!(access);
    data["expiresAt"] = json!(expires_at);
    data["signedInWith"] = json!(provider.as_str());
    Ok(ok("Login successful", data).into_response())
}

async fn sign_in(state: &AppState, identity: Identity, name: Option<&str>) -> ApiResult<Response> {
    let user = account_for(state, &identity, name).await?;
    signed_in(state, user, identity.provider).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoogleBody {
    #[serde(default)]
    id_token: String,
}

async fn google_sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<GoogleBody>,
) -> ApiResult<Response> {
    let google = state.social.google()?;
    let identity = google
        .verify_id_token(&state.social.http, &body.id_token, None)
        .await?;
    sign_in(&state, identity, None).await
}

/// A 302 that also carries the envelope, for clients that read bodies of redirects.
fn found(location: String) -> ApiResult<Response> {
    let value = HeaderValue::from_str(&location)
        .map_err(|_| ApiError::internal("redirect location is not a header value"))?;
    let body = json!({
        "success": true,
        "message": "Redirecting",
        "data": { "location": location },
    });
    let mut response = (StatusCode::FOUND, axum::Json(body)).into_response();
    response.headers_mut().insert(header::LOCATION, value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
struct RedirectQuery {
    #[serde(default)]
    redirect_uri: Option<String>,
}

fn with_cookie(mut response: Response, cookie: &str) -> ApiResult<Response> {
    let value = HeaderValue::from_str(cookie)
        .map_err(|_| ApiError::internal("cookie is not a header value"))?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}

/// The flow's cookie as the browser sent it.
fn browser_binding(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == redirect::BROWSER_COOKIE)
        .map(|(_, value)| value.to_string())
}

async fn google_redirect(
    State(state): State<AppState>,
    Query(query): Query<RedirectQuery>,
) -> ApiResult<Response> {
    let started = redirect::start(&state, query.redirect_uri.as_deref()).await?;
    let cookie = redirect::browser_cookie(&state, &started.browser_binding);
    with_cookie(found(started.location)?, &cookie)
}

async fn google_callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let binding = browser_binding(&headers);
    let location = redirect::callback(&state, query, binding.as_deref()).await?;
    // The flow is over: the browser forgets its cookie.
    with_cookie(found(location)?, &redirect::browser_cookie(&state, ""))
}

#[derive(Deserialize)]
struct ExchangeBody {
    #[serde(default)]
    code: String,
}

async fn exchange(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ExchangeBody>,
) -> ApiResult<Response> {
    let (user, provider) = redirect::exchange(&state, &body.code).await?;
    signed_in(&state, user, provider).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppleBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    /// `{"name": {"firstName", "lastName"}}`, as an object or as the JSON string Apple posts;
    /// only sent on the first sign-in.
    #[serde(default)]
    user: Option<Value>,
}

/// The name Apple sends once, from either shape of `user`.
fn apple_name(user: Option<&Value>) -> Option<String> {
    let parsed;
    let user = match user? {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    let name = &user["name"];
    let joined = [&name["firstName"], &name["lastName"]]
        .iter()
        .filter_map(|part| part.as_str())
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

async fn apple_sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AppleBody>,
) -> ApiResult<Response> {
    let apple = state.social.apple()?;
    let http = &state.social.http;
    let id_token = body.id_token.as_deref().map(str::trim).unwrap_or_default();
    let code = body.code.as_deref().map(str::trim).unwrap_or_default();
    let identity = if !id_token.is_empty() {
        apple.verify_id_token(http, id_token).await?
    } else if !code.is_empty() {
        apple.sign_in_with_code(http, code).await?
    } else {
        return Err(ApiError::invalid_field(
            "code",
            "code or idToken is required",
        ));
    };
    let name = apple_name(body.user.as_ref());
    sign_in(&state, identity, name.as_deref()).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FacebookBody {
    #[serde(default)]
    access_token: String,
}

async fn facebook_sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<FacebookBody>,
) -> ApiResult<Response> {
    let facebook = state.social.facebook()?;
    let identity = facebook
        .verify(&state.social.http, &body.access_token)
        .await?;
    sign_in(&state, identity, None).await
}

async fn providers(State(state): State<AppState>) -> impl IntoResponse {
    ok("Social sign-in providers", state.social.describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apples_user_name_reads_from_an_object_or_a_string() {
        let object = json!({"name": {"firstName": "Ada", "lastName": "Lovelace"}});
        assert_eq!(apple_name(Some(&object)).as_deref(), Some("Ada Lovelace"));
        let text = json!(r#"{"name":{"firstName":"Ada"},"email":"a@b.c"}"#);
        assert_eq!(apple_name(Some(&text)).as_deref(), Some("Ada"));
        assert_eq!(apple_name(Some(&json!("not json"))), None);
        assert_eq!(apple_name(None), None);
    }
}
