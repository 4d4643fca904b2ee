//! Facebook Login: the user access token is checked with the Graph API's `debug_token` (with the
//! app token), must belong to this app and be valid; then `/me` answers id, name, email, picture.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::http::send_json;
use super::{Identity, Provider};
use crate::config::FacebookConfig;
use crate::error::{ApiError, ApiResult};

/// Facebook access tokens are a few hundred characters.
const MAX_TOKEN_LEN: usize = 4096;

pub struct Facebook {
    config: FacebookConfig,
}

#[derive(Deserialize)]
struct Debug {
    data: DebugData,
}

#[derive(Deserialize)]
struct DebugData {
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    is_valid: bool,
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    picture: Option<Picture>,
}

#[derive(Deserialize)]
struct Picture {
    data: PictureData,
}

#[derive(Deserialize)]
struct PictureData {
    #[serde(default)]
    url: Option<String>,
}

fn refuse(reason: &str) -> ApiError {
    ApiError::unauthorized(format!("Invalid Facebook access token: {reason}"))
}

impl Facebook {
    pub fn new(config: FacebookConfig) -> Self {
        Self { config }
    }

    /// `appsecret_proof`: proves Graph calls with a user token come from this app's server.
    fn proof(&self, token: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.config.app_secret.0.as_bytes())
        else {
            return String::new();
        };
        mac.update(token.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub async fn verify(&self, http: &reqwest::Client, token: &str) -> ApiResult<Identity> {
        let token = token.trim();
        if token.is_empty() {
            return Err(ApiError::invalid_field(
                "accessToken",
                "accessToken is required",
            ));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(refuse("too long"));
        }
        let app_token = format!("{}|{}", self.config.app_id, self.config.app_secret.0);
        let debug = http
            .get(format!("{}/debug_token", self.config.graph_url))
            .query(&[("input_token", token), ("access_token", app_token.as_str())]);
        let data = match send_json::<Debug>(debug, "Facebook debug_token").await? {
            Ok(debug) => debug.value.data,
            Err(_) => return Err(refuse("Facebook does not recognise it")),
        };
        if !data.is_valid {
            return Err(refuse("it is invalid, expired or revoked"));
        }
        if data.app_id.as_deref() != Some(self.config.app_id.as_str()) {
            return Err(refuse("it was issued for another app"));
        }
        let proof = self.proof(token);
        let me = http.get(format!("{}/me", self.config.graph_url)).query(&[
            ("fields", "id,name,email,picture"),
            ("access_token", token),
            ("appsecret_proof", proof.as_str()),
        ]);
        let me = match send_json::<Me>(me, "Facebook Graph /me").await? {
            Ok(me) => me.value,
            Err(_) => return Err(refuse("Facebook refused to read the profile")),
        };
        if data.user_id.as_deref().is_some_and(|id| id != me.id) || me.id.is_empty() {
            return Err(refuse("it belongs to another user"));
        }
        let email = me
            .email
            .map(|e| crate::validation::normalize_email(&e))
            .filter(|e| !e.is_empty() && e.len() <= 254);
        Ok(Identity {
            provider: Provider::Facebook,
            subject: me.id,
            // Graph only answers `email` with the account's confirmed primary address; without
            // one (a phone-only account) nothing can link.
            email_verified: email.is_some(),
            email,
            full_name: me.name,
            picture: me.picture.and_then(|p| p.data.url),
        })
    }
}
