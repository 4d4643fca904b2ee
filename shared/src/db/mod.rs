//! The DynamoDB access layer: one module per entity, every key from `keys`.

pub mod blocks;
pub mod connections;
pub mod conversations;
pub mod keys;
pub mod messages;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::result::SdkError;

pub type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct Db {
    pub client: Client,
    pub table: String,
}

impl Db {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
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
