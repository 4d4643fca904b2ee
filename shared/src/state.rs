use std::sync::Arc;

use crate::auth::password::Hasher;
#[cfg(feature = "social")]
use crate::auth::social::Social;
use crate::auth::tokens::TokenKeys;
use crate::aws::{self, Clients};
use crate::config::Config;
use crate::db::Db;
use crate::mail::Mailer;
use crate::media::Media;
use crate::realtime::Realtime;

/// Everything a request needs, built once per process and cloned cheaply into handlers.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub mailer: Mailer,
    pub media: Media,
    pub tokens: TokenKeys,
    /// Pushes to WebSocket clients (disabled without `WS_MANAGEMENT_ENDPOINT`).
    pub realtime: Realtime,
    /// Bounded password hashing (`HASH_CONCURRENCY`, `HASH_QUEUE`).
    pub hasher: Hasher,
    /// Social sign-in providers, their cached keys and the HTTP client they share.
    #[cfg(feature = "social")]
    pub social: Arc<Social>,
}

impl AppState {
    /// Start-up for a Lambda: configuration from the environment, or a panic that names what is missing.
    /// With `JWT_SECRET_ID` (and no `JWT_SECRET`), the master secret is read from Secrets
    /// Manager here, once per process.
    pub async fn from_env() -> Self {
        let mut config = match Config::from_env() {
            Ok(config) => config,
            Err(err) => panic!("configuration: {err}"),
        };
        let sdk = aws::load_sdk_config(&config).await;
        if config.jwt_secret.is_empty() {
            if let Some(id) = config.jwt_secret_id.clone() {
                config.jwt_secret = match aws::secret_string(&sdk, &id).await {
                    Ok(secret) => secret.into_bytes(),
                    Err(err) => panic!("JWT_SECRET_ID {id}: {err}"),
                };
                if let Err(why) = crate::config::validate_jwt_secret(&config.jwt_secret) {
                    panic!("the secret JWT_SECRET_ID names {why}");
                }
            }
        }
        Self::with_sdk(config, &sdk)
    }

    pub async fn new(config: Config) -> Self {
        let sdk = aws::load_sdk_config(&config).await;
        Self::with_sdk(config, &sdk)
    }

    fn with_sdk(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let sdk = sdk.clone();
        let clients = Clients::new(&sdk, &config);
        let config = Arc::new(config);
        Self {
            // Its own handle on the same client: pushes delete connections that are gone.
            realtime: Realtime::new(
                &sdk,
                &config,
                Db::new(clients.dynamodb.clone(), config.table_name.clone()),
            ),
            db: Db::new(clients.dynamodb, config.table_name.clone()),
            #[cfg(feature = "ses")]
            mailer: Mailer::new(clients.ses, &config),
            #[cfg(not(feature = "ses"))]
            mailer: Mailer::new(&config),
            media: Media::new(clients.s3, &config),
            tokens: TokenKeys::new(&config),
            hasher: Hasher::new(config.hash_concurrency, config.hash_queue),
            #[cfg(feature = "social")]
            social: Arc::new(Social::new(&config.social)),
            config,
        }
    }
}
