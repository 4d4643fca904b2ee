//! Finding people: prefix search over the search index, and suggestions (friends of friends
//! first, then the most followed accounts), read from small items the table's stream keeps
//! (`fanout::suggestions`, `fanout::recent_images`).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::db::keys::{self, SEARCH_PREFIX_LEN};
use crate::db::listing::{contains_key, string_attr, take_item};
use crate::db::search::{matches, normalize_term, rank};
use crate::db::users::UserRecord;
use crate::db::{popular, recent_follows, recent_images, s};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::UserCard;

/// Prefix search on usernames and full-name words, ranked: 1 Query + 1 BatchGetItem.
/// A signed-in viewer never finds accounts that blocked them (their block keys are read in the
/// same BatchGetItem, so the candidates are capped at 50 to stay within its 100 keys).
pub async fn search_users(
    state: &AppState,
    viewer: Option<&str>,
    raw_query: &str,
    limit: usize,
) -> ApiResult<Vec<UserCard>> {
    let query = normalize_term(raw_query);
    if query.is_empty() {
        return Err(ApiError::invalid_field("q", "q is required"));
    }
    let first_word = query.split_whitespace().next().unwrap_or_default();
    if first_word.chars().count() < SEARCH_PREFIX_LEN {
        return Err(ApiError::invalid_field(
            "q",
            format!("q must be at least {SEARCH_PREFIX_LEN} characters"),
        ));
    }
    let mut ids = state.db.search_user_ids(&query).await?;
    let mut wanted: Vec<keys::Key> = Vec::with_capacity(ids.len() * 2);
    if let Some(viewer) = viewer {
        ids.truncate(50);
        wanted.extend(ids.iter().map(|id| keys::block(id, viewer)));
    }
    wanted.extend(ids.iter().map(|id| keys::user(id)));
    let mut found_items = state.db.get_items(&wanted, false).await?;
    let mut found: Vec<UserRecord> = Vec::with_capacity(ids.len());
    for id in &ids {
        if viewer.is_some_and(|viewer| contains_key(&found_items, &keys::block(id, viewer))) {
            continue;
        }
        if let Some(item) = take_item(&mut found_items, &keys::user(id)) {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            if user.is_active() && matches(&user, &query) {
                found.push(user);
            }
        }
    }
    rank(&mut found, &query);
    let mut cards = Vec::with_capacity(limit.min(found.len()));
    for user in found.iter().take(limit) {
        cards.push(UserCard::from_record(user, &state.media).await);
    }
    Ok(cards)
}

/// A suggested account with what a "follow" card shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedUser {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub profile_picture: Option<String>,
    pub bio: Option<String>,
    pub is_private: bool,
    pub is_verified: bool,
    pub posts_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub is_following: bool,
    /// How many of the people the viewer follows follow this account.
    pub mutual_count: usize,
    pub recent_images: Vec<String>,
}

/// My newest followees whose own newest followees seed friends-of-friends.
const SEEDS: i32 = 10;
/// Keys each candidate costs in the BatchGetItem: profile, blocks both ways, my request to it, my
/// edge to it (the seeds are only my newest followees), its recent images.
const KEYS_PER_CANDIDATE: usize = 6;
/// Candidates read: one BatchGetItem (100 keys) for the default limit, a little more than `limit`
/// for larger ones (their exclusions), never more than 3 BatchGetItems.
fn candidates_for(limit: usize) -> usize {
    (100 / KEYS_PER_CANDIDATE).max(limit + limit / 2).min(50)
}

