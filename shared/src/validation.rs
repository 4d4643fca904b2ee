//! Input rules in one place. Each failure names its field, in the message and in `errors`.

use std::collections::BTreeMap;

use crate::error::ApiError;

pub trait Validate {
    fn validate(&self) -> Result<(), ApiError>;
}

pub const PASSWORD_MIN: usize = 8;
/// argon2 accepts more, but a cap keeps hashing cost bounded for hostile input.
pub const PASSWORD_MAX: usize = 128;
pub const FULL_NAME_MAX: usize = 60;

/// Collects field errors; the first one becomes the message.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<String, String>, Option<String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, reason: impl Into<String>) {
        let reason = reason.into();
        if self.1.is_none() {
            self.1 = Some(reason.clone());
        }
        self.0.entry(field.to_string()).or_insert(reason);
    }

    pub fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(reason) = result {
            self.add(field, reason);
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.1 {
            None => Ok(()),
            Some(message) => Err(ApiError::BadRequest {
                message,
                errors: Some(self.0),
            }),
        }
    }
}

pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_lowercase()
}

pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// `^[a-z0-9._]{3,30}$` after lower-casing.
pub fn username(name: &str) -> Result<(), String> {
    let ok = (3..=30).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("username must be 3-30 characters of a-z, 0-9, '.' or '_'".into())
    }
}

/// A pragmatic check: one '@', a non-empty local part, a dotted domain, no spaces.
pub fn email(address: &str) -> Result<(), String> {
    let invalid = || Err("email must be a valid email address".to_string());
    if address.len() > 254 || address.chars().any(char::is_whitespace) {
        return invalid();
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(())
        }
        _ => invalid(),
    }
}

pub fn password(field: &str, value: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if chars < PASSWORD_MIN {
        Err(format!(
            "{field} must be at least {PASSWORD_MIN} characters"
        ))
    } else if chars > PASSWORD_MAX {
        Err(format!("{field} must be at most {PASSWORD_MAX} characters"))
    } else {
        Ok(())
    }
}

pub fn required(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("{field} is required"))
    } else {
        Ok(())
    }
}

pub fn max_chars(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        Err(format!("{field} must be at most {max} characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("john.doe_1").is_ok());
        assert!(username("jo").is_err());
        assert!(username("John").is_err(), "callers lower-case first");
        assert!(username("a-b-c").is_err());
        assert!(username(&"a".repeat(31)).is_err());
        assert_eq!(normalize_username("  JohnDoe "), "johndoe");
    }

    #[test]
    fn emails() {
        assert!(email("a@b.co").is_ok());
        assert!(email("a@b").is_err());
        assert!(email("@b.co").is_err());
        assert!(email("a b@c.de").is_err());
        assert!(email("a@@b.co").is_err());
    }

    #[test]
    fn passwords() {
        assert!(password("password", "1234567").is_err());
        assert!(password("password", "12345678").is_ok());
        assert!(password("password", &"x".repeat(129)).is_err());
    }

    #[test]
    fn first_error_is_the_message() {
        let mut errors = FieldErrors::default();
        errors.check("email", email("nope"));
        errors.check("username", username("x"));
        match errors.finish() {
            Err(ApiError::BadRequest { message, errors }) => {
                assert!(message.contains("email"));
                assert_eq!(errors.map(|e| e.len()), Some(2));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
