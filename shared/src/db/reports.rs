//! Reports: `REPORT#<id>`/`REPORT`, on GSI1 `REPORTS#<open|resolved>` (oldest first by ULID) and
//! on GSI3 `REPORTSON#<type>#<id>` with `<status>#<id>` (the open reports on one target). One
//! open report per reporter and target: the claim `REPORTSON#<type>#<id>`/`OPENBY#<reporter>`
//! is put with the report and deleted when the report is resolved.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::keys;
use super::{cancellation_reasons, s, Db, Item};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageRequest, Start};

pub const OPEN: &str = "open";
pub const RESOLVED: &str = "resolved";
/// Reports resolved per transaction: 2 writes each, with the audit entry beside them.
const RESOLVED_PER_TRANSACTION: usize = 45;
/// Open reports one resolution reads at most (every one of them is resolved).
const MAX_OPEN_ON_TARGET: usize = 1000;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRecord {
    pub report_id: String,
    pub reporter_id: String,
    pub target_type: String,
    pub target_id: String,
    /// The post a reported comment belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    /// Whose content it is (the author, the sender, the user themselves).
    pub owner_id: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub resolved_by: String,
    pub resolved_at: String,
}

fn claim(report: &ReportRecord) -> keys::Key {
    keys::open_report_claim(&report.target_type, &report.target_id, &report.reporter_id)
}

