//! Configuration comes from the environment once per cold start; a missing or malformed
//! variable stops the process at start-up instead of failing requests later.

use std::collections::HashMap;

use crate::limits::{Action, Limit};

#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    pub media_bucket: String,
    /// The master secret (`JWT_SECRET`, at least 32 bytes) from which the access-token key and
    /// the key that hashes stored secrets are derived (`auth::tokens`). Empty until resolved
    /// when only `JWT_SECRET_ID` is set, and in the functions that never see a token.
    pub jwt_secret: Vec<u8>,
    /// The Secrets Manager secret holding it (`JWT_SECRET_ID`, name or ARN), read once at
    /// start-up by the functions built with the `secrets` feature.
    pub jwt_secret_id: Option<String>,
    pub mail_from: String,
    /// Where the links in emails point (the client app).
    pub app_base_url: String,
    /// CDN in front of the bucket; without it media URLs are presigned GETs.
    pub media_base_url: Option<String>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub cors_origins: Vec<String>,
    /// Print sent mail to the console (the local stack).
    pub mail_echo: bool,
    /// Add `x-ddb-calls` to every response (local stack, tests, benchmark).
    pub debug_headers: bool,
    pub s3_force_path_style: bool,
    pub login_max_failures: u32,
    pub login_lockout_secs: i64,
    /// The API Gateway Management API endpoint for realtime pushes.
    pub ws_management_endpoint: Option<String>,
    /// Where every AWS client sends its calls (`AWS_ENDPOINT_URL`: moto locally, a fault proxy in
    /// the tests); `None` leaves it to aws-config (the real AWS endpoints, or the environment).
    pub aws_endpoint_url: Option<String>,
    /// Per-attempt and whole-operation timeouts of AWS calls.
    pub aws_attempt_timeout_ms: u64,
    pub aws_operation_timeout_ms: u64,
    /// Budgets per action (`RATE_LIMIT_<ACTION>=<max>/<window secs>`), see `limits::Action`.
    pub rate_limits: HashMap<Action, Limit>,
    /// Password hashes running at once (`HASH_CONCURRENCY`, default: the cores)...
    pub hash_concurrency: usize,
    /// ...and how many more may wait before a 503 (`HASH_QUEUE`).
    pub hash_queue: usize,
    /// Social sign-in providers; each is `None` unless its client id(s) are set.
    pub social: SocialConfig,
    /// Fan-out on write serves accounts with at most this many followers
    /// (`TIMELINE_FANOUT_MAX_FOLLOWERS`, default 10 000); larger ones are merged at read time.
    pub timeline_fanout_max_followers: i64,
    /// The stream rebuilds the popular-accounts item of suggestions at most this often
    /// (`POPULAR_REFRESH_SECONDS`, default 60), so follows do not all write one hot item.
    pub popular_refresh_seconds: i64,
}

impl Config {
    /// The budget of `action`: configured, or its default.
    pub fn limit(&self, action: Action) -> Limit {
        self.rate_limits
            .get(&action)
            .copied()
            .unwrap_or_else(|| action.default_limit())
    }
}

