//! One provider identity maps to one account. A first sign-in links to the account that holds
//! the same email only when the provider verified that email; otherwise (unverified or no email)
//! it creates a new account, so a provider that lets people claim any address cannot take over
//! an account. New accounts get a generated unique username, `isVerified` from the provider and
//! no password (password login is refused until one is set through forgot/reset).

use std::collections::BTreeMap;

use super::Identity;
use crate::db::identities::SocialCreateConflict;
use crate::db::keys;
use crate::db::users::{ProviderLink, UserRecord};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::now_rfc3339;
use crate::validation as v;

/// Races (two first sign-ins at once, a username taken meanwhile) are retried this often.
const ATTEMPTS: usize = 4;

fn link_of(identity: &Identity) -> ProviderLink {
    ProviderLink {
        user_id: identity.subject.clone(),
        email: identity.email.clone(),
        picture: identity.picture.clone(),
    }
}

fn usable(user: UserRecord) -> ApiResult<UserRecord> {
    if user.is_active() {
        Ok(user)
    } else {
        Err(ApiError::forbidden("Account is disabled"))
    }
}

/// The account `identity` signs in to, linked or created as needed.
/// Known identity: 2 GetItems. Linking: 3 GetItems + 1 transaction. New account: 1-2 GetItems +
/// 1 transaction.
pub async fn account_for(
    state: &AppState,
    identity: &Identity,
    name_hint: Option<&str>,
) -> ApiResult<UserRecord> {
    let claim = keys::identity(identity.provider.as_str(), &identity.subject);
    for _ in 0..ATTEMPTS {
        if let Some(user_id) = state.db.claimed_user_id(&claim).await? {
            match state.db.get_user(&user_id).await? {
                Some(user) => return usable(user),
                // The account was deleted: the identity is free again.
                None => state.db.delete_stale_identity(&claim, &user_id).await?,
            }
        }
        let verified_email = identity
            .email
            .as_deref()
            .filter(|_| identity.email_verified);
        if let Some(email) = verified_email {
            if let Some(user) = state
                .db
                .find_user_by_claim(&keys::email_claim(email))
                .await?
            {
                let user = usable(user)?;
                let mut providers = user.providers.clone();
                providers.insert(identity.provider.as_str().to_string(), link_of(identity));
                let now = now_rfc3339();
                if !state
                    .db
                    .link_identity(&user, &claim, &providers, &now)
                    .await?
                {
                    continue;
                }
                // The account as the transaction left it (no second read).
                let was_verified = user.is_verified;
                let mut linked = UserRecord {
                    providers,
                    is_verified: true,
                    updated_at: now,
                    ..user
                };
                if !was_verified {
                    linked.password_hash.clear();
                    linked.token_version += 1;
                    // Its password (if any) was just removed: close what it opened.
                    state.realtime.disconnect_user(&linked.id).await;
                }
                return Ok(linked);
            }
        }
        let user = new_account(identity, verified_email, name_hint);
        match state.db.create_social_user(&user, &claim).await? {
            Ok(()) => return Ok(user),
            // Another request won one of the claims: look again.
            Err(SocialCreateConflict::Identity)
            | Err(SocialCreateConflict::Email)
            | Err(SocialCreateConflict::Username) => continue,
        }
    }
    Err(ApiError::conflict(
        "Signing in collided with another sign-in; try again",
    ))
}

fn new_account(identity: &Identity, email: Option<&str>, name_hint: Option<&str>) -> UserRecord {
    let full_name: String = name_hint
        .or(identity.full_name.as_deref())
        .unwrap_or_default()
        .trim()
        .chars()
        .take(v::FULL_NAME_MAX)
        .collect();
    let base = email
        .or(identity.email.as_deref())
        .and_then(|e| e.split('@').next())
        .filter(|local| !local.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| full_name.clone());
    UserRecord {
        providers: BTreeMap::from([(identity.provider.as_str().to_string(), link_of(identity))]),
        ..UserRecord::new_account(
            generated_username(&base),
            email.unwrap_or_default().to_string(),
            full_name,
            String::new(),
            email.is_some(),
        )
    }
}

/// `<what the email or name offers, up to 20 characters>_<6 random characters>`: always valid
/// for `^[a-z0-9._]{3,30}$`; a collision is retried with other random characters.
pub fn generated_username(base: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut stem: String = base
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '_')
        .take(20)
        .collect();
    if stem.len() < 3 {
        stem = "user".into();
    }
    let suffix: String = (0..6)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect();
    format!("{stem}_{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_usernames_are_valid_and_differ() {
        for base in [
            "John.Doe",
            "",
            "ü",
            "a-very-long-local-part-of-an-address",
            "x",
        ] {
            let name = generated_username(base);
            assert!(v::username(&name).is_ok(), "{name}");
        }
        assert!(generated_username("John.Doe").starts_with("john.doe_"));
        assert_ne!(generated_username("same"), generated_username("same"));
    }
}
