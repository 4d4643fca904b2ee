//! The browser redirect flow (live clients): `GET /api/auth/google?redirect_uri=` checks the
//! redirect against the allow-list and sends the browser to Google with a `state` (256 random
//! bits; only its HMAC is stored, single use, 10 minutes) and a PKCE S256 challenge. The callback
//! spends the state, exchanges the code with the verifier, verifies the ID token (and its nonce)
//! and sends the browser back to the client with a one-time code, never with tokens; the client
//! swaps the code for the token pair with `POST /api/auth/exchange`.
//!
//! The flow is also bound to the browser that started it: the start sets a random value in a
//! cookie scoped to the callback path, the state item keeps its HMAC, and the callback refuses a
//! browser without it. A link to someone else's callback (login CSRF: signing a victim in to the
//! attacker's account) therefore goes nowhere.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::identities::account_for;
use super::Provider;
use crate::auth::tokens::{random_secret, same_digest};
use crate::db::identities::{OAuthCodeRecord, OAuthStateRecord};
use crate::db::users::UserRecord;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::now_epoch;

pub const STATE_TTL_SECS: i64 = 600;
/// The cookie that binds a flow to its browser (`Path` = the callback).
pub const BROWSER_COOKIE: &str = "insta_oauth";
/// The client swaps the code right after the redirect.
pub const CODE_TTL_SECS: i64 = 120;
/// `state` and codes are 43 characters; anything much longer is refused unread.
const MAX_SECRET_LEN: usize = 128;
const MAX_REDIRECT_URI_LEN: usize = 2048;

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

fn redirect_not_configured() -> ApiError {
    ApiError::NotImplemented("Google redirect sign-in is not configured on this server".into())
}

fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A new flow: where to send the browser, and the value of its `BROWSER_COOKIE`.
pub struct Started {
    pub location: String,
    pub browser_binding: String,
}

