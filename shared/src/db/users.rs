//! User profiles and the unique username/email claims.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::{cancellation_reasons, is_condition_failed, n, s, Db, Item};
use crate::admin::permissions::Permissions;
use crate::error::{ApiError, ApiResult};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Admin,
    Root,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Active,
    Disabled,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    #[serde(default)]
    pub is_verified: bool,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub status: Status,
    /// What an admin granted (seed 004); `None` means the role's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// Bumped to revoke every access and refresh token issued before.
    #[serde(default)]
    pub token_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default)]
    pub is_private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_picture_key: Option<String>,
    #[serde(default)]
    pub followers_count: i64,
    #[serde(default)]
    pub following_count: i64,
    #[serde(default)]
    pub posts_count: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Social sign-in identities linked to the account, by provider (`google`, `apple`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderLink>,
    /// Set by the stream once the account has more followers than fan-out on write serves: its
    /// posts are merged into timelines when they are read (`fanout::timeline`). Never written
    /// from the record, only by `Db::mark_large_account`.
    #[serde(default, skip_serializing)]
    pub large_account: bool,
    /// The large accounts this user follows (a string set the stream keeps), merged into the
    /// timeline at read time: the auth read already carries it.
    #[serde(default, skip_serializing)]
    pub followed_large: Vec<String>,
}

/// What the account keeps of one linked provider identity (seed 004's `provider.<name>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderLink {
    /// The provider's user id (`sub`).
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
}

impl UserRecord {
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// The status admins see and filter on: `disabled`, else `unverified-email` until the email
    /// is verified, else `active`.
    pub fn admin_state(&self) -> &'static str {
        match (self.status, self.is_verified) {
            (Status::Disabled, _) => ADMIN_DISABLED,
            (Status::Active, false) => ADMIN_UNVERIFIED,
            (Status::Active, true) => ADMIN_ACTIVE,
        }
    }

    /// A new account: role `user` with its default permissions, active, nothing counted yet.
    pub fn new_account(
        username: String,
        email: String,
        full_name: String,
        password_hash: String,
        is_verified: bool,
    ) -> Self {
        let now = crate::time::now_rfc3339();
        Self {
            id: ulid::Ulid::new().to_string(),
            username,
            email,
            full_name,
            password_hash,
            is_verified,
            role: Role::User,
            status: Status::Active,
            permissions: Some(Permissions::user_default()),
            token_version: 0,
            bio: None,
            website: None,
            gender: None,
            is_private: false,
            profile_picture_key: None,
            followers_count: 0,
            following_count: 0,
            posts_count: 0,
            created_at: now.clone(),
            updated_at: now,
            providers: BTreeMap::new(),
            large_account: false,
            followed_large: Vec::new(),
        }
    }

    /// Accounts created through social sign-in have no password until one is set by reset.
    pub fn has_password(&self) -> bool {
        !self.password_hash.is_empty()
    }
}

pub const ADMIN_ACTIVE: &str = "active";
pub const ADMIN_DISABLED: &str = "disabled";
pub const ADMIN_UNVERIFIED: &str = "unverified-email";
pub const ADMIN_STATES: [&str; 3] = [ADMIN_ACTIVE, ADMIN_DISABLED, ADMIN_UNVERIFIED];

/// The attributes that file a profile in the admin directory (GSI2, by state) and, for admins
/// and roots, in the role index (GSI3). Written with the profile and whenever state or role move.
pub fn directory_attributes(user: &UserRecord) -> Item {
    let sort = keys::directory_sort(&user.created_at, &user.id);
    let state = user.admin_state();
    let mut item = Item::from([
        (keys::GSI2PK.to_string(), s(keys::directory(state))),
        (keys::GSI2SK.to_string(), s(&sort)),
        ("adminState".to_string(), s(state)),
    ]);
    if user.role != Role::User {
        let role = crate::admin::permissions::role_name(user.role);
        item.insert(keys::GSI3PK.into(), s(keys::role_partition(role)));
        item.insert(keys::GSI3SK.into(), s(sort));
    }
    item
}

#[derive(Debug, PartialEq, Eq)]
pub enum RegisterConflict {
    Username,
    Email,
}

