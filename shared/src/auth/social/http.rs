//! Calls to identity providers: one client per process (timeouts, no redirects followed) and
//! answers read up to a size cap.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Provider answers (JWKS documents, token responses, Graph objects) are a few KB.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

pub fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider of its own: it uses the process default,
    // aws-lc-rs, the one the AWS SDK links. Installing twice is harmless (the first one stays).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("insta-backend")
        .build()
        .unwrap_or_else(|err| panic!("building the identity-provider HTTP client: {err}"))
}

pub struct Fetched<T> {
    pub value: T,
    pub cache_control: Option<String>,
}

fn unavailable(what: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable {
        detail: format!("identity provider ({what}): {detail}"),
    }
}

/// Sends the request and reads its JSON answer; a transport failure or a 5xx is a 503.
/// A 4xx comes back as `Err(Ok(body))` for the caller to judge.
pub async fn send_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    what: &str,
) -> ApiResult<Result<Fetched<T>, serde_json::Value>> {
    let mut response = request.send().await.map_err(|e| unavailable(what, e))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(unavailable(what, status));
    }
    let cache_control = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if response
        .content_length()
        .is_some_and(|len| len > MAX_ANSWER_BYTES as u64)
    {
        return Err(unavailable(what, "answer too large"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unavailable(what, e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(unavailable(what, "answer too large"));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Ok(Err(serde_json::from_slice(&body).unwrap_or_default()));
    }
    let value = serde_json::from_slice(&body).map_err(|e| unavailable(what, e))?;
    Ok(Ok(Fetched {
        value,
        cache_control,
    }))
}

/// Like `send_json`, with any 4xx also a 503 (for documents that should always be there).
pub async fn get_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    what: &str,
) -> ApiResult<Fetched<T>> {
    send_json(request, what)
        .await?
        .map_err(|body| unavailable(what, body))
}
