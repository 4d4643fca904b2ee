//! Configuration comes from the environment once per cold start; a missing or malformed
//! variable stops the process at start-up instead of failing requests later.

use std::collections::HashMap;

use crate::limits::{Action, Limit};

#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    pub media_bucket: String,
    /// HMAC key for access tokens and for hashing single-use secrets. At least 32 bytes.
    pub jwt_secret: Vec<u8>,
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
    /// Per-attempt and whole-operation timeouts of AWS calls.
    pub aws_attempt_timeout_ms: u64,
    pub aws_operation_timeout_ms: u64,
    /// Budgets per action (`RATE_LIMIT_<ACTION>=<max>/<window secs>`), see `limits::Action`.
    pub rate_limits: HashMap<Action, Limit>,
    /// Password hashes running at once (`HASH_CONCURRENCY`, default: the cores)...
    pub hash_concurrency: usize,
    /// ...and how many more may wait before a 503 (`HASH_QUEUE`).
    pub hash_queue: usize,
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

        let jwt_secret = required("JWT_SECRET")?.into_bytes();
        if jwt_secret.len() < 32 {
            return Err(ConfigError::Invalid(
                "JWT_SECRET",
                "must be at least 32 bytes".into(),
            ));
        }
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
            aws_attempt_timeout_ms: number("AWS_ATTEMPT_TIMEOUT_MS", 3_000)?.unsigned_abs(),
            aws_operation_timeout_ms: number("AWS_OPERATION_TIMEOUT_MS", 8_000)?.unsigned_abs(),
            rate_limits,
            hash_concurrency,
            hash_queue,
        })
    }
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
    fn bad_number_is_rejected() {
        let mut env = base();
        env.insert("ACCESS_TOKEN_TTL_SECS".into(), "-3".into());
        assert!(Config::from_map(&env).is_err());
    }
}
