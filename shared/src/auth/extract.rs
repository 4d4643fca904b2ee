//! `AuthUser` (a valid, unrevoked token is required) and `MaybeAuthUser` (read when present).
//! Every authenticated request reads the user once, consistently, to check the token version
//! and the account status: a revocation or a disable takes effect at once.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::db::users::UserRecord;
use crate::error::ApiError;
use crate::state::AppState;

pub struct AuthUser {
    pub user: UserRecord,
}

impl AuthUser {
    pub fn id(&self) -> &str {
        &self.user.id
    }
}

pub struct MaybeAuthUser(pub Option<AuthUser>);

impl MaybeAuthUser {
    pub fn id(&self) -> Option<&str> {
        self.0.as_ref().map(AuthUser::id)
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("Unauthorized - Invalid token"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthorized("Unauthorized - Invalid token")),
    }
}

/// Checks a raw access token against the user's current state.
pub async fn authenticate(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    let claims = state.tokens.decode_access(token)?;
    let user = state
        .db
        .get_user(&claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Unauthorized - Invalid token"))?;
    if user.token_version != claims.tv {
        return Err(ApiError::unauthorized(
            "Unauthorized - Token has been revoked",
        ));
    }
    if !user.is_active() {
        return Err(ApiError::unauthorized("Unauthorized - Account is disabled"));
    }
    Ok(AuthUser { user })
}

impl<S> FromRequestParts<S> for AuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?
            .ok_or_else(|| ApiError::unauthorized("Unauthorized - Token is required"))?;
        authenticate(&AppState::from_ref(state), token).await
    }
}

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    /// No header means anonymous; a header with a bad token is still a 401, so a client
    /// never silently loses its identity.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            None => Ok(Self(None)),
            Some(token) => Ok(Self(Some(
                authenticate(&AppState::from_ref(state), token).await?,
            ))),
        }
    }
}
