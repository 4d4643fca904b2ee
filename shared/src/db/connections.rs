//! Open WebSocket connections: `CONN#<connectionId>` / `CONN`, listed per user on GSI1
//! (`CONNS#<userId>`), so pushing to a user is one Query. Items expire after two hours (TTL), and
//! reads filter on the TTL too because DynamoDB deletes expired items late.

use super::keys;
use super::{n, s, Db};
use crate::error::ApiResult;

/// API Gateway closes WebSocket connections after two hours at most.
pub const CONNECTION_TTL_SECS: i64 = 2 * 3600;

impl Db {
    /// Records a connection for `user_id`. 1 PutItem.
    pub async fn put_connection(&self, connection_id: &str, user_id: &str) -> ApiResult<()> {
        let now = crate::time::now_epoch();
        let mut item = keys::connection(connection_id).to_item();
        item.insert("connectionId".into(), s(connection_id));
        item.insert("userId".into(), s(user_id));
        item.insert("connectedAt".into(), s(crate::time::now_rfc3339()));
        item.insert(keys::GSI1PK.into(), s(keys::connections_of(user_id)));
        item.insert(keys::GSI1SK.into(), s(connection_id));
        item.insert(keys::TTL.into(), n(now + CONNECTION_TTL_SECS));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// Forgets a connection (disconnect, or a push that met 410 Gone). 1 DeleteItem; idempotent.
    pub async fn delete_connection(&self, connection_id: &str) -> ApiResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::connection(connection_id).to_item()))
            .send()
            .await?;
        Ok(())
    }

    /// The user the connection belongs to, unless it is gone or expired. 1 GetItem.
    pub async fn connection_user(&self, connection_id: &str) -> ApiResult<Option<String>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::connection(connection_id).to_item()))
            .consistent_read(true)
            .send()
            .await?;
        let now = crate::time::now_epoch();
        Ok(out.item.and_then(|item| {
            let live = item
                .get(keys::TTL)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|ttl| ttl > now);
            if live {
                item.get("userId").and_then(|v| v.as_s().ok()).cloned()
            } else {
                None
            }
        }))
    }

    /// Every live connection id of a user. 1 Query on GSI1, expired items filtered out.
    pub async fn user_connections(&self, user_id: &str) -> ApiResult<Vec<String>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .filter_expression("#ttl > :now")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":pk", s(keys::connections_of(user_id)))
            .expression_attribute_values(":now", n(crate::time::now_epoch()));
        let items = self.query_all(query).await?;
        Ok(items
            .iter()
            .filter_map(|item| super::listing::string_attr(item, "connectionId"))
            .map(str::to_string)
            .collect())
    }
}
