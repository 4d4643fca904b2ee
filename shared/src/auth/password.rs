//! argon2id with OWASP's minimum parameters (19 MiB, 2 iterations, 1 lane).
//! Hashing runs on the blocking pool so it never stalls the async workers.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, ApiResult};

fn hasher() -> Argon2<'static> {
    match Params::new(19 * 1024, 2, 1, None) {
        Ok(params) => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        // The parameters are constants; this cannot fail at run time.
        Err(_) => Argon2::default(),
    }
}

pub async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|err| ApiError::internal(format!("argon2 hash: {err}")))
    })
    .await
    .map_err(|err| ApiError::internal(format!("hash task: {err}")))?
}

/// An empty stored hash (a social sign-in account that never set a password) matches nothing;
/// the dummy check keeps its timing like a wrong password's.
pub async fn verify(password: String, stored_hash: String) -> ApiResult<bool> {
    if stored_hash.is_empty() {
        verify_against_dummy(password).await;
        return Ok(false);
    }
    check(password, stored_hash).await
}

async fn check(password: String, stored_hash: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&stored_hash) {
        Ok(parsed) => Ok(hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()),
        Err(err) => Err(ApiError::internal(format!("stored hash unreadable: {err}"))),
    })
    .await
    .map_err(|err| ApiError::internal(format!("verify task: {err}")))?
}

/// Spends the same time as a real check when there is no user, so that the answer's timing
/// does not tell which usernames exist.
pub async fn verify_against_dummy(password: String) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = match DUMMY.get() {
        Some(hash) => hash.clone(),
        None => match hash("not-a-real-password".into()).await {
            Ok(hash) => DUMMY.get_or_init(|| hash).clone(),
            Err(_) => return,
        },
    };
    let _ = check(password, dummy).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let hashed = hash("correct horse".into()).await.expect("hash");
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse".into(), hashed.clone())
            .await
            .expect("verify"));
        assert!(!verify("wrong horse".into(), hashed).await.expect("verify"));
    }

    #[tokio::test]
    async fn an_account_without_a_password_matches_nothing() {
        assert!(!verify("".into(), String::new()).await.expect("verify"));
        assert!(!verify("anything".into(), String::new())
            .await
            .expect("verify"));
    }
}
