//! Bodies that carry one media file (posts, stories, image messages): multipart with the file
//! under one of a few part names plus text fields, or JSON with the same fields and the
//! `mediaKey` of a presigned upload instead of the file.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::uploads::MediaSource;

/// Room for the text fields and the multipart framing next to the file.
const FORM_OVERHEAD: usize = 64 * 1024;

/// Where a route takes its file and how large it may be.
pub struct FilePart {
    /// Part names accepted for the file.
    pub names: &'static [&'static str],
    /// The largest file accepted in the body itself.
    pub limit: usize,
    /// Told to a client whose file is larger: where it should go instead.
    pub too_large: &'static str,
}

impl FilePart {
    /// The route's body limit (its `DefaultBodyLimit`): the file, the fields and the framing.
    pub const fn body_limit(&self) -> usize {
        self.limit + FORM_OVERHEAD
    }

    pub fn too_large_error(&self) -> ApiError {
        ApiError::PayloadTooLarge(format!(
            "File too large: {} (at most {} MB)",
            self.too_large,
            self.limit / (1024 * 1024)
        ))
    }

    fn multipart_error(&self, err: axum::extract::multipart::MultipartError) -> ApiError {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            self.too_large_error()
        } else {
            ApiError::bad_request(format!("Malformed multipart body: {}", err.body_text()))
        }
    }
}

pub fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The fields of a create route that takes one file and a caption (posts, stories).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptionedMedia {
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub media_key: Option<String>,
}

/// A media body, read.
pub struct MediaForm<T> {
    /// The JSON body, or the multipart text fields by name.
    pub fields: T,
    /// The file's bytes, when a non-empty file part came.
    pub file: Option<Vec<u8>>,
    /// Multipart (a file was meant to come) rather than JSON (a `mediaKey` was).
    pub multipart: bool,
}

/// Reads a media body. JSON keeps the default body limit; a multipart file above `part.limit`
/// is a 413; the other parts' text fields fill `T` by name (unknown ones are ignored, as in JSON).
pub async fn read_media_form<T, S>(
    request: Request,
    state: &S,
    part: &FilePart,
) -> ApiResult<MediaForm<T>>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    if !is_multipart(&request) {
        let ApiJson(fields) = ApiJson::<T>::from_media_route(request, state).await?;
        return Ok(MediaForm {
            fields,
            file: None,
            multipart: false,
        });
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|err| ApiError::bad_request(err.body_text()))?;
    let mut fields = Map::new();
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| part.multipart_error(e))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if part.names.contains(&name.as_str()) {
            let bytes = field.bytes().await.map_err(|e| part.multipart_error(e))?;
            if bytes.len() > part.limit {
                return Err(part.too_large_error());
            }
            file = Some(bytes.to_vec()).filter(|b| !b.is_empty());
        } else {
            let text = field.text().await.map_err(|e| part.multipart_error(e))?;
            fields.insert(name, Value::String(text));
        }
    }
    let fields = serde_json::from_value(Value::Object(fields))
        .map_err(|err| ApiError::bad_request(format!("Invalid form fields: {err}")))?;
    Ok(MediaForm {
        fields,
        file,
        multipart: true,
    })
}

impl MediaForm<CaptionedMedia> {
    /// The caption (unvalidated) and where the media comes from; a 400 names what is missing:
    /// `file_field` in a multipart body, `mediaKey` in a JSON one.
    pub fn into_parts(self, file_field: &str) -> ApiResult<(String, MediaSource)> {
        let caption = self.fields.caption.unwrap_or_default();
        let source = match (self.file, self.fields.media_key) {
            (Some(bytes), _) => MediaSource::Bytes(bytes),
            (None, _) if self.multipart => {
                return Err(ApiError::invalid_field(
                    file_field,
                    format!("{file_field} is required"),
                ))
            }
            (None, key) => key
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .map(MediaSource::UploadKey)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "mediaKey",
                        format!("mediaKey (or a multipart {file_field}) is required"),
                    )
                })?,
        };
        Ok((caption, source))
    }
}
