//! Block edges: `USER#<blocker>` / `BLOCK#<blocked>`. Every feature that lets one user reach
//! another (profiles, follows, comments, messages) asks `blocked_either_way` first.

use super::keys;
use super::Db;
use crate::error::ApiResult;

impl Db {
    /// True when either user has blocked the other. 1 BatchGetItem.
    pub async fn blocked_either_way(&self, a: &str, b: &str) -> ApiResult<bool> {
        if a == b {
            return Ok(false);
        }
        let keys = vec![keys::block(a, b).to_item(), keys::block(b, a).to_item()];
        Ok(!self.batch_get(keys, false).await?.is_empty())
    }
}
