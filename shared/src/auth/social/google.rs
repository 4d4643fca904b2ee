//! Google: ID tokens from the client SDKs, and the authorization-code exchange of the redirect flow.

use serde::Deserialize;

use super::http::send_json;
use super::jwks::Jwks;
use super::oidc::IdTokenVerifier;
use super::{Identity, Provider};
use crate::config::GoogleConfig;
use crate::error::{ApiError, ApiResult};

pub struct Google {
    config: GoogleConfig,
    verifier: IdTokenVerifier,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
}

impl Google {
    pub fn new(config: GoogleConfig) -> Self {
        let verifier = IdTokenVerifier {
            provider: Provider::Google,
            jwks: Jwks::new(&config.jwks_url),
            audiences: config.client_ids.clone(),
            issuers: config.issuers.clone(),
        };
        Self { config, verifier }
    }

    /// The redirect flow needs the web client's secret for the code exchange.
    pub fn can_redirect(&self) -> bool {
        self.config.client_secret.is_some()
    }

    pub async fn verify_id_token(
        &self,
        http: &reqwest::Client,
        token: &str,
        nonce: Option<&str>,
    ) -> ApiResult<Identity> {
        self.verifier.verify(http, token, nonce).await
    }

    /// Where the browser goes to sign in with Google: the first client id is the web client.
    pub fn authorize_url(
        &self,
        callback: &str,
        state: &str,
        code_challenge: &str,
        nonce: &str,
    ) -> ApiResult<String> {
        let client_id = self
            .config
            .client_ids
            .first()
            .ok_or_else(|| Provider::Google.not_configured())?;
        reqwest::Url::parse_with_params(
            &self.config.auth_url,
            [
                ("response_type", "code"),
                ("client_id", client_id.as_str()),
                ("redirect_uri", callback),
                ("scope", "openid email profile"),
                ("state", state),
                ("code_challenge", code_challenge),
                ("code_challenge_method", "S256"),
                ("nonce", nonce),
            ],
        )
        .map(String::from)
        .map_err(|err| ApiError::internal(format!("GOOGLE_AUTH_URL: {err}")))
    }

    /// Swaps the authorization code (with the PKCE verifier) for the ID token.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        callback: &str,
        code_verifier: &str,
    ) -> ApiResult<String> {
        let (Some(client_id), Some(secret)) =
            (self.config.client_ids.first(), &self.config.client_secret)
        else {
            return Err(ApiError::NotImplemented(
                "Google redirect sign-in is not configured on this server".into(),
            ));
        };
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", callback),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.0.as_str()),
            ("code_verifier", code_verifier),
        ];
        let request = http.post(&self.config.token_url).form(&form);
        match send_json::<TokenAnswer>(request, "Google token endpoint").await? {
            Ok(answer) => answer.value.id_token.ok_or_else(|| {
                ApiError::unauthorized("Google answered the code exchange without an ID token")
            }),
            Err(_) => Err(ApiError::unauthorized(
                "Google refused the authorization code (invalid, expired or already used)",
            )),
        }
    }
}
