//! `GET /api/admin/users`: the user list with seed 004's filters, and what each costs.
//!
//! - `username` / `email` (exact): the claim item → 2 GetItems, other filters applied to the one
//!   user found.
//! - `fullName` / `firstName` (prefix of the name) and `lastName` (prefix of a later word):
//!   filtered by DynamoDB on the lower-cased name the directory projects (the name index's
//!   `GSI1SK`), like every filter below.
//! - `role=admin|root`: the sparse role partition of GSI3 (1 Query per page + 1 BatchGetItem),
//!   `status` and `permissions` filtered by DynamoDB on the projected attributes.
//! - otherwise the state partitions of GSI2 (`status` picks one; none reads the three in
//!   parallel and merges them in `createdAt` order), `role=user` and `permissions` filtered.
//!
//! `usersCount` is exact: a `Select COUNT` of the same Query (1 MB of index keys per page).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::permissions::{effective, role_name, Permission};
use crate::db::directory::{DirectoryPage, DirectorySource};
use crate::db::keys;
use crate::db::users::{Role, UserRecord, ADMIN_STATES};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::{split_name, AdminUser};

pub const DEFAULT_LIMIT: usize = 30;
pub const MAX_LIMIT: usize = 100;
pub const MAX_SKIP: usize = 10_000;

/// The query string, as strings so that every bad value is a named 400.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryQuery {
    pub limit: Option<String>,
    pub skip: Option<String>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    pub permissions: Option<String>,
}

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The filters, checked.
struct Filters {
    status: Option<&'static str>,
    role: Option<Role>,
    permission: Option<Permission>,
    full_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

impl Filters {
    fn parse(query: &DirectoryQuery) -> ApiResult<Self> {
        let status =
            match given(&query.status) {
                None => None,
                Some(raw) => Some(ADMIN_STATES.into_iter().find(|s| *s == raw).ok_or_else(
                    || {
                        ApiError::invalid_field(
                            "status",
                            "status must be one of active, disabled, unverified-email",
                        )
                    },
                )?),
            };
        let role = match given(&query.role) {
            None => None,
            Some("user") => Some(Role::User),
            Some("admin") => Some(Role::Admin),
            Some("root") => Some(Role::Root),
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "role",
                    "role must be one of root, admin, user",
                ))
            }
        };
        let permission = match given(&query.permissions) {
            None => None,
            Some(raw) => Some(Permission::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "permissions",
                    "permissions must be one of userRead, userModify, userInsert, postRead, postModify, postInsert",
                )
            })?),
        };
        let lower = |raw: &Option<String>| given(raw).map(crate::db::search::normalize_term);
        Ok(Self {
            status,
            role,
            permission,
            full_name: lower(&query.full_name),
            first_name: lower(&query.first_name),
            last_name: lower(&query.last_name),
        })
    }

    /// Whether one user passes every filter (for the look-ups that find users first).
    fn accepts(&self, user: &UserRecord) -> bool {
        let (first, last) = split_name(&user.full_name);
        self.status.is_none_or(|s| user.admin_state() == s)
            && self.role.is_none_or(|r| user.role == r)
            && self.permission.is_none_or(|p| effective(user).has(p))
            && self
                .full_name
                .as_deref()
                .is_none_or(|p| user.full_name.to_lowercase().starts_with(p))
            && self
                .first_name
                .as_deref()
                .is_none_or(|p| first.to_lowercase().starts_with(p))
            && self
                .last_name
                .as_deref()
                .is_none_or(|p| last.to_lowercase().starts_with(p))
    }

    /// The index partitions and DynamoDB filter for an unfiltered-by-name listing.
    fn source(&self) -> DirectorySource {
        let mut clauses: Vec<&str> = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        let mut values: Vec<(String, AttributeValue)> = Vec::new();
        let (index, partitions) = match self.role {
            Some(role @ (Role::Admin | Role::Root)) => {
                if let Some(status) = self.status {
                    clauses.push("adminState = :state");
                    values.push((":state".into(), AttributeValue::S(status.into())));
                }
                (keys::GSI3, vec![keys::role_partition(role_name(role))])
            }
            _ => {
                let states: Vec<&str> = match self.status {
                    Some(status) => vec![status],
                    None => ADMIN_STATES.to_vec(),
                };
                (
                    keys::GSI2,
                    states.into_iter().map(keys::directory).collect(),
                )
            }
        };
        if self.role == Some(Role::User) {
            clauses.push("(attribute_not_exists(#role) OR #role = :user)");
            values.push((":user".into(), AttributeValue::S("user".into())));
        }
        if let Some(permission) = self.permission {
            // Root holds every permission whatever is stored.
            clauses.push("(#perms.#perm = :granted OR #role = :root)");
            names.push(("#perms".into(), "permissions".into()));
            names.push(("#perm".into(), permission.as_str().into()));
            values.push((":granted".into(), AttributeValue::Bool(true)));
            values.push((":root".into(), AttributeValue::S("root".into())));
        }
        // Names: the profile's lower-cased full name, as the name index keeps it (GSI1SK).
        let mut name_clauses: Vec<String> = Vec::new();
        if let Some(full) = &self.full_name {
            name_clauses.push("begins_with(#name, :full)".into());
            values.push((":full".into(), AttributeValue::S(full.clone())));
        }
        if let Some(first) = &self.first_name {
            name_clauses.push("begins_with(#name, :first)".into());
            values.push((":first".into(), AttributeValue::S(first.clone())));
        }
        if let Some(last) = &self.last_name {
            name_clauses.push("contains(#name, :last)".into());
            values.push((":last".into(), AttributeValue::S(format!(" {last}"))));
        }
        if !name_clauses.is_empty() {
            names.push(("#name".into(), keys::GSI1SK.into()));
        }
        let mut clauses: Vec<String> = clauses.into_iter().map(str::to_string).collect();
        clauses.extend(name_clauses);
        if clauses.iter().any(|c| c.contains("#role")) {
            names.push(("#role".into(), "role".into()));
        }
        DirectorySource {
            index,
            partitions,
            filter: (!clauses.is_empty()).then(|| clauses.join(" AND ")),
            names,
            values,
        }
    }
}

