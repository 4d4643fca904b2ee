//! `/api/search-history`: the signed-in user's recent searches (capped), newest first.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::auth::AuthUser;
use shared::db::keys;
use shared::db::listing::{contains_key, take_item, ListSource};
use shared::db::search_history::{SearchHistoryRecord, SEARCH_HISTORY_CAP};
use shared::db::users::UserRecord;
use shared::http::{created, done, ok, ApiJson};
use shared::pagination::{PageRequest, Start};
use shared::views::UserSummary;
use shared::{ApiError, ApiResult, AppState};

const QUERY_MAX: usize = 100;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/search-history", get(list).post(add).delete(clear))
        .route("/api/search-history/{history_id}", delete(remove))
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewEntry {
    searched_user_id: Option<String>,
    #[serde(default)]
    search_query: String,
}

fn entry_json(
    record: &SearchHistoryRecord,
    searched_user: Option<UserSummary>,
) -> serde_json::Value {
    json!({
        "_id": record.id,
        "userId": record.user_id,
        "searchedUserId": record.searched_user_id,
        "searchedUser": searched_user,
        "searchQuery": record.search_query,
        "createdAt": record.created_at,
    })
}

/// 1 GetItem for the searched user (when given), then 1 PutItem + 1 Query (+ trimming).
async fn add(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(entry): ApiJson<NewEntry>,
) -> ApiResult<impl IntoResponse> {
    let query = entry.search_query.trim().to_string();
    let searched = entry
        .searched_user_id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty());
    if searched.is_none() && query.is_empty() {
        return Err(ApiError::invalid_field(
            "searchedUserId",
            "searchedUserId or searchQuery is required",
        ));
    }
    if query.chars().count() > QUERY_MAX {
        return Err(ApiError::invalid_field(
            "searchQuery",
            format!("searchQuery must be at most {QUERY_MAX} characters"),
        ));
    }
    let mut summary = None;
    if let Some(id) = &searched {
        let user = state
            .db
            .get_user(id)
            .await?
            .filter(|u| u.is_active())
            .ok_or_else(|| ApiError::not_found("User not found"))?;
        summary = Some(UserSummary::from_record(&user, &state.media).await);
    }
    let record = state
        .db
        .add_search_history(auth.id(), searched, query)
        .await?;
    Ok(created(
        "Search history saved successfully",
        entry_json(&record, summary),
    ))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<String>,
}

/// Newest first with the searched users hydrated (never one who blocked me): 1 Query +
/// 1 BatchGetItem (profiles and block keys together).
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<LimitQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = match query
        .limit
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 20,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if n > 0 => n.min(SEARCH_HISTORY_CAP as u32),
            _ => {
                return Err(ApiError::invalid_field(
                    "limit",
                    "limit must be a positive integer",
                ))
            }
        },
    };
    let source = ListSource::Partition {
        pk: keys::user_pk(auth.id()),
        sk_prefix: keys::SEARCH_HISTORY_PREFIX.to_string(),
    };
    let page = state
        .db
        .list_page(
            &source,
            &PageRequest {
                limit,
                start: Start::Offset(0),
            },
            true,
            None,
        )
        .await?;
    let records: Vec<SearchHistoryRecord> = page
        .items
        .into_iter()
        .map(serde_dynamo::from_item)
        .collect::<Result<_, _>>()
        .map_err(ApiError::from)?;
    let ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.searched_user_id.clone())
        .collect();
    // The profiles and whether each blocked me, in one BatchGetItem.
    let mut wanted = Vec::with_capacity(ids.len() * 2);
    for id in &ids {
        wanted.push(keys::user(id));
        wanted.push(keys::block(id, auth.id()));
    }
    let mut found = if wanted.is_empty() {
        Default::default()
    } else {
        state.db.get_items(&wanted, false).await?
    };
    let mut users = std::collections::HashMap::with_capacity(ids.len());
    for id in &ids {
        if contains_key(&found, &keys::block(id, auth.id())) {
            continue;
        }
        if let Some(item) = take_item(&mut found, &keys::user(id)) {
            let user: UserRecord = serde_dynamo::from_item(item).map_err(ApiError::from)?;
            if user.is_active() {
                users.insert(id.clone(), user);
            }
        }
    }
    let mut entries = Vec::with_capacity(records.len());
    for record in &records {
        let summary = match record
            .searched_user_id
            .as_ref()
            .and_then(|id| users.get(id))
        {
            Some(user) => Some(UserSummary::from_record(user, &state.media).await),
            None => None,
        };
        // A searched account that has since been deleted or disabled, or that blocked me, drops
        // out of the history.
        if record.searched_user_id.is_some() && summary.is_none() {
            continue;
        }
        entries.push(entry_json(record, summary));
    }
    Ok(ok("Search history retrieved successfully", entries))
}

async fn remove(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(history_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state
        .db
        .delete_search_history(auth.id(), &history_id)
        .await?;
    Ok(done("Search history deleted successfully"))
}

async fn clear(State(state): State<AppState>, auth: AuthUser) -> ApiResult<impl IntoResponse> {
    state.db.clear_search_history(auth.id()).await?;
    Ok(done("All search history cleared successfully"))
}
