//! Sign in with Apple: the authorization code is exchanged at Apple's token endpoint with a client
//! secret (an ES256 JWT signed with the team's key), and the ID token that comes back is verified
//! against Apple's JWKS. Clients may also send the ID token directly.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::http::send_json;
use super::jwks::Jwks;
use super::oidc::IdTokenVerifier;
use super::{Identity, Provider};
use crate::config::AppleConfig;
use crate::error::{ApiError, ApiResult};
use crate::time::now_epoch;

/// Lifetime of one client secret (Apple allows up to six months; one request needs minutes).
const CLIENT_SECRET_TTL_SECS: i64 = 300;
/// Apple codes are short; longer input is refused unread.
const MAX_CODE_LEN: usize = 1024;

pub struct Apple {
    config: AppleConfig,
    verifier: IdTokenVerifier,
    signing_key: Option<EncodingKey>,
}

#[derive(Serialize)]
struct ClientSecretClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'a str,
    sub: &'a str,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
}

impl Apple {
    pub fn new(config: AppleConfig) -> Self {
        let verifier = IdTokenVerifier {
            provider: Provider::Apple,
            jwks: Jwks::new(&config.jwks_url),
            audiences: config.client_ids.clone(),
            issuers: vec![config.issuer.clone()],
        };
        let signing_key = config
            .signing
            .as_ref()
            .map(|s| EncodingKey::from_ec_der(&s.private_key_der));
        Self {
            config,
            verifier,
            signing_key,
        }
    }

    pub fn can_exchange_codes(&self) -> bool {
        self.signing_key.is_some()
    }

    pub async fn verify_id_token(
        &self,
        http: &reqwest::Client,
        token: &str,
    ) -> ApiResult<Identity> {
        self.verifier.verify(http, token, None).await
    }

    /// The client secret JWT Apple's token endpoint authenticates the client with.
    fn client_secret(&self, client_id: &str) -> ApiResult<String> {
        let (Some(signing), Some(key)) = (&self.config.signing, &self.signing_key) else {
            return Err(ApiError::NotImplemented(
                "Sign in with Apple by code is not configured on this server (send idToken)".into(),
            ));
        };
        let now = now_epoch();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(signing.key_id.clone());
        let claims = ClientSecretClaims {
            iss: &signing.team_id,
            iat: now,
            exp: now + CLIENT_SECRET_TTL_SECS,
            aud: &self.config.issuer,
            sub: client_id,
        };
        jsonwebtoken::encode(&header, &claims, key)
            .map_err(|err| ApiError::internal(format!("Apple client secret: {err}")))
    }

    /// Exchanges the authorization code and verifies the ID token Apple answers with.
    pub async fn sign_in_with_code(
        &self,
        http: &reqwest::Client,
        code: &str,
    ) -> ApiResult<Identity> {
        let code = code.trim();
        if code.len() > MAX_CODE_LEN {
            return Err(ApiError::invalid_field("code", "code is too long"));
        }
        let client_id = self
            .config
            .client_ids
            .first()
            .ok_or_else(|| Provider::Apple.not_configured())?;
        let secret = self.client_secret(client_id)?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
        ];
        let request = http.post(&self.config.token_url).form(&form);
        let id_token = match send_json::<TokenAnswer>(request, "Apple token endpoint").await? {
            Ok(answer) => answer.value.id_token.ok_or_else(|| {
                ApiError::unauthorized("Apple answered the code exchange without an ID token")
            })?,
            Err(_) => {
                return Err(ApiError::unauthorized(
                    "Apple refused the authorization code (invalid, expired or already used)",
                ))
            }
        };
        self.verify_id_token(http, &id_token).await
    }
}
