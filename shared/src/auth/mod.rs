//! Authentication: JWT access tokens, rotating refresh tokens, argon2id passwords, the
//! extractors handlers use, and the account flows of the auth API.

pub mod accounts;
pub mod extract;
pub mod password;
pub mod tokens;

pub use extract::{AuthUser, MaybeAuthUser};
