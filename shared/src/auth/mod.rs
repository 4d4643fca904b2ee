//! Authentication: JWT access tokens, rotating refresh tokens, argon2id passwords, the
//! extractors handlers use, the account flows of the auth API and social sign-in.

pub mod accounts;
pub mod extract;
pub mod password;
#[cfg(feature = "social")]
pub mod social;
pub mod tokens;

pub use extract::{AuthUser, MaybeAuthUser};
