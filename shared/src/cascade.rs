//! Account deletion. Each feature owns one step of the cascade and registers it in
//! `ACCOUNT_DELETION_STEPS` (and its arm in `run_step`): the one place to look when a feature
//! adds data that belongs to a user. Steps are safe to re-run; the profile and the unique-name
//! claims go last, so a failure half-way leaves an account that can still sign in and retry.

use futures_util::stream::{self, TryStreamExt};

use crate::db::keys::{self, Key};
use crate::db::users::UserRecord;
use crate::error::ApiResult;
use crate::state::AppState;

/// How many edge removals run at once.
const PARALLEL_WRITES: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionStep {
    /// Follow edges both ways (the other users' counters fixed) and pending requests both ways.
    FollowGraph,
    /// The profile picture object.
    ProfilePicture,
    /// The user's posts (with their likes, saves, comments and media) and the likes and saves
    /// the user gave.
    Posts,
    /// The comments the user wrote on other posts (with their replies), counters fixed.
    Comments,
    /// The user's stories (active or expired but not yet deleted) with their views and media.
    /// Views the user left on other stories expire with those stories (TTL).
    Stories,
    /// Notifications the user caused in other partitions (their unread counters fixed), and the
    /// user's own notifications and unread counter.
    Notifications,
    /// Everything else in the user's partition: sessions, tokens, blocks, search history, requests.
    OwnPartition,
    /// The profile and the username/email (and social identity) claims (so all can be used again); the search
    /// index lives on those two items and goes with them.
    ProfileAndClaims,
}

/// In order: what points at the user goes first, the profile (and with it the right to log in) last.
pub const ACCOUNT_DELETION_STEPS: &[DeletionStep] = &[
    DeletionStep::FollowGraph,
    DeletionStep::ProfilePicture,
    DeletionStep::Posts,
    DeletionStep::Comments,
    DeletionStep::Stories,
    DeletionStep::Notifications,
    DeletionStep::OwnPartition,
    DeletionStep::ProfileAndClaims,
];

pub async fn delete_account(state: &AppState, user: &UserRecord) -> ApiResult<()> {
    for step in ACCOUNT_DELETION_STEPS {
        run_step(state, user, *step).await?;
    }
    // Connection records are keyed by connection, not by user: close and forget them here.
    state.realtime.disconnect_user(&user.id).await;
    Ok(())
}

async fn run_step(state: &AppState, user: &UserRecord, step: DeletionStep) -> ApiResult<()> {
    let db = &state.db;
    let me = user.id.as_str();
    match step {
        DeletionStep::FollowGraph => {
            let followees = db.partition_ids(me, keys::FOLLOWING_PREFIX).await?;
            stream::iter(followees.iter().map(Ok))
                .try_for_each_concurrent(PARALLEL_WRITES, |other| async move {
                    db.remove_edge_of_deleted_user(me, other, true).await
                })
                .await?;
            let followers = db.partition_ids(me, keys::FOLLOWER_PREFIX).await?;
            stream::iter(followers.iter().map(Ok))
                .try_for_each_concurrent(PARALLEL_WRITES, |other| async move {
                    db.remove_edge_of_deleted_user(other, me, false).await
                })
                .await?;
            // Requests I sent live in the owners' partitions; my copies say where.
            let sent = db.partition_ids(me, keys::SENT_REQUEST_PREFIX).await?;
            let received = db.partition_ids(me, "FOLLOWREQ#").await?;
            let elsewhere: Vec<Key> = sent
                .iter()
                .map(|owner| keys::follow_request(owner, me))
                .chain(
                    received
                        .iter()
                        .map(|requester| keys::sent_follow_request(requester, me)),
                )
                .collect();
            db.delete_keys(&elsewhere).await
        }
        DeletionStep::ProfilePicture => {
            if let Some(key) = &user.profile_picture_key {
                state.media.delete_quietly(key).await;
            }
            Ok(())
        }
        DeletionStep::Posts => crate::posts::delete_posts_of(state, me).await,
        DeletionStep::Comments => crate::comments::delete_comments_of(state, me).await,
        DeletionStep::Stories => crate::stories::delete_stories_of(state, me)
            .await
            .map(|_| ()),
        DeletionStep::Notifications => {
            crate::notifications::delete_notifications_of(state, me).await
        }
        DeletionStep::OwnPartition => {
            let profile = keys::user(me);
            let rest: Vec<Key> = db
                .partition_keys(me, "")
                .await?
                .into_iter()
                .filter(|key| *key != profile)
                .collect();
            db.delete_keys(&rest).await
        }
        DeletionStep::ProfileAndClaims => {
            let mut claims = crate::db::identities::identity_keys(user);
            claims.extend([
                keys::username_claim(&user.username),
                keys::email_claim(&user.email),
                keys::user(me),
            ]);
            db.delete_keys(&claims).await
        }
    }
}
