//! Keeps what suggestions read in one BatchGetItem:
//!
//! | item (stream record)                    | what is written                                         |
//! |-----------------------------------------|---------------------------------------------------------|
//! | follow edge INSERT                      | the follower's `RECENTFOLLOWS` entry for that edge, while the edge exists |
//! | follow edge REMOVE (unfollow, block, account deletion) | that entry removed                       |
//! | profile MODIFY that changed `followersCount` | `POPULAR` / `ACCOUNTS` rebuilt, at most once per `popular_refresh_seconds` |
//!
//! Entries are keyed by the edge's own id and conditioned on that edge, so a replayed INSERT
//! (even after an unfollow or a re-follow) or REMOVE changes nothing twice; a replayed MODIFY at
//! most claims another refresh, which rewrites the list from the index as it is.

use aws_sdk_dynamodb::types::AttributeValue;

use super::notifications::Source;
use super::record::{Change, ChangeKind};
use crate::db::keys;
use crate::db::Item;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn apply(state: &AppState, change: &Change) -> ApiResult<()> {
    match (Source::of(&change.key), change.kind) {
        (Source::FollowEdge, ChangeKind::Insert) => {
            state
                .db
                .add_recent_follow(
                    &change.required("followerId")?,
                    &change.required("followeeId")?,
                    &change.required(keys::GSI1SK)?,
                )
                .await
        }
        (Source::FollowEdge, ChangeKind::Remove) => {
            state
                .db
                .remove_recent_follow(
                    &change.required("followerId")?,
                    &change.required(keys::GSI1SK)?,
                )
                .await
        }
        (Source::Profile, ChangeKind::Modify)
            if followers(change.old.as_ref()) != followers(change.new.as_ref()) =>
        {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if state
                .db
                .claim_popular_refresh(now, state.config.popular_refresh_seconds)
                .await?
            {
                state.db.refresh_popular(now).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn followers(image: Option<&Item>) -> Option<&str> {
    match image.and_then(|item| item.get("followersCount")) {
        Some(AttributeValue::N(value)) => Some(value.as_str()),
        _ => None,
    }
}
