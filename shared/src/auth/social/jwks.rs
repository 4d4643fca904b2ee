//! A provider's signing keys (its JWKS document), cached by key id for as long as the document's
//! `Cache-Control: max-age` allows. A token naming a key id the cache does not know triggers one
//! refetch (a provider rotating its keys), but at most once per `UNKNOWN_KID_REFETCH_EVERY`, so a
//! flood of tokens with made-up key ids cannot turn into a flood of requests to the provider.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::http::{get_json, Fetched};
use crate::error::{ApiError, ApiResult};

/// Cache lifetime of a document that says nothing about caching.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The longest a document is trusted, whatever it says.
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Unknown key ids refetch the document at most this often.
pub const UNKNOWN_KID_REFETCH_EVERY: Duration = Duration::from_secs(60);
/// More keys than any provider publishes; the rest are ignored.
const MAX_KEYS: usize = 50;

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: String,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, DecodingKey>,
    fresh_until: Option<Instant>,
    last_unknown_kid_fetch: Option<Instant>,
}

pub struct Jwks {
    url: String,
    cache: Mutex<Cache>,
}

/// Why no key came back for a key id.
#[derive(Debug)]
pub enum KeyError {
    /// The provider does not publish that key (after a refetch, or with refetches rate-limited).
    Unknown,
    /// The document could not be fetched and nothing usable is cached.
    Unavailable(ApiError),
}

impl Jwks {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            cache: Mutex::default(),
        }
    }

    /// The RSA key with id `kid`.
    pub async fn key(&self, http: &reqwest::Client, kid: &str) -> Result<DecodingKey, KeyError> {
        // One fetch at a time: requests that arrive during a fetch wait for its keys.
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let fresh = cache.fresh_until.is_some_and(|until| until > now);
        if !fresh {
            if let Err(err) = self.refresh(&mut cache, http).await {
                if cache.keys.is_empty() {
                    return Err(KeyError::Unavailable(err));
                }
                // Keep serving the keys we have rather than refusing every sign-in.
                tracing::warn!(url = %self.url, error = %err, "JWKS refresh failed; using cached keys");
            }
        } else if !cache.keys.contains_key(kid) {
            let may_refetch = cache
                .last_unknown_kid_fetch
                .is_none_or(|at| now.duration_since(at) >= UNKNOWN_KID_REFETCH_EVERY);
            if may_refetch {
                cache.last_unknown_kid_fetch = Some(now);
                if let Err(err) = self.refresh(&mut cache, http).await {
                    tracing::warn!(url = %self.url, error = %err, "JWKS refetch failed");
                }
            }
        }
        cache.keys.get(kid).cloned().ok_or(KeyError::Unknown)
    }

    async fn refresh(&self, cache: &mut Cache, http: &reqwest::Client) -> ApiResult<()> {
        let Fetched {
            value: document,
            cache_control,
        } = get_json::<Document>(http.get(&self.url), "signing keys").await?;
        let mut keys = HashMap::new();
        for jwk in document.keys.into_iter().take(MAX_KEYS) {
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            if jwk.kty != "RSA" || jwk.usage.as_deref().is_some_and(|u| u != "sig") {
                continue;
            }
            if let Ok(key) = DecodingKey::from_rsa_components(&n, &e) {
                keys.insert(kid, key);
            }
        }
        cache.keys = keys;
        cache.fresh_until = Some(Instant::now() + max_age(cache_control.as_deref()));
        Ok(())
    }
}

/// How long a response may be cached according to its `Cache-Control` header.
pub fn max_age(cache_control: Option<&str>) -> Duration {
    let Some(value) = cache_control else {
        return DEFAULT_MAX_AGE;
    };
    let mut max_age = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(secs) = directive.strip_prefix("max-age=") {
            max_age = secs.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_MAX_AGE)
        .min(LONGEST_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_decides_the_lifetime() {
        assert_eq!(
            max_age(Some("public, max-age=19952, must-revalidate, no-transform")),
            Duration::from_secs(19952)
        );
        assert_eq!(max_age(Some("no-store")), Duration::ZERO);
        assert_eq!(max_age(Some("max-age=999999999")), LONGEST_MAX_AGE);
        assert_eq!(max_age(Some("max-age=abc")), DEFAULT_MAX_AGE);
        assert_eq!(max_age(None), DEFAULT_MAX_AGE);
    }
}
