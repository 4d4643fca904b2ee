//! One page of a list: a Query over a GSI1 partition or a prefix of a base-table partition,
//! newest first, answering both page/offset and cursor requests with a single Query call
//! (offset pages read only the small key attributes of the skipped items), plus a generic
//! BatchGetItem for hydration.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::keys::{self, Key};
use super::{s, Db, Item};
use crate::error::ApiResult;
use crate::pagination::{encode_cursor, PageRequest, Pagination, Start};

/// Where the items of a list live.
#[derive(Clone, Debug)]
pub enum ListSource {
    /// Every item whose `GSI1PK` is this value, ordered by `GSI1SK`.
    Gsi1(String),
    /// Items of the partition `pk` whose sort key starts with `sk_prefix`.
    Partition { pk: String, sk_prefix: String },
}

/// One page: the items in order and the pagination block for the answer.
pub struct Page {
    pub items: Vec<Item>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    pub request: PageRequest,
    /// How many items the whole list holds, when this read saw all of them: an offset page
    /// that reached the end (the skipped items included, even an offset past the end).
    total_read: Option<u64>,
}

impl Page {
    /// The list's exact size where no counter is kept: known only from an offset request
    /// that read to the end (never `offset + items`, which overstates an offset past the end).
    pub fn total_if_read_to_end(&self) -> Option<u64> {
        self.total_read
    }

    pub fn pagination(&self, total: Option<u64>) -> Pagination {
        Pagination::new(
            &self.request,
            total,
            self.has_more,
            self.next_cursor.clone(),
        )
    }
}

impl ListSource {
    /// The attributes that make up a `LastEvaluatedKey` for this source.
    fn key_attributes(&self) -> &'static [&'static str] {
        match self {
            Self::Gsi1(_) => &[keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK],
            Self::Partition { .. } => &[keys::PK, keys::SK],
        }
    }
}

impl ListSource {
    /// Whether a decoded cursor continues this list: exactly this source's key attributes, all
    /// strings, in this partition (and prefix). Anything else would reach DynamoDB as an invalid
    /// `ExclusiveStartKey`.
    pub fn owns_cursor(&self, key: &Item) -> bool {
        let names = self.key_attributes();
        if key.len() != names.len() || names.iter().any(|name| string_attr(key, name).is_none()) {
            return false;
        }
        match self {
            Self::Gsi1(pk) => string_attr(key, keys::GSI1PK) == Some(pk.as_str()),
            Self::Partition { pk, sk_prefix } => {
                string_attr(key, keys::PK) == Some(pk.as_str())
                    && string_attr(key, keys::SK).is_some_and(|sk| sk.starts_with(sk_prefix))
            }
        }
    }
}

/// The 400 for a cursor that belongs to another list.
pub fn foreign_cursor() -> crate::error::ApiError {
    crate::error::ApiError::invalid_field("cursor", "cursor is invalid")
}

/// Whether `key` is a cursor made only of these string attributes, with `attribute` equal to
/// `expected`.
pub fn cursor_matches(key: &Item, names: &[&str], attribute: &str, expected: &str) -> bool {
    key.len() == names.len()
        && names.iter().all(|name| string_attr(key, name).is_some())
        && string_attr(key, attribute) == Some(expected)
}

fn cursor_of(item: &Item, source: &ListSource) -> String {
    let key: Item = source
        .key_attributes()
        .iter()
        .filter_map(|name| item.get(*name).map(|v| (name.to_string(), v.clone())))
        .collect();
    encode_cursor(&key)
}

impl Db {
    /// One page of `source`, newest first when `newest_first`. `projection` limits the attributes
    /// read (the key attributes are always added so cursors can be built).
    pub async fn list_page(
        &self,
        source: &ListSource,
        page: &PageRequest,
        newest_first: bool,
        projection: Option<&[&str]>,
    ) -> ApiResult<Page> {
        let limit = page.limit as usize;
        let (skip, mut start_key) = match &page.start {
            Start::Offset(offset) => (*offset as usize, None),
            Start::After(key) if source.owns_cursor(key) => (0, Some(key.clone())),
            Start::After(_) => return Err(foreign_cursor()),
        };
        // One extra item tells whether another page exists.
        let wanted = skip + limit + 1;
        let mut items: Vec<Item> = Vec::with_capacity(wanted.min(256));
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .scan_index_forward(!newest_first)
                .limit(i32::try_from(wanted - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take());
            query = match source {
                ListSource::Gsi1(pk) => query
                    .index_name(keys::GSI1)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", keys::GSI1PK)
                    .expression_attribute_values(":pk", s(pk)),
                ListSource::Partition { pk, sk_prefix } => query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_names("#sk", keys::SK)
                    .expression_attribute_values(":pk", s(pk))
                    .expression_attribute_values(":prefix", s(sk_prefix)),
            };
            if let Some(attributes) = projection {
                let mut names: Vec<&str> = source.key_attributes().to_vec();
                names.extend(attributes.iter().copied());
                names.sort_unstable();
                names.dedup();
                let placeholders: Vec<String> =
                    (0..names.len()).map(|i| format!("#p{i}")).collect();
                for (placeholder, name) in placeholders.iter().zip(&names) {
                    query = query.expression_attribute_names(placeholder, *name);
                }
                query = query.projection_expression(placeholders.join(", "));
            }
            let out = query.send().await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if items.len() < wanted => start_key = Some(key),
                _ => break,
            }
        }
        let has_more = items.len() > skip + limit;
        let total_read = match page.start {
            Start::Offset(_) if !has_more => Some(items.len() as u64),
            _ => None,
        };
        let page_items: Vec<Item> = items.into_iter().skip(skip).take(limit).collect();
        let next_cursor = if has_more {
            page_items.last().map(|item| cursor_of(item, source))
        } else {
            None
        };
        Ok(Page {
            items: page_items,
            has_more,
            next_cursor,
            request: page.clone(),
            total_read,
        })
    }

    /// Many items by key in one BatchGetItem per 100 keys (unprocessed keys retried);
    /// answered by `(PK, SK)`. Missing items are simply absent.
    pub async fn get_items(
        &self,
        item_keys: &[Key],
        consistent: bool,
    ) -> ApiResult<HashMap<(String, String), Item>> {
        let mut unique: Vec<&Key> = item_keys.iter().collect();
        unique.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        unique.dedup();
        let mut found = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(100) {
            let mut pending: Vec<Item> = chunk.iter().map(|k| k.to_item()).collect();
            for _attempt in 0..5 {
                if pending.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(consistent)
                    .build()?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    if let (Some(pk), Some(sk)) =
                        (string_attr(&item, keys::PK), string_attr(&item, keys::SK))
                    {
                        found.insert((pk.to_string(), sk.to_string()), item);
                    }
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
        Ok(found)
    }
}

/// A string attribute of an item, if present.
pub fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.as_str()),
        _ => None,
    }
}

/// Whether a `get_items` answer holds the item with this key.
pub fn contains_key(found: &HashMap<(String, String), Item>, key: &Key) -> bool {
    found.contains_key(&(key.pk.clone(), key.sk.clone()))
}

/// Takes the item with this key out of a `get_items` answer.
pub fn take_item(found: &mut HashMap<(String, String), Item>, key: &Key) -> Option<Item> {
    found.remove(&(key.pk.clone(), key.sk.clone()))
}
