//! The lists of posts that are not one user's: the global feed (day buckets), the timeline
//! (fanned out on write by the stream, large accounts merged on read), explore (ranked by
//! `engagementScore`) and hashtags. Every page is hydrated by `posts::hydrate` (posts, authors, viewer flags and
//! blocks in one BatchGetItem per 100 keys), which also drops deleted, blocked and private
//! content the viewer may not see.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;

use crate::db::keys;
use crate::db::listing::{string_attr, ListSource};
use crate::db::posts::day_string;
use crate::db::users::UserRecord;
use crate::db::Item;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{encode_cursor, PageRequest, Pagination, Start};
use crate::posts::{hydrate, hydrate_followed, PostView};
use crate::state::AppState;

/// One feed page reads at most this many (non-empty) day buckets.
pub const FEED_MAX_DAYS_PER_PAGE: usize = 31;
/// Explore ranks the newest public posts of this many days...
pub const EXPLORE_DAYS: usize = 7;
/// ...up to this many candidates.
pub const EXPLORE_CANDIDATES: usize = 100;
/// The timeline merges at most this many followed large accounts (one Query each).
pub const TIMELINE_MAX_LARGE_FOLLOWEES: usize = 100;
/// The timeline reads `offset + limit + 1` entries (and as many posts of each followed large
/// account) for an offset page, so its offsets stop sooner than other lists' (deeper pages use
/// `cursor`).
pub const TIMELINE_MAX_OFFSET: usize = 1_000;

fn entry(item: &Item) -> Option<(String, String)> {
    Some((
        string_attr(item, "postId")?.to_string(),
        string_attr(item, "authorId")?.to_string(),
    ))
}

fn parse_day(bucket_pk: &str) -> Option<time::Date> {
    let mut parts = bucket_pk.strip_prefix("FEED#")?.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Feed entries newest first: today's bucket (or the cursor's, after its entry), then the older
/// buckets the day index lists (empty days are never read), until `wanted` entries are found.
/// At most `max_days` buckets, none older than `oldest`. 1 Query when the first bucket fills
/// the page; otherwise 1 more for the day index and 1 per bucket read.
async fn feed_entries(
    state: &AppState,
    start: Option<Item>,
    wanted: usize,
    max_days: usize,
    oldest: Option<&str>,
) -> ApiResult<Vec<Item>> {
    let (first_day, mut start_key) = match start {
        Some(key) => {
            if key.len() != 2 || string_attr(&key, keys::SK).is_none() {
                return Err(ApiError::invalid_field("cursor", "cursor is invalid"));
            }
            let day = match key.get(keys::PK) {
                Some(AttributeValue::S(pk)) => parse_day(pk).map(day_string),
                _ => None,
            }
            .ok_or_else(|| ApiError::invalid_field("cursor", "cursor is invalid"))?;
            (day, Some(key))
        }
        None => (day_string(OffsetDateTime::now_utc().date()), None),
    };
    let mut entries: Vec<Item> = Vec::with_capacity(wanted.min(256));
    let mut day = first_day.clone();
    let mut older_days: Option<std::vec::IntoIter<String>> = None;
    for _ in 0..max_days {
        loop {
            let (items, more) = state
                .db
                .feed_bucket_entries(&day, start_key.take(), wanted - entries.len())
                .await?;
            entries.extend(items);
            match more {
                Some(key) if entries.len() < wanted => start_key = Some(key),
                _ => break,
            }
        }
        if entries.len() >= wanted {
            break;
        }
        let days = match older_days.as_mut() {
            Some(days) => days,
            None => older_days.insert(
                state
                    .db
                    .feed_days_before(&first_day, oldest, max_days)
                    .await?
                    .into_iter(),
            ),
        };
        match days.next() {
            Some(older) => day = older,
            None => break,
        }
    }
    Ok(entries)
}

