//! Everything the Lambda functions share: configuration, the API error and envelope, auth,
//! the DynamoDB access layer (every key lives in `db::keys`), mail, media and telemetry.
//! Functions stay thin: parse, authorise, call into here, shape the answer.

pub mod admin;
pub mod auth;
pub mod aws;
pub mod calls;
pub mod cascade;
pub mod comments;
pub mod config;
pub mod db;
pub mod discovery;
pub mod error;
pub mod fanout;
pub mod feeds;
pub mod http;
pub mod limits;
pub mod mail;
pub mod media;
pub mod messaging;
pub mod metrics;
pub mod notifications;
pub mod pagination;
pub mod posts;
pub mod profiles;
pub mod realtime;
pub mod social;
pub mod state;
pub mod stories;
pub mod telemetry;
pub mod time;
pub mod uploads;
pub mod validation;
pub mod views;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::AppState;
