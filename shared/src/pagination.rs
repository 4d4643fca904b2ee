//! List paging: `page`/`limit`, `limit`/`offset`, and an opaque `cursor` (a DynamoDB
//! `LastEvaluatedKey`, base64url JSON) that pages in O(1).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::db::Item;
use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// The deepest page/offset a list serves; deeper pages use `cursor` (each list reads at most
/// `MAX_OFFSET + MAX_LIMIT + 1` keys for one page).
pub const MAX_OFFSET: u32 = 10_000;

/// Query-string paging parameters, as strings so a bad value is a named 400, not a rejection.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub limit: Option<String>,
    pub page: Option<String>,
    pub offset: Option<String>,
    pub cursor: Option<String>,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// Skip this many items (page/offset style).
    Offset(u32),
    /// Continue after this key (cursor style).
    After(Item),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub limit: u32,
    pub start: Start,
}

impl PageRequest {
    /// 1-based page number this request corresponds to, for offset-style answers.
    pub fn current_page(&self) -> u32 {
        match self.start {
            Start::Offset(offset) => offset / self.limit + 1,
            Start::After(_) => 0,
        }
    }
}

fn number(field: &str, raw: &Option<String>) -> ApiResult<Option<u32>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<u32>().map(Some).map_err(|_| {
            ApiError::invalid_field(field, format!("{field} must be a non-negative integer"))
        }),
    }
}

fn too_deep(field: &str) -> ApiError {
    ApiError::invalid_field(
        field,
        format!("{field} reaches past {MAX_OFFSET} items; use cursor (nextCursor) to page deeper"),
    )
}

impl ListQuery {
    pub fn page_request(&self) -> ApiResult<PageRequest> {
        self.page_request_with_default(DEFAULT_LIMIT)
    }

    pub fn page_request_with_default(&self, default_limit: u32) -> ApiResult<PageRequest> {
        let limit = match number("limit", &self.limit)? {
            None => default_limit,
            Some(0) => return Err(ApiError::invalid_field("limit", "limit must be at least 1")),
            Some(n) => n.min(MAX_LIMIT),
        };
        if let Some(cursor) = self.cursor.as_deref().filter(|c| !c.is_empty()) {
            return Ok(PageRequest {
                limit,
                start: Start::After(decode_cursor(cursor)?),
            });
        }
        let offset = match (number("page", &self.page)?, number("offset", &self.offset)?) {
            (_, Some(offset)) => offset,
            (Some(0), None) => {
                return Err(ApiError::invalid_field("page", "page must be at least 1"))
            }
            (Some(page), None) => match (page - 1).checked_mul(limit) {
                Some(offset) if offset <= MAX_OFFSET => offset,
                _ => return Err(too_deep("page")),
            },
            (None, None) => 0,
        };
        if offset > MAX_OFFSET {
            return Err(too_deep("offset"));
        }
        Ok(PageRequest {
            limit,
            start: Start::Offset(offset),
        })
    }
}

/// Serialises a `LastEvaluatedKey` (string and number attributes only: all our keys are).
pub fn encode_cursor(key: &Item) -> String {
    let map: HashMap<&str, Value> = key
        .iter()
        .filter_map(|(name, value)| match value {
            AttributeValue::S(s) => Some((name.as_str(), json!({ "S": s }))),
            AttributeValue::N(n) => Some((name.as_str(), json!({ "N": n }))),
            _ => None,
        })
        .collect();
    URL_SAFE_NO_PAD.encode(json!(map).to_string())
}

pub fn decode_cursor(cursor: &str) -> ApiResult<Item> {
    let invalid = || ApiError::invalid_field("cursor", "cursor is invalid");
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let map: HashMap<String, HashMap<String, String>> =
        serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if map.is_empty() || map.len() > 6 {
        return Err(invalid());
    }
    map.into_iter()
        .map(|(name, typed)| match typed.into_iter().next() {
            Some((t, v)) if t == "S" => Ok((name, AttributeValue::S(v))),
            Some((t, v)) if t == "N" && v.parse::<f64>().is_ok() => {
                Ok((name, AttributeValue::N(v)))
            }
            _ => Err(invalid()),
        })
        .collect()
}

/// The `pagination` object of a list answer.
#[derive(Debug, Clone)]
pub struct Pagination {
    pub current_page: u32,
    pub limit: u32,
    /// Items skipped before this page (page/offset requests); `None` for cursor requests.
    pub offset: Option<u32>,
    /// The list's true size where a counter keeps it; `None` (null) where none is kept.
    pub total: Option<u64>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

impl Pagination {
    pub fn new(
        request: &PageRequest,
        total: Option<u64>,
        has_more: bool,
        next_cursor: Option<String>,
    ) -> Self {
        Self {
            current_page: request.current_page(),
            limit: request.limit,
            offset: match request.start {
                Start::Offset(offset) => Some(offset),
                Start::After(_) => None,
            },
            total,
            has_more,
            next_cursor,
        }
    }

