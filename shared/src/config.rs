//! Configuration comes from the environment once per cold start; a missing or malformed
//! variable stops the process at start-up instead of failing requests later.

use std::collections::HashMap;

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
        })
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
    fn bad_number_is_rejected() {
        let mut env = base();
        env.insert("ACCESS_TOKEN_TTL_SECS".into(), "-3".into());
        assert!(Config::from_map(&env).is_err());
    }
}
