//! Posts as the API shows them: captions (hashtags, mentions), creation from checked media,
//! visibility (private accounts and blocks through `social::can_view`), and pages of posts
//! hydrated in one BatchGetItem (posts, authors, the viewer's likes and saves, blocks).

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use ulid::Ulid;

use crate::db::keys::{self, Key};
use crate::db::likers;
use crate::db::listing::{contains_key, string_attr, take_item, ListSource};
use crate::db::posts::{PostMediaType, PostRecord};
use crate::db::users::UserRecord;
use crate::db::Item;
use crate::error::{ApiError, ApiResult};
use crate::notifications::{NewNotification, NotificationType};
use crate::pagination::{PageRequest, Pagination};
use crate::social::{can_view, Relation, Visibility};
use crate::state::AppState;
use crate::time::now_rfc3339;
use crate::uploads::{MediaSource, Purpose};
use crate::views::UserSummary;

pub const MAX_CAPTION_CHARS: usize = 2200;
/// Instagram's own limit; also keeps the create transaction far below 100 items.
pub const MAX_HASHTAGS: usize = 30;
pub const MAX_MENTIONS: usize = 50;

/// Words after `sigil` made of letters, digits, `_` (and `.` for usernames), lower-cased,
/// de-duplicated in order of appearance.
fn tokens_after(caption: &str, sigil: char, allow_dot: bool, max: usize) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let chars: Vec<char> = caption.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let at_word_start = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if chars[i] == sigil && at_word_start {
            let mut j = i + 1;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || (allow_dot && chars[j] == '.'))
            {
                j += 1;
            }
            let word: String = chars[i + 1..j].iter().collect::<String>();
            let word = word.trim_end_matches('.').to_lowercase();
            if !word.is_empty() && !found.contains(&word) && found.len() < max {
                found.push(word);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

pub fn hashtags(caption: &str) -> Vec<String> {
    tokens_after(caption, '#', false, MAX_HASHTAGS)
}

pub fn mentions(caption: &str) -> Vec<String> {
    tokens_after(caption, '@', true, MAX_MENTIONS)
}

/// A caption within the limit (trimmed); empty is allowed.
pub fn validate_caption(raw: &str) -> ApiResult<String> {
    let caption = raw.trim().to_string();
    if caption.chars().count() > MAX_CAPTION_CHARS {
        return Err(ApiError::invalid_field(
            "caption",
            format!("caption must be at most {MAX_CAPTION_CHARS} characters"),
        ));
    }
    Ok(caption)
}

/// A post as clients see it (seed 001's fields plus the viewer's flags).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    #[serde(rename = "_id")]
    pub id: String,
    pub caption: String,
    pub image: Option<String>,
    pub video: Option<String>,
    pub media_type: PostMediaType,
    pub likes: i64,
    pub comments: i64,
    pub saves: i64,
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    pub is_liked: bool,
    pub is_saved: bool,
    pub created_at: String,
    pub updated_at: String,
    pub user: UserSummary,
    /// The author again, as the live service populates it (clients read `userId._id`).
    pub user_id: UserSummary,
    /// Up to 20 recent likers' ids, the viewer's first when the viewer likes the post.
    pub liked_by: Vec<String>,
    /// `[viewerId]` when the viewer saved the post, else `[]`: saves are private.
    pub saved_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engagement_score: Option<f64>,
}

/// The viewer and what they did to a post or comment, for `isLiked`/`likedBy`/`savedBy`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewerFlags<'a> {
    pub viewer: Option<&'a str>,
    pub liked: bool,
    pub saved: bool,
}

impl<'a> ViewerFlags<'a> {
    pub fn new(viewer: Option<&'a str>, liked: bool, saved: bool) -> Self {
        Self {
            viewer,
            liked: liked && viewer.is_some(),
            saved: saved && viewer.is_some(),
        }
    }

    fn saved_by(&self) -> Vec<String> {
        match (self.viewer, self.saved) {
            (Some(viewer), true) => vec![viewer.to_string()],
            _ => Vec::new(),
        }
    }
}

