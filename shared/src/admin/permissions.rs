//! Roles and permissions (seed 004): `root > admin > user`, and six permissions that admin routes
//! check one by one. Root holds every permission; a user's default is `postRead` alone.

use serde::{Deserialize, Serialize};

use crate::db::users::{Role, UserRecord};
use crate::error::{ApiError, ApiResult};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Permissions {
    pub user_read: bool,
    pub user_modify: bool,
    pub user_insert: bool,
    pub post_read: bool,
    pub post_modify: bool,
    pub post_insert: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    UserRead,
    UserModify,
    UserInsert,
    PostRead,
    PostModify,
    PostInsert,
}

impl Permission {
    pub const ALL: [Self; 6] = [
        Self::UserRead,
        Self::UserModify,
        Self::UserInsert,
        Self::PostRead,
        Self::PostModify,
        Self::PostInsert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserRead => "userRead",
            Self::UserModify => "userModify",
            Self::UserInsert => "userInsert",
            Self::PostRead => "postRead",
            Self::PostModify => "postModify",
            Self::PostInsert => "postInsert",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw.trim())
    }
}

impl Permissions {
    /// What a new account holds.
    pub fn user_default() -> Self {
        Self {
            post_read: true,
            ..Self::default()
        }
    }

    /// What a user promoted to admin holds unless the promotion says otherwise.
    pub fn admin_default() -> Self {
        Self {
            user_read: true,
            user_modify: true,
            post_read: true,
            post_modify: true,
            ..Self::default()
        }
    }

    pub fn all() -> Self {
        Self {
            user_read: true,
            user_modify: true,
            user_insert: true,
            post_read: true,
            post_modify: true,
            post_insert: true,
        }
    }

    pub fn has(&self, permission: Permission) -> bool {
        match permission {
            Permission::UserRead => self.user_read,
            Permission::UserModify => self.user_modify,
            Permission::UserInsert => self.user_insert,
            Permission::PostRead => self.post_read,
            Permission::PostModify => self.post_modify,
            Permission::PostInsert => self.post_insert,
        }
    }
}

/// What `user` may do: root everything, others what is stored (or their role's default).
pub fn effective(user: &UserRecord) -> Permissions {
    match user.role {
        Role::Root => Permissions::all(),
        Role::Admin => user.permissions.unwrap_or_else(Permissions::admin_default),
        Role::User => user.permissions.unwrap_or_else(Permissions::user_default),
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Admin => "admin",
        Role::Root => "root",
    }
}

/// Admin routes: an admin or root holding `permission`; everyone else is refused.
pub fn require(user: &UserRecord, permission: Permission) -> ApiResult<()> {
    if user.role == Role::User {
        return Err(ApiError::forbidden("Admin access required"));
    }
    if !effective(user).has(permission) {
        return Err(ApiError::forbidden(format!(
            "The {} permission is required",
            permission.as_str()
        )));
    }
    Ok(())
}

/// Routes for any admin (reports): the role alone.
pub fn require_admin(user: &UserRecord) -> ApiResult<()> {
    match user.role {
        Role::User => Err(ApiError::forbidden("Admin access required")),
        _ => Ok(()),
    }
}

/// An admin acts on someone only from above: never on themselves, a peer or a superior.
pub fn outranks(actor: &UserRecord, target: &UserRecord) -> ApiResult<()> {
    if actor.id == target.id {
        return Err(ApiError::forbidden(
            "You cannot change your own account through the admin API",
        ));
    }
    if actor.role <= target.role {
        return Err(ApiError::forbidden(
            "You cannot change a user whose role is equal to or above yours",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_parse_and_defaults() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("readPosts"), None);
        let user = Permissions::user_default();
        assert!(user.has(Permission::PostRead));
        assert!(!user.has(Permission::UserRead));
        assert!(Permissions::all().has(Permission::PostInsert));
    }
}
