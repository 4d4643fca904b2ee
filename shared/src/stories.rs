//! Stories as the API shows them: creation from checked media (24 h lifetime, a cap on active
//! stories), visibility (private accounts and blocks through `social::can_view`; a block either
//! way hides stories completely), views counted once per viewer, the owner's viewer list, the
//! tray of followed accounts, and deletion (one, all, account deletion).

use std::collections::HashMap;

use serde::Serialize;
use ulid::Ulid;

use crate::db::keys::{self, Key};
use crate::db::listing::{contains_key, string_attr, take_item, ListSource};
use crate::db::posts::PostMediaType;
use crate::db::stories::{StoryCreate, StoryRecord, STORY_LIFETIME_SECS};
use crate::db::users::UserRecord;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageRequest, Pagination};
use crate::social::{can_view, Visibility};
use crate::state::AppState;
use crate::time::{epoch_to_rfc3339, now_epoch};
use crate::uploads::{MediaSource, Purpose};
use crate::views::UserSummary;

/// Active stories one account may have at once.
pub const MAX_ACTIVE_STORIES: usize = 100;
/// Followed accounts one tray read looks at (as the timeline).
pub const TRAY_MAX_FOLLOWEES: usize = 500;

/// A story as clients see it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoryView {
    #[serde(rename = "_id")]
    pub id: String,
    pub caption: String,
    pub media_url: Option<String>,
    pub image: Option<String>,
    pub video: Option<String>,
    pub media_type: PostMediaType,
    pub view_count: i64,
    /// The viewer has seen it (always true for the owner).
    pub is_viewed: bool,
    pub created_at: String,
    pub expires_at: String,
    pub user: UserSummary,
}

impl StoryView {
    pub async fn build(
        state: &AppState,
        story: &StoryRecord,
        author: &UserSummary,
        is_viewed: bool,
    ) -> Self {
        let url = state.media.url(&story.media_key).await;
        let (image, video) = match story.media_type {
            PostMediaType::Image => (url.clone(), None),
            PostMediaType::Video => (None, url.clone()),
        };
        Self {
            id: story.story_id.clone(),
            caption: story.caption.clone(),
            media_url: url,
            image,
            video,
            media_type: story.media_type,
            view_count: story.view_count.max(0),
            is_viewed,
            created_at: story.created_at.clone(),
            expires_at: epoch_to_rfc3339(story.expires_at),
            user: author.clone(),
        }
    }
}

fn story_not_found() -> ApiError {
    ApiError::not_found("Story not found")
}

/// 429 when the author already has `MAX_ACTIVE_STORIES` active stories (with `Retry-After`
/// until the oldest expires).
fn story_cap_reached(oldest_expiry: i64, now: i64) -> ApiError {
    ApiError::TooManyRequests {
        message: format!(
            "You already have {MAX_ACTIVE_STORIES} active stories; wait until one expires or delete one"
        ),
        retry_after_secs: u64::try_from(oldest_expiry - now).unwrap_or(1).max(1),
    }
}

/// Stores a story for `author`: the author's story slots first (1 GetItem: the cap is checked
/// before the media is stored), then the media's type and size, then 1 TransactWriteItems that
/// re-checks the cap atomically (a condition on the slots' version: concurrent creates cannot
/// pass it together; the loser re-reads the slots). Removes the object again when the story
/// cannot be stored.
pub async fn create_story(
    state: &AppState,
    author: &UserRecord,
    caption: &str,
    source: MediaSource,
) -> ApiResult<StoryView> {
    let now = now_epoch();
    let mut slots = state.db.story_slots(&author.id, now).await?;
    if slots.active.len() >= MAX_ACTIVE_STORIES {
        let oldest = slots.active.values().copied().min().unwrap_or(now + 1);
        return Err(story_cap_reached(oldest, now));
    }
    let media = state
        .media
        .accept(&author.id, source, Purpose::Story)
        .await?;
    let id = Ulid::new();
    let created = i64::try_from(id.timestamp_ms() / 1000).unwrap_or_else(|_| now_epoch());
    let record = StoryRecord {
        story_id: id.to_string(),
        author_id: author.id.clone(),
        caption: caption.to_string(),
        media_key: media.key.clone(),
        media_type: if media.media_type.is_video() {
            PostMediaType::Video
        } else {
            PostMediaType::Image
        },
        view_count: 0,
        created_at: epoch_to_rfc3339(created),
        expires_at: created + STORY_LIFETIME_SECS,
    };
    let mut stored = Err(ApiError::conflict(
        "The story could not be stored; try again",
    ));
    for _ in 0..5 {
        match state
            .db
            .create_story_in(&record, &slots, MAX_ACTIVE_STORIES)
            .await
        {
            Ok(StoryCreate::Created) => {
                stored = Ok(());
                break;
            }
            Ok(StoryCreate::Full { oldest_expiry }) => {
                stored = Err(story_cap_reached(oldest_expiry, now_epoch()));
                break;
            }
            Ok(StoryCreate::LostRace) => {
                match state.db.story_slots(&author.id, now_epoch()).await {
                    Ok(fresh) => slots = fresh,
                    Err(err) => {
                        stored = Err(err);
                        break;
                    }
                }
            }
            Err(err) => {
                stored = Err(err);
                break;
            }
        }
    }
    if let Err(err) = stored {
        state.media.delete_quietly(&media.key).await;
        return Err(err);
    }
    let summary = UserSummary::from_record(author, &state.media).await;
    Ok(StoryView::build(state, &record, &summary, true).await)
}