impl PostView {
    pub async fn build(
        state: &AppState,
        post: &PostRecord,
        author: &UserRecord,
        flags: ViewerFlags<'_>,
    ) -> Self {
        let url = state.media.url(&post.media_key).await;
        let user = UserSummary::from_record(author, &state.media).await;
        let (image, video) = match post.media_type {
            PostMediaType::Image => (url, None),
            PostMediaType::Video => (None, url),
        };
        Self {
            id: post.post_id.clone(),
            caption: post.caption.clone(),
            image,
            video,
            media_type: post.media_type,
            likes: post.likes.max(0),
            comments: post.comments.max(0),
            saves: post.saves.max(0),
            hashtags: post.hashtags.clone(),
            mentions: post.mentions.clone(),
            is_liked: flags.liked,
            is_saved: flags.saved,
            created_at: post.created_at.clone(),
            updated_at: post.updated_at.clone(),
            user_id: user.clone(),
            user,
            liked_by: likers::liked_by(&post.recent_likers, flags.viewer, flags.liked),
            saved_by: flags.saved_by(),
            engagement_score: None,
        }
    }
}

/// Stores a post for `author`: the media's type and size are checked, then 1
/// TransactWriteItems. Removes the object again when the post cannot be stored.
pub async fn create_post(
    state: &AppState,
    author: &UserRecord,
    caption: &str,
    source: MediaSource,
) -> ApiResult<PostView> {
    let media = state
        .media
        .accept(&author.id, source, Purpose::Post)
        .await?;
    let now = now_rfc3339();
    let record = PostRecord {
        post_id: Ulid::new().to_string(),
        author_id: author.id.clone(),
        caption: caption.to_string(),
        hashtags: hashtags(caption),
        mentions: mentions(caption),
        media_key: media.key.clone(),
        media_type: if media.media_type.is_video() {
            PostMediaType::Video
        } else {
            PostMediaType::Image
        },
        likes: 0,
        comments: 0,
        saves: 0,
        in_feed: !author.is_private,
        recent_likers: Some(Default::default()),
        created_at: now.clone(),
        updated_at: now,
    };
    if let Err(err) = state.db.create_post(&record).await {
        state.media.delete_quietly(&media.key).await;
        return Err(err);
    }
    // The people the caption mentions hear of it from the table's stream (`fanout`).
    Ok(PostView::build(
        state,
        &record,
        author,
        ViewerFlags::new(Some(&author.id), false, false),
    )
    .await)
}

fn post_not_found() -> ApiError {
    ApiError::not_found("Post not found")
}

/// The post if the viewer may see it (404 when missing or its author blocked the viewer,
/// 403 for a private account the viewer does not follow), with its author and the viewer's
/// flags: 1 GetItem + 1 BatchGetItem.
pub async fn visible_post(
    state: &AppState,
    viewer: Option<&str>,
    post_id: &str,
) -> ApiResult<(PostRecord, UserRecord, bool, bool)> {
    let extra = match viewer {
        Some(viewer) => vec![
            keys::post_like(post_id, viewer),
            keys::post_save(post_id, viewer),
        ],
        None => Vec::new(),
    };
    let (post, author, found) = visible_post_with(state, viewer, post_id, extra).await?;
    let (liked, saved) = match viewer {
        Some(viewer) => (
            contains_key(&found, &keys::post_like(post_id, viewer)),
            contains_key(&found, &keys::post_save(post_id, viewer)),
        ),
        None => (false, false),
    };
    Ok((post, author, liked, saved))
}

/// The post if the viewer may see it, with its author and the `extra` items read in the same
/// BatchGetItem: 1 GetItem + 1 BatchGetItem.
pub async fn visible_post_with(
    state: &AppState,
    viewer: Option<&str>,
    post_id: &str,
    extra: Vec<Key>,
) -> ApiResult<(PostRecord, UserRecord, HashMap<(String, String), Item>)> {
    let post = state
        .db
        .get_post(post_id)
        .await?
        .ok_or_else(post_not_found)?;
    let (author, relation, found) = state
        .db
        .profile_with_relation(viewer, &post.author_id, extra)
        .await?
        .ok_or_else(post_not_found)?;
    check_visible(viewer, &author, &relation)?;
    Ok((post, author, found))
}