/// Suggestions for `me`: never me, never someone I follow, asked to follow or blocked, nor
/// someone who blocked me, nor an inactive account. Reads (after auth):
/// 1. 1 Query of my newest followees (GSI1 `FOLLOWINGOF#me`, none when I follow nobody);
/// 2. 1 BatchGetItem of their `RECENTFOLLOWS` items (friends of friends, `db::recent_follows`)
///    and the `POPULAR` item (`db::popular`), both kept by the stream;
/// 3. 1 BatchGetItem of the candidates' profiles, exclusion keys and `RECENTIMAGES` items (one
///    more per 16 candidates past the first 16, for limits past 10).
pub async fn suggested_users(
    state: &AppState,
    me: &UserRecord,
    limit: usize,
) -> ApiResult<Vec<SuggestedUser>> {
    let db = &state.db;
    let seeds: Vec<String> = if me.following_count > 0 {
        let out = db
            .client
            .query()
            .table_name(&db.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_values(":pk", s(keys::following_list(&me.id)))
            .projection_expression("followeeId")
            .scan_index_forward(false)
            .limit(SEEDS)
            .send()
            .await?;
        out.items()
            .iter()
            .filter_map(|item| string_attr(item, "followeeId").map(str::to_string))
            .collect()
    } else {
        Vec::new()
    };

    let mut wanted: Vec<keys::Key> = seeds.iter().map(|id| keys::recent_follows(id)).collect();
    wanted.push(keys::popular_accounts());
    let mut found = db.get_items(&wanted, false).await?;
    let mut excluded: HashSet<&str> = seeds.iter().map(String::as_str).collect();
    excluded.insert(&me.id);
    let mut mutuals: HashMap<String, usize> = HashMap::new();
    for seed in &seeds {
        let Some(item) = take_item(&mut found, &keys::recent_follows(seed)) else {
            continue;
        };
        for id in recent_follows::followees_in(&item) {
            if !excluded.contains(id.as_str()) {
                *mutuals.entry(id).or_default() += 1;
            }
        }
    }
    let popular = take_item(&mut found, &keys::popular_accounts())
        .map(|item| popular::popular_in(&item))
        .unwrap_or_default();

    // Friends of friends first, most mutual connections first, then the popular accounts.
    let mut candidates: Vec<String> = mutuals.keys().cloned().collect();
    candidates.sort_by(|a, b| mutuals[b].cmp(&mutuals[a]).then(a.cmp(b)));
    for id in popular {
        if !excluded.contains(id.as_str()) && !mutuals.contains_key(&id) {
            candidates.push(id);
        }
    }
    candidates.truncate(candidates_for(limit));
    let exclusions = |id: &str| {
        [
            keys::block(id, &me.id),
            keys::block(&me.id, id),
            keys::sent_follow_request(&me.id, id),
            keys::following(&me.id, id),
        ]
    };
    let mut wanted: Vec<keys::Key> = Vec::with_capacity(candidates.len() * KEYS_PER_CANDIDATE);
    for id in &candidates {
        wanted.push(keys::user(id));
        wanted.push(keys::recent_images(id));
        wanted.extend(exclusions(id));
    }
    let mut found = if wanted.is_empty() {
        HashMap::new()
    } else {
        db.get_items(&wanted, false).await?
    };
    let mut users: Vec<(UserRecord, Vec<String>)> = Vec::new();
    for id in &candidates {
        if exclusions(id).iter().any(|key| contains_key(&found, key)) {
            continue;
        }
        if let Some(item) = take_item(&mut found, &keys::user(id)) {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            // A private account's posts never reach someone who does not follow it (and every
            // candidate here is someone the viewer does not follow).
            let images = match take_item(&mut found, &keys::recent_images(id)) {
                Some(item) if !user.is_private => recent_images::shown_in(&item),
                _ => Vec::new(),
            };
            if user.is_active() {
                users.push((user, images));
            }
        }
    }
    let mutual = |u: &UserRecord| mutuals.get(&u.id).copied().unwrap_or_default();
    users.sort_by(|(a, _), (b, _)| {
        mutual(b)
            .cmp(&mutual(a))
            .then(b.followers_count.cmp(&a.followers_count))
            .then(a.username.cmp(&b.username))
    });
    users.truncate(limit);
    let mut suggestions = Vec::with_capacity(users.len());
    for (user, media_keys) in users {
        let mut recent_images = Vec::with_capacity(media_keys.len());
        for key in &media_keys {
            if let Some(url) = state.media.url(key).await {
                recent_images.push(url);
            }
        }
        suggestions.push(SuggestedUser {
            profile_picture: match &user.profile_picture_key {
                Some(key) => state.media.url(key).await,
                None => None,
            },
            mutual_count: mutual(&user),
            recent_images,
            id: user.id,
            username: user.username,
            full_name: user.full_name,
            bio: user.bio,
            is_private: user.is_private,
            is_verified: user.is_verified,
            posts_count: user.posts_count,
            followers_count: user.followers_count,
            following_count: user.following_count,
            is_following: false,
        });
    }
    Ok(suggestions)
}
