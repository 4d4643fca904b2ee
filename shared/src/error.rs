//! The one error type of the API. Every failure becomes the envelope
//! `{"success": false, "message": ...}` with the status it means; internals are logged, never returned.

use std::collections::BTreeMap;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        message: String,
        errors: Option<BTreeMap<String, String>>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// A feature this deployment does not have configured (e.g. a social sign-in provider).
    #[error("{0}")]
    NotImplemented(String),
    /// A dependency (DynamoDB, S3, SES) is throttling or unreachable.
    #[error("service temporarily unavailable")]
    Unavailable { detail: String },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            errors: None,
        }
    }

    pub fn invalid_field(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::BadRequest {
            message: reason.clone(),
            errors: Some(BTreeMap::from([(field.to_string(), reason)])),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal(detail.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({ "success": false, "message": self.to_string() });
        let mut retry_after = None;
        match &self {
            Self::BadRequest {
                errors: Some(errors),
                ..
            } => body["errors"] = json!(errors),
            Self::TooManyRequests {
                retry_after_secs, ..
            } => retry_after = Some(*retry_after_secs),
            Self::Unavailable { detail } => {
                tracing::warn!(%detail, "dependency unavailable");
                retry_after = Some(1);
            }
            Self::Internal(detail) => tracing::error!(%detail, "internal error"),
            _ => {}
        }
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Error codes that mean "slow down or try again", whichever AWS service sent them.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "Throttling",
    "SlowDown",
    "ServiceUnavailable",
    "InternalServerError",
    // A race with another transaction, still lost after the SDK's retries (db::conflicts).
    "TransactionConflictException",
];

/// A cancelled transaction whose reasons name a conflict: a race lost, not a refusal.
fn lost_a_race<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("TransactionCanceledException")
        && err
            .message()
            .is_some_and(|message| message.contains("TransactionConflict"))
}

impl<E, R> From<SdkError<E, R>> for ApiError
where
    E: ProvideErrorMetadata + Debug,
    R: Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        let detail = format!("{err:?}");
        match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                Self::Unavailable { detail }
            }
            SdkError::ServiceError(service)
                if service
                    .err()
                    .code()
                    .is_some_and(|code| RETRYABLE_CODES.contains(&code))
                    || lost_a_race(service.err()) =>
            {
                Self::Unavailable { detail }
            }
            _ => Self::Internal(detail),
        }
    }
}

impl From<serde_dynamo::Error> for ApiError {
    fn from(err: serde_dynamo::Error) -> Self {
        Self::Internal(format!("item (de)serialisation: {err}"))
    }
}

impl From<aws_sdk_dynamodb::error::BuildError> for ApiError {
    fn from(err: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self::Internal(format!("request build: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_the_contract() {
        assert_eq!(ApiError::bad_request("x").status(), 400);
        assert_eq!(ApiError::unauthorized("x").status(), 401);
        assert_eq!(ApiError::conflict("x").status(), 409);
        assert_eq!(
            ApiError::TooManyRequests {
                message: "x".into(),
                retry_after_secs: 3
            }
            .status(),
            429
        );
    }

    #[test]
    fn internal_detail_is_not_returned() {
        let err = ApiError::internal("secret table name");
        assert_eq!(err.to_string(), "internal error");
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let response = ApiError::TooManyRequests {
            message: "slow down".into(),
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }
}