fn check_visible(viewer: Option<&str>, author: &UserRecord, relation: &Relation) -> ApiResult<()> {
    if viewer != Some(author.id.as_str()) && !author.is_active() {
        return Err(post_not_found());
    }
    match can_view(viewer, author, relation) {
        Visibility::Hidden => Err(post_not_found()),
        Visibility::ProfileOnly => Err(ApiError::forbidden(
            "This account is private or blocked: its posts are not visible to you",
        )),
        Visibility::Full => Ok(()),
    }
}

/// The post for a mutation by `user`: 404 when missing, 403 unless `user` owns it (or, when
/// `admin_allowed`, is an admin). 1 GetItem.
pub async fn post_for_change(
    state: &AppState,
    user: &UserRecord,
    post_id: &str,
    admin_allowed: bool,
) -> ApiResult<PostRecord> {
    let post = state
        .db
        .get_post(post_id)
        .await?
        .ok_or_else(post_not_found)?;
    if post.author_id != user.id && !(admin_allowed && crate::admin::moderation::can_moderate(user))
    {
        return Err(ApiError::forbidden(
            "You are not allowed to change this post",
        ));
    }
    Ok(post)
}

/// Edits the caption (owner only); hashtags and mentions follow it.
pub async fn update_caption(
    state: &AppState,
    user: &UserRecord,
    post_id: &str,
    raw_caption: &str,
) -> ApiResult<PostView> {
    let caption = validate_caption(raw_caption)?;
    let mut post = post_for_change(state, user, post_id, false).await?;
    let tags = hashtags(&caption);
    let people = mentions(&caption);
    let updated_at = state
        .db
        .update_caption(&post, &caption, &tags, &people)
        .await?;
    // Only the people the edit newly mentions hear about it, from the table's stream (`fanout`).
    post.caption = caption;
    post.hashtags = tags;
    post.mentions = people;
    post.updated_at = updated_at;
    let flags = state
        .db
        .get_items(
            &[
                keys::post_like(post_id, &user.id),
                keys::post_save(post_id, &user.id),
            ],
            true,
        )
        .await?;
    let flags = ViewerFlags::new(
        Some(&user.id),
        contains_key(&flags, &keys::post_like(post_id, &user.id)),
        contains_key(&flags, &keys::post_save(post_id, &user.id)),
    );
    Ok(PostView::build(state, &post, user, flags).await)
}

/// Deletes a post (owner, or a moderator: `postModify`) with everything hanging off it, and its
/// media.
pub async fn delete_post(state: &AppState, user: &UserRecord, post_id: &str) -> ApiResult<()> {
    let post = post_for_change(state, user, post_id, true).await?;
    remove_post(state, &post).await?;
    let notice = NewNotification::new(NotificationType::Moderation, &post.author_id)
        .post(post_id)
        .preview(&post.caption);
    crate::admin::moderation::removed(state, user, &post.author_id, "post", post_id, notice).await;
    Ok(())
}

/// The post, its edges, entries and media object.
pub async fn remove_post(state: &AppState, post: &PostRecord) -> ApiResult<()> {
    state.db.delete_post(post).await?;
    state.media.delete_quietly(&post.media_key).await;
    Ok(())
}

/// Which edge on a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostEdge {
    Like,
    Save,
}

/// What a like (or save) route asks for: `PUT` sets, `DELETE` clears (both idempotent, for
/// retry-safe clients), `POST .../like` flips, as the live service does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toggle {
    On,
    Off,
    Flip,
}

impl Toggle {
    /// The state wanted, given the current one.
    pub fn resolve(self, current: bool) -> bool {
        match self {
            Self::On => true,
            Self::Off => false,
            Self::Flip => !current,
        }
    }
}

