//! Social sign-in (seed 004): Google, Apple and Facebook verify who someone is; `identities` maps
//! that identity to one account; `redirect` is the browser flow (`state`, PKCE, a one-time code).
//! Every provider endpoint is configurable, so the tests run the same code against a local
//! identity provider with its own keys.

pub mod apple;
pub mod facebook;
pub mod google;
pub mod http;
pub mod identities;
pub mod jwks;
pub mod oidc;
pub mod redirect;

use serde::Serialize;

use crate::config::SocialConfig;
use crate::error::{ApiError, ApiResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Google,
    Apple,
    Facebook,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Apple => "apple",
            Self::Facebook => "facebook",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Apple => "Apple",
            Self::Facebook => "Facebook",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "google" => Some(Self::Google),
            "apple" => Some(Self::Apple),
            "facebook" => Some(Self::Facebook),
            _ => None,
        }
    }

    /// The 501 of a provider this deployment has not configured.
    pub fn not_configured(self) -> ApiError {
        ApiError::NotImplemented(format!(
            "{} sign-in is not configured on this server",
            self.label()
        ))
    }
}

/// Who a provider says signed in.
#[derive(Clone, Debug)]
pub struct Identity {
    pub provider: Provider,
    /// The provider's stable user id.
    pub subject: String,
    /// Lower-cased.
    pub email: Option<String>,
    /// Only a verified email ever links to an existing account.
    pub email_verified: bool,
    pub full_name: Option<String>,
    pub picture: Option<String>,
}

/// The configured providers and the one HTTP client they share, built once per process.
pub struct Social {
    pub http: reqwest::Client,
    pub google: Option<google::Google>,
    pub apple: Option<apple::Apple>,
    pub facebook: Option<facebook::Facebook>,
    pub redirect_allowlist: Vec<String>,
    pub callback_url: Option<String>,
}

impl Social {
    pub fn new(config: &SocialConfig) -> Self {
        Self {
            http: http::client(),
            google: config.google.clone().map(google::Google::new),
            apple: config.apple.clone().map(apple::Apple::new),
            facebook: config.facebook.clone().map(facebook::Facebook::new),
            redirect_allowlist: config.redirect_allowlist.clone(),
            callback_url: config.callback_url.clone(),
        }
    }

    pub fn google(&self) -> ApiResult<&google::Google> {
        self.google
            .as_ref()
            .ok_or_else(|| Provider::Google.not_configured())
    }

    pub fn apple(&self) -> ApiResult<&apple::Apple> {
        self.apple
            .as_ref()
            .ok_or_else(|| Provider::Apple.not_configured())
    }

    pub fn facebook(&self) -> ApiResult<&facebook::Facebook> {
        self.facebook
            .as_ref()
            .ok_or_else(|| Provider::Facebook.not_configured())
    }

    /// What `GET /api/auth/providers` answers.
    pub fn describe(&self) -> serde_json::Value {
        let google_redirect = self.google.as_ref().is_some_and(|g| g.can_redirect())
            && self.callback_url.is_some()
            && !self.redirect_allowlist.is_empty();
        let configured: Vec<&str> = [
            self.google.as_ref().map(|_| "google"),
            self.apple.as_ref().map(|_| "apple"),
            self.facebook.as_ref().map(|_| "facebook"),
        ]
        .into_iter()
        .flatten()
        .collect();
        serde_json::json!({
            "providers": configured,
            "google": {
                "configured": self.google.is_some(),
                "idToken": self.google.is_some(),
                "redirect": google_redirect,
            },
            "apple": {
                "configured": self.apple.is_some(),
                "idToken": self.apple.is_some(),
                "code": self.apple.as_ref().is_some_and(|a| a.can_exchange_codes()),
            },
            "facebook": { "configured": self.facebook.is_some() },
        })
    }
}
