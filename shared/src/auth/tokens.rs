//! Access tokens are HS256 JWTs carrying the user's token version. Refresh tokens and emailed
//! secrets are random; only their HMAC-SHA256 is stored. Each use has its own key, derived from
//! the master secret (`JWT_SECRET`, or Secrets Manager's `JWT_SECRET_ID`) with HMAC-SHA256 over
//! a label, so a key that leaked from one use (a stored digest attacked offline, a token signing
//! key) says nothing about the other.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Config;
use crate::db::users::Role;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The user's token version at issue time.
    pub tv: u64,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// The derivation labels: changing one rotates that key alone.
const ACCESS_TOKEN_LABEL: &[u8] = b"insta/access-tokens/v1";
const STORED_SECRET_LABEL: &[u8] = b"insta/stored-secrets/v1";

/// HMAC-SHA256(master, label): a 32-byte key for one use.
fn derive(master: &[u8], label: &[u8]) -> Option<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(master).ok()?;
    mac.update(label);
    Some(mac.finalize().into_bytes().to_vec())
}

#[derive(Clone)]
struct SigningKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

#[derive(Clone)]
pub struct TokenKeys {
    /// `None` without a master secret (a function that never sees tokens): nothing is issued
    /// and every token is refused, never checked against a key derived from nothing.
    signing: Option<SigningKeys>,
    hmac_key: Option<Vec<u8>>,
    access_ttl: i64,
}

impl TokenKeys {
    pub fn new(config: &Config) -> Self {
        let master = &config.jwt_secret;
        let usable = |label| {
            (!master.is_empty())
                .then(|| derive(master, label))
                .flatten()
        };
        Self {
            signing: usable(ACCESS_TOKEN_LABEL).map(|key| SigningKeys {
                encoding: EncodingKey::from_secret(&key),
                decoding: DecodingKey::from_secret(&key),
            }),
            hmac_key: usable(STORED_SECRET_LABEL),
            access_ttl: config.access_token_ttl_secs,
        }
    }

    fn signing(&self) -> ApiResult<&SigningKeys> {
        self.signing
            .as_ref()
            .ok_or_else(|| ApiError::internal("no JWT secret is configured for this function"))
    }

    pub fn issue_access(
        &self,
        user_id: &str,
        token_version: u64,
        role: Role,
        now: i64,
    ) -> ApiResult<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            tv: token_version,
            role,
            iat: now,
            exp: now + self.access_ttl,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.signing()?.encoding,
        )
        .map_err(|err| ApiError::internal(format!("jwt encode: {err}")))
    }

    /// Verifies signature, algorithm (HS256 only: `alg: none` and others are refused) and expiry.
    pub fn decode_access(&self, token: &str) -> ApiResult<Claims> {
        let Some(signing) = &self.signing else {
            return Err(ApiError::unauthorized("Unauthorized - Invalid token"));
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &signing.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::unauthorized("Unauthorized - Token has expired")
                }
                _ => ApiError::unauthorized("Unauthorized - Invalid token"),
            })
    }

    /// HMAC of a secret under the server key: what is stored instead of the secret itself.
    pub fn digest(&self, secret: &str) -> String {
        let Some(key) = &self.hmac_key else {
            // No key: a digest nothing stored can equal (stored digests are never empty).
            return String::new();
        };
        let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
            Ok(mac) => mac,
            // HMAC takes keys of any length.
            Err(_) => return String::new(),
        };
        mac.update(secret.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn access_ttl(&self) -> i64 {
        self.access_ttl
    }
}

/// 32 random bytes, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A uniformly random 6-digit code.
pub fn random_code() -> String {
    format!("{:06}", rand::random_range(0..1_000_000u32))
}

/// Compares two digests without leaking where they differ.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `<userId>.<sessionId>.<secret>`: finds its session with one GetItem, proves itself with the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: String,
    pub session_id: String,
    pub secret: String,
}

