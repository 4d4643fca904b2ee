//! Accepting media: the bytes decide the type (never the name or the declared header), and each
//! purpose has its own types and size limits. Two ways in: the server stores bytes it received
//! (multipart), or it hands out a presigned PUT and later accepts the key after checking the
//! object itself (moto, like a misbehaving client, ignores what the URL signs).
//! Accepted objects live under `media/`; unclaimed presigned uploads expire under `uploads/`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use serde::Serialize;
use ulid::Ulid;

use crate::error::{ApiError, ApiResult};
use crate::media::Media;

/// Enough leading bytes to tell every supported type apart.
pub const SNIFF_BYTES: usize = 16;
const MB: u64 = 1024 * 1024;
/// How long a presigned PUT stays usable.
const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
pub const UPLOAD_PREFIX: &str = "uploads";
pub const MEDIA_PREFIX: &str = "media";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Mp4,
    Quicktime,
    Webm,
}

impl MediaType {
    pub const ALL: [Self; 7] = [
        Self::Jpeg,
        Self::Png,
        Self::Gif,
        Self::Webp,
        Self::Mp4,
        Self::Quicktime,
        Self::Webm,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::Quicktime => "video/quicktime",
            Self::Webm => "video/webm",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Mp4 => "mp4",
            Self::Quicktime => "mov",
            Self::Webm => "webm",
        }
    }

    pub fn is_video(self) -> bool {
        matches!(self, Self::Mp4 | Self::Quicktime | Self::Webm)
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        let mime = mime.split(';').next().unwrap_or_default().trim();
        let mime = if mime.eq_ignore_ascii_case("image/jpg") {
            "image/jpeg"
        } else {
            mime
        };
        Self::ALL
            .into_iter()
            .find(|t| t.mime().eq_ignore_ascii_case(mime))
    }
}

/// The type the first bytes of a file prove, if it is one we accept.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(MediaType::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(MediaType::Gif)
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        if &bytes[8..12] == b"qt  " {
            Some(MediaType::Quicktime)
        } else {
            Some(MediaType::Mp4)
        }
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(MediaType::Webm)
    } else {
        None
    }
}

/// What an upload is for; each purpose has its own types and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Post,
    Avatar,
    Story,
    Message,
}

impl Purpose {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "post" => Some(Self::Post),
            "avatar" => Some(Self::Avatar),
            "story" => Some(Self::Story),
            "message" => Some(Self::Message),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "post",
            Self::Avatar => "avatar",
            Self::Story => "story",
            Self::Message => "message",
        }
    }

    /// The largest file of this type the purpose takes; `None` when the type is not allowed.
    pub fn max_size(self, media_type: MediaType) -> Option<u64> {
        match (self, media_type.is_video()) {
            (Self::Post | Self::Story, false) => Some(10 * MB),
            (Self::Post | Self::Story, true) => Some(50 * MB),
            (Self::Avatar, false) => Some(5 * MB),
            (Self::Message, false) => Some(10 * MB),
            (Self::Avatar | Self::Message, true) => None,
        }
    }

    fn allowed(self) -> String {
        MediaType::ALL
            .into_iter()
            .filter(|t| self.max_size(*t).is_some())
            .map(MediaType::extension)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// 415 for a type the purpose refuses, 413 for a size above its limit.
    pub fn check(self, media_type: Option<MediaType>, size: u64) -> ApiResult<MediaType> {
        let refused = || {
            ApiError::UnsupportedMediaType(format!(
                "File type not allowed for {}; allowed: {}",
                self.as_str(),
                self.allowed()
            ))
        };
        let media_type = media_type.ok_or_else(refused)?;
        let max = self.max_size(media_type).ok_or_else(refused)?;
        if size > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "File too large: {} files of this type are limited to {} MB",
                self.as_str(),
                max / MB
            )));
        }
        Ok(media_type)
    }
}

/// A presigned PUT: send exactly these headers with the file's bytes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    pub url: String,
    pub method: &'static str,
    pub headers: BTreeMap<String, String>,
    pub key: String,
    pub expires_at: String,
    pub max_size: u64,
}

/// Where a request's media comes from.
pub enum MediaSource {
    /// Bytes sent in the body, to be checked and stored.
    Bytes(Vec<u8>),
    /// The key of a presigned upload, to be checked and accepted.
    UploadKey(String),
}

/// An object that passed every check, now stored under its final key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedMedia {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    pub media_type: MediaType,
}

fn media_key(purpose: Purpose, user_id: &str, media_type: MediaType) -> String {
    format!(
        "{MEDIA_PREFIX}/{}/{user_id}/{}.{}",
        purpose.as_str(),
        Ulid::new(),
        media_type.extension()
    )
}