/// A value that never shows in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Clone, Debug, Default)]
pub struct SocialConfig {
    pub google: Option<GoogleConfig>,
    pub apple: Option<AppleConfig>,
    pub facebook: Option<FacebookConfig>,
    /// Exact client redirect URIs the redirect flow may send people back to.
    pub redirect_allowlist: Vec<String>,
    /// This API's own `/api/auth/google/callback` URL as registered with the provider.
    pub callback_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct GoogleConfig {
    pub client_ids: Vec<String>,
    /// Needed only by the redirect flow (the code exchange).
    pub client_secret: Option<Secret>,
    pub jwks_url: String,
    pub issuers: Vec<String>,
    pub auth_url: String,
    pub token_url: String,
}

#[derive(Clone, Debug)]
pub struct AppleConfig {
    pub client_ids: Vec<String>,
    /// Team id, key id and the `.p8` private key sign the client secret of the code exchange;
    /// without them only `{idToken}` is accepted.
    pub signing: Option<AppleSigning>,
    pub jwks_url: String,
    pub token_url: String,
    pub issuer: String,
}

#[derive(Clone)]
pub struct AppleSigning {
    pub team_id: String,
    pub key_id: String,
    /// PKCS#8 DER of the P-256 private key.
    pub private_key_der: Vec<u8>,
}

impl std::fmt::Debug for AppleSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppleSigning")
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct FacebookConfig {
    pub app_id: String,
    pub app_secret: Secret,
    pub graph_url: String,
}

pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
pub const GOOGLE_ISSUERS: &str = "https://accounts.google.com,accounts.google.com";
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const APPLE_JWKS_URL: &str = "https://appleid.apple.com/auth/keys";
pub const APPLE_TOKEN_URL: &str = "https://appleid.apple.com/auth/token";
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
pub const FACEBOOK_GRAPH_URL: &str = "https://graph.facebook.com/v19.0";

fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The DER inside a PEM block (`-----BEGIN PRIVATE KEY-----`); `\n` escapes count as newlines,
/// as values pasted into one-line secrets often carry them.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let pem = pem.replace("\\n", "\n");
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

impl SocialConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let url = |key: &'static str, default: &str| {
            provider_url(
                key,
                text(key)
                    .unwrap_or_else(|| default.to_string())
                    .trim_end_matches('/'),
            )
        };
        let google_ids = list(get("GOOGLE_CLIENT_IDS"));
        let google = if google_ids.is_empty() {
            None
        } else {
            Some(GoogleConfig {
                client_ids: google_ids,
                client_secret: text("GOOGLE_CLIENT_SECRET").map(Secret),
                jwks_url: url("GOOGLE_JWKS_URL", GOOGLE_JWKS_URL)?,
                issuers: list(Some(
                    text("GOOGLE_ISSUERS").unwrap_or_else(|| GOOGLE_ISSUERS.to_string()),
                )),
                auth_url: url("GOOGLE_AUTH_URL", GOOGLE_AUTH_URL)?,
                token_url: url("GOOGLE_TOKEN_URL", GOOGLE_TOKEN_URL)?,
            })
        };
        let apple_ids = list(get("APPLE_CLIENT_IDS"));
        let apple = if apple_ids.is_empty() {
            None
        } else {
            let signing = match (
                text("APPLE_TEAM_ID"),
                text("APPLE_KEY_ID"),
                text("APPLE_PRIVATE_KEY"),
            ) {
                (Some(team_id), Some(key_id), Some(pem)) => {
                    let der = pem_to_der(&pem).ok_or(ConfigError::Invalid(
                        "APPLE_PRIVATE_KEY",
                        "not a PEM block".into(),
                    ))?;
                    check_es256_key(&der)?;
                    Some(AppleSigning {
                        team_id,
                        key_id,
                        private_key_der: der,
                    })
                }
                (None, None, None) => None,
                (None, _, _) => return Err(ConfigError::Missing("APPLE_TEAM_ID")),
                (_, None, _) => return Err(ConfigError::Missing("APPLE_KEY_ID")),
                (_, _, None) => return Err(ConfigError::Missing("APPLE_PRIVATE_KEY")),
            };
            Some(AppleConfig {
                client_ids: apple_ids,
                signing,
                jwks_url: url("APPLE_JWKS_URL", APPLE_JWKS_URL)?,
                token_url: url("APPLE_TOKEN_URL", APPLE_TOKEN_URL)?,
                issuer: text("APPLE_ISSUER").unwrap_or_else(|| APPLE_ISSUER.to_string()),
            })
        };
        let facebook = match text("FACEBOOK_APP_ID") {
            None => None,
            Some(app_id) => Some(FacebookConfig {
                app_id,
                app_secret: Secret(
                    text("FACEBOOK_APP_SECRET")
                        .ok_or(ConfigError::Missing("FACEBOOK_APP_SECRET"))?,
                ),
                graph_url: url("FACEBOOK_GRAPH_URL", FACEBOOK_GRAPH_URL)?,
            }),
        };
        Ok(Self {
            google,
            apple,
            facebook,
            redirect_allowlist: list(get("OAUTH_REDIRECT_ALLOWLIST")),
            callback_url: text("OAUTH_CALLBACK_URL"),
        })
    }
}

/// Provider endpoints carry keys and tokens: HTTPS only, except on the loopback (the tests' and a
/// laptop's local identity provider).
fn provider_url(key: &'static str, value: &str) -> Result<String, ConfigError> {
    let loopback = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
        "http://[::1]:",
    ];
    if value.starts_with("https://") || loopback.iter().any(|p| value.starts_with(p)) {
        Ok(value.to_string())
    } else {
        Err(ConfigError::Invalid(
            key,
            format!("{value} must be an https:// URL (http only on the loopback)"),
        ))
    }
}

