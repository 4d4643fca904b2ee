//! OpenID Connect ID tokens (Google, Apple): RS256 signature against the provider's JWKS, `iss`,
//! `aud` among the configured client ids, `exp` and `iat`, and the nonce when a flow sent one.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::jwks::{Jwks, KeyError};
use super::{Identity, Provider};
use crate::error::{ApiError, ApiResult};
use crate::time::now_epoch;

/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: i64 = 30;
/// Longer is not an ID token; refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

pub struct IdTokenVerifier {
    pub provider: Provider,
    pub jwks: Jwks,
    pub audiences: Vec<String>,
    pub issuers: Vec<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean from Google, often the string `"true"` from Apple.
    #[serde(default)]
    email_verified: Option<Value>,
    /// Apple's private-relay addresses (`...@privaterelay.appleid.com`).
    #[serde(default)]
    is_private_email: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn truthy(value: &Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl IdTokenVerifier {
    fn refuse(&self, reason: &str) -> ApiError {
        ApiError::unauthorized(format!(
            "Invalid {} ID token: {reason}",
            self.provider.label()
        ))
    }

    /// Verifies the token and answers who it names. `nonce` is the value a redirect flow sent.
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        token: &str,
        nonce: Option<&str>,
    ) -> ApiResult<Identity> {
        let token = token.trim();
        if token.is_empty() {
            return Err(ApiError::invalid_field("idToken", "idToken is required"));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(self.refuse("too long"));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| self.refuse("it is not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(self.refuse("it is not signed with RS256"));
        }
        let kid = header
            .kid
            .ok_or_else(|| self.refuse("its header names no key (kid)"))?;
        let key = match self.jwks.key(http, &kid).await {
            Ok(key) => key,
            Err(KeyError::Unknown) => {
                return Err(self.refuse("it is signed with a key the provider does not publish"))
            }
            Err(KeyError::Unavailable(err)) => return Err(err),
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        validation.set_audience(&self.audiences);
        validation.set_issuer(&self.issuers);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|err| {
                self.refuse(match err.kind() {
                    ErrorKind::InvalidSignature => "the signature does not verify",
                    ErrorKind::ExpiredSignature => "it has expired",
                    ErrorKind::ImmatureSignature => "it is not valid yet",
                    ErrorKind::InvalidAudience => "it was issued for another client (aud)",
                    ErrorKind::InvalidIssuer => "it was not issued by the provider (iss)",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                    _ => "it is malformed",
                })
            })?
            .claims;
        if claims
            .iat
            .is_some_and(|iat| iat > now_epoch() + LEEWAY_SECS)
        {
            return Err(self.refuse("it was issued in the future (iat)"));
        }
        if let Some(expected) = nonce {
            if claims.nonce.as_deref() != Some(expected) {
                return Err(self.refuse("its nonce does not match this sign-in"));
            }
        }
        if claims.sub.trim().is_empty() || claims.sub.len() > 255 {
            return Err(self.refuse("its subject (sub) is not usable"));
        }
        let email = claims
            .email
            .map(|e| crate::validation::normalize_email(&e))
            .filter(|e| !e.is_empty() && e.len() <= 254);
        // Apple's private-relay addresses are verified by Apple: mail sent there reaches the user.
        let email_verified = truthy(&claims.email_verified)
            || (self.provider == Provider::Apple && truthy(&claims.is_private_email));
        let full_name = claims.name.or_else(|| {
            let joined = [claims.given_name, claims.family_name]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.trim().is_empty()).then_some(joined)
        });
        Ok(Identity {
            provider: self.provider,
            subject: claims.sub,
            email_verified: email_verified && email.is_some(),
            email,
            full_name,
            picture: claims.picture,
        })
    }
}
