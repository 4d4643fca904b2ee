//! Block edges: `USER#<blocker>` / `BLOCK#<blocked>`. Every feature that lets one user reach
//! another (profiles, follows, comments, messages) asks `blocked_either_way` first.

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::keys;
use super::Db;
use crate::error::ApiResult;

impl Db {
    /// True when either user has blocked the other. 1 BatchGetItem.
    pub async fn blocked_either_way(&self, a: &str, b: &str) -> ApiResult<bool> {
        if a == b {
            return Ok(false);
        }
        let request = KeysAndAttributes::builder()
            .keys(keys::block(a, b).to_item())
            .keys(keys::block(b, a).to_item())
            .projection_expression("PK")
            .build()?;
        let out = self
            .client
            .batch_get_item()
            .request_items(&self.table, request)
            .send()
            .await?;
        Ok(out
            .responses
            .and_then(|mut r| r.remove(&self.table))
            .is_some_and(|items| !items.is_empty()))
    }
}