impl Media {
    /// Stores bytes under `key`.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> ApiResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await?;
        Ok(())
    }

    pub async fn delete_object(&self, key: &str) -> ApiResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await?;
        Ok(())
    }

    /// Deletes an object whose loss must not fail the request (a replaced picture): logs failures.
    pub async fn delete_quietly(&self, key: &str) {
        if let Err(err) = self.delete_object(key).await {
            tracing::warn!(%key, error = %err, "deleting a media object failed");
        }
    }

    /// A request's media, whichever way it came: bytes are checked and stored, an upload key is
    /// checked and accepted (errors name the `mediaKey` field).
    pub async fn accept(
        &self,
        user_id: &str,
        source: MediaSource,
        purpose: Purpose,
    ) -> ApiResult<AcceptedMedia> {
        match source {
            MediaSource::Bytes(bytes) => self.store_bytes(user_id, purpose, bytes).await,
            MediaSource::UploadKey(key) => {
                self.accept_upload(user_id, &key, purpose, "mediaKey").await
            }
        }
    }

    /// Checks bytes the server received and stores them under `media/`.
    pub async fn store_bytes(
        &self,
        user_id: &str,
        purpose: Purpose,
        bytes: Vec<u8>,
    ) -> ApiResult<AcceptedMedia> {
        let size = bytes.len() as u64;
        let media_type = purpose.check(sniff(&bytes), size)?;
        let key = media_key(purpose, user_id, media_type);
        self.put_bytes(&key, bytes, media_type.mime()).await?;
        Ok(AcceptedMedia {
            key,
            content_type: media_type.mime().to_string(),
            size,
            media_type,
        })
    }

    /// A presigned PUT for one file; the declared type and size are checked up front
    /// (415/413) and signed into the URL.
    pub async fn presign_upload(
        &self,
        user_id: &str,
        purpose: Purpose,
        content_type: &str,
        size: u64,
    ) -> ApiResult<UploadTicket> {
        if size == 0 {
            return Err(ApiError::invalid_field(
                "size",
                "size must be at least 1 byte",
            ));
        }
        let media_type = purpose.check(MediaType::from_mime(content_type), size)?;
        let key = format!(
            "{UPLOAD_PREFIX}/{}/{user_id}/{}",
            purpose.as_str(),
            Ulid::new()
        );
        let presign = PresigningConfig::expires_in(UPLOAD_URL_TTL)
            .map_err(|err| ApiError::internal(format!("presign config: {err}")))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(media_type.mime())
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .presigned(presign)
            .await
            .map_err(|err| ApiError::internal(format!("presigning an upload: {err}")))?;
        let mut headers: BTreeMap<String, String> = request
            .headers()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        headers.insert("Content-Type".into(), media_type.mime().to_string());
        headers
            .retain(|name, _| !name.eq_ignore_ascii_case("content-type") || name == "Content-Type");
        let expires_at = time::OffsetDateTime::now_utc()
            + time::Duration::seconds(UPLOAD_URL_TTL.as_secs() as i64);
        Ok(UploadTicket {
            url: request.uri().to_string(),
            method: "PUT",
            headers,
            key,
            expires_at: crate::time::rfc3339(expires_at),
            max_size: purpose.max_size(media_type).unwrap_or_default(),
        })
    }

    /// Takes a presigned upload's key from the user it was issued to: the object must exist,
    /// fit the purpose's limit and start with the bytes of an allowed type. Moves it under
    /// `media/` (so a key is claimed once) and answers the final key. `field` names the body
    /// field in errors.
    pub async fn accept_upload(
        &self,
        user_id: &str,
        key: &str,
        purpose: Purpose,
        field: &str,
    ) -> ApiResult<AcceptedMedia> {
        let parts: Vec<&str> = key.split('/').collect();
        let [prefix, key_purpose, owner, id] = parts.as_slice() else {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} is not an upload key"),
            ));
        };
        if *prefix != UPLOAD_PREFIX || id.parse::<Ulid>().is_err() {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} is not an upload key"),
            ));
        }
        if *owner != user_id {
            return Err(ApiError::forbidden("This upload was not issued to you"));
        }
        if *key_purpose != purpose.as_str() {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} was issued for another purpose"),
            ));
        }
        let missing = || ApiError::invalid_field(field, format!("{field}: nothing was uploaded"));
        let head = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => head,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                return Err(missing())
            }
            Err(err) => return Err(err.into()),
        };
        let size = head
            .content_length()
            .and_then(|l| u64::try_from(l).ok())
            .unwrap_or_default();
        let first = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", SNIFF_BYTES - 1))
            .send()
            .await
        {
            Ok(object) => object,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Err(missing())
            }
            Err(err) => return Err(err.into()),
        };
        let bytes = first
            .body
            .collect()
            .await
            .map_err(|err| ApiError::internal(format!("reading an upload: {err}")))?
            .into_bytes();
        let media_type = purpose.check(sniff(&bytes), size)?;
        let final_key = media_key(purpose, user_id, media_type);
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{key}", self.bucket))
            .key(&final_key)
            .content_type(media_type.mime())
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .send()
            .await?;
        self.delete_quietly(key).await;
        Ok(AcceptedMedia {
            key: final_key,
            content_type: media_type.mime().to_string(),
            size,
            media_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_type() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n0000"), Some(MediaType::Png));
        assert_eq!(sniff(b"GIF89a...."), Some(MediaType::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaType::Webp));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom"), Some(MediaType::Mp4));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  "), Some(MediaType::Quicktime));
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0]), Some(MediaType::Webm));
        assert_eq!(sniff(b"hello, world"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn purposes_have_their_own_limits() {
        assert!(Purpose::Avatar.check(Some(MediaType::Png), 5 * MB).is_ok());
        assert_eq!(
            Purpose::Avatar
                .check(Some(MediaType::Png), 5 * MB + 1)
                .map_err(|e| e.status()),
            Err(axum::http::StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(
            Purpose::Avatar
                .check(Some(MediaType::Mp4), 10)
                .map_err(|e| e.status()),
            Err(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        assert!(Purpose::Post.check(Some(MediaType::Mp4), 50 * MB).is_ok());
        assert!(Purpose::Message.check(Some(MediaType::Webm), 1).is_err());
        assert_eq!(MediaType::from_mime("image/JPG"), Some(MediaType::Jpeg));
    }
}