/// All public posts, newest first: day buckets (`FEED#<day>`), 1 Query per bucket touched
/// (usually 1) + 1 BatchGetItem.
pub async fn global_feed(
    state: &AppState,
    viewer: Option<&str>,
    request: &PageRequest,
) -> ApiResult<(Vec<PostView>, Pagination)> {
    let limit = request.limit as usize;
    let (skip, start) = match &request.start {
        Start::Offset(offset) => (*offset as usize, None),
        Start::After(key) => (0, Some(key.clone())),
    };
    let entries =
        feed_entries(state, start, skip + limit + 1, FEED_MAX_DAYS_PER_PAGE, None).await?;
    let has_more = entries.len() > skip + limit;
    let page: Vec<Item> = entries.into_iter().skip(skip).take(limit).collect();
    let next = if has_more {
        page.last().map(|item| {
            let key: Item = [keys::PK, keys::SK]
                .iter()
                .filter_map(|name| item.get(*name).map(|v| (name.to_string(), v.clone())))
                .collect();
            encode_cursor(&key)
        })
    } else {
        None
    };
    let ids: Vec<(String, String)> = page.iter().filter_map(entry).collect();
    let posts = hydrate(state, viewer, &ids).await?;
    // No counter keeps this list's size: its total is null, never a guess shown to people.
    Ok((posts, Pagination::new(request, None, has_more, next)))
}

/// Posts of the accounts `me` follows and mine, newest first. Fanned out on write
/// (`fanout::timeline`): 1 Query of my timeline entries, 1 Query per followed large account
/// (`followedLarge`, which the auth read carries), both at once, merged, then 1 BatchGetItem
/// that also drops authors I no longer follow. The cursor is the last post id shown.
pub async fn timeline(
    state: &AppState,
    me: &UserRecord,
    request: &PageRequest,
) -> ApiResult<(Vec<PostView>, Pagination)> {
    let limit = request.limit as usize;
    let (skip, before) = match &request.start {
        Start::Offset(offset) => (*offset as usize, None),
        Start::After(key) => match key.get("before") {
            Some(AttributeValue::S(id)) if id.parse::<ulid::Ulid>().is_ok() => {
                (0, Some(id.clone()))
            }
            _ => return Err(ApiError::invalid_field("cursor", "cursor is invalid")),
        },
    };
    if skip > TIMELINE_MAX_OFFSET {
        return Err(ApiError::invalid_field(
            "offset",
            format!(
                "the timeline pages by offset up to {TIMELINE_MAX_OFFSET} posts; use cursor (nextCursor) to page deeper"
            ),
        ));
    }
    let wanted = skip + limit + 1;
    let large: Vec<String> = me
        .followed_large
        .iter()
        .take(TIMELINE_MAX_LARGE_FOLLOWEES)
        .cloned()
        .collect();
    let merged_large = async {
        if large.is_empty() {
            Ok(Vec::new())
        } else {
            state
                .db
                .newest_posts_of(&large, before.as_deref(), wanted)
                .await
        }
    };
    let (mut merged, from_large) = tokio::try_join!(
        state.db.timeline_entries(&me.id, before.as_deref(), wanted),
        merged_large
    )?;
    merged.extend(from_large);
    merged.sort_by(|a, b| b.0.cmp(&a.0));
    let mut seen = HashSet::new();
    merged.retain(|(id, _)| seen.insert(id.clone()));
    let has_more = merged.len() > skip + limit;
    let page: Vec<(String, String)> = merged.into_iter().skip(skip).take(limit).collect();
    let next = if has_more {
        page.last().map(|(id, _)| {
            encode_cursor(&Item::from([(
                "before".to_string(),
                AttributeValue::S(id.clone()),
            )]))
        })
    } else {
        None
    };
    let posts = hydrate_followed(state, &me.id, &page).await?;
    // No counter keeps this list's size: its total is null, never a guess shown to people.
    Ok((posts, Pagination::new(request, None, has_more, next)))
}

/// `(likes + 2·comments) / (1 + age in days)^1.5`: comments weigh twice a like (seed 001's
/// score is likes + 2·comments), and a post loses about two thirds of its weight in its
/// first two days.
pub fn engagement_score(likes: i64, comments: i64, age_hours: f64) -> f64 {
    let raw = (likes.max(0) + 2 * comments.max(0)) as f64;
    let decay = (1.0 + age_hours.max(0.0) / 24.0).powf(1.5);
    (raw / decay * 100.0).round() / 100.0
}

