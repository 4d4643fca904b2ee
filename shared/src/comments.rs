//! Comments as the API shows them: who may comment, edit and delete, and pages of comments
//! or replies hydrated in one BatchGetItem (authors, the viewer's likes, the post's author and
//! the viewer's relation to it).

use serde::Serialize;

use crate::db::comments::{CommentRecord, CreateOutcome};
use crate::db::keys::{self, Key};
use crate::db::likers;
use crate::db::listing::{contains_key, take_item, ListSource};
use crate::db::posts::PostRecord;
use crate::db::users::UserRecord;
use crate::error::{ApiError, ApiResult};
use crate::limits::{self, Action};
use crate::notifications::{NewNotification, NotificationType};
use crate::pagination::{PageRequest, Pagination};
use crate::posts::visible_post;
use crate::social::{can_view, Relation, Visibility};
use crate::state::AppState;
use crate::views::UserSummary;

pub const MAX_COMMENT_CHARS: usize = 2200;

/// Content of 1..2200 characters (trimmed).
pub fn validate_content(raw: Option<&str>) -> ApiResult<String> {
    let content = raw.unwrap_or_default().trim().to_string();
    if content.is_empty() {
        return Err(ApiError::invalid_field("content", "content is required"));
    }
    if content.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::invalid_field(
            "content",
            format!("content must be at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    Ok(content)
}

/// A comment as clients see it (seed 001 names its author `userId`; `user` is the same object).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    #[serde(rename = "_id")]
    pub id: String,
    pub post_id: String,
    pub user_id: UserSummary,
    pub user: UserSummary,
    pub content: String,
    pub parent_comment_id: Option<String>,
    pub likes: i64,
    pub replies_count: i64,
    pub is_liked: bool,
    /// Up to 20 recent likers' ids, the viewer's first when the viewer likes it.
    pub liked_by: Vec<String>,
    /// A top-level comment's replies as the live service embeds them (clients read
    /// `replies.length`); replies are paged at `.../replies`, so this is `[]`. Absent on replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replies: Option<Vec<CommentView>>,
    pub created_at: String,
    pub updated_at: String,
}

impl CommentView {
    pub async fn build(
        state: &AppState,
        comment: &CommentRecord,
        author: &UserRecord,
        viewer: Option<&str>,
        is_liked: bool,
    ) -> Self {
        let is_liked = is_liked && viewer.is_some();
        let user = UserSummary::from_record(author, &state.media).await;
        Self {
            id: comment.comment_id.clone(),
            post_id: comment.post_id.clone(),
            user_id: user.clone(),
            user,
            content: comment.content.clone(),
            parent_comment_id: comment.parent_comment_id.clone(),
            likes: comment.likes.max(0),
            replies_count: comment.replies_count.max(0),
            is_liked,
            liked_by: likers::liked_by(&comment.recent_likers, viewer, is_liked),
            replies: comment.parent_comment_id.is_none().then(Vec::new),
            created_at: comment.created_at.clone(),
            updated_at: comment.updated_at.clone(),
        }
    }
}

fn comment_not_found() -> ApiError {
    ApiError::not_found("Comment not found")
}

/// Comments on a visible post (or replies to one of its top-level comments):
/// 1 GetItem + 1 BatchGetItem (visibility) + 1 TransactWriteItems, which also counts the
/// author's comment budget (a spent one is a 429 and stores nothing).
pub async fn create_comment(
    state: &AppState,
    author: &UserRecord,
    post_id: &str,
    raw_content: Option<&str>,
    parent: Option<&str>,
) -> ApiResult<CommentView> {
    let content = validate_content(raw_content)?;
    let parent = parent.map(str::trim).filter(|p| !p.is_empty());
    visible_post(state, Some(&author.id), post_id).await?;
    let budget = limits::spend(state, Action::Comment, &author.id);
    match state
        .db
        .create_comment(post_id, &author.id, &content, parent, &budget)
        .await?
    {
        CreateOutcome::Budget => Err(limits::refused(Action::Comment, &budget)),
        CreateOutcome::Created(comment) => {
            // `comment`, `reply` and `mention` notifications follow from the table's stream.
            Ok(CommentView::build(state, &comment, author, Some(&author.id), false).await)
        }
        CreateOutcome::PostMissing => Err(ApiError::not_found("Post not found")),
        CreateOutcome::ParentMissing => {
            // Tell a missing parent (404) from a reply to a reply (400, one level deep).
            let (_, found) = state
                .db
                .post_and_comment(post_id, parent.unwrap_or_default())
                .await?;
            match found {
                Some(_) => Err(ApiError::invalid_field(
                    "parentCommentId",
                    "replies are one level deep: reply to the top-level comment",
                )),
                None => Err(comment_not_found()),
            }
        }
    }
}

/// A page of a post's top-level comments (newest first) or of a comment's replies (oldest
/// first). Access first: the post GetItem, then 1 BatchGetItem of its author and the viewer's
/// relation (with the parent comment for replies); only then the Query of the list and 1
/// BatchGetItem that reads the comments' authors,
/// the viewer's likes, the viewer's relation to the post's author and the block keys between the
/// viewer and each comment's author (comments of disabled or blocked authors are left out).
pub async fn comments_page(
    state: &AppState,
    viewer: Option<&str>,
    post_id: &str,
    parent: Option<&str>,
    request: &PageRequest,
) -> ApiResult<(Vec<CommentView>, Pagination)> {
    let source = match parent {
        Some(parent) => ListSource::Gsi1(keys::replies_of(parent)),
        None => ListSource::Gsi1(keys::comments_of(post_id)),
    };
    let post = state
        .db
        .get_post(post_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Post not found"))?;
    let mut access: Vec<Key> = vec![keys::user(&post.author_id)];
    if let Some(viewer) = viewer.filter(|v| *v != post.author_id) {
        access.extend(Relation::keys(viewer, &post.author_id));
    }
    if let Some(parent) = parent {
        access.push(keys::comment(post_id, parent));
    }
    let mut found_access = state.db.get_items(&access, true).await?;
    check_post_visible(viewer, &post, &found_access)?;
    let parent_comment: Option<CommentRecord> = match parent {
        Some(parent) => match take_item(&mut found_access, &keys::comment(post_id, parent)) {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => return Err(comment_not_found()),
        },
        None => None,
    };
    let total = match &parent_comment {
        Some(comment) => comment.replies_count,
        None => post.comments,
    };
    let page = state
        .db
        .list_page(&source, request, parent.is_none(), None)
        .await?;
    let comments: Vec<CommentRecord> = page
        .items
        .iter()
        .map(|item| serde_dynamo::from_item(item.clone()))
        .collect::<Result<_, _>>()?;
    let mut wanted: Vec<Key> = Vec::new();
    for comment in &comments {
        wanted.push(keys::user(&comment.author_id));
        if let Some(viewer) = viewer {
            wanted.push(keys::comment_like(post_id, &comment.comment_id, viewer));
            if comment.author_id != viewer {
                wanted.push(keys::block(&comment.author_id, viewer));
                wanted.push(keys::block(viewer, &comment.author_id));
            }
        }
    }
    let found = if wanted.is_empty() {
        std::collections::HashMap::new()
    } else {
        state.db.get_items(&wanted, true).await?
    };
    let mut views = Vec::with_capacity(comments.len());
    for comment in &comments {
        let Some(item) = found
            .get(&(keys::user_pk(&comment.author_id), "PROFILE".to_string()))
            .cloned()
        else {
            continue;
        };
        let author: UserRecord = serde_dynamo::from_item(item)?;
        // Disabled authors' comments are hidden, and so are those of anyone the viewer blocked
        // or who blocked the viewer.
        let blocked = viewer.is_some_and(|viewer| {
            contains_key(&found, &keys::block(&author.id, viewer))
                || contains_key(&found, &keys::block(viewer, &author.id))
        });
        if blocked || (!author.is_active() && viewer != Some(author.id.as_str())) {
            continue;
        }
        let liked = viewer.is_some_and(|viewer| {
            contains_key(
                &found,
                &keys::comment_like(post_id, &comment.comment_id, viewer),
            )
        });
        views.push(CommentView::build(state, comment, &author, viewer, liked).await);
    }
    Ok((
        views,
        page.pagination(Some(u64::try_from(total).unwrap_or_default())),
    ))
}

fn check_post_visible(
    viewer: Option<&str>,
    post: &PostRecord,
    found: &std::collections::HashMap<(String, String), crate::db::Item>,
) -> ApiResult<()> {
    let not_found = || ApiError::not_found("Post not found");
    let item = found
        .get(&(keys::user_pk(&post.author_id), "PROFILE".to_string()))
        .cloned()
        .ok_or_else(not_found)?;
    let author: UserRecord = serde_dynamo::from_item(item)?;
    let relation = match viewer {
        Some(viewer) => Relation::from_found(viewer, &post.author_id, found),
        None => Relation::default(),
    };
    if viewer != Some(author.id.as_str()) && !author.is_active() {
        return Err(not_found());
    }
    match can_view(viewer, &author, &relation) {
        Visibility::Hidden => Err(not_found()),
        Visibility::ProfileOnly => Err(ApiError::forbidden(
            "This account is private or blocked: its posts are not visible to you",
        )),
        Visibility::Full => Ok(()),
    }
}

/// The post and the comment, 404 when either is missing: 1 BatchGetItem.
async fn existing(
    state: &AppState,
    post_id: &str,
    comment_id: &str,
) -> ApiResult<(PostRecord, CommentRecord)> {
    match state.db.post_and_comment(post_id, comment_id).await? {
        (Some(post), Some(comment)) => Ok((post, comment)),
        (None, _) => Err(ApiError::not_found("Post not found")),
        (Some(_), None) => Err(comment_not_found()),
    }
}

/// The author edits the content, unless the post's owner and the author blocked each other:
/// 1 BatchGetItem (+ 1 for the relation on someone else's post) + 1 UpdateItem.
pub async fn update_comment(
    state: &AppState,
    user: &UserRecord,
    post_id: &str,
    comment_id: &str,
    raw_content: Option<&str>,
) -> ApiResult<CommentView> {
    let content = validate_content(raw_content)?;
    let (post, mut comment) = existing(state, post_id, comment_id).await?;
    if comment.author_id != user.id {
        return Err(ApiError::forbidden("Only the author can edit this comment"));
    }
    // A block either way ends the author's say on the other's posts, old comments included.
    if post.author_id != user.id
        && state
            .db
            .relation(&user.id, &post.author_id)
            .await?
            .blocked_either_way()
    {
        return Err(ApiError::forbidden(
            "You cannot edit comments on this account's posts",
        ));
    }
    comment.updated_at = state.db.update_comment(&comment, &content).await?;
    comment.content = content;
    let liked = !state
        .db
        .get_items(&[keys::comment_like(post_id, comment_id, &user.id)], true)
        .await?
        .is_empty();
    Ok(CommentView::build(state, &comment, user, Some(&user.id), liked).await)
}

/// The author or the post's owner (or an admin) deletes a comment and its replies.
pub async fn delete_comment(
    state: &AppState,
    user: &UserRecord,
    post_id: &str,
    comment_id: &str,
) -> ApiResult<()> {
    let (post, comment) = existing(state, post_id, comment_id).await?;
    let moderated = comment.author_id != user.id && post.author_id != user.id;
    if moderated && !crate::admin::moderation::can_moderate(user) {
        return Err(ApiError::forbidden(
            "Only the author or the post's owner can delete this comment",
        ));
    }
    state.db.delete_comment(&comment).await?;
    withdraw_comment_notifications(state, &post, &comment).await;
    if moderated {
        let notice = NewNotification::new(NotificationType::Moderation, &comment.author_id)
            .post(post_id)
            .comment(comment_id)
            .preview(&comment.content);
        let author = comment.author_id.as_str();
        crate::admin::moderation::removed(state, user, author, "comment", comment_id, notice).await;
    }
    Ok(())
}

/// A deleted comment takes back what it notified: the post owner's `comment` and, for a reply,
/// the parent's author's `reply` (1 GetItem to find them). Never fails the delete.
async fn withdraw_comment_notifications(
    state: &AppState,
    post: &PostRecord,
    comment: &CommentRecord,
) {
    let about = |kind, recipient: &str| {
        NewNotification::new(kind, recipient)
            .post(&post.post_id)
            .comment(&comment.comment_id)
    };
    let mut undone = vec![about(NotificationType::Comment, &post.author_id)];
    if let Some(parent) = &comment.parent_comment_id {
        match state.db.post_and_comment(&post.post_id, parent).await {
            Ok((_, Some(parent))) => {
                if parent.author_id == post.author_id {
                    // The owner heard of it as a reply, not as a comment.
                    undone.clear();
                }
                undone.push(about(NotificationType::Reply, &parent.author_id));
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(?err, "reading the parent comment of a deleted reply"),
        }
    }
    let author = comment.author_id.as_str();
    futures_util::future::join_all(
        undone
            .into_iter()
            .map(|new| crate::notifications::withdraw(state, author, new)),
    )
    .await;
}

/// Likes or unlikes (`want`) a comment on a visible post and answers the comment as it is after
/// the write: 1 GetItem + 1 BatchGetItem (visibility, the comment, the viewer's like),
/// 1 TransactWriteItems (none when nothing changes), 1 BatchGetItem (the comment and its author).
pub async fn set_comment_like(
    state: &AppState,
    user: &UserRecord,
    post_id: &str,
    comment_id: &str,
    want: crate::posts::Toggle,
) -> ApiResult<CommentView> {
    if comment_id.parse::<ulid::Ulid>().is_err() {
        return Err(comment_not_found());
    }
    let comment_key = keys::comment(post_id, comment_id);
    let like_key = keys::comment_like(post_id, comment_id, &user.id);
    let (_, _, mut found) = crate::posts::visible_post_with(
        state,
        Some(&user.id),
        post_id,
        vec![comment_key.clone(), like_key.clone()],
    )
    .await?;
    let liked = contains_key(&found, &like_key);
    let comment: CommentRecord = match take_item(&mut found, &comment_key) {
        Some(item) => serde_dynamo::from_item(item)?,
        None => return Err(comment_not_found()),
    };
    let on = want.resolve(liked);
    if on != liked {
        state
            .db
            .set_comment_like(post_id, comment_id, &comment.recent_likers, &user.id, on)
            .await?;
    }
    // The `comment_like` notification (or taking it back) follows from the table's stream.
    let author_key = keys::user(&comment.author_id);
    let wanted = [comment_key.clone(), author_key.clone()];
    let mut read_back = state.db.get_items(&wanted, true).await?;
    let (Some(comment), Some(author)) = (
        take_item(&mut read_back, &comment_key),
        take_item(&mut read_back, &author_key),
    ) else {
        return Err(comment_not_found());
    };
    let comment: CommentRecord = serde_dynamo::from_item(comment)?;
    let author: UserRecord = serde_dynamo::from_item(author)?;
    Ok(CommentView::build(state, &comment, &author, Some(&user.id), on).await)
}

/// Account deletion: every comment the user wrote (with replies to it), counters fixed.
pub async fn delete_comments_of(state: &AppState, user_id: &str) -> ApiResult<()> {
    let db = &state.db;
    let pointers = db.partition_keys(user_id, keys::COMMENTED_PREFIX).await?;
    for pointer in pointers {
        let Some(rest) = pointer.sk.strip_prefix(keys::COMMENTED_PREFIX) else {
            continue;
        };
        let Some((post_id, comment_id)) = rest.split_once('#') else {
            continue;
        };
        if let (_, Some(comment)) = db.post_and_comment(post_id, comment_id).await? {
            db.delete_comment(&comment).await?;
        }
    }
    Ok(())
}
