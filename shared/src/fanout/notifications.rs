//! Notifications derived from the items requests write, each with the semantics it had on the
//! request path (never for your own content, blocks checked in the notification's transaction,
//! the collapse key of `notifications::notification_id`):
//!
//! | item (stream record)                    | notification                                   |
//! |-----------------------------------------|------------------------------------------------|
//! | post like INSERT / REMOVE               | `like` to the post's author / taken back       |
//! | comment like INSERT / REMOVE            | `comment_like` to the comment's author / back  |
//! | comment INSERT                          | `comment` (post owner), `reply` (parent's author), `mention`s |
//! | post INSERT / MODIFY of the caption     | `mention`s (a caption edit: the newly named)   |
//! | follow edge INSERT                      | `follow`, or `follow_accept` for an accepted request |
//! | follow request INSERT                   | `follow_request`                               |
//! | direct message INSERT                   | `message` to the recipient (`fanout::messages`) |
//!
//! Everything else in the stream (counters, notifications themselves, markers) is ignored.

use std::collections::HashMap;

use super::record::{Change, ChangeKind};
use crate::db::comments::CommentRecord;
use crate::db::keys::{self, Key};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::db::listing::take_item;
use crate::db::posts::PostRecord;
use crate::db::users::UserRecord;
use crate::db::Item;
use crate::error::ApiResult;
use crate::notifications::{
    deliver_once, mention_notifications, withdraw_once, NewNotification, NotificationType,
};
use crate::state::AppState;

/// What kind of item a stream record is about, from its key alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Post,
    PostLike,
    Comment,
    CommentLike,
    FollowEdge,
    FollowRequest,
    /// A user's profile item (counters, settings).
    Profile,
    /// A direct message (`CONV#` / `MSG#`).
    Message,
    /// Nothing notifies of it.
    Other,
}

impl Source {
    pub fn of(key: &Key) -> Self {
        let sk = key.sk.as_str();
        if key.pk.starts_with("POST#") {
            if sk == "POST" {
                Self::Post
            } else if sk.starts_with(keys::LIKE_PREFIX) {
                Self::PostLike
            } else if sk.starts_with(keys::COMMENT_PREFIX) {
                Self::Comment
            } else if sk.starts_with("CLIKE#") {
                Self::CommentLike
            } else {
                Self::Other
            }
        } else if key.pk.starts_with("USER#") {
            if sk.starts_with(keys::FOLLOWING_PREFIX) {
                Self::FollowEdge
            } else if sk.starts_with("FOLLOWREQ#") {
                Self::FollowRequest
            } else if sk == "PROFILE" {
                Self::Profile
            } else {
                Self::Other
            }
        } else if key.pk.starts_with("CONV#") && sk.starts_with(keys::MESSAGE_PREFIX) {
            Self::Message
        } else {
            Self::Other
        }
    }
}

/// Applies the notification rule of one record (none for most records). An error leaves the
/// record to be retried.
pub async fn apply(state: &AppState, change: &Change) -> ApiResult<()> {
    match (Source::of(&change.key), change.kind) {
        (Source::PostLike, ChangeKind::Insert | ChangeKind::Remove) => {
            post_like(state, change).await
        }
        (Source::CommentLike, ChangeKind::Insert | ChangeKind::Remove) => {
            comment_like(state, change).await
        }
        (Source::Comment, ChangeKind::Insert) => comment(state, change).await,
        (Source::Post, ChangeKind::Insert | ChangeKind::Modify) => {
            post_mentions(state, change).await
        }
        (Source::FollowEdge, ChangeKind::Insert) => follow(state, change).await,
        (Source::FollowRequest, ChangeKind::Insert) => follow_request(state, change).await,
        (Source::Message, ChangeKind::Insert) => super::messages::message(state, change).await,
        _ => Ok(()),
    }
}

