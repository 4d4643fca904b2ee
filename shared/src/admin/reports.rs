//! Reports of abuse: anyone files one on what they can see (one open report per reporter and
//! target); admins list them oldest first, read one with its target as it is now, and resolve
//! every open report on a target at once: dismiss, remove the content, or disable its owner.
//! Each reporter hears `report_resolved`.

use serde::Deserialize;
use serde_json::{json, Value};
use ulid::Ulid;

use super::permissions::{require, require_admin, Permission};
use crate::db::audit::AuditEntry;
use crate::db::keys;
use crate::db::reports::{ReportRecord, Resolution, OPEN, RESOLVED};
use crate::db::users::UserRecord;
use crate::error::{ApiError, ApiResult};
use crate::notifications::{notify_all, NewNotification, NotificationType};
use crate::pagination::{encode_cursor, ListQuery, Pagination, Start};
use crate::state::AppState;

pub const TARGET_TYPES: [&str; 5] = ["post", "comment", "story", "user", "message"];
pub const REASONS: [&str; 5] = ["spam", "nudity", "harassment", "violence", "other"];
pub const ACTIONS: [&str; 3] = ["dismiss", "remove_content", "disable_user"];
pub const MAX_DETAILS_CHARS: usize = 1000;
pub const MAX_NOTE_CHARS: usize = 1000;