/// Likes/unlikes or saves/unsaves a visible post and answers the whole post as this request
/// left it: 1 GetItem + 1 BatchGetItem (visibility and the viewer's flags), 1 TransactWriteItems.
/// A request that changes nothing spends no write. The answered counter is the consistent
/// pre-read's plus this request's own ±1 (no read-back): the stored counter is exact (the
/// transaction's ADD), the answer can miss other users' likes that landed meanwhile.
pub async fn set_edge(
    state: &AppState,
    user: &UserRecord,
    post_id: &str,
    edge: PostEdge,
    want: Toggle,
) -> ApiResult<PostView> {
    let (mut post, author, liked, saved) = visible_post(state, Some(&user.id), post_id).await?;
    let current = match edge {
        PostEdge::Like => liked,
        PostEdge::Save => saved,
    };
    let on = want.resolve(current);
    let (liked, saved) = match edge {
        PostEdge::Like => (on, saved),
        PostEdge::Save => (liked, on),
    };
    let flags = ViewerFlags::new(Some(&user.id), liked, saved);
    if current == on {
        // The consistent read of the post already holds the exact counts.
        return Ok(PostView::build(state, &post, &author, flags).await);
    }
    let db = &state.db;
    match (edge, on) {
        (PostEdge::Like, true) => db.like_post(&post, &user.id).await?,
        (PostEdge::Like, false) => {
            db.unlike_post(post_id, &post.recent_likers, &user.id)
                .await?
        }
        (PostEdge::Save, true) => db.save_post(&post, &user.id).await?,
        (PostEdge::Save, false) => db.unsave_post(post_id, &user.id).await?,
    };
    // `AlreadyThere` too: a concurrent request of this user made the same change after the
    // pre-read, so the post holds it either way.
    let delta = if on { 1 } else { -1 };
    match edge {
        PostEdge::Like => post.likes = (post.likes + delta).max(0),
        PostEdge::Save => post.saves = (post.saves + delta).max(0),
    }
    // `likedBy` needs no change: it lists the viewer exactly when `liked` (see `likers`).
    // The `like` notification (or taking it back) follows from the table's stream (`fanout`).
    Ok(PostView::build(state, &post, &author, flags).await)
}

/// A listing entry's post and author ids.
fn entry_ids(item: &Item) -> Option<(String, String)> {
    Some((
        string_attr(item, "postId")?.to_string(),
        string_attr(item, "authorId")?.to_string(),
    ))
}

/// Hydrates listing entries in one BatchGetItem per 100 keys: the posts, their authors, the
/// viewer's likes and saves, and blocks either way. Entries whose post is gone, whose author is
/// inactive, or whose author the viewer may not see are dropped (the relation keys include the
/// follow edge, so followers see private authors' posts).
pub async fn hydrate(
    state: &AppState,
    viewer: Option<&str>,
    entries: &[(String, String)],
) -> ApiResult<Vec<PostView>> {
    hydrate_for(state, viewer, entries, false).await
}

/// `hydrate` for `me`'s timeline: only my posts and those of accounts I follow now (an entry a
/// fan-out wrote just after an unfollow is left out; the stream deletes it).
pub async fn hydrate_followed(
    state: &AppState,
    me: &str,
    entries: &[(String, String)],
) -> ApiResult<Vec<PostView>> {
    hydrate_for(state, Some(me), entries, true).await
}

async fn hydrate_for(
    state: &AppState,
    viewer: Option<&str>,
    entries: &[(String, String)],
    followed_only: bool,
) -> ApiResult<Vec<PostView>> {
    let authors: Vec<String> = {
        let mut seen = HashSet::new();
        entries
            .iter()
            .filter(|(_, a)| seen.insert(a.clone()))
            .map(|(_, a)| a.clone())
            .collect()
    };
    let mut wanted: Vec<Key> = Vec::with_capacity(entries.len() * 3 + authors.len() * 5);
    for (post_id, _) in entries {
        wanted.push(keys::post(post_id));
        if let Some(viewer) = viewer {
            wanted.push(keys::post_like(post_id, viewer));
            wanted.push(keys::post_save(post_id, viewer));
        }
    }
    for author in &authors {
        wanted.push(keys::user(author));
        if let Some(viewer) = viewer.filter(|v| v != author) {
            wanted.extend(Relation::keys(viewer, author));
        }
    }
    let mut found = state.db.get_items(&wanted, true).await?;
    let mut profiles: HashMap<String, (UserRecord, bool)> = HashMap::new();
    for author in &authors {
        if let Some(item) = take_item(&mut found, &keys::user(author)) {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            let relation = match viewer {
                Some(viewer) => Relation::from_found(viewer, author, &found),
                None => Relation::default(),
            };
            let mine = viewer == Some(author.as_str());
            let visible = (user.is_active() || mine)
                && can_view(viewer, &user, &relation).content_visible()
                && (!followed_only
                    || mine
                    || relation.follow_status == crate::db::follows::FollowStatus::Following);
            profiles.insert(author.clone(), (user, visible));
        }
    }
    let mut views = Vec::with_capacity(entries.len());
    for (post_id, author_id) in entries {
        let Some((author, true)) = profiles.get(author_id) else {
            continue;
        };
        let Some(item) = take_item(&mut found, &keys::post(post_id)) else {
            continue;
        };
        let post: PostRecord = serde_dynamo::from_item(item)?;
        let (liked, saved) = match viewer {
            Some(viewer) => (
                contains_key(&found, &keys::post_like(post_id, viewer)),
                contains_key(&found, &keys::post_save(post_id, viewer)),
            ),
            None => (false, false),
        };
        views.push(
            PostView::build(state, &post, author, ViewerFlags::new(viewer, liked, saved)).await,
        );
    }
    Ok(views)
}