/// The actor and the other items a rule needs, in 1 BatchGetItem. `None` when the actor is gone
/// (a deleted account notifies nobody).
async fn read_with_actor(
    state: &AppState,
    actor_id: &str,
    extra: &[Key],
) -> ApiResult<Option<(UserRecord, HashMap<(String, String), Item>)>> {
    let mut wanted = vec![keys::user(actor_id)];
    wanted.extend_from_slice(extra);
    let mut found = state.db.get_items(&wanted, false).await?;
    match take_item(&mut found, &keys::user(actor_id)) {
        Some(item) => Ok(Some((serde_dynamo::from_item(item)?, found))),
        None => Ok(None),
    }
}

async fn deliver_all(
    state: &AppState,
    actor: &UserRecord,
    all: &[NewNotification],
    change: &Change,
) -> ApiResult<()> {
    for new in all {
        deliver_once(state, actor, new, &change.event_id).await?;
    }
    Ok(())
}

/// A like tells the post's author: 1 BatchGetItem (the actor and the post); an unlike takes
/// it back: 1 GetItem of the post. A post that is gone (its likes go with it) notifies nobody.
async fn post_like(state: &AppState, change: &Change) -> ApiResult<()> {
    let post_id = change.required("postId")?;
    let user_id = change.required("userId")?;
    let like = |author: &str| NewNotification::new(NotificationType::Like, author).post(&post_id);
    if change.kind == ChangeKind::Remove {
        let Some(post) = state.db.get_post(&post_id).await? else {
            return Ok(());
        };
        return withdraw_once(state, &user_id, &like(&post.author_id), &change.event_id).await;
    }
    let post_key = keys::post(&post_id);
    let Some((actor, mut found)) =
        read_with_actor(state, &user_id, std::slice::from_ref(&post_key)).await?
    else {
        return Ok(());
    };
    let Some(post) = take_item(&mut found, &post_key) else {
        return Ok(());
    };
    let post: PostRecord = serde_dynamo::from_item(post)?;
    deliver_once(state, &actor, &like(&post.author_id), &change.event_id).await
}

async fn comment_like(state: &AppState, change: &Change) -> ApiResult<()> {
    let post_id = change.required("postId")?;
    let comment_id = change.required("commentId")?;
    let user_id = change.required("userId")?;
    let comment = state.db.post_and_comment(&post_id, &comment_id).await?.1;
    let Some(author) = comment.map(|c| c.author_id) else {
        return Ok(()); // The comment is gone (its likes go with it).
    };
    let like = NewNotification::new(NotificationType::CommentLike, &author)
        .post(&post_id)
        .comment(&comment_id);
    if change.kind == ChangeKind::Remove {
        return withdraw_once(state, &user_id, &like, &change.event_id).await;
    }
    let Some((actor, _)) = read_with_actor(state, &user_id, &[]).await? else {
        return Ok(());
    };
    deliver_once(state, &actor, &like, &change.event_id).await
}