pub(super) fn claim_item(key: &Key, user_id: &str) -> Item {
    let mut item = key.to_item();
    item.insert("userId".into(), s(user_id));
    item
}

pub(super) fn put_if_absent(table: &str, item: Item) -> ApiResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl Db {
    /// Creates the profile and claims its username and email in one transaction, together with
    /// any `extra` writes (the verification token): concurrent sign-ups cannot share a name.
    pub async fn create_user(
        &self,
        user: &UserRecord,
        extra: Vec<TransactWriteItem>,
    ) -> ApiResult<Result<(), RegisterConflict>> {
        let mut profile: Item = serde_dynamo::to_item(user)?;
        profile.extend(keys::user(&user.id).to_item());
        profile.extend(super::search::name_index(&user.full_name));
        profile.extend(directory_attributes(user));
        let mut username_claim = claim_item(&keys::username_claim(&user.username), &user.id);
        username_claim.extend(super::search::username_index(&user.username));
        let mut writes = vec![
            put_if_absent(&self.table, profile)?,
            put_if_absent(&self.table, username_claim)?,
            put_if_absent(
                &self.table,
                claim_item(&keys::email_claim(&user.email), &user.id),
            )?,
        ];
        writes.extend(extra);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(err) => match cancellation_reasons(&err) {
                Some(reasons)
                    if reasons
                        .get(1)
                        .is_some_and(|r| r == "ConditionalCheckFailed") =>
                {
                    Ok(Err(RegisterConflict::Username))
                }
                Some(reasons)
                    if reasons
                        .get(2)
                        .is_some_and(|r| r == "ConditionalCheckFailed") =>
                {
                    Ok(Err(RegisterConflict::Email))
                }
                _ => Err(err.into()),
            },
        }
    }

    /// Writes what an admin changed (role, permissions, status, verification) with the profile's
    /// directory attributes and the audit entry: 1 TransactWriteItems. `revoke` bumps the token
    /// version (a disabled account's tokens stop at once). `Ok(false)` when the profile moved
    /// since `before` was read.
    pub async fn update_admin_fields(
        &self,
        before: &UserRecord,
        after: &UserRecord,
        revoke: bool,
        audit: TransactWriteItem,
    ) -> ApiResult<bool> {
        let directory = directory_attributes(after);
        let mut sets: Vec<String> = vec![
            "#role = :role".into(),
            "#status = :status".into(),
            "isVerified = :verified".into(),
            "updatedAt = :now".into(),
        ];
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::user(&after.id).to_item()))
            .expression_attribute_names("#role", "role")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":role", serde_dynamo::to_attribute_value(after.role)?)
            .expression_attribute_values(":oldRole", serde_dynamo::to_attribute_value(before.role)?)
            .expression_attribute_values(":status", serde_dynamo::to_attribute_value(after.status)?)
            .expression_attribute_values(
                ":verified",
                aws_sdk_dynamodb::types::AttributeValue::Bool(after.is_verified),
            )
            .expression_attribute_values(":now", s(crate::time::now_rfc3339()))
            .expression_attribute_values(
                ":tv",
                n(i64::try_from(before.token_version).unwrap_or(i64::MAX)),
            )
            .condition_expression(
                "attribute_exists(PK) AND #role = :oldRole AND tokenVersion = :tv",
            );
        if let Some(permissions) = &after.permissions {
            sets.push("#perms = :perms".into());
            update = update
                .expression_attribute_names("#perms", "permissions")
                .expression_attribute_values(
                    ":perms",
                    serde_dynamo::to_attribute_value(permissions)?,
                );
        }
        for (i, (name, value)) in directory.into_iter().enumerate() {
            sets.push(format!("#d{i} = :d{i}"));
            update = update
                .expression_attribute_names(format!("#d{i}"), name)
                .expression_attribute_values(format!(":d{i}"), value);
        }
        if revoke {
            sets.push("tokenVersion = tokenVersion + :one".into());
            update = update.expression_attribute_values(":one", n(1));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if after.role == Role::User {
            expression.push_str(" REMOVE GSI3PK, GSI3SK");
        }
        let update = update.update_expression(expression).build()?;
        self.transact(vec![
            TransactWriteItem::builder().update(update).build(),
            audit,
        ])
        .await
    }

    /// A strongly consistent read: token versions must be seen the moment they change.
    pub async fn get_user(&self, user_id: &str) -> ApiResult<Option<UserRecord>> {
        self.get_record(&keys::user(user_id)).await
    }

    /// Resolves a username or email claim to the user id that holds it.
    pub async fn claimed_user_id(&self, claim: &Key) -> ApiResult<Option<String>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(claim.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out
            .item
            .and_then(|item| item.get("userId")?.as_s().ok().cloned()))
    }

    pub async fn find_user_by_claim(&self, claim: &Key) -> ApiResult<Option<UserRecord>> {
        match self.claimed_user_id(claim).await? {
            Some(id) => self.get_user(&id).await,
            None => Ok(None),
        }
    }

    /// Revokes every token of the user issued so far; returns the new version.
    pub async fn bump_token_version(&self, user_id: &str) -> ApiResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(user_id).to_item()))
            .update_expression("ADD tokenVersion :one SET updatedAt = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(crate::time::now_rfc3339()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|err| {
                if is_condition_failed(&err) {
                    ApiError::not_found("User not found")
                } else {
                    err.into()
                }
            })?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("tokenVersion"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::internal("tokenVersion missing after update"))
    }

    /// The update that replaces a password and revokes every earlier token, for use inside a
    /// transaction. `expected_version` guards against a concurrent revocation.
    pub fn password_update(
        &self,
        user_id: &str,
        password_hash: &str,
        expected_version: Option<u64>,
        mark_verified: bool,
    ) -> ApiResult<TransactWriteItem> {
        let mut expression =
            "SET passwordHash = :hash, updatedAt = :now ADD tokenVersion :one".to_string();
        if mark_verified {
            expression = expression.replace("SET ", "SET isVerified = :true, ");
        }
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::user(user_id).to_item()))
            .update_expression(expression)
            .expression_attribute_values(":hash", s(password_hash))
            .expression_attribute_values(":now", s(crate::time::now_rfc3339()))
            .expression_attribute_values(":one", n(1));
        if mark_verified {
            update = update.expression_attribute_values(
                ":true",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            );
        }
        update = match expected_version {
            Some(version) => update
                .condition_expression("tokenVersion = :tv")
                .expression_attribute_values(":tv", n(version)),
            None => update.condition_expression("attribute_exists(PK)"),
        };
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }

    /// Marks the email verified, for use inside a transaction.
    pub fn verified_update(&self, user_id: &str) -> ApiResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::user(user_id).to_item()))
            // An active account moves to the directory's `active` partition; a disabled one
            // stays as it is (its state is the admins' to change).
            .update_expression(
                "SET isVerified = :true, updatedAt = :now, GSI2PK = :active, adminState = :state",
            )
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(#status) OR #status = :on)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":on", s("active"))
            .expression_attribute_values(":active", s(keys::directory(ADMIN_ACTIVE)))
            .expression_attribute_values(":state", s(ADMIN_ACTIVE))
            .expression_attribute_values(
                ":true",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
            .expression_attribute_values(":now", s(crate::time::now_rfc3339()))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs writes that must succeed or fail together; a failed condition comes back as `Ok(false)`.
    pub async fn transact(&self, writes: Vec<TransactWriteItem>) -> ApiResult<bool> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) => match cancellation_reasons(&err) {
                Some(reasons) if reasons.iter().any(|r| r == "ConditionalCheckFailed") => Ok(false),
                _ => Err(err.into()),
            },
        }
    }
}

impl Db {
    /// Many profiles in one BatchGetItem, for hydrating authors and participants.
    /// Missing users are simply absent from the map.
    pub async fn get_users(
        &self,
        ids: &[String],
    ) -> ApiResult<std::collections::HashMap<String, UserRecord>> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.iter().map(|id| keys::user(id).to_item()).collect();
        self.batch_get(keys, false)
            .await?
            .into_iter()
            .map(|item| {
                let user: UserRecord = serde_dynamo::from_item(item)?;
                Ok((user.id.clone(), user))
            })
            .collect()
    }
}
