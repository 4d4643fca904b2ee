//! What admins do to accounts: read, change role / status / permissions, create and delete.
//! Each change is checked against the actor's permission and rank, and recorded in the audit
//! trail in the same transaction as the change.

use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::{json, Value};
use ulid::Ulid;

use super::permissions::{effective, outranks, require, role_name, Permission, Permissions};
use crate::db::audit::AuditEntry;
use crate::db::users::{
    RegisterConflict, Role, Status, UserRecord, ADMIN_DISABLED, ADMIN_STATES, ADMIN_UNVERIFIED,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validation::{self as v, FieldErrors};
use crate::views::AdminUser;

fn user_not_found() -> ApiError {
    ApiError::not_found("User not found")
}

async fn target(state: &AppState, user_id: &str) -> ApiResult<UserRecord> {
    if user_id.parse::<Ulid>().is_err() {
        return Err(user_not_found());
    }
    state.db.get_user(user_id).await?.ok_or_else(user_not_found)
}

/// `GET /api/admin/users/:id` (`userRead`).
pub async fn get_user(state: &AppState, actor: &UserRecord, user_id: &str) -> ApiResult<Value> {
    require(actor, Permission::UserRead)?;
    let user = target(state, user_id).await?;
    Ok(json!({ "user": AdminUser::from_record(&user, &state.media).await }))
}

/// `PUT /api/admin/users/:id`: only these fields, nothing else about an account.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub role: Option<String>,
    pub status: Option<String>,
    pub permissions: Option<Permissions>,
}

/// Applies a change to `target` as the actor may make it; answers the fields that changed.
fn apply(
    actor: &UserRecord,
    target: &mut UserRecord,
    change: &UserChange,
) -> ApiResult<Vec<&'static str>> {
    let mut updated = Vec::new();
    if let Some(raw) = change.role.as_deref() {
        let role = match raw.trim() {
            "user" => Role::User,
            "admin" => Role::Admin,
            "root" => return Err(ApiError::forbidden(
                "The root role is granted by an operator (admin-cli grant-root), never by the API",
            )),
            _ => {
                return Err(ApiError::invalid_field(
                    "role",
                    "role must be admin or user",
                ))
            }
        };
        if actor.role != Role::Root {
            return Err(ApiError::forbidden("Only root can change roles"));
        }
        if role != target.role {
            target.role = role;
            let permissions = change.permissions.unwrap_or(match role {
                Role::Admin => Permissions::admin_default(),
                _ => Permissions::user_default(),
            });
            if target.permissions != Some(permissions) {
                target.permissions = Some(permissions);
                updated.push("permissions");
            }
            updated.insert(0, "role");
        }
    }
    if let Some(raw) = change.status.as_deref() {
        let state = ADMIN_STATES
            .into_iter()
            .find(|s| *s == raw.trim())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "status must be one of active, disabled, unverified-email",
                )
            })?;
        if state != target.admin_state() {
            match state {
                ADMIN_DISABLED => target.status = Status::Disabled,
                ADMIN_UNVERIFIED => {
                    target.status = Status::Active;
                    target.is_verified = false;
                }
                _ => {
                    target.status = Status::Active;
                    target.is_verified = true;
                }
            }
            updated.push("status");
        }
    }
    if let Some(permissions) = change.permissions {
        if Some(permissions) != target.permissions && !updated.contains(&"permissions") {
            target.permissions = Some(permissions);
            updated.push("permissions");
        }
    }
    Ok(updated)
}

/// `PUT /api/admin/users/:id` (`userModify`; roles root only): `{user, updatedFields}`.
/// Disabling revokes every token at once and closes the user's sockets.
pub async fn update_user(
    state: &AppState,
    actor: &UserRecord,
    user_id: &str,
    change: &UserChange,
) -> ApiResult<Value> {
    require(actor, Permission::UserModify)?;
    let before = target(state, user_id).await?;
    outranks(actor, &before)?;
    let mut after = before.clone();
    let updated = apply(actor, &mut after, change)?;
    if !updated.is_empty() {
        let audit = AuditEntry::new(
            &actor.id,
            "user.update",
            "user",
            &before.id,
            json!({
                "updatedFields": updated,
                "before": { "role": role_name(before.role), "status": before.admin_state(), "permissions": effective(&before) },
                "after": { "role": role_name(after.role), "status": after.admin_state(), "permissions": effective(&after) },
            }),
        );
        let revoke = after.status == Status::Disabled && before.status != Status::Disabled;
        if !state
            .db
            .update_admin_fields(&before, &after, revoke, state.db.audit_put(&audit)?)
            .await?
        {
            return Err(ApiError::conflict(
                "The account changed meanwhile: read it again and retry",
            ));
        }
        if revoke {
            after.token_version += 1;
            state.realtime.disconnect_user(&after.id).await;
        }
    }
    Ok(json!({
        "user": AdminUser::from_record(&after, &state.media).await,
        "updatedFields": updated,
    }))
}

