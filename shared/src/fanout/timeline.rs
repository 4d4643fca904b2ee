//! Timelines, fanned out on write with a hybrid for large accounts:
//!
//! | item (stream record)            | what the timelines get                                      |
//! |---------------------------------|-------------------------------------------------------------|
//! | post INSERT                     | an entry for the author and each follower; none for the followers of a large account |
//! | post REMOVE                     | those entries deleted                                        |
//! | follow edge INSERT              | the followee's newest posts copied in, or the followee added to `followedLarge` |
//! | follow edge REMOVE (unfollow, block, account deletion) | the followee's entries deleted, `followedLarge` updated |
//! | profile MODIFY past the threshold | the account marked large and added to every follower's `followedLarge` |
//! | profile REMOVE                  | the account's own timeline deleted                           |
//!
//! An account is large once it has more than `TIMELINE_FANOUT_MAX_FOLLOWERS` followers: its posts
//! are merged at read time from its own post list (`feeds::timeline`). Every write here is a
//! put or delete of a key derived from the record (or a set ADD/DELETE), so a record processed
//! twice changes nothing twice. Reads filter what a race could leave behind (an entry written
//! just after its author was unfollowed): the timeline shows only authors the reader follows.

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::notifications::Source;
use super::record::{Change, ChangeKind};
use crate::db::keys;
use crate::db::timeline::{entry_expiry, NewEntry};
use crate::db::users::UserRecord;
use crate::db::Item;
use crate::error::ApiResult;
use crate::state::AppState;

/// How many of a followee's newest posts a new follow copies into the follower's timeline.
pub const FOLLOW_BACKFILL_POSTS: usize = 20;
/// `followedLarge` updates in flight at once when an account becomes large.
const MARK_PARALLELISM: usize = 16;

pub async fn apply(state: &AppState, change: &Change) -> ApiResult<()> {
    match (Source::of(&change.key), change.kind) {
        (Source::Post, ChangeKind::Insert) => post_made(state, change).await,
        (Source::Post, ChangeKind::Remove) => post_removed(state, change).await,
        (Source::FollowEdge, ChangeKind::Insert) => followed(state, change).await,
        (Source::FollowEdge, ChangeKind::Remove) => unfollowed(state, change).await,
        (Source::Profile, ChangeKind::Modify) => maybe_became_large(state, change).await,
        (Source::Profile, ChangeKind::Remove) => {
            let user = change.required("id")?;
            let entries = state.db.timeline_entry_keys(&user, None).await?;
            state.db.delete_keys(&entries).await
        }
        _ => Ok(()),
    }
}

/// Whether an account's posts are merged at read time rather than fanned out.
fn is_large(state: &AppState, user: &UserRecord) -> bool {
    user.large_account || user.followers_count > state.config.timeline_fanout_max_followers
}

/// Who gets an entry of `author`'s posts: the author, and the followers unless it is large.
/// 1 Query per 1 MB of follower edges.
async fn owners_of(state: &AppState, author: &UserRecord) -> ApiResult<Vec<String>> {
    let mut owners = vec![author.id.clone()];
    if !is_large(state, author) {
        owners.extend(
            state
                .db
                .partition_ids(&author.id, keys::FOLLOWER_PREFIX)
                .await?,
        );
    }
    Ok(owners)
}

/// 1 GetItem (the author) + the follower Query + 1 BatchWriteItem per 25 owners.
async fn post_made(state: &AppState, change: &Change) -> ApiResult<()> {
    let post_id = change.required("postId")?;
    let Some(ttl) = entry_expiry(&post_id) else {
        return Ok(()); // Not a post id this API mints; nothing to order it by.
    };
    let Some(author) = state.db.get_user(&change.required("authorId")?).await? else {
        return Ok(()); // The account went meanwhile.
    };
    let entries: Vec<NewEntry> = owners_of(state, &author)
        .await?
        .into_iter()
        .map(|owner| NewEntry {
            owner,
            post_id: post_id.clone(),
            author_id: author.id.clone(),
            ttl,
        })
        .collect();
    state.db.put_timeline_entries(&entries).await
}