/// Signs a throw-away JWT so a malformed Apple key stops the start-up, not a sign-in.
fn check_es256_key(der: &[u8]) -> Result<(), ConfigError> {
    let key = jsonwebtoken::EncodingKey::from_ec_der(der);
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    jsonwebtoken::encode(&header, &serde_json::json!({ "check": true }), &key)
        .map(|_| ())
        .map_err(|err| {
            ConfigError::Invalid(
                "APPLE_PRIVATE_KEY",
                format!("not a P-256 PKCS#8 key: {err}"),
            )
        })
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("invalid value for {0}: {1}")]
    Invalid(&'static str, String),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|key| map.get(key).cloned())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |key: &'static str| {
            get(key)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(key))
        };
        let number = |key: &'static str, default: i64| -> Result<i64, ConfigError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Invalid(key, v)),
            }
        };
        let flag = |key: &'static str| {
            get(key)
                .map(|v| matches!(v.trim(), "1" | "true" | "yes"))
                .unwrap_or(false)
        };

        let jwt_secret = get("JWT_SECRET")
            .filter(|v| !v.trim().is_empty())
            .map(String::into_bytes)
            .unwrap_or_default();
        validate_jwt_secret(&jwt_secret).map_err(|why| ConfigError::Invalid("JWT_SECRET", why))?;
        let jwt_secret_id = get("JWT_SECRET_ID").filter(|v| !v.trim().is_empty());
        let login_max_failures = number("LOGIN_MAX_FAILURES", 5)?;
        let mut rate_limits = HashMap::new();
        for action in Action::ALL {
            let key = rate_limit_var(action);
            if let Some(raw) = get(key).filter(|v| !v.trim().is_empty()) {
                let limit = Limit::parse(&raw).ok_or(ConfigError::Invalid(key, raw))?;
                rate_limits.insert(action, limit);
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let hash_concurrency = usize::try_from(number(
            "HASH_CONCURRENCY",
            i64::try_from(cores).unwrap_or(1),
        )?)
        .unwrap_or(1);
        let hash_queue = usize::try_from(number("HASH_QUEUE", 64)?).unwrap_or(64);
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            media_bucket: required("MEDIA_BUCKET")?,
            jwt_secret,
            jwt_secret_id,
            mail_from: required("MAIL_FROM")?,
            app_base_url: required("APP_BASE_URL")?.trim_end_matches('/').to_string(),
            media_base_url: get("MEDIA_BASE_URL")
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim_end_matches('/').to_string()),
            access_token_ttl_secs: number("ACCESS_TOKEN_TTL_SECS", 15 * 60)?,
            refresh_token_ttl_secs: number("REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            cors_origins: get("CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            mail_echo: flag("MAIL_ECHO"),
            debug_headers: flag("DEBUG_HEADERS"),
            s3_force_path_style: flag("S3_FORCE_PATH_STYLE"),
            login_max_failures: u32::try_from(login_max_failures)
                .map_err(|_| ConfigError::Invalid("LOGIN_MAX_FAILURES", "too large".into()))?,
            login_lockout_secs: number("LOGIN_LOCKOUT_SECS", 15 * 60)?,
            ws_management_endpoint: get("WS_MANAGEMENT_ENDPOINT").filter(|v| !v.trim().is_empty()),
            aws_endpoint_url: get("AWS_ENDPOINT_URL").filter(|v| !v.trim().is_empty()),
            aws_attempt_timeout_ms: number("AWS_ATTEMPT_TIMEOUT_MS", 3_000)?.unsigned_abs(),
            aws_operation_timeout_ms: number("AWS_OPERATION_TIMEOUT_MS", 8_000)?.unsigned_abs(),
            rate_limits,
            hash_concurrency,
            hash_queue,
            social: SocialConfig::from_lookup(&get)?,
            timeline_fanout_max_followers: number("TIMELINE_FANOUT_MAX_FOLLOWERS", 10_000)?,
            popular_refresh_seconds: number("POPULAR_REFRESH_SECONDS", 60)?,
        })
    }
}

/// A master secret is absent (empty) or at least 32 bytes.
pub fn validate_jwt_secret(secret: &[u8]) -> Result<(), String> {
    if !secret.is_empty() && secret.len() < 32 {
        return Err("must be at least 32 bytes".into());
    }
    Ok(())
}

