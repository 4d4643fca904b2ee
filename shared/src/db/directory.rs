//! The admin user directory: pages of user ids from the state partitions of GSI2 (or the role
//! partitions of GSI3), merged in `createdAt` order, with filters DynamoDB applies to the
//! projected `role`, `permissions`, `adminState`. Never a Scan: every read is a Query of one
//! partition, bounded in pages.

use aws_sdk_dynamodb::types::{AttributeValue, Select};

use super::keys;
use super::{s, Db, Item};
use crate::error::ApiResult;

/// Index pages read per partition for one answer, and for one count.
const MAX_PAGES: usize = 20;
const MAX_COUNT_PAGES: usize = 200;

/// Which index partitions to read and what DynamoDB filters out.
#[derive(Clone, Debug, Default)]
pub struct DirectorySource {
    pub index: &'static str,
    pub partitions: Vec<String>,
    /// A filter expression over the projected attributes, with its names and values.
    pub filter: Option<String>,
    pub names: Vec<(String, String)>,
    pub values: Vec<(String, AttributeValue)>,
}

impl DirectorySource {
    fn key_names(&self) -> (&'static str, &'static str) {
        if self.index == keys::GSI3 {
            (keys::GSI3PK, keys::GSI3SK)
        } else {
            (keys::GSI2PK, keys::GSI2SK)
        }
    }
}

/// Where a page starts: after a sort key (cursor), or after skipping entries.
#[derive(Clone, Debug)]
pub struct DirectoryPage {
    pub newest_first: bool,
    pub after: Option<String>,
    pub skip: usize,
    pub limit: usize,
}

/// One entry: its sort key (`createdAt#id`) and user id.
pub type DirectoryEntry = (String, String);

fn entry_of(item: &Item, sort_attr: &str) -> Option<DirectoryEntry> {
    let sort = item.get(sort_attr)?.as_s().ok()?;
    let user_id = item.get(keys::PK)?.as_s().ok()?.strip_prefix("USER#")?;
    Some((sort.clone(), user_id.to_string()))
}

impl Db {
    fn directory_query(
        &self,
        source: &DirectorySource,
        partition: &str,
        page: &DirectoryPage,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (pk, sk) = source.key_names();
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(source.index)
            .expression_attribute_names("#dpk", pk)
            .expression_attribute_values(":dpk", s(partition))
            .scan_index_forward(!page.newest_first);
        query = match &page.after {
            Some(after) => query
                .key_condition_expression(if page.newest_first {
                    "#dpk = :dpk AND #dsk < :after"
                } else {
                    "#dpk = :dpk AND #dsk > :after"
                })
                .expression_attribute_names("#dsk", sk)
                .expression_attribute_values(":after", s(after)),
            None => query.key_condition_expression("#dpk = :dpk"),
        };
        if let Some(filter) = &source.filter {
            query = query.filter_expression(filter);
            for (name, value) in &source.names {
                query = query.expression_attribute_names(name, value);
            }
            for (name, value) in &source.values {
                query = query.expression_attribute_values(name, value.clone());
            }
        }
        query
    }

    /// A page of user ids in `createdAt` order across the source's partitions, and whether
    /// more follow. Each partition reads at most `skip + limit + 1` matches (bounded pages).
    pub async fn directory_page(
        &self,
        source: &DirectorySource,
        page: &DirectoryPage,
    ) -> ApiResult<(Vec<DirectoryEntry>, bool)> {
        let (_, sort_attr) = source.key_names();
        let wanted = page.skip + page.limit + 1;
        let reads = source.partitions.iter().map(|partition| async move {
            let mut entries: Vec<DirectoryEntry> = Vec::new();
            let mut start: Option<Item> = None;
            let mut truncated = false;
            for round in 0..MAX_PAGES {
                let out = self
                    .directory_query(source, partition, page)
                    .limit(i32::try_from(wanted.min(1000)).unwrap_or(1000))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await?;
                entries.extend(
                    out.items
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|item| entry_of(item, sort_attr)),
                );
                match out.last_evaluated_key {
                    Some(key) if entries.len() < wanted => {
                        start = Some(key);
                        truncated = round + 1 == MAX_PAGES;
                    }
                    Some(_) => break,
                    None => break,
                }
            }
            Ok::<_, crate::error::ApiError>((entries, truncated))
        });
        let mut merged: Vec<DirectoryEntry> = Vec::new();
        let mut truncated = false;
        for result in futures_util::future::join_all(reads).await {
            let (entries, cut) = result?;
            truncated |= cut;
            merged.extend(entries);
        }
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        if page.newest_first {
            merged.reverse();
        }
        let has_more = truncated || merged.len() > page.skip + page.limit;
        let entries = merged
            .into_iter()
            .skip(page.skip)
            .take(page.limit)
            .collect();
        Ok((entries, has_more))
    }

    /// How many users the source holds (its filter applied): `Select COUNT` Queries, at most
    /// `MAX_COUNT_PAGES` index pages of 1 MB per partition.
    pub async fn directory_count(&self, source: &DirectorySource) -> ApiResult<u64> {
        let unbounded = DirectoryPage {
            newest_first: false,
            after: None,
            skip: 0,
            limit: 0,
        };
        let counts = source.partitions.iter().map(|partition| {
            let unbounded = &unbounded;
            async move {
                let mut total: u64 = 0;
                let mut start: Option<Item> = None;
                for _ in 0..MAX_COUNT_PAGES {
                    let out = self
                        .directory_query(source, partition, unbounded)
                        .select(Select::Count)
                        .set_exclusive_start_key(start.take())
                        .send()
                        .await?;
                    total += u64::try_from(out.count).unwrap_or_default();
                    match out.last_evaluated_key {
                        Some(key) => start = Some(key),
                        None => break,
                    }
                }
                Ok::<_, crate::error::ApiError>(total)
            }
        });
        let mut total = 0;
        for count in futures_util::future::join_all(counts).await {
            total += count?;
        }
        Ok(total)
    }
}