/// The `Set-Cookie` value that binds the flow to the browser (`Secure` when the callback is https).
pub fn browser_cookie(state: &AppState, value: &str) -> String {
    let secure = state
        .social
        .callback_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let path = state
        .social
        .callback_url
        .as_deref()
        .and_then(|url| reqwest::Url::parse(url).ok())
        .map(|url| url.path().to_string())
        .unwrap_or_else(|| "/".into());
    let max_age = if value.is_empty() { 0 } else { STATE_TTL_SECS };
    format!(
        "{BROWSER_COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The provider's authorization URL for a new flow that ends at `redirect_uri`.
pub async fn start(state: &AppState, redirect_uri: Option<&str>) -> ApiResult<Started> {
    let google = state.social.google()?;
    let social = &state.social;
    let callback = match &social.callback_url {
        Some(url) if google.can_redirect() && !social.redirect_allowlist.is_empty() => url,
        _ => return Err(redirect_not_configured()),
    };
    let redirect_uri = redirect_uri.map(str::trim).unwrap_or_default();
    if redirect_uri.is_empty() {
        return Err(ApiError::invalid_field(
            "redirect_uri",
            "redirect_uri is required",
        ));
    }
    if redirect_uri.len() > MAX_REDIRECT_URI_LEN
        || !social.redirect_allowlist.iter().any(|a| a == redirect_uri)
    {
        return Err(ApiError::invalid_field(
            "redirect_uri",
            "redirect_uri is not on this server's allow-list",
        ));
    }
    let flow_state = random_secret();
    let verifier = random_secret();
    let nonce = random_secret();
    let browser_binding = random_secret();
    let now = now_epoch();
    let record = OAuthStateRecord {
        provider: Provider::Google.as_str().into(),
        redirect_uri: redirect_uri.to_string(),
        code_verifier: verifier.clone(),
        nonce: nonce.clone(),
        browser_hash: state.tokens.digest(&browser_binding),
        expires_at: now + STATE_TTL_SECS,
        ttl: now + STATE_TTL_SECS,
    };
    state
        .db
        .put_oauth_state(&state.tokens.digest(&flow_state), &record)
        .await?;
    let location =
        google.authorize_url(callback, &flow_state, &code_challenge(&verifier), &nonce)?;
    Ok(Started {
        location,
        browser_binding,
    })
}

fn with_params(base: &str, params: &[(&str, &str)]) -> ApiResult<String> {
    reqwest::Url::parse_with_params(base, params)
        .map(String::from)
        .map_err(|err| ApiError::internal(format!("redirect_uri on the allow-list: {err}")))
}

/// Where the callback sends the browser: the client's redirect URI with `code`, or with `error`
/// (and `error_description`) when the sign-in failed after the state checked out.
/// `browser_binding` is the flow's cookie as the browser sent it.
pub async fn callback(
    state: &AppState,
    query: CallbackQuery,
    browser_binding: Option<&str>,
) -> ApiResult<String> {
    let invalid = || ApiError::bad_request("Invalid, expired or already used state");
    let raw = query.state.as_deref().map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(ApiError::invalid_field("state", "state is required"));
    }
    if raw.len() > MAX_SECRET_LEN {
        return Err(invalid());
    }
    let record = state
        .db
        .consume_oauth_state(&state.tokens.digest(raw), now_epoch())
        .await?
        .filter(|r| r.provider == Provider::Google.as_str())
        .ok_or_else(invalid)?;
    let same_browser = browser_binding
        .filter(|b| b.len() <= MAX_SECRET_LEN)
        .is_some_and(|b| same_digest(&state.tokens.digest(b), &record.browser_hash));
    if !same_browser {
        return Err(ApiError::bad_request(
            "This sign-in was started in another browser (or its cookie was blocked); start again",
        ));
    }
    if let Some(error) = query.error {
        let error: String = error.chars().take(64).collect();
        return with_params(&record.redirect_uri, &[("error", &error)]);
    }
    match finish(state, &record, query.code.as_deref()).await {
        Ok(code) => with_params(&record.redirect_uri, &[("code", &code)]),
        Err(err) => {
            let kind = match &err {
                ApiError::Forbidden(_) => "account_disabled",
                ApiError::Unauthorized(_) | ApiError::BadRequest { .. } => "access_denied",
                ApiError::Internal(detail) => {
                    tracing::error!(%detail, "redirect sign-in failed");
                    "server_error"
                }
                _ => "temporarily_unavailable",
            };
            with_params(
                &record.redirect_uri,
                &[("error", kind), ("error_description", &err.to_string())],
            )
        }
    }
}

/// Code exchange, ID token, account, one-time code.
async fn finish(
    state: &AppState,
    record: &OAuthStateRecord,
    code: Option<&str>,
) -> ApiResult<String> {
    let google = state.social.google()?;
    let callback = state
        .social
        .callback_url
        .as_deref()
        .ok_or_else(redirect_not_configured)?;
    let code = code.map(str::trim).unwrap_or_default();
    if code.is_empty() || code.len() > 2048 {
        return Err(ApiError::invalid_field(
            "code",
            "the provider sent no usable code",
        ));
    }
    let http = &state.social.http;
    let id_token = google
        .exchange_code(http, code, callback, &record.code_verifier)
        .await?;
    let identity = google
        .verify_id_token(http, &id_token, Some(&record.nonce))
        .await?;
    let user = account_for(state, &identity, None).await?;
    let one_time = random_secret();
    let now = now_epoch();
    let code_record = OAuthCodeRecord {
        user_id: user.id,
        provider: Provider::Google.as_str().into(),
        expires_at: now + CODE_TTL_SECS,
        ttl: now + CODE_TTL_SECS,
    };
    state
        .db
        .put_oauth_code(&state.tokens.digest(&one_time), &code_record)
        .await?;
    Ok(one_time)
}

/// Spends a one-time code: the account it signs in to and the provider it came through.
pub async fn exchange(state: &AppState, code: &str) -> ApiResult<(UserRecord, Provider)> {
    let invalid = || ApiError::bad_request("Invalid, expired or already used code");
    let code = code.trim();
    if code.is_empty() {
        return Err(ApiError::invalid_field("code", "code is required"));
    }
    if code.len() > MAX_SECRET_LEN {
        return Err(invalid());
    }
    let record = state
        .db
        .consume_oauth_code(&state.tokens.digest(code), now_epoch())
        .await?
        .ok_or_else(invalid)?;
    let provider = Provider::parse(&record.provider).ok_or_else(invalid)?;
    let user = state
        .db
        .get_user(&record.user_id)
        .await?
        .ok_or_else(invalid)?;
    if !user.is_active() {
        return Err(ApiError::forbidden("Account is disabled"));
    }
    Ok((user, provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        // RFC 7636, appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