impl Db {
    /// The Query of the open reports on one target (GSI3 `REPORTSON#…`, `open#…`).
    fn open_on_target(
        &self,
        target_type: &str,
        target_id: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI3)
            .key_condition_expression("GSI3PK = :pk AND begins_with(GSI3SK, :open)")
            .expression_attribute_values(":pk", s(keys::reports_on(target_type, target_id)))
            .expression_attribute_values(":open", s(format!("{OPEN}#")))
    }

    /// Files a report; `Ok(false)` when the reporter already has an open one on that target.
    /// 1 TransactWriteItems.
    pub async fn create_report(&self, report: &ReportRecord) -> ApiResult<bool> {
        let mut item: Item = serde_dynamo::to_item(report)?;
        item.extend(keys::report(&report.report_id).to_item());
        item.insert(keys::GSI1PK.into(), s(keys::reports_with_status(OPEN)));
        item.insert(keys::GSI1SK.into(), s(&report.report_id));
        item.insert(
            keys::GSI3PK.into(),
            s(keys::reports_on(&report.target_type, &report.target_id)),
        );
        item.insert(
            keys::GSI3SK.into(),
            s(format!("{OPEN}#{}", report.report_id)),
        );
        let mut claim_item = claim(report).to_item();
        claim_item.insert("reportId".into(), s(&report.report_id));
        let put = |item: Item| -> ApiResult<TransactWriteItem> {
            Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(PK)")
                        .build()?,
                )
                .build())
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(claim_item)?)
            .transact_items(put(item)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match cancellation_reasons(&err) {
                Some(reasons)
                    if reasons
                        .first()
                        .is_some_and(|r| r == "ConditionalCheckFailed") =>
                {
                    Ok(false)
                }
                _ => Err(err.into()),
            },
        }
    }

    pub async fn get_report(&self, report_id: &str) -> ApiResult<Option<ReportRecord>> {
        if report_id.parse::<ulid::Ulid>().is_err() {
            return Ok(None);
        }
        self.get_record(&keys::report(report_id)).await
    }

    /// A page of reports with `status`, oldest first, optionally of one target type: 1 Query.
    pub async fn reports_page(
        &self,
        status: &str,
        target_type: Option<&str>,
        page: &PageRequest,
    ) -> ApiResult<(Vec<ReportRecord>, Option<Item>)> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(keys::reports_with_status(status)))
            .scan_index_forward(true)
            .limit(i32::try_from(page.limit).unwrap_or(100));
        if let Some(target_type) = target_type {
            query = query
                .filter_expression("targetType = :type")
                .expression_attribute_values(":type", s(target_type));
        }
        if let Start::After(key) = &page.start {
            query = query.set_exclusive_start_key(Some(key.clone()));
        }
        let out = query.send().await?;
        let reports = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(serde_dynamo::from_item)
            .collect::<Result<Vec<ReportRecord>, _>>()?;
        Ok((reports, out.last_evaluated_key))
    }

    /// The ids of the open reports on one target, oldest first, at most `MAX_OPEN_ON_TARGET`.
    pub async fn open_reports_on(
        &self,
        target_type: &str,
        target_id: &str,
    ) -> ApiResult<Vec<String>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .open_on_target(target_type, target_id)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            found.extend(out.items.unwrap_or_default().iter().filter_map(|item| {
                item.get(keys::GSI3SK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| sk.strip_prefix("open#"))
                    .map(str::to_string)
            }));
            match out.last_evaluated_key {
                Some(key) if found.len() < MAX_OPEN_ON_TARGET => start = Some(key),
                _ => break,
            }
        }
        Ok(found)
    }

    /// Resolves these open reports (and frees their reporters' claims), the audit entry in the
    /// first transaction; answers the reports as they were. 1 BatchGetItem + 1 TransactWriteItems
    /// per 45 reports.
    pub async fn resolve_reports(
        &self,
        report_ids: &[String],
        resolution: &Resolution,
        audit: TransactWriteItem,
    ) -> ApiResult<Vec<ReportRecord>> {
        let report_keys: Vec<keys::Key> = report_ids.iter().map(|id| keys::report(id)).collect();
        let found = self.get_items(&report_keys, true).await?;
        let mut reports: Vec<ReportRecord> = Vec::with_capacity(found.len());
        for key in &report_keys {
            if let Some(item) = found.get(&(key.pk.clone(), key.sk.clone())) {
                let report: ReportRecord = serde_dynamo::from_item(item.clone())?;
                if report.status == OPEN {
                    reports.push(report);
                }
            }
        }
        let resolution_value = serde_dynamo::to_attribute_value::<
            _,
            aws_sdk_dynamodb::types::AttributeValue,
        >(resolution)?;
        let mut audit = Some(audit);
        for chunk in reports.chunks(RESOLVED_PER_TRANSACTION) {
            let mut writes: Vec<TransactWriteItem> = Vec::with_capacity(chunk.len() * 2 + 1);
            for report in chunk {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(keys::report(&report.report_id).to_item()))
                    .update_expression(
                        "SET #status = :resolved, resolution = :resolution, GSI1PK = :list, GSI3SK = :on",
                    )
                    .condition_expression("#status = :open")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":resolved", s(RESOLVED))
                    .expression_attribute_values(":open", s(OPEN))
                    .expression_attribute_values(":resolution", resolution_value.clone())
                    .expression_attribute_values(":list", s(keys::reports_with_status(RESOLVED)))
                    .expression_attribute_values(
                        ":on",
                        s(format!("{RESOLVED}#{}", report.report_id)),
                    )
                    .build()?;
                writes.push(TransactWriteItem::builder().update(update).build());
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(claim(report).to_item()))
                    .build()?;
                writes.push(TransactWriteItem::builder().delete(delete).build());
            }
            if let Some(audit) = audit.take() {
                writes.push(audit);
            }
            if !self.transact(writes).await? {
                return Err(ApiError::conflict(
                    "Another admin resolved these reports meanwhile",
                ));
            }
        }
        if let Some(audit) = audit {
            self.transact(vec![audit]).await?;
        }
        Ok(reports)
    }

    /// How many open reports a target has: 1 Query (`Select COUNT`).
    pub async fn open_report_count(&self, target_type: &str, target_id: &str) -> ApiResult<i64> {
        let out = self
            .open_on_target(target_type, target_id)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await?;
        Ok(i64::from(out.count))
    }
}