fn number(field: &str, raw: &Option<String>, default: usize, max: usize) -> ApiResult<usize> {
    match given(raw) {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            Ok(_) => Err(ApiError::invalid_field(
                field,
                format!("{field} must be at most {max}"),
            )),
            Err(_) => Err(ApiError::invalid_field(
                field,
                format!("{field} must be a non-negative integer"),
            )),
        },
    }
}

fn decode_cursor(raw: &str) -> ApiResult<String> {
    URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|sort| sort.contains('#') && sort.len() < 200)
        .ok_or_else(|| ApiError::invalid_field("cursor", "cursor is invalid"))
}

/// `{users, usersCount, pagination facts}` for the admin directory.
pub async fn list_users(state: &AppState, query: &DirectoryQuery) -> ApiResult<Value> {
    let filters = Filters::parse(query)?;
    let limit = match number("limit", &query.limit, DEFAULT_LIMIT, usize::MAX)? {
        0 => return Err(ApiError::invalid_field("limit", "limit must be at least 1")),
        n => n.min(MAX_LIMIT),
    };
    let skip = number("skip", &query.skip, 0, MAX_SKIP).map_err(|_| {
        ApiError::invalid_field(
            "skip",
            format!("skip must be an integer from 0 to {MAX_SKIP}; page deeper with cursor"),
        )
    })?;
    let newest_first = match given(&query.sort) {
        None | Some("-createdAt") => true,
        Some("createdAt") => false,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "sort",
                "sort must be createdAt or -createdAt",
            ))
        }
    };
    let after = given(&query.cursor).map(decode_cursor).transpose()?;

    // Look-ups that find the candidates first, then filter them.
    let found: Option<Vec<UserRecord>> = if let Some(username) = given(&query.username) {
        let claim = keys::username_claim(&username.to_lowercase());
        Some(
            state
                .db
                .find_user_by_claim(&claim)
                .await?
                .into_iter()
                .collect(),
        )
    } else if let Some(email) = given(&query.email) {
        let email = crate::validation::normalize_email(email);
        let claim = keys::email_claim(&email);
        Some(
            state
                .db
                .find_user_by_claim(&claim)
                .await?
                .into_iter()
                .collect(),
        )
    } else {
        None
    };

    let (users, count, has_more, next) = match found {
        Some(mut users) => {
            users.retain(|u| filters.accepts(u));
            users.sort_by(|a, b| {
                keys::directory_sort(&a.created_at, &a.id)
                    .cmp(&keys::directory_sort(&b.created_at, &b.id))
            });
            if newest_first {
                users.reverse();
            }
            if let Some(after) = &after {
                users.retain(|u| {
                    let sort = keys::directory_sort(&u.created_at, &u.id);
                    if newest_first {
                        sort < *after
                    } else {
                        sort > *after
                    }
                });
            }
            let count = users.len() as u64;
            let has_more = users.len() > skip + limit;
            let page: Vec<UserRecord> = users.into_iter().skip(skip).take(limit).collect();
            (page, count, has_more, None)
        }
        None => {
            let source = filters.source();
            let page = DirectoryPage {
                newest_first,
                after,
                skip,
                limit,
            };
            let ((entries, has_more), count) = futures_util::try_join!(
                state.db.directory_page(&source, &page),
                state.db.directory_count(&source),
            )?;
            let ids: Vec<String> = entries.iter().map(|(_, id)| id.clone()).collect();
            let mut by_id: HashMap<String, UserRecord> = state.db.get_users(&ids).await?;
            let users: Vec<UserRecord> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
            let next = entries
                .last()
                .filter(|_| has_more)
                .map(|(sort, _)| URL_SAFE_NO_PAD.encode(sort));
            (users, count, has_more, next)
        }
    };
    let mut views = Vec::with_capacity(users.len());
    for user in &users {
        views.push(AdminUser::from_record(user, &state.media).await);
    }
    let next = next.or_else(|| {
        users
            .last()
            .filter(|_| has_more)
            .map(|u| URL_SAFE_NO_PAD.encode(keys::directory_sort(&u.created_at, &u.id)))
    });
    Ok(json!({
        "users": views,
        "usersCount": count,
        "hasMore": has_more,
        "total": count,
        "limit": limit,
        "offset": skip,
        "skip": skip,
        "nextCursor": next,
    }))
}