/// `RATE_LIMIT_<ACTION>`: the variable that configures an action's budget.
pub fn rate_limit_var(action: Action) -> &'static str {
    match action {
        Action::Post => "RATE_LIMIT_POSTS",
        Action::Comment => "RATE_LIMIT_COMMENTS",
        Action::Message => "RATE_LIMIT_MESSAGES",
        Action::Follow => "RATE_LIMIT_FOLLOWS",
        Action::StoryCreate => "RATE_LIMIT_STORIES",
        Action::Upload => "RATE_LIMIT_UPLOADS",
        Action::Report => "RATE_LIMIT_REPORTS",
        Action::MailBurst => "RATE_LIMIT_MAIL_BURST",
        Action::MailHourly => "RATE_LIMIT_MAIL_HOURLY",
        Action::LoginSource => "RATE_LIMIT_LOGIN_SOURCE",
        Action::RegisterSource => "RATE_LIMIT_REGISTER_SOURCE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HashMap<String, String> {
        [
            ("TABLE_NAME", "t"),
            ("MEDIA_BUCKET", "b"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("MAIL_FROM", "no-reply@example.com"),
            ("APP_BASE_URL", "http://localhost:5173/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn defaults_apply() {
        let config = Config::from_map(&base()).expect("valid");
        assert_eq!(config.access_token_ttl_secs, 900);
        assert_eq!(config.app_base_url, "http://localhost:5173");
        assert!(!config.mail_echo);
    }

    #[test]
    fn short_secret_is_rejected() {
        let mut env = base();
        env.insert("JWT_SECRET".into(), "short".into());
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Invalid("JWT_SECRET", _))
        ));
    }

    #[test]
    fn missing_table_is_rejected() {
        let mut env = base();
        env.remove("TABLE_NAME");
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Missing("TABLE_NAME"))
        ));
    }

    #[test]
    fn rate_limits_default_and_parse() {
        let mut env = base();
        assert_eq!(
            Config::from_map(&env)
                .expect("valid")
                .limit(Action::Comment),
            Action::Comment.default_limit()
        );
        env.insert("RATE_LIMIT_COMMENTS".into(), "500/60".into());
        let config = Config::from_map(&env).expect("valid");
        assert_eq!(config.limit(Action::Comment).max, 500);
        env.insert("RATE_LIMIT_COMMENTS".into(), "lots".into());
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Invalid("RATE_LIMIT_COMMENTS", _))
        ));
    }

    #[test]
    fn social_providers_are_off_until_their_client_ids_are_set() {
        let config = Config::from_map(&base()).expect("valid");
        assert!(config.social.google.is_none());
        assert!(config.social.apple.is_none());
        assert!(config.social.facebook.is_none());
        let mut env = base();
        env.insert("GOOGLE_CLIENT_IDS".into(), "a.apps, b.apps".into());
        env.insert("FACEBOOK_APP_ID".into(), "123".into());
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Missing("FACEBOOK_APP_SECRET"))
        ));
        env.insert("FACEBOOK_APP_SECRET".into(), "s".into());
        let config = Config::from_map(&env).expect("valid");
        let google = config.social.google.expect("google");
        assert_eq!(google.client_ids, ["a.apps", "b.apps"]);
        assert_eq!(google.jwks_url, GOOGLE_JWKS_URL);
        assert_eq!(
            google.issuers,
            ["https://accounts.google.com", "accounts.google.com"]
        );
        assert!(!format!("{:?}", config.social.facebook).contains("\"s\""));
    }

    #[test]
    fn provider_endpoints_must_be_https_off_the_loopback() {
        let mut env = base();
        env.insert("GOOGLE_CLIENT_IDS".into(), "a.apps".into());
        env.insert(
            "GOOGLE_JWKS_URL".into(),
            "http://keys.example.com/certs".into(),
        );
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Invalid("GOOGLE_JWKS_URL", _))
        ));
        env.insert(
            "GOOGLE_JWKS_URL".into(),
            "http://127.0.0.1:4000/jwks".into(),
        );
        assert!(Config::from_map(&env).is_ok());
    }

    #[test]
    fn a_malformed_apple_key_stops_the_start_up() {
        let mut env = base();
        env.insert("APPLE_CLIENT_IDS".into(), "com.example.app".into());
        env.insert("APPLE_TEAM_ID".into(), "TEAM".into());
        env.insert("APPLE_KEY_ID".into(), "KEY".into());
        env.insert(
            "APPLE_PRIVATE_KEY".into(),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into(),
        );
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Invalid("APPLE_PRIVATE_KEY", _))
        ));
        env.remove("APPLE_KEY_ID");
        assert!(matches!(
            Config::from_map(&env),
            Err(ConfigError::Missing("APPLE_KEY_ID"))
        ));
    }

    #[test]
    fn bad_number_is_rejected() {
        let mut env = base();
        env.insert("ACCESS_TOKEN_TTL_SECS".into(), "-3".into());
        assert!(Config::from_map(&env).is_err());
    }
}
