//! `GET /api/admin/audit`: the trail of admin actions, newest first (root, or `userRead`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::permissions::{require, Permission};
use crate::db::audit::AuditFilter;
use crate::db::users::{Role, UserRecord};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{encode_cursor, ListQuery, Pagination, Start};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(state: &AppState, actor: &UserRecord, query: &AuditQuery) -> ApiResult<Value> {
    if actor.role != Role::Root {
        require(actor, Permission::UserRead)?;
    }
    let page = ListQuery {
        limit: query.limit.clone(),
        cursor: query.cursor.clone(),
        ..ListQuery::default()
    }
    .page_request()?;
    let given = |raw: &Option<String>| {
        raw.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let actor_id = given(&query.actor_id);
    let target_id = given(&query.target_id);
    let filter = match (&target_id, &actor_id) {
        (Some(target), _) => AuditFilter::Target(target.clone()),
        (None, Some(actor)) => AuditFilter::Actor(actor.clone()),
        (None, None) => AuditFilter::All,
    };
    if let Start::After(key) = &page.start {
        // A cursor from another list never reaches DynamoDB.
        let expected = match &filter {
            AuditFilter::All => ("PK", crate::db::keys::AUDIT_PK.to_string()),
            AuditFilter::Actor(a) => ("GSI1PK", crate::db::keys::audit_by(a)),
            AuditFilter::Target(t) => ("GSI3PK", crate::db::keys::audit_on(t)),
        };
        if key.get(expected.0).and_then(|v| v.as_s().ok()) != Some(&expected.1) {
            return Err(ApiError::invalid_field("cursor", "cursor is invalid"));
        }
    }
    let (mut entries, last) = state.db.audit_page(&filter, &page).await?;
    if let (Some(actor_id), AuditFilter::Target(_)) = (&actor_id, &filter) {
        entries.retain(|e| &e.actor_id == actor_id);
    }
    let pagination = Pagination::new(
        &page,
        None,
        last.is_some(),
        last.as_ref().map(encode_cursor),
    );
    Ok(pagination.list("entries", json!(entries), "totalEntries"))
}