/// 404 when the author is gone, inactive or a block stands either way; 403 for a private
/// account the viewer does not follow.
fn check_visible(
    viewer: Option<&str>,
    author: &UserRecord,
    relation: &crate::social::Relation,
) -> ApiResult<()> {
    if viewer == Some(author.id.as_str()) {
        return Ok(());
    }
    if !author.is_active() || relation.blocked_either_way() {
        return Err(ApiError::not_found("User not found"));
    }
    match can_view(viewer, author, relation) {
        Visibility::Full => Ok(()),
        Visibility::Hidden => Err(ApiError::not_found("User not found")),
        Visibility::ProfileOnly => Err(ApiError::forbidden(
            "This account is private: only its followers can see its stories",
        )),
    }
}

/// The story while it is active (404 once `expiresAt` has passed, even if the item exists):
/// 1 GetItem.
async fn active_story(state: &AppState, story_id: &str) -> ApiResult<StoryRecord> {
    let now = now_epoch();
    state
        .db
        .get_story(story_id)
        .await?
        .filter(|s| s.is_active(now))
        .ok_or_else(story_not_found)
}

/// An active story the viewer may see, with its author and whether the viewer has seen it:
/// 1 GetItem + 1 BatchGetItem (author, relation, the viewer's view).
pub async fn visible_story(
    state: &AppState,
    viewer: Option<&str>,
    story_id: &str,
) -> ApiResult<(StoryRecord, UserRecord, bool)> {
    let story = active_story(state, story_id).await?;
    story_access(state, viewer, story).await
}

/// Decides whether `viewer` may see a story already read: 1 BatchGetItem (author, relation,
/// the viewer's view of it).
async fn story_access(
    state: &AppState,
    viewer: Option<&str>,
    story: StoryRecord,
) -> ApiResult<(StoryRecord, UserRecord, bool)> {
    let own = viewer == Some(story.author_id.as_str());
    let view_key = viewer
        .filter(|_| !own)
        .map(|v| keys::story_view(&story.story_id, v));
    let (author, relation, found) = state
        .db
        .profile_with_relation(viewer, &story.author_id, view_key.iter().cloned().collect())
        .await?
        .ok_or_else(story_not_found)?;
    check_visible(viewer, &author, &relation).map_err(|err| match err {
        ApiError::NotFound(_) => story_not_found(),
        other => other,
    })?;
    let viewed = own || view_key.is_some_and(|key| contains_key(&found, &key));
    Ok((story, author, viewed))
}

/// One active story for `viewer`.
pub async fn get_story(
    state: &AppState,
    viewer: Option<&str>,
    story_id: &str,
) -> ApiResult<StoryView> {
    let (story, author, viewed) = visible_story(state, viewer, story_id).await?;
    let summary = UserSummary::from_record(&author, &state.media).await;
    Ok(StoryView::build(state, &story, &summary, viewed).await)
}

