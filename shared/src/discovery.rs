//! Finding people: prefix search over the search index, and suggestions (friends of friends
//! first, then the most followed accounts from the sharded `PopularIndex`).

use std::collections::{HashMap, HashSet};

use futures_util::future::try_join_all;
use serde::Serialize;

use crate::db::follows::{POPULAR_INDEX, POPULAR_SHARDS, POPULAR_SHARD_ATTR};
use crate::db::keys::{self, SEARCH_PREFIX_LEN};
use crate::db::listing::{contains_key, string_attr, take_item};
use crate::db::s;
use crate::db::search::{matches, normalize_term, rank};
use crate::db::users::UserRecord;
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

/// Followees whose own followings are read for friends-of-friends.
const FRIENDS_SAMPLED: usize = 10;
const FRIENDS_OF_FRIEND_READ: i32 = 50;
const POPULAR_READ_PER_SHARD: i32 = 20;
const MAX_CANDIDATES: usize = 50;

/// Suggestions for `me`: never me, never someone I follow, asked to follow or blocked, nor
/// someone who blocked me. Reads: 1 Query of my followings, up to 10 Queries of friends'
/// followings and 4 of the popular index (in parallel), 1 BatchGetItem per 25 candidates
/// (profiles and the exclusion edges), then 1 BatchGetItem of the suggestions' recent images.
pub async fn suggested_users(
    state: &AppState,
    me: &UserRecord,
    limit: usize,
) -> ApiResult<Vec<SuggestedUser>> {
    let db = &state.db;
    // My blocks and sent requests are checked per candidate in the BatchGetItem below (their
    // keys are known), not read as lists: 2 Queries less.
    let followees = db.partition_ids(&me.id, keys::FOLLOWING_PREFIX).await?;
    let mut excluded: HashSet<String> = followees.iter().cloned().collect();
    excluded.insert(me.id.clone());

    let friends_of_friends = try_join_all(followees.iter().take(FRIENDS_SAMPLED).map(|friend| {
        db.client
            .query()
            .table_name(&db.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::user_pk(friend)))
            .expression_attribute_values(":prefix", s(keys::FOLLOWING_PREFIX))
            .projection_expression("SK")
            .limit(FRIENDS_OF_FRIEND_READ)
            .send()
    }));
    let popular = try_join_all((0..POPULAR_SHARDS).map(|shard| {
        db.client
            .query()
            .table_name(&db.table)
            .index_name(POPULAR_INDEX)
            .key_condition_expression("#shard = :shard")
            .expression_attribute_names("#shard", POPULAR_SHARD_ATTR)
            .expression_attribute_values(":shard", s(format!("POPULAR#{shard}")))
            .scan_index_forward(false)
            .limit(POPULAR_READ_PER_SHARD)
            .send()
    }));
    let (friends_of_friends, popular) = futures_util::try_join!(friends_of_friends, popular)?;

    let mut mutuals: HashMap<String, usize> = HashMap::new();
    for out in &friends_of_friends {
        for item in out.items() {
            if let Some(id) =
                string_attr(item, keys::SK).and_then(|sk| sk.strip_prefix(keys::FOLLOWING_PREFIX))
            {
                if !excluded.contains(id) {
                    *mutuals.entry(id.to_string()).or_default() += 1;
                }
            }
        }
    }
    // Friends of friends first, most mutual connections first, before the cut below.
    let mut candidates: Vec<String> = mutuals.keys().cloned().collect();
    candidates.sort_by(|a, b| mutuals[b].cmp(&mutuals[a]).then(a.cmp(b)));
    for out in &popular {
        for item in out.items() {
            if let Some(id) = string_attr(item, keys::PK).and_then(|pk| pk.strip_prefix("USER#")) {
                if !excluded.contains(id) && !mutuals.contains_key(id) {
                    candidates.push(id.to_string());
                }
            }
        }
    }
    // Each candidate costs four keys (profile, blocks both ways, my request to it): 25 per
    // BatchGetItem call.
    candidates.truncate(MAX_CANDIDATES);
    let exclusions = |id: &str| {
        [
            keys::block(id, &me.id),
            keys::block(&me.id, id),
            keys::sent_follow_request(&me.id, id),
        ]
    };
    let mut wanted: Vec<keys::Key> = Vec::with_capacity(candidates.len() * 4);
    for id in &candidates {
        wanted.push(keys::user(id));
        wanted.extend(exclusions(id));
    }
    let mut found = db.get_items(&wanted, false).await?;
    let mut users: Vec<UserRecord> = Vec::new();
    for id in &candidates {
        if exclusions(id).iter().any(|key| contains_key(&found, key)) {
            continue;
        }
        if let Some(item) = take_item(&mut found, &keys::user(id)) {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            if user.is_active() {
                users.push(user);
            }
        }
    }
    users.sort_by(|a, b| {
        let mutual = |u: &UserRecord| mutuals.get(&u.id).copied().unwrap_or_default();
        mutual(b)
            .cmp(&mutual(a))
            .then(b.followers_count.cmp(&a.followers_count))
            .then(a.username.cmp(&b.username))
    });
    users.truncate(limit);
    // A private account's posts never reach someone who does not follow it (and every candidate
    // here is someone the viewer does not follow).
    let ids: Vec<String> = users
        .iter()
        .filter(|u| !u.is_private)
        .map(|u| u.id.clone())
        .collect();
    let mut images = crate::social::recent_images(db, &state.media, &ids).await?;
    let mut suggestions = Vec::with_capacity(users.len());
    for user in users {
        suggestions.push(SuggestedUser {
            profile_picture: match &user.profile_picture_key {
                Some(key) => state.media.url(key).await,
                None => None,
            },
            mutual_count: mutuals.get(&user.id).copied().unwrap_or_default(),
            recent_images: images.remove(&user.id).unwrap_or_default(),
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