/// One page of listing entries (`postId`, `authorId`), hydrated.
async fn listed_page(
    state: &AppState,
    viewer: Option<&str>,
    source: &ListSource,
    request: &PageRequest,
) -> ApiResult<(Vec<PostView>, crate::db::listing::Page)> {
    let page = state
        .db
        .list_page(source, request, true, Some(&["postId", "authorId"]))
        .await?;
    let entries: Vec<(String, String)> = page.items.iter().filter_map(entry_ids).collect();
    let posts = hydrate(state, viewer, &entries).await?;
    Ok((posts, page))
}

/// What a user's post list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserPostsFilter {
    All,
    Image,
    Video,
    Saved,
}

impl UserPostsFilter {
    pub fn parse(raw: Option<&str>) -> ApiResult<Self> {
        match raw.map(str::trim).unwrap_or("all") {
            "" | "all" => Ok(Self::All),
            "image" => Ok(Self::Image),
            "video" => Ok(Self::Video),
            "saved" => Ok(Self::Saved),
            _ => Err(ApiError::invalid_field(
                "filter",
                "filter must be one of all, image, video, saved",
            )),
        }
    }
}

/// A user's posts, newest first (saved: the owner's saved posts, owner only):
/// 1 BatchGetItem (owner + relation) + 1 Query + 1 BatchGetItem (hydration).
pub async fn user_posts(
    state: &AppState,
    viewer: Option<&str>,
    owner_id: &str,
    filter: UserPostsFilter,
    request: &PageRequest,
) -> ApiResult<(Vec<PostView>, Pagination)> {
    let not_found = || ApiError::not_found("User not found");
    let (owner, relation, _) = state
        .db
        .profile_with_relation(viewer, owner_id, Vec::new())
        .await?
        .ok_or_else(not_found)?;
    if viewer != Some(owner_id) && !owner.is_active() {
        return Err(not_found());
    }
    match can_view(viewer, &owner, &relation) {
        Visibility::Hidden => return Err(not_found()),
        Visibility::ProfileOnly => {
            return Err(ApiError::forbidden(
                "This account is private: only its followers can see its posts",
            ))
        }
        Visibility::Full => {}
    }
    let source = match filter {
        UserPostsFilter::All => ListSource::Gsi1(keys::posts_by(owner_id)),
        UserPostsFilter::Image | UserPostsFilter::Video => ListSource::Partition {
            pk: keys::user_pk(owner_id),
            sk_prefix: keys::posts_of_type_prefix(if filter == UserPostsFilter::Image {
                "image"
            } else {
                "video"
            }),
        },
        UserPostsFilter::Saved => {
            if viewer != Some(owner_id) {
                return Err(ApiError::forbidden("Only the owner can see saved posts"));
            }
            ListSource::Gsi1(keys::saved_by(owner_id))
        }
    };
    let (posts, page) = listed_page(state, viewer, &source, request).await?;
    let total = match filter {
        UserPostsFilter::All => Some(u64::try_from(owner.posts_count).unwrap_or_default()),
        _ => None,
    };
    Ok((posts, page.pagination(total)))
}

/// `{totalPosts, totalLikes, totalComments, totalVideos, totalImages}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostStats {
    pub total_posts: i64,
    pub total_likes: i64,
    pub total_comments: i64,
    pub total_videos: i64,
    pub total_images: i64,
}

