//! Content moderation: admins holding `postModify` delete any post, comment or story (the same
//! cascade and counters as the owner's delete); the owner hears about it (`moderation`) and the
//! removal is in the audit trail.

use serde_json::json;

use super::permissions::{effective, Permission};
use crate::db::audit::AuditEntry;
use crate::db::users::{Role, UserRecord};
use crate::notifications::{notify, NewNotification, NotificationType};
use crate::state::AppState;

/// Whether `user` may remove other people's content.
pub fn can_moderate(user: &UserRecord) -> bool {
    user.role != Role::User && effective(user).has(Permission::PostModify)
}

/// After a moderator removed `target_type` `target_id` of `owner_id`: the audit entry and the
/// owner's `moderation` notification (`notice` says what it points at). Nothing when the actor
/// removed their own content. Never fails the removal (errors are logged).
pub async fn removed(
    state: &AppState,
    actor: &UserRecord,
    owner_id: &str,
    target_type: &str,
    target_id: &str,
    notice: NewNotification,
) {
    if actor.id == owner_id {
        return;
    }
    let entry = AuditEntry::new(
        &actor.id,
        "content.remove",
        target_type,
        target_id,
        json!({ "ownerId": owner_id }),
    );
    if let Err(err) = state.db.append_audit(&entry).await {
        tracing::error!(?err, target_type, target_id, "auditing a removal");
    }
    let notice = NewNotification {
        kind: NotificationType::Moderation,
        recipient: owner_id.to_string(),
        ..notice
    };
    notify(state, actor, notice).await;
}
