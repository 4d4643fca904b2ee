use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use http_body_util::Limited;
use serde::de::DeserializeOwned;

use super::layers::DEFAULT_BODY_LIMIT;
use crate::error::ApiError;
use crate::validation::Validate;

/// `axum::Json`, but a bad body answers the API's envelope with the status it deserves.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: DeserializeOwned> ApiJson<T> {
    /// The JSON branch of a route that also takes multipart media: that route's raised body
    /// limit is for files, so JSON keeps the default limit.
    pub async fn from_media_route<S: Send + Sync>(
        req: Request,
        state: &S,
    ) -> Result<Self, ApiError> {
        let req = req.map(|body| Body::new(Limited::new(body, DEFAULT_BODY_LIMIT)));
        Self::from_request(req, state).await
    }
}

/// A JSON body that has also passed its own `Validate` rules.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
        value.validate()?;
        Ok(Self(value))
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "Expected a JSON body (Content-Type: application/json)".into(),
        ),
        JsonRejection::JsonDataError(err) => ApiError::bad_request(format!(
            "Invalid request body: {}",
            err.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("Malformed JSON body"),
        JsonRejection::BytesRejection(err) if err.status() == 413 => {
            ApiError::PayloadTooLarge("Request body too large".into())
        }
        other => ApiError::bad_request(other.body_text()),
    }
}
