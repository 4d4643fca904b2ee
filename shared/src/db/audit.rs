//! The append-only audit trail of admin actions. Entries are only ever put (never updated or
//! deleted by the API), each in the same transaction as the change it records where the change
//! is one transaction. `AUDIT`/`ENTRY#<ULID>` lists them newest first; GSI1 `AUDITBY#<actor>` and
//! GSI3 `AUDITON#<target>` list one actor's or one target's.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ulid::Ulid;

use super::keys;
use super::{s, Db, Item};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, Start};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    #[serde(rename = "_id")]
    pub entry_id: String,
    pub actor_id: String,
    /// `user.update`, `user.create`, `user.delete`, `content.remove`, `report.resolve`, ...
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// What changed (before/after, the report's resolution), as JSON.
    #[serde(default)]
    pub details: Value,
    pub created_at: String,
}

impl AuditEntry {
    pub fn new(
        actor_id: &str,
        action: &str,
        target_type: &str,
        target_id: &str,
        details: Value,
    ) -> Self {
        Self {
            entry_id: Ulid::new().to_string(),
            actor_id: actor_id.to_string(),
            action: action.to_string(),
            target_type: target_type.to_string(),
            target_id: target_id.to_string(),
            details,
            created_at: crate::time::now_rfc3339(),
        }
    }
}

/// Which entries a page lists.
#[derive(Clone, Debug)]
pub enum AuditFilter {
    All,
    Actor(String),
    Target(String),
}

impl Db {
    /// The entry as a write for a transaction; the condition makes it append-only.
    pub fn audit_put(&self, entry: &AuditEntry) -> ApiResult<TransactWriteItem> {
        let mut item: Item = serde_dynamo::to_item(entry)?;
        item.insert("details".into(), s(entry.details.to_string()));
        item.extend(keys::audit_entry(&entry.entry_id).to_item());
        item.insert(keys::GSI1PK.into(), s(keys::audit_by(&entry.actor_id)));
        item.insert(keys::GSI1SK.into(), s(&entry.entry_id));
        item.insert(keys::GSI3PK.into(), s(keys::audit_on(&entry.target_id)));
        item.insert(keys::GSI3SK.into(), s(&entry.entry_id));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Records an entry on its own (for changes that take several transactions).
    pub async fn append_audit(&self, entry: &AuditEntry) -> ApiResult<()> {
        self.transact(vec![self.audit_put(entry)?]).await?;
        Ok(())
    }

    /// A page of entries, newest first: 1 Query.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> ApiResult<(Vec<AuditEntry>, Option<Item>)> {
        let query = self.client.query().table_name(&self.table);
        let query = match filter {
            AuditFilter::All => query
                .key_condition_expression("PK = :pk AND begins_with(SK, :entry)")
                .expression_attribute_values(":pk", s(keys::AUDIT_PK))
                .expression_attribute_values(":entry", s(keys::AUDIT_ENTRY_PREFIX)),
            AuditFilter::Actor(actor) => query
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(keys::audit_by(actor))),
            AuditFilter::Target(target) => query
                .index_name(keys::GSI3)
                .key_condition_expression("GSI3PK = :pk")
                .expression_attribute_values(":pk", s(keys::audit_on(target))),
        };
        let start = match &page.start {
            Start::After(key) => Some(key.clone()),
            Start::Offset(_) => None,
        };
        let out = query
            .scan_index_forward(false)
            .limit(i32::try_from(page.limit).unwrap_or(100))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let mut entries = Vec::new();
        for mut item in out.items.unwrap_or_default() {
            let details = item
                .remove("details")
                .and_then(|v| v.as_s().ok().cloned())
                .and_then(|raw| serde_json::from_str::<Value>(&raw).ok())
                .unwrap_or(Value::Null);
            let mut entry: AuditEntry = serde_dynamo::from_item(item)?;
            entry.details = details;
            entries.push(entry);
        }
        Ok((entries, out.last_evaluated_key))
    }
}