/// Disables an account as the resolution of a report (the same checks as `PUT`).
pub async fn disable(state: &AppState, actor: &UserRecord, user_id: &str) -> ApiResult<()> {
    let change = UserChange {
        status: Some(ADMIN_DISABLED.to_string()),
        ..UserChange::default()
    };
    update_user(state, actor, user_id, &change)
        .await
        .map(|_| ())
}

/// `DELETE /api/admin/users/:id` (`userModify`): the account-deletion cascade. The audit entry
/// is written first: the cascade is many transactions, and the record must not depend on all
/// of them succeeding.
pub async fn delete_user(state: &AppState, actor: &UserRecord, user_id: &str) -> ApiResult<()> {
    require(actor, Permission::UserModify)?;
    let user = target(state, user_id).await?;
    outranks(actor, &user)?;
    let audit = AuditEntry::new(
        &actor.id,
        "user.delete",
        "user",
        &user.id,
        json!({ "username": user.username, "email": user.email }),
    );
    state.db.append_audit(&audit).await?;
    crate::cascade::delete_account(state, &user).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    /// Optional: without it a temporary password is made and answered once.
    pub password: Option<String>,
}

/// `POST /api/admin/users` (`userInsert`): a verified user; the temporary password (when none
/// was given) is in this answer only. 1 TransactWriteItems with the audit entry.
pub async fn create_user(state: &AppState, actor: &UserRecord, input: NewUser) -> ApiResult<Value> {
    require(actor, Permission::UserInsert)?;
    let email = v::normalize_email(&input.email);
    let username = v::normalize_username(&input.username);
    let mut errors = FieldErrors::default();
    errors.check(
        "email",
        v::required("email", &email).and_then(|_| v::email(&email)),
    );
    errors.check(
        "username",
        v::required("username", &username).and_then(|_| v::username(&username)),
    );
    errors.check(
        "fullName",
        v::required("fullName", &input.full_name)
            .and_then(|_| v::max_chars("fullName", input.full_name.trim(), v::FULL_NAME_MAX)),
    );
    if let Some(password) = &input.password {
        errors.check("password", v::password("password", password));
    }
    errors.finish()?;
    let temporary = input
        .password
        .is_none()
        .then(|| Alphanumeric.sample_string(&mut rand::rng(), 20));
    let chosen = input
        .password
        .clone()
        .or_else(|| temporary.clone())
        .unwrap_or_default();
    let user = UserRecord::new_account(
        username,
        email,
        input.full_name.trim().to_string(),
        state.hasher.hash(chosen).await?,
        true,
    );
    let audit = AuditEntry::new(
        &actor.id,
        "user.create",
        "user",
        &user.id,
        json!({ "username": user.username, "email": user.email }),
    );
    match state
        .db
        .create_user(&user, vec![state.db.audit_put(&audit)?])
        .await?
    {
        Ok(()) => {}
        Err(RegisterConflict::Username) => {
            return Err(ApiError::conflict("Username is already taken"))
        }
        Err(RegisterConflict::Email) => {
            return Err(ApiError::conflict("Email is already registered"))
        }
    }
    let mut answer = json!({ "user": AdminUser::from_record(&user, &state.media).await });
    if let Some(temporary) = temporary {
        answer["temporaryPassword"] = json!(temporary);
    }
    Ok(answer)
}

/// What `grant_root` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Granted {
    Now(String),
    Already(String),
    NoSuchUser,
}

/// The operator's grant of the root role (admin-cli): straight in the table, idempotent,
/// audited with the actor `operator`. Root's sessions stay valid.
pub async fn grant_root(db: &crate::db::Db, email: &str) -> ApiResult<Granted> {
    let claim = crate::db::keys::email_claim(&v::normalize_email(email));
    let Some(before) = db.find_user_by_claim(&claim).await? else {
        return Ok(Granted::NoSuchUser);
    };
    if before.role == Role::Root {
        return Ok(Granted::Already(before.id));
    }
    let mut after = before.clone();
    after.role = Role::Root;
    after.permissions = Some(Permissions::all());
    let audit = AuditEntry::new(
        "operator",
        "user.grant-root",
        "user",
        &before.id,
        json!({ "before": { "role": role_name(before.role) }, "after": { "role": "root" } }),
    );
    if db
        .update_admin_fields(&before, &after, false, db.audit_put(&audit)?)
        .await?
    {
        Ok(Granted::Now(before.id))
    } else {
        Err(ApiError::conflict(
            "the account changed meanwhile: run the command again",
        ))
    }
}
