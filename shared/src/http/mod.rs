//! HTTP plumbing shared by every function: the success envelope, a JSON extractor whose
//! rejections speak the envelope, and the layers every router gets.

mod extract;
mod layers;
mod media_form;
mod source;

pub use extract::{ApiJson, ValidJson};
pub use layers::{not_found, service};
pub use media_form::{is_multipart, read_media_form, CaptionedMedia, FilePart, MediaForm};
pub use source::SourceIp;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

/// `{"success": true, "message": ..., "data": ...}` with a status code.
pub struct Envelope<T> {
    status: StatusCode,
    message: &'static str,
    data: T,
}

pub fn ok<T: Serialize>(message: &'static str, data: T) -> Envelope<T> {
    Envelope {
        status: StatusCode::OK,
        message,
        data,
    }
}

pub fn created<T: Serialize>(message: &'static str, data: T) -> Envelope<T> {
    Envelope {
        status: StatusCode::CREATED,
        message,
        data,
    }
}

/// A success without data: `"data": null`.
pub fn done(message: &'static str) -> Envelope<()> {
    ok(message, ())
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        let body = json!({ "success": true, "message": self.message, "data": self.data });
        (self.status, axum::Json(body)).into_response()
    }
}
