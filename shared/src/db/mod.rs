//! The DynamoDB access layer: one module per entity, every key from `keys`.

pub mod audit;
pub mod blocks;
pub mod comments;
pub mod conflicts;
pub mod connections;
pub mod conversations;
pub mod directory;
pub mod feed;
pub mod follows;
pub mod identities;
pub mod keys;
pub mod likers;
pub mod listing;
pub mod messages;
pub mod notifications;
pub mod popular;
pub mod posts;
pub mod recent_follows;
pub mod recent_images;
pub mod reports;
pub mod search;
pub mod search_history;
pub mod sessions;
pub mod stories;
pub mod throttle;
pub mod timeline;
pub mod tokens;
pub mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use futures_util::stream::{self, StreamExt, TryStreamExt};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct Db {
    pub client: Client,
    pub table: String,
    /// The last day this process entered in the feed's day index (one write per day, not per post).
    feed_day_marked: Arc<Mutex<String>>,
}

/// BatchWriteItem calls in flight at once (a post's fan-out, a clean-up).
const WRITE_PARALLELISM: usize = 8;

impl Db {
    /// Deletes items by key (absent ones are no error), 25 per BatchWriteItem, in parallel.
    pub async fn delete_keys(&self, entries: &[keys::Key]) -> crate::error::ApiResult<()> {
        let requests = entries
            .iter()
            .map(|key| {
                aws_sdk_dynamodb::types::DeleteRequest::builder()
                    .set_key(Some(key.to_item()))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_all(requests).await
    }

    /// Every request, 25 per BatchWriteItem, `WRITE_PARALLELISM` calls at once; unprocessed
    /// items are retried with a growing pause, and an error is answered if some remain (the
    /// stream then retries the record).
    pub(crate) async fn write_all(
        &self,
        requests: Vec<WriteRequest>,
    ) -> crate::error::ApiResult<()> {
        let chunks: Vec<Vec<WriteRequest>> =
            requests.chunks(25).map(<[WriteRequest]>::to_vec).collect();
        stream::iter(chunks.into_iter().map(|chunk| self.write_chunk(chunk)))
            .buffer_unordered(WRITE_PARALLELISM)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn write_chunk(&self, mut pending: Vec<WriteRequest>) -> crate::error::ApiResult<()> {
        for attempt in 0..8u64 {
            if pending.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut pending))
                .send()
                .await?;
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
        }
        if pending.is_empty() {
            Ok(())
        } else {
            Err(crate::error::ApiError::Unavailable {
                detail: "batch write left unprocessed items".into(),
            })
        }
    }

    /// One item by key, strongly consistent, decoded into its record type.
    pub async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        key: &keys::Key,
    ) -> crate::error::ApiResult<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match out.item {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        })
    }

    /// BatchGetItem of any number of keys (chunks of 100, unprocessed keys retried). Items come back
    /// in no particular order; missing ones are absent.
    pub async fn batch_get(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> crate::error::ApiResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = chunk.to_vec();
            for _attempt in 0..5 {
                if pending.is_empty() {
                    break;
                }
                let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(consistent)
                    .build()?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
        Ok(found)
    }

    /// Runs a Query to its end, following `LastEvaluatedKey` (1 call per 1 MB page), and
    /// answers every item.
    pub async fn query_all(&self, query: QueryFluentBuilder) -> crate::error::ApiResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = query.clone().set_exclusive_start_key(start).send().await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }

    pub fn new(client: Client, table: String) -> Self {
        Self {
            client,
            table,
            feed_day_marked: Arc::default(),
        }
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Why each item of a cancelled transaction failed, in request order
/// (`Some("ConditionalCheckFailed")`, `Some("None")` for items that were fine).
/// `None` when the transaction failed for another reason.
pub fn cancellation_reasons<R>(err: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<String>> {
    match err {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => Some(
                cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_string())
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// True when the operation failed only because a condition expression did not hold.
pub fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(service)
        if service.err().code() == Some("ConditionalCheckFailedException"))
}

impl Db {
    /// One cheap read that proves the table answers (health checks).
    pub async fn ping(&self) -> crate::error::ApiResult<()> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::Key::health().to_item()))
            .send()
            .await?;
        Ok(())
    }
}