fn one_of(field: &str, raw: &str, allowed: &[&'static str]) -> ApiResult<&'static str> {
    allowed
        .iter()
        .copied()
        .find(|a| *a == raw.trim())
        .ok_or_else(|| {
            ApiError::invalid_field(
                field,
                format!("{field} must be one of {}", allowed.join(", ")),
            )
        })
}

fn bounded(field: &str, raw: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    let text = raw.map(str::trim).filter(|t| !t.is_empty());
    match text {
        Some(text) if text.chars().count() > max => Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {max} characters"),
        )),
        other => Ok(other.map(str::to_string)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewReport {
    #[serde(default)]
    pub target_type: String,
    #[serde(default)]
    pub target_id: String,
    /// The post of a reported comment (comments are keyed under their post).
    pub post_id: Option<String>,
    #[serde(default)]
    pub reason: String,
    pub details: Option<String>,
}

fn not_found(target_type: &str) -> ApiError {
    ApiError::not_found(match target_type {
        "post" => "Post not found",
        "comment" => "Comment not found",
        "story" => "Story not found",
        "message" => "Message not found",
        _ => "User not found",
    })
}

/// The owner of a target the reporter can see; 404 for what they cannot.
async fn owner_of(
    state: &AppState,
    reporter: &UserRecord,
    target_type: &str,
    target_id: &str,
    post_id: Option<&str>,
) -> ApiResult<String> {
    let me = Some(reporter.id.as_str());
    match target_type {
        "post" => Ok(crate::posts::visible_post(state, me, target_id)
            .await?
            .0
            .author_id),
        "comment" => {
            let post_id = post_id
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid_field("postId", "postId is required to report a comment")
                })?;
            crate::posts::visible_post(state, me, post_id).await?;
            match state.db.post_and_comment(post_id, target_id).await? {
                (_, Some(comment)) => Ok(comment.author_id),
                _ => Err(not_found("comment")),
            }
        }
        "story" => Ok(crate::stories::get_story(state, me, target_id)
            .await?
            .user
            .id),
        "message" => match state.db.find_message(target_id.trim()).await? {
            // Only a participant can report a message, and only one sent to them.
            Some(m) if m.recipient_id == reporter.id || m.sender_id == reporter.id => {
                Ok(m.sender_id)
            }
            _ => Err(not_found("message")),
        },
        _ => {
            if target_id == reporter.id {
                return Err(ApiError::invalid_field(
                    "targetId",
                    "you cannot report yourself",
                ));
            }
            match state
                .db
                .profile_with_relation(me, target_id, Vec::new())
                .await?
            {
                Some((user, relation, _)) if user.is_active() && !relation.owner_blocked_viewer => {
                    Ok(user.id)
                }
                _ => Err(not_found("user")),
            }
        }
    }
}

/// `POST /api/reports` → 201; 409 while the reporter's previous report on it is open.
pub async fn file(state: &AppState, reporter: &UserRecord, input: NewReport) -> ApiResult<Value> {
    let target_type = one_of("targetType", &input.target_type, &TARGET_TYPES)?;
    let reason = one_of("reason", &input.reason, &REASONS)?;
    let target_id = input.target_id.trim().to_string();
    if target_id.is_empty() || target_id.len() > 64 {
        return Err(ApiError::invalid_field("targetId", "targetId is required"));
    }
    let details = bounded("details", input.details.as_deref(), MAX_DETAILS_CHARS)?;
    let owner_id = owner_of(
        state,
        reporter,
        target_type,
        &target_id,
        input.post_id.as_deref(),
    )
    .await?;
    let report = ReportRecord {
        report_id: Ulid::new().to_string(),
        reporter_id: reporter.id.clone(),
        target_type: target_type.to_string(),
        target_id,
        post_id: input.post_id.filter(|_| target_type == "comment"),
        owner_id,
        reason: reason.to_string(),
        details,
        status: OPEN.to_string(),
        resolution: None,
        created_at: crate::time::now_rfc3339(),
    };
    if !state.db.create_report(&report).await? {
        return Err(ApiError::conflict(
            "You already reported this; the report is still open",
        ));
    }
    Ok(json!(report_json(&report)))
}

fn report_json(report: &ReportRecord) -> Value {
    let mut value = json!(report);
    value["_id"] = json!(report.report_id);
    value
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportsQuery {
    pub status: Option<String>,
    pub target_type: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// `GET /api/admin/reports` (admins): oldest first, `status` (default open), `targetType`.
pub async fn list(state: &AppState, admin: &UserRecord, query: &ReportsQuery) -> ApiResult<Value> {
    require_admin(admin)?;
    let status = match query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => OPEN,
        Some(raw) => one_of("status", raw, &[OPEN, RESOLVED])?,
    };
    let target_type = match query
        .target_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => Some(one_of("targetType", raw, &TARGET_TYPES)?),
    };
    let page = ListQuery {
        limit: query.limit.clone(),
        cursor: query.cursor.clone(),
        ..ListQuery::default()
    }
    .page_request()?;
    if let Start::After(key) = &page.start {
        let expected = keys::reports_with_status(status);
        if key.get(keys::GSI1PK).and_then(|v| v.as_s().ok()) != Some(&expected) {
            return Err(ApiError::invalid_field("cursor", "cursor is invalid"));
        }
    }
    let (reports, last) = state.db.reports_page(status, target_type, &page).await?;
    let reports: Vec<Value> = reports.iter().map(report_json).collect();
    let pagination = Pagination::new(
        &page,
        None,
        last.is_some(),
        last.as_ref().map(encode_cursor),
    );
    Ok(pagination.list("reports", reports, "totalReports"))
}

async fn report(state: &AppState, report_id: &str) -> ApiResult<ReportRecord> {
    state
        .db
        .get_report(report_id.trim())
        .await?
        .ok_or_else(|| ApiError::not_found("Report not found"))
}

/// The target as it is now (null once it is gone).
async fn target_now(state: &AppState, report: &ReportRecord) -> ApiResult<Value> {
    let id = report.target_id.as_str();
    Ok(match report.target_type.as_str() {
        "post" => match state.db.get_post(id).await? {
            Some(post) => json!(post),
            None => Value::Null,
        },
        "comment" => match state
            .db
            .post_and_comment(report.post_id.as_deref().unwrap_or_default(), id)
            .await?
        {
            (_, Some(comment)) => json!(comment),
            _ => Value::Null,
        },
        "story" => match state.db.get_story(id).await? {
            Some(story) => json!(story),
            None => Value::Null,
        },
        "message" => match state.db.find_message(id).await? {
            Some(message) => json!(message),
            None => Value::Null,
        },
        _ => match state.db.get_user(id).await? {
            Some(user) => json!(crate::views::AdminUser::from_record(&user, &state.media).await),
            None => Value::Null,
        },
    })
}

/// `GET /api/admin/reports/:id`: the report, its target now, and how many open reports it has.
pub async fn get(state: &AppState, admin: &UserRecord, report_id: &str) -> ApiResult<Value> {
    require_admin(admin)?;
    let report = report(state, report_id).await?;
    let (target, open) = futures_util::try_join!(
        target_now(state, &report),
        state
            .db
            .open_report_count(&report.target_type, &report.target_id),
    )?;
    Ok(json!({
        "report": report_json(&report),
        "target": target,
        "openReportsOnTarget": open,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct Decision {
    #[serde(default)]
    pub action: String,
    pub note: Option<String>,
}

/// `PUT /api/admin/reports/:id`: resolves every open report on the report's target with one
/// action, performs it, and tells each reporter.
pub async fn resolve(
    state: &AppState,
    admin: &UserRecord,
    report_id: &str,
    decision: Decision,
) -> ApiResult<Value> {
    require_admin(admin)?;
    let action = one_of("action", &decision.action, &ACTIONS)?;
    let note = bounded("note", decision.note.as_deref(), MAX_NOTE_CHARS)?;
    let report = report(state, report_id).await?;
    match action {
        "remove_content" if report.target_type == "user" => {
            return Err(ApiError::invalid_field(
                "action",
                "a reported user is removed with disable_user",
            ))
        }
        "remove_content" => require(admin, Permission::PostModify)?,
        "disable_user" => require(admin, Permission::UserModify)?,
        _ => {}
    }
    let open = state
        .db
        .open_reports_on(&report.target_type, &report.target_id)
        .await?;
    if open.is_empty() {
        return Err(ApiError::conflict(
            "The reports on this target are already resolved",
        ));
    }
    // The action first: a report is only marked resolved once what it decided has happened.
    match action {
        "remove_content" => remove_content(state, admin, &report).await?,
        "disable_user" => super::manage::disable(state, admin, &report.owner_id).await?,
        _ => {}
    }
    let resolution = Resolution {
        action: action.to_string(),
        note,
        resolved_by: admin.id.clone(),
        resolved_at: crate::time::now_rfc3339(),
    };
    let audit = AuditEntry::new(
        &admin.id,
        "report.resolve",
        &report.target_type,
        &report.target_id,
        json!({ "action": action, "reports": open, "note": resolution.note }),
    );
    let resolved = state
        .db
        .resolve_reports(&open, &resolution, state.db.audit_put(&audit)?)
        .await?;
    let notices = resolved.iter().map(|r| {
        NewNotification::new(NotificationType::ReportResolved, &r.reporter_id)
            .report(&r.report_id)
            .preview(match action {
                "dismiss" => "We reviewed your report and found no violation.",
                "remove_content" => "We reviewed your report and removed the content.",
                _ => "We reviewed your report and disabled the account.",
            })
    });
    notify_all(state, admin, notices.collect()).await;
    Ok(json!({
        "action": action,
        "resolvedReports": resolved.iter().map(|r| r.report_id.clone()).collect::<Vec<_>>(),
        "resolvedCount": resolved.len(),
    }))
}

/// Removes the reported content as its owner's delete would (a moderator's removal).
async fn remove_content(
    state: &AppState,
    admin: &UserRecord,
    report: &ReportRecord,
) -> ApiResult<()> {
    let id = report.target_id.as_str();
    let gone = |err: ApiError| match err {
        // Already gone: nothing left to remove.
        ApiError::NotFound(_) => Ok(()),
        other => Err(other),
    };
    match report.target_type.as_str() {
        "post" => crate::posts::delete_post(state, admin, id)
            .await
            .or_else(gone),
        "comment" => {
            let post_id = report.post_id.as_deref().unwrap_or_default();
            crate::comments::delete_comment(state, admin, post_id, id)
                .await
                .or_else(gone)
        }
        "story" => crate::stories::delete_story(state, admin, id)
            .await
            .or_else(gone),
        "message" => {
            let Some(sender) = state.db.get_user(&report.owner_id).await? else {
                return Ok(());
            };
            crate::messaging::unsend(state, &sender, id)
                .await
                .or_else(gone)?;
            let notice = NewNotification::new(NotificationType::Moderation, &report.owner_id)
                .preview("A message you sent was removed for breaking the community rules.");
            super::moderation::removed(state, admin, &report.owner_id, "message", id, notice).await;
            Ok(())
        }
        _ => Ok(()),
    }
}
