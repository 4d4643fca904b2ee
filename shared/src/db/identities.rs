//! Social sign-in: identity claims (`IDENTITY#<provider>#<sub>` → userId), the state of a redirect
//! flow in progress and the one-time code it ends with. State and code are single use: consuming
//! one is a conditional DeleteItem that also checks the expiry (TTL removes leftovers later).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::users::{claim_item, put_if_absent, ProviderLink, UserRecord};
use super::{cancellation_reasons, is_condition_failed, n, s, Db, Item};
use crate::error::ApiResult;

/// Why creating an account for a new identity did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum SocialCreateConflict {
    Username,
    Email,
    Identity,
}

/// A redirect flow between `GET /api/auth/<provider>` and its callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthStateRecord {
    pub provider: String,
    pub redirect_uri: String,
    pub code_verifier: String,
    pub nonce: String,
    /// HMAC of the cookie value that binds the flow to the browser that started it.
    pub browser_hash: String,
    pub expires_at: i64,
    pub ttl: i64,
}

/// What a redirect flow's one-time code stands for.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthCodeRecord {
    pub user_id: String,
    pub provider: String,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Db {
    /// Creates the account of a first social sign-in in one transaction: the profile, its
    /// username claim, its email claim (only for a verified email; `user.email` is empty
    /// otherwise) and the identity claim.
    pub async fn create_social_user(
        &self,
        user: &UserRecord,
        identity: &Key,
    ) -> ApiResult<Result<(), SocialCreateConflict>> {
        let mut profile: Item = serde_dynamo::to_item(user)?;
        profile.extend(keys::user(&user.id).to_item());
        profile.extend(super::search::name_index(&user.full_name));
        let mut username_claim = claim_item(&keys::username_claim(&user.username), &user.id);
        username_claim.extend(super::search::username_index(&user.username));
        let mut writes = vec![
            put_if_absent(&self.table, profile)?,
            put_if_absent(&self.table, username_claim)?,
            put_if_absent(&self.table, claim_item(identity, &user.id))?,
        ];
        if !user.email.is_empty() {
            writes.push(put_if_absent(
                &self.table,
                claim_item(&keys::email_claim(&user.email), &user.id),
            )?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Ok(())),
            Err(err) => err,
        };
        let failed = |at: usize, reasons: &[String]| {
            reasons
                .get(at)
                .is_some_and(|r| r == "ConditionalCheckFailed")
        };
        match cancellation_reasons(&err) {
            Some(reasons) if failed(2, &reasons) => Ok(Err(SocialCreateConflict::Identity)),
            Some(reasons) if failed(1, &reasons) => Ok(Err(SocialCreateConflict::Username)),
            Some(reasons) if failed(3, &reasons) => Ok(Err(SocialCreateConflict::Email)),
            _ => Err(err.into()),
        }
    }

    /// Links an identity to an existing account: claims the identity and writes the account's
    /// provider map, provided the account has not changed since `seen` was read. Linking to an
    /// account whose email was never verified also removes its password and revokes its tokens
    /// (whoever set that password never proved they own the email). `Ok(false)` when the identity
    /// was claimed meanwhile or the account changed.
    pub async fn link_identity(
        &self,
        seen: &UserRecord,
        identity: &Key,
        providers: &std::collections::BTreeMap<String, ProviderLink>,
        now: &str,
    ) -> ApiResult<bool> {
        let providers = serde_dynamo::to_attribute_value(providers)?;
        // Verified now: the admin directory files it under its new state.
        let directory = super::users::directory_attributes(&UserRecord {
            is_verified: true,
            ..seen.clone()
        });
        let mut expression =
            "SET providers = :providers, isVerified = :true, updatedAt = :now".to_string();
        for name in directory.keys() {
            expression.push_str(&format!(", {name} = :dir{name}"));
        }
        if !seen.is_verified {
            expression.push_str(", passwordHash = :none ADD tokenVersion :one");
        }
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::user(&seen.id).to_item()))
            .update_expression(expression)
            .condition_expression("updatedAt = :seen")
            .expression_attribute_values(":providers", providers)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":seen", s(&seen.updated_at));
        if !seen.is_verified {
            update = update
                .expression_attribute_values(":none", s(""))
                .expression_attribute_values(":one", n(1));
        }
        for (name, value) in directory {
            update = update.expression_attribute_values(format!(":dir{name}"), value);
        }
        let writes = vec![
            put_if_absent(&self.table, claim_item(identity, &seen.id))?,
            TransactWriteItem::builder().update(update.build()?).build(),
        ];
        self.transact(writes).await
    }

    /// Removes an identity claim whose account no longer exists (only if it still points there).
    pub async fn delete_stale_identity(&self, identity: &Key, user_id: &str) -> ApiResult<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(identity.to_item()))
            .condition_expression("userId = :u")
            .expression_attribute_values(":u", s(user_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn put_oauth_state(&self, digest: &str, record: &OAuthStateRecord) -> ApiResult<()> {
        self.put_single_use(keys::oauth_state(digest), serde_dynamo::to_item(record)?)
            .await
    }

    /// Spends a redirect flow's state: `None` when it is unknown, used or expired.
    pub async fn consume_oauth_state(
        &self,
        digest: &str,
        now: i64,
    ) -> ApiResult<Option<OAuthStateRecord>> {
        self.consume_single_use(keys::oauth_state(digest), now)
            .await
    }

    pub async fn put_oauth_code(&self, digest: &str, record: &OAuthCodeRecord) -> ApiResult<()> {
        self.put_single_use(keys::oauth_code(digest), serde_dynamo::to_item(record)?)
            .await
    }

    /// Spends a one-time exchange code: `None` when it is unknown, used or expired.
    pub async fn consume_oauth_code(
        &self,
        digest: &str,
        now: i64,
    ) -> ApiResult<Option<OAuthCodeRecord>> {
        self.consume_single_use(keys::oauth_code(digest), now).await
    }

    async fn put_single_use(&self, key: Key, mut item: Item) -> ApiResult<()> {
        item.extend(key.to_item());
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    async fn consume_single_use<T: serde::de::DeserializeOwned>(
        &self,
        key: Key,
        now: i64,
    ) -> ApiResult<Option<T>> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression("attribute_exists(PK) AND expiresAt > :now")
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match delete {
            Ok(out) => match out.attributes {
                Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
                None => Ok(None),
            },
            Err(err) if is_condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// The identity claims of an account's linked providers (account deletion removes them).
pub fn identity_keys(user: &UserRecord) -> Vec<Key> {
    user.providers
        .iter()
        .map(|(provider, link)| keys::identity(provider, &link.user_id))
        .collect()
}
