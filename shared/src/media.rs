//! Media lives in S3 by key; clients get URLs they can load: the CDN base when configured,
//! otherwise a presigned GET. Keys are stored, never URLs.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;

use crate::config::Config;

/// How long a presigned GET stays loadable.
const READ_URL_TTL: Duration = Duration::from_secs(6 * 3600);

#[derive(Clone)]
pub struct Media {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    base_url: Option<String>,
}

impl Media {
    pub fn new(client: aws_sdk_s3::Client, config: &Config) -> Self {
        Self {
            client,
            bucket: config.media_bucket.clone(),
            base_url: config.media_base_url.clone(),
        }
    }

    /// A URL a browser can load for `key`; `None` only if signing fails (logged).
    pub async fn url(&self, key: &str) -> Option<String> {
        if let Some(base) = &self.base_url {
            return Some(format!("{base}/{key}"));
        }
        let presign = PresigningConfig::expires_in(READ_URL_TTL).ok()?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presign)
            .await
        {
            Ok(request) => Some(request.uri().to_string()),
            Err(err) => {
                tracing::warn!(%key, error = %err, "presigning a media URL failed");
                None
            }
        }
    }
}