impl RefreshToken {
    pub fn new(user_id: &str, session_id: &str) -> Self {
        Self {
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
            secret: random_secret(),
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().split('.');
        let (user_id, session_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
        let well_formed = parts.next().is_none()
            && [user_id, session_id]
                .iter()
                .all(|p| p.len() == 26 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
            && secret.len() == 43;
        well_formed.then(|| Self {
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
            secret: secret.to_string(),
        })
    }

    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.user_id, self.session_id, self.secret)
    }
}

/// `<userId>.<secret>`: the emailed link token, found by user id and proven by the secret.
pub fn link_token(user_id: &str, secret: &str) -> String {
    format!("{user_id}.{secret}")
}

pub fn parse_link_token(raw: &str) -> Option<(String, String)> {
    let (user_id, secret) = raw.trim().split_once('.')?;
    (user_id.len() == 26
        && user_id.bytes().all(|b| b.is_ascii_alphanumeric())
        && secret.len() == 43)
        .then(|| (user_id.to_string(), secret.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn keys() -> TokenKeys {
        let env: HashMap<String, String> = [
            ("TABLE_NAME", "t"),
            ("MEDIA_BUCKET", "b"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("MAIL_FROM", "a@b.co"),
            ("APP_BASE_URL", "http://x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        TokenKeys::new(&Config::from_map(&env).expect("config"))
    }

    #[test]
    fn access_tokens_round_trip() {
        let keys = keys();
        let now = crate::time::now_epoch();
        let token = keys.issue_access("U1", 3, Role::User, now).expect("issue");
        let claims = keys.decode_access(&token).expect("decode");
        assert_eq!(claims.sub, "U1");
        assert_eq!(claims.tv, 3);
    }

    #[test]
    fn expired_and_tampered_tokens_are_refused() {
        let keys = keys();
        let old = keys
            .issue_access("U1", 0, Role::User, 1_000)
            .expect("issue");
        assert!(keys.decode_access(&old).is_err());
        let good = keys
            .issue_access("U1", 0, Role::User, crate::time::now_epoch())
            .expect("issue");
        let mut tampered = good.clone();
        tampered.pop();
        tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.decode_access(&tampered).is_err());
    }

    #[test]
    fn tokens_and_digests_use_keys_derived_apart_from_the_master() {
        let keys = keys();
        let master = b"0123456789abcdef0123456789abcdef";
        let claims = Claims {
            sub: "U1".into(),
            tv: 0,
            role: Role::User,
            iat: crate::time::now_epoch(),
            exp: crate::time::now_epoch() + 600,
        };
        // Signed with the master itself, or with the digest key: refused.
        for key in [
            master.to_vec(),
            derive(master, STORED_SECRET_LABEL).expect("key"),
        ] {
            let forged = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(&key),
            )
            .expect("encode");
            assert!(keys.decode_access(&forged).is_err());
        }
        let mut raw = Hmac::<Sha256>::new_from_slice(master).expect("mac");
        raw.update(b"s");
        assert_ne!(
            keys.digest("s"),
            URL_SAFE_NO_PAD.encode(raw.finalize().into_bytes())
        );
    }

    #[test]
    fn without_a_master_nothing_is_issued_and_every_token_is_refused() {
        let mut config = Config::from_map(
            &[
                ("TABLE_NAME", "t"),
                ("MEDIA_BUCKET", "b"),
                ("MAIL_FROM", "a@b.co"),
                ("APP_BASE_URL", "http://x"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
        .expect("config without a secret");
        config.jwt_secret.clear();
        let none = TokenKeys::new(&config);
        let now = crate::time::now_epoch();
        assert!(none.issue_access("U1", 0, Role::User, now).is_err());
        // A token made with a key derived from an empty master is no way in.
        let empty_derived = derive(b"", ACCESS_TOKEN_LABEL).expect("key");
        let claims = Claims {
            sub: "U1".into(),
            tv: 0,
            role: Role::Root,
            iat: now,
            exp: now + 600,
        };
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&empty_derived),
        )
        .expect("encode");
        assert!(none.decode_access(&forged).is_err());
        assert!(none
            .decode_access(
                &keys()
                    .issue_access("U1", 0, Role::User, now)
                    .expect("issue")
            )
            .is_err());
        assert_eq!(none.digest("s"), "");
    }

    #[test]
    fn alg_none_is_refused() {
        let keys = keys();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"U1","tv":0,"role":"user","iat":0,"exp":{}}}"#,
            crate::time::now_epoch() + 600
        ));
        assert!(keys.decode_access(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn refresh_tokens_parse_back() {
        let id = ulid::Ulid::new().to_string();
        let token = RefreshToken::new(&id, &ulid::Ulid::new().to_string());
        assert_eq!(RefreshToken::parse(&token.encode()), Some(token));
        assert_eq!(RefreshToken::parse("a.b.c"), None);
    }

    #[test]
    fn digests_are_keyed_and_compared_in_constant_time() {
        let keys = keys();
        assert_eq!(keys.digest("s"), keys.digest("s"));
        assert_ne!(keys.digest("s"), keys.digest("t"));
        assert!(same_digest("abc", "abc"));
        assert!(!same_digest("abc", "abd"));
        assert_eq!(random_code().len(), 6);
    }
}