/// Counts `viewer` once on a story it may see and answers the exact count. The owner is never
/// counted (1 GetItem). Others: 1 GetItem + 1 BatchGetItem (visibility, already viewed?), 1
/// TransactWriteItems for a first view, and 1 GetItem for the exact count.
pub async fn view_story(state: &AppState, viewer: &UserRecord, story_id: &str) -> ApiResult<i64> {
    let story = active_story(state, story_id).await?;
    if story.author_id == viewer.id {
        return Ok(story.view_count.max(0));
    }
    let (story, _, viewed) = story_access(state, Some(&viewer.id), story).await?;
    if !viewed {
        state
            .db
            .record_story_view(&story, &viewer.id, now_epoch())
            .await?;
    }
    // Read after the view is known to be committed (by this request or an earlier one): the
    // story read before it may predate a concurrent first view by the same viewer.
    Ok(state.db.story_view_count(story_id).await?.max(0))
}

/// A user's active stories, oldest first, with the viewer's seen flags: 1 Query + 1
/// BatchGetItem (owner, relation, the viewer's views), access decided after the read.
pub async fn user_stories(
    state: &AppState,
    viewer: Option<&str>,
    owner_id: &str,
) -> ApiResult<(UserSummary, Vec<StoryView>)> {
    let now = now_epoch();
    let stories = state.db.active_stories_of(owner_id, now).await?;
    let own = viewer == Some(owner_id);
    let view_keys: Vec<Key> = match viewer.filter(|_| !own) {
        Some(viewer) => stories
            .iter()
            .map(|s| keys::story_view(&s.story_id, viewer))
            .collect(),
        None => Vec::new(),
    };
    let (owner, relation, found) = state
        .db
        .profile_with_relation(viewer, owner_id, view_keys)
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    check_visible(viewer, &owner, &relation)?;
    let summary = UserSummary::from_record(&owner, &state.media).await;
    let mut views = Vec::with_capacity(stories.len());
    for story in &stories {
        let viewed = own
            || viewer.is_some_and(|v| contains_key(&found, &keys::story_view(&story.story_id, v)));
        views.push(StoryView::build(state, story, &summary, viewed).await);
    }
    Ok((summary, views))
}

/// One account in the tray.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrayEntry {
    pub user: UserSummary,
    pub stories_count: usize,
    pub unseen_count: usize,
    pub has_unseen: bool,
    /// Where to start watching: the oldest unseen story, or the oldest when all are seen.
    pub first_story_id: String,
    pub latest_story_id: String,
    pub latest_story_at: String,
}

/// The accounts `me` follows that have active stories: unseen first, then newest. 1 Query of
/// my follow edges, 1 Query per followed account (16 in parallel), 1 BatchGetItem (authors
/// and my views of their stories, per 100 keys). A follow edge means no block either way (a
/// block removes the edges in the same transaction), so no relation keys are read.
pub async fn tray(state: &AppState, me: &str) -> ApiResult<Vec<TrayEntry>> {
    let now = now_epoch();
    let mut followees = state.db.partition_ids(me, keys::FOLLOWING_PREFIX).await?;
    followees.truncate(TRAY_MAX_FOLLOWEES);
    if followees.is_empty() {
        return Ok(Vec::new());
    }
    let with_stories = state.db.active_stories_of_many(&followees, now).await?;
    if with_stories.is_empty() {
        return Ok(Vec::new());
    }
    let mut wanted = Vec::new();
    for (author, stories) in &with_stories {
        wanted.push(keys::user(author));
        wanted.extend(stories.iter().map(|s| keys::story_view(&s.story_id, me)));
    }
    let mut found = state.db.get_items(&wanted, true).await?;
    let mut entries = Vec::with_capacity(with_stories.len());
    for (author_id, stories) in &with_stories {
        let Some(item) = take_item(&mut found, &keys::user(author_id)) else {
            continue;
        };
        let author: UserRecord = serde_dynamo::from_item(item)?;
        if !author.is_active() {
            continue;
        }
        let unseen: Vec<&StoryRecord> = stories
            .iter()
            .filter(|s| !contains_key(&found, &keys::story_view(&s.story_id, me)))
            .collect();
        let (Some(first), Some(latest)) = (stories.first(), stories.last()) else {
            continue;
        };
        entries.push(TrayEntry {
            user: UserSummary::from_record(&author, &state.media).await,
            stories_count: stories.len(),
            unseen_count: unseen.len(),
            has_unseen: !unseen.is_empty(),
            first_story_id: unseen
                .first()
                .map_or(&first.story_id, |s| &s.story_id)
                .clone(),
            latest_story_id: latest.story_id.clone(),
            latest_story_at: latest.created_at.clone(),
        });
    }
    entries.sort_by(|a, b| {
        b.has_unseen
            .cmp(&a.has_unseen)
            .then_with(|| b.latest_story_id.cmp(&a.latest_story_id))
    });
    Ok(entries)
}