/// A comment tells the post's owner (`comment`); a reply tells the parent comment's author
/// (`reply`) and the post's owner as a `comment` when that is someone else; `@mentions` tell the
/// people named. 1 BatchGetItem (actor, post, parent) + 1 for the mentioned usernames.
async fn comment(state: &AppState, change: &Change) -> ApiResult<()> {
    let comment: CommentRecord = serde_dynamo::from_item(change.image()?.clone())?;
    let post_key = keys::post(&comment.post_id);
    let mut extra = vec![post_key.clone()];
    if let Some(parent) = &comment.parent_comment_id {
        extra.push(keys::comment(&comment.post_id, parent));
    }
    let Some((actor, mut found)) = read_with_actor(state, &comment.author_id, &extra).await? else {
        return Ok(());
    };
    let Some(post) = take_item(&mut found, &post_key) else {
        return Ok(()); // The post went meanwhile (its comments go with it).
    };
    let post: PostRecord = serde_dynamo::from_item(post)?;
    let parent: Option<CommentRecord> = match &comment.parent_comment_id {
        Some(parent) => take_item(&mut found, &keys::comment(&comment.post_id, parent))
            .map(serde_dynamo::from_item)
            .transpose()?,
        None => None,
    };
    let on_post = (NotificationType::Comment, post.author_id.clone());
    let recipients = match parent {
        Some(parent) if parent.author_id == post.author_id => {
            vec![(NotificationType::Reply, parent.author_id)]
        }
        Some(parent) => vec![(NotificationType::Reply, parent.author_id), on_post],
        None => vec![on_post],
    };
    let mut all: Vec<NewNotification> = recipients
        .iter()
        .map(|(kind, recipient)| {
            NewNotification::new(*kind, recipient)
                .post(&post.post_id)
                .comment(&comment.comment_id)
                .preview(&comment.content)
        })
        .collect();
    let already: Vec<&str> = recipients.iter().map(|(_, r)| r.as_str()).collect();
    let mentioned = crate::posts::mentions(&comment.content);
    // A private author's post: only its followers read the comment's text in a mention
    // (1 GetItem of the post's author when someone else wrote the comment and names people).
    let owner_private = if mentioned.is_empty() {
        false
    } else if post.author_id == actor.id {
        actor.is_private
    } else {
        state
            .db
            .get_user(&post.author_id)
            .await?
            .is_some_and(|author| author.is_private)
    };
    all.extend(
        mention_notifications(
            state,
            &actor,
            &mentioned,
            &post.post_id,
            Some(&comment.comment_id),
            &comment.content,
            &already,
            owner_private.then_some(post.author_id.as_str()),
        )
        .await?,
    );
    deliver_all(state, &actor, &all, change).await
}

/// `@mentions` of a new post's caption; of an edited caption, only the people it newly names.
async fn post_mentions(state: &AppState, change: &Change) -> ApiResult<()> {
    let post: PostRecord = serde_dynamo::from_item(change.image()?.clone())?;
    let named: Vec<String> = match (&change.kind, &change.old) {
        (ChangeKind::Modify, Some(old)) => {
            let before: PostRecord = serde_dynamo::from_item(old.clone())?;
            if before.caption == post.caption {
                return Ok(()); // A counter moved.
            }
            post.mentions
                .iter()
                .filter(|p| !before.mentions.contains(p))
                .cloned()
                .collect()
        }
        _ => post.mentions.clone(),
    };
    if named.is_empty() {
        return Ok(());
    }
    let Some((actor, _)) = read_with_actor(state, &post.author_id, &[]).await? else {
        return Ok(());
    };
    let all = mention_notifications(
        state,
        &actor,
        &named,
        &post.post_id,
        None,
        &post.caption,
        &[],
        actor.is_private.then_some(actor.id.as_str()),
    )
    .await?;
    deliver_all(state, &actor, &all, change).await
}

/// A new follow edge: `follow` to the followee, or, for a request the owner accepted
/// (`acceptedRequest` on the edge), `follow_accept` from the owner to the requester.
async fn follow(state: &AppState, change: &Change) -> ApiResult<()> {
    let follower = change.required("followerId")?;
    let followee = change.required("followeeId")?;
    let accepted = matches!(
        change.image()?.get("acceptedRequest"),
        Some(AttributeValue::Bool(true))
    );
    let (actor_id, new) = if accepted {
        (
            followee,
            NewNotification::new(NotificationType::FollowAccept, &follower),
        )
    } else {
        (
            follower,
            NewNotification::new(NotificationType::Follow, &followee),
        )
    };
    let Some((actor, _)) = read_with_actor(state, &actor_id, &[]).await? else {
        return Ok(());
    };
    deliver_once(state, &actor, &new, &change.event_id).await
}

async fn follow_request(state: &AppState, change: &Change) -> ApiResult<()> {
    let requester = change.required("requesterId")?;
    let owner = change.required("ownerId")?;
    let Some((actor, _)) = read_with_actor(state, &requester, &[]).await? else {
        return Ok(());
    };
    let new = NewNotification::new(NotificationType::FollowRequest, &owner);
    deliver_once(state, &actor, &new, &change.event_id).await
}