async fn post_removed(state: &AppState, change: &Change) -> ApiResult<()> {
    let post_id = change.required("postId")?;
    let Some(author) = state.db.get_user(&change.required("authorId")?).await? else {
        return Ok(()); // Its followers' edges, and with them the entries, go with the account.
    };
    let entries: Vec<_> = owners_of(state, &author)
        .await?
        .iter()
        .map(|owner| keys::timeline_entry(owner, &post_id))
        .collect();
    state.db.delete_keys(&entries).await
}

/// A new follow (or an accepted request) copies the followee's newest posts in, so the
/// timeline does not wait for their next post: 1 GetItem + 1 Query + 1 BatchWriteItem. A large
/// followee is entered in `followedLarge` instead (1 UpdateItem).
async fn followed(state: &AppState, change: &Change) -> ApiResult<()> {
    let follower = change.required("followerId")?;
    let Some(followee) = state.db.get_user(&change.required("followeeId")?).await? else {
        return Ok(());
    };
    if is_large(state, &followee) {
        return state
            .db
            .set_followed_large(&follower, &followee.id, true)
            .await;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let entries: Vec<NewEntry> = state
        .db
        .newest_posts_of(
            std::slice::from_ref(&followee.id),
            None,
            FOLLOW_BACKFILL_POSTS,
        )
        .await?
        .into_iter()
        .filter_map(|(post_id, author_id)| {
            let ttl = entry_expiry(&post_id).filter(|ttl| *ttl > now)?;
            Some(NewEntry {
                owner: follower.clone(),
                post_id,
                author_id,
                ttl,
            })
        })
        .collect();
    state.db.put_timeline_entries(&entries).await
}

/// 1 UpdateItem + 1 Query (per 1 MB) of the follower's timeline + the deletes.
async fn unfollowed(state: &AppState, change: &Change) -> ApiResult<()> {
    let follower = change.required("followerId")?;
    let followee = change.required("followeeId")?;
    state
        .db
        .set_followed_large(&follower, &followee, false)
        .await?;
    let entries = state
        .db
        .timeline_entry_keys(&follower, Some(&followee))
        .await?;
    state.db.delete_keys(&entries).await
}

fn number(image: Option<&Item>, name: &str) -> i64 {
    match image.and_then(|item| item.get(name)) {
        Some(AttributeValue::N(value)) => value.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The profile update that took the account past the threshold marks it large and enters it
/// in every follower's `followedLarge` (once in an account's life; a retry redoes the same set
/// additions). Posts made from then on are merged at read time; entries already fanned out stay
/// until they expire (the read deduplicates).
async fn maybe_became_large(state: &AppState, change: &Change) -> ApiResult<()> {
    let limit = state.config.timeline_fanout_max_followers;
    let before = number(change.old.as_ref(), "followersCount");
    let after = number(change.new.as_ref(), "followersCount");
    let marked = matches!(
        change
            .new
            .as_ref()
            .and_then(|item| item.get("largeAccount")),
        Some(AttributeValue::Bool(true))
    );
    if marked || before > limit || after <= limit {
        return Ok(());
    }
    let user = change.required("id")?;
    // Marked first, then the followers read: a follow that saw the account unmarked is in that
    // read, one that comes later sees the mark (`followed`).
    state.db.mark_large_account(&user).await?;
    let followers = state.db.partition_ids(&user, keys::FOLLOWER_PREFIX).await?;
    stream::iter(followers.into_iter().map(|follower| {
        let (db, user) = (state.db.clone(), user.clone());
        async move { db.set_followed_large(&follower, &user, true).await }
    }))
    .buffer_unordered(MARK_PARALLELISM)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}
