//! The caller's source address, for per-source budgets: API Gateway's `sourceIp` on Lambda, the
//! TCP peer locally. Never a client-sent header (anyone could pick their own budget).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client IP the request came from (`"unknown"` when neither source says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceIp(pub String);

impl SourceIp {
    pub fn of(parts: &Parts) -> Self {
        use lambda_http::request::RequestContext;
        if let Some(RequestContext::ApiGatewayV2(context)) =
            parts.extensions.get::<RequestContext>()
        {
            if let Some(ip) = context
                .http
                .source_ip
                .as_deref()
                .filter(|ip| !ip.is_empty())
            {
                return Self(ip.to_string());
            }
        }
        if let Some(ConnectInfo(address)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Self(address.ip().to_string());
        }
        Self("unknown".into())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}
