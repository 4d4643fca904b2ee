//! Everything the Lambda functions share: configuration, the API error and envelope, auth,
//! the DynamoDB access layer (every key lives in `db::keys`), mail, media and telemetry.
//! Functions stay thin: parse, authorise, call into here, shape the answer.

pub mod auth;
pub mod aws;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod mail;
pub mod media;
pub mod messaging;
pub mod metrics;
pub mod pagination;
pub mod realtime;
pub mod state;
pub mod telemetry;
pub mod time;
pub mod validation;
pub mod views;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::AppState;
