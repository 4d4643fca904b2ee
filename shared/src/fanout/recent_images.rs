//! Keeps each author's recent image posts (`db::recent_images`) from the post item's INSERT
//! and REMOVE. Both writes are idempotent by themselves (one map entry set or removed), so a
//! replayed record changes nothing twice; an INSERT replayed after the post went is refused by
//! the post's ConditionCheck.

use super::notifications::Source;
use super::record::{Change, ChangeKind};
use crate::db::posts::{PostMediaType, PostRecord};
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn apply(state: &AppState, change: &Change) -> ApiResult<()> {
    if Source::of(&change.key) != Source::Post || change.kind == ChangeKind::Modify {
        return Ok(());
    }
    let post: PostRecord = serde_dynamo::from_item(change.image()?.clone())?;
    if post.media_type != PostMediaType::Image {
        return Ok(());
    }
    match change.kind {
        ChangeKind::Insert => {
            state
                .db
                .add_recent_image(&post.author_id, &post.post_id, &post.media_key)
                .await
        }
        _ => {
            state
                .db
                .remove_recent_image(&post.author_id, &post.post_id)
                .await
        }
    }
}