    /// `{"currentPage", "totalPages", "total<Items>", "hasMore", "nextCursor"}`; the totals are
    /// null where no count is kept.
    pub fn to_json(&self, total_field: &str) -> Value {
        let total_pages = self
            .total
            .map(|total| total.div_ceil(u64::from(self.limit.max(1))));
        let mut value = json!({
            "currentPage": self.current_page,
            "totalPages": total_pages,
            "hasMore": self.has_more,
            "nextCursor": self.next_cursor,
            "limit": self.limit,
        });
        value[total_field] = json!(self.total);
        value
    }

    /// A whole list answer: `{<items>: [...], "pagination": {...}}` and, flat beside them as
    /// clients of the live service read them, `hasMore`, `total`, `limit`, `offset`, `page`.
    pub fn list<T: serde::Serialize>(
        &self,
        items_field: &str,
        items: T,
        total_field: &str,
    ) -> Value {
        let mut value = json!({
            "pagination": self.to_json(total_field),
            "hasMore": self.has_more,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "page": self.offset.map(|_| self.current_page),
        });
        value[items_field] = json!(items);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(
        limit: Option<&str>,
        page: Option<&str>,
        offset: Option<&str>,
        cursor: Option<&str>,
    ) -> ListQuery {
        ListQuery {
            limit: limit.map(Into::into),
            page: page.map(Into::into),
            offset: offset.map(Into::into),
            cursor: cursor.map(Into::into),
        }
    }

    #[test]
    fn defaults_and_caps() {
        let req = query(None, None, None, None).page_request().expect("ok");
        assert_eq!(
            req,
            PageRequest {
                limit: 20,
                start: Start::Offset(0)
            }
        );
        let capped = query(Some("1000"), Some("3"), None, None)
            .page_request()
            .expect("ok");
        assert_eq!(
            capped,
            PageRequest {
                limit: 100,
                start: Start::Offset(200)
            }
        );
        assert_eq!(capped.current_page(), 3);
    }

    #[test]
    fn bad_numbers_name_their_field() {
        for (q, field) in [
            (query(Some("x"), None, None, None), "limit"),
            (query(Some("0"), None, None, None), "limit"),
            (query(None, Some("0"), None, None), "page"),
            (query(None, None, Some("-1"), None), "offset"),
        ] {
            match q.page_request() {
                Err(ApiError::BadRequest {
                    errors: Some(errors),
                    ..
                }) => assert!(errors.contains_key(field)),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn offsets_are_capped_and_name_the_cursor() {
        let deepest = query(None, None, Some("10000"), None)
            .page_request()
            .expect("ok");
        assert_eq!(deepest.start, Start::Offset(MAX_OFFSET));
        for (q, field) in [
            (query(None, None, Some("10001"), None), "offset"),
            (query(None, None, Some("4294967000"), None), "offset"),
            (query(Some("100"), Some("102"), None, None), "page"),
            (query(None, Some("4294967295"), None, None), "page"),
        ] {
            match q.page_request() {
                Err(ApiError::BadRequest {
                    message,
                    errors: Some(errors),
                }) => {
                    assert!(errors.contains_key(field), "{field}");
                    assert!(message.contains("cursor"), "{message}");
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let key: Item = [
            ("PK".to_string(), AttributeValue::S("USER#1".into())),
            ("n".to_string(), AttributeValue::N("42".into())),
        ]
        .into_iter()
        .collect();
        let cursor = encode_cursor(&key);
        assert_eq!(decode_cursor(&cursor).expect("decodes"), key);
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("{}")).is_err());
    }

    #[test]
    fn pagination_json_names_its_total() {
        let request = query(Some("20"), None, Some("20"), None)
            .page_request()
            .expect("ok");
        let p = Pagination::new(&request, Some(41), true, None);
        let json = p.to_json("totalPosts");
        assert_eq!(json["totalPosts"], 41);
        assert_eq!(json["totalPages"], 3);
        let list = p.list("posts", [1, 2], "totalPosts");
        assert_eq!(list["posts"], json!([1, 2]));
        assert_eq!(list["hasMore"], true);
        assert_eq!(list["total"], 41);
        assert_eq!(list["offset"], 20);
        assert_eq!(list["page"], 2);
        assert_eq!(list["pagination"]["hasMore"], true);
        let unknown = Pagination::new(&request, None, false, None).to_json("totalPosts");
        assert!(unknown["totalPosts"].is_null() && unknown["totalPages"].is_null());
    }
}