/// Who viewed the story, newest first (owner only): 1 GetItem of the story (access decided
/// first: nobody else's request reads the views), 1 Query of GSI1 `VIEWERSOF#<id>` and
/// 1 BatchGetItem of the viewers.
pub async fn story_viewers(
    state: &AppState,
    owner: &UserRecord,
    story_id: &str,
    request: &PageRequest,
) -> ApiResult<(Vec<serde_json::Value>, Pagination)> {
    if story_id.parse::<Ulid>().is_err() {
        return Err(story_not_found());
    }
    let story = state
        .db
        .get_story(story_id)
        .await?
        .filter(|story| story.is_active(now_epoch()))
        .ok_or_else(story_not_found)?;
    if story.author_id != owner.id {
        return Err(ApiError::forbidden(
            "Only the owner can see who viewed a story",
        ));
    }
    let page = state
        .db
        .list_page(
            &ListSource::Gsi1(keys::story_viewers(story_id)),
            request,
            true,
            Some(&["viewerId", "viewedAt"]),
        )
        .await?;
    let viewers: Vec<(String, String)> = page
        .items
        .iter()
        .filter_map(|item| {
            Some((
                string_attr(item, "viewerId")?.to_string(),
                string_attr(item, "viewedAt")
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect();
    let wanted: Vec<Key> = viewers.iter().map(|(id, _)| keys::user(id)).collect();
    let mut found = if wanted.is_empty() {
        HashMap::new()
    } else {
        state.db.get_items(&wanted, true).await?
    };
    let mut profiles: HashMap<String, UserRecord> = HashMap::new();
    for (id, _) in &viewers {
        if let Some(item) = take_item(&mut found, &keys::user(id)) {
            profiles.insert(id.clone(), serde_dynamo::from_item(item)?);
        }
    }
    let mut cards = Vec::with_capacity(viewers.len());
    for (id, viewed_at) in &viewers {
        if let Some(user) = profiles.get(id) {
            let summary = UserSummary::from_record(user, &state.media).await;
            let mut card = serde_json::to_value(summary)
                .map_err(|err| ApiError::internal(format!("viewer card: {err}")))?;
            card["viewedAt"] = serde_json::Value::String(viewed_at.clone());
            cards.push(card);
        }
    }
    let total = u64::try_from(story.view_count).unwrap_or_default();
    Ok((cards, page.pagination(Some(total))))
}

/// Deletes one active story (owner, or a moderator) with its views and media: 1 Query of its
/// partition + 1 BatchWriteItem per 25 items + 1 UpdateItem freeing its slot, and an S3 DeleteObject.
pub async fn delete_story(state: &AppState, user: &UserRecord, story_id: &str) -> ApiResult<()> {
    let partition = state
        .db
        .story_partition(story_id)
        .await?
        .filter(|p| p.expires_at > now_epoch())
        .ok_or_else(story_not_found)?;
    if partition.author_id != user.id && !crate::admin::moderation::can_moderate(user) {
        return Err(ApiError::forbidden("You can only delete your own stories"));
    }
    state.db.delete_keys(&partition.keys).await?;
    state
        .db
        .free_story_slots(
            &partition.author_id,
            std::slice::from_ref(&partition.story_id),
        )
        .await?;
    state.media.delete_quietly(&partition.media_key).await;
    let notice = crate::notifications::NewNotification::new(
        crate::notifications::NotificationType::Moderation,
        &partition.author_id,
    )
    .story(story_id);
    let owner = partition.author_id.as_str();
    crate::admin::moderation::removed(state, user, owner, "story", story_id, notice).await;
    Ok(())
}

/// Deletes every story of the user (expired leftovers included) with their views and media.
/// Answers how many were removed. Also the account-deletion step.
pub async fn delete_stories_of(state: &AppState, user_id: &str) -> ApiResult<usize> {
    let stories = state.db.all_stories_of(user_id).await?;
    if stories.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = stories.iter().map(|(id, _)| id.clone()).collect();
    let removed = state.db.delete_stories(&ids).await?;
    for (_, media_key) in &stories {
        state.media.delete_quietly(media_key).await;
    }
    Ok(removed)
}