/// Sums the maintained per-post counters of a user's posts: 1 BatchGetItem (visibility) +
/// 1 Query of the author's listing (projection of the counters only, paged per MB).
pub async fn user_stats(
    state: &AppState,
    viewer: Option<&str>,
    owner_id: &str,
) -> ApiResult<PostStats> {
    let not_found = || ApiError::not_found("User not found");
    let (owner, relation, _) = state
        .db
        .profile_with_relation(viewer, owner_id, Vec::new())
        .await?
        .ok_or_else(not_found)?;
    if viewer != Some(owner_id) && !owner.is_active() {
        return Err(not_found());
    }
    match can_view(viewer, &owner, &relation) {
        Visibility::Hidden => return Err(not_found()),
        Visibility::ProfileOnly => {
            return Err(ApiError::forbidden(
                "This account is private: only its followers can see its stats",
            ))
        }
        Visibility::Full => {}
    }
    let items = state
        .db
        .gsi1_items(
            &keys::posts_by(owner_id),
            &["mediaType", "likes", "comments"],
        )
        .await?;
    let number = |item: &Item, name: &str| -> i64 {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    };
    let mut stats = PostStats {
        total_posts: items.len() as i64,
        total_likes: 0,
        total_comments: 0,
        total_videos: 0,
        total_images: 0,
    };
    for item in &items {
        stats.total_likes += number(item, "likes").max(0);
        stats.total_comments += number(item, "comments").max(0);
        if string_attr(item, "mediaType") == Some("video") {
            stats.total_videos += 1;
        } else {
            stats.total_images += 1;
        }
    }
    Ok(stats)
}

/// Account deletion: the user's posts (with their edges and media), then the likes and saves the
/// user gave on other posts (counters fixed).
pub async fn delete_posts_of(state: &AppState, user_id: &str) -> ApiResult<()> {
    let db = &state.db;
    let own = db.gsi1_items(&keys::posts_by(user_id), &["postId"]).await?;
    for item in &own {
        if let Some(post_id) = string_attr(item, "postId") {
            if let Some(post) = db.get_post(post_id).await? {
                remove_post(state, &post).await?;
            }
        }
    }
    let likes = db
        .gsi1_items(&keys::likes_by(user_id), &["postId", "commentId"])
        .await?;
    for item in &likes {
        match (string_attr(item, "postId"), string_attr(item, "commentId")) {
            (Some(post_id), Some(comment_id)) => {
                db.set_comment_like(
                    post_id,
                    comment_id,
                    &Some(Default::default()),
                    user_id,
                    false,
                )
                .await
                .map(|_| crate::db::posts::EdgeChange::Changed)
                .or_else(ignore_missing)?;
            }
            (Some(post_id), None) => {
                // Posts made since `recentLikers` exists always carry the map.
                db.unlike_post(post_id, &Some(Default::default()), user_id)
                    .await
                    .or_else(ignore_missing)?;
            }
            _ => {}
        }
    }
    let saves = db.gsi1_items(&keys::saved_by(user_id), &["postId"]).await?;
    for item in &saves {
        if let Some(post_id) = string_attr(item, "postId") {
            db.unsave_post(post_id, user_id)
                .await
                .or_else(ignore_missing)?;
        }
    }
    Ok(())
}

fn ignore_missing(err: ApiError) -> ApiResult<crate::db::posts::EdgeChange> {
    match err {
        ApiError::NotFound(_) => Ok(crate::db::posts::EdgeChange::AlreadyThere),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_and_mentions_are_extracted_lower_cased_once() {
        let caption = "Sunset #Beach #beach #sun_set! with @Alice.B and @bob. email a@b.c #";
        assert_eq!(hashtags(caption), vec!["beach", "sun_set"]);
        assert_eq!(mentions(caption), vec!["alice.b", "bob"]);
        assert!(hashtags("no tags here").is_empty());
        assert_eq!(hashtags("#été #日本"), vec!["été", "日本"]);
    }

    #[test]
    fn captions_are_limited() {
        assert!(validate_caption(&"a".repeat(MAX_CAPTION_CHARS)).is_ok());
        assert!(validate_caption(&"a".repeat(MAX_CAPTION_CHARS + 1)).is_err());
    }
}