fn age_hours(created_at: &str) -> f64 {
    OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
        .map(|at| (OffsetDateTime::now_utc() - at).as_seconds_f64() / 3600.0)
        .unwrap_or(0.0)
}

/// Trending: the newest public posts (up to 100 from the last 7 day buckets) ranked by
/// `engagementScore`. Up to 7 Queries + 1 BatchGetItem per 100 keys; pages by offset (the
/// cursor carries the offset).
pub async fn explore(
    state: &AppState,
    viewer: Option<&str>,
    request: &PageRequest,
) -> ApiResult<(Vec<PostView>, Pagination)> {
    let limit = request.limit as usize;
    let skip = match &request.start {
        Start::Offset(offset) => *offset as usize,
        Start::After(key) => match key.get("offset") {
            Some(AttributeValue::N(n)) => n
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_field("cursor", "cursor is invalid"))?,
            _ => return Err(ApiError::invalid_field("cursor", "cursor is invalid")),
        },
    };
    let today = OffsetDateTime::now_utc().date();
    let oldest = day_string(today - time::Duration::days(EXPLORE_DAYS as i64 - 1));
    let entries =
        feed_entries(state, None, EXPLORE_CANDIDATES, EXPLORE_DAYS, Some(&oldest)).await?;
    let ids: Vec<(String, String)> = entries.iter().filter_map(entry).collect();
    let mut posts = hydrate(state, viewer, &ids).await?;
    for post in &mut posts {
        post.engagement_score = Some(engagement_score(
            post.likes,
            post.comments,
            age_hours(&post.created_at),
        ));
    }
    posts.sort_by(|a, b| {
        b.engagement_score
            .partial_cmp(&a.engagement_score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.id.cmp(&a.id))
    });
    let total = posts.len();
    let has_more = total > skip + limit;
    let page: Vec<PostView> = posts.into_iter().skip(skip).take(limit).collect();
    let next = has_more.then(|| {
        encode_cursor(&Item::from([(
            "offset".to_string(),
            AttributeValue::N((skip + limit).to_string()),
        )]))
    });
    Ok((
        page,
        Pagination::new(request, Some(total as u64), has_more, next),
    ))
}

/// A hashtag as stored: lower-case, without `#`, letters, digits and `_` only.
pub fn normalize_tag(raw: &str) -> ApiResult<String> {
    let tag = raw.trim().trim_start_matches('#').to_lowercase();
    if tag.is_empty() || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(ApiError::invalid_field(
            "tag",
            "tag must be letters, digits or _",
        ));
    }
    Ok(tag)
}

/// Posts whose caption has `#tag`, newest first: 1 Query + 1 BatchGetItem.
pub async fn hashtag_posts(
    state: &AppState,
    viewer: Option<&str>,
    raw_tag: &str,
    request: &PageRequest,
) -> ApiResult<(Vec<PostView>, Pagination)> {
    let tag = normalize_tag(raw_tag)?;
    let source = ListSource::Partition {
        pk: keys::hashtag_pk(&tag),
        sk_prefix: keys::TAGGED_POST_PREFIX.to_string(),
    };
    let page = state
        .db
        .list_page(&source, request, true, Some(&["postId", "authorId"]))
        .await?;
    let ids: Vec<(String, String)> = page.items.iter().filter_map(entry).collect();
    let posts = hydrate(state, viewer, &ids).await?;
    Ok((posts, page.pagination(None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engagement_mixes_likes_comments_and_age() {
        assert_eq!(engagement_score(150, 45, 0.0), 240.0);
        assert!(engagement_score(10, 0, 0.0) > engagement_score(10, 0, 48.0));
        assert!(engagement_score(0, 10, 5.0) > engagement_score(10, 0, 5.0));
        assert_eq!(engagement_score(-3, 0, 1.0), 0.0);
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(normalize_tag("#Beach").ok().as_deref(), Some("beach"));
        assert!(normalize_tag("a b").is_err());
        assert!(normalize_tag("#").is_err());
    }
}
