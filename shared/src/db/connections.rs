//! Open WebSocket connections: `CONN#<connectionId>` / `CONN`, listed per user on GSI1
//! (`CONNS#<userId>`), so pushing to a user is one Query. Items expire after two hours (TTL), and
//! reads filter on the TTL too because DynamoDB deletes expired items late.

use super::keys;

/// Who a connection belongs to and the access token it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionSession {
    pub user_id: String,
    pub token_version: u64,
    pub token_expires_at: i64,
}
use super::{n, s, Db};
use crate::error::ApiResult;

/// API Gateway closes WebSocket connections after two hours at most.
pub const CONNECTION_TTL_SECS: i64 = 2 * 3600;

impl Db {
    /// Records a connection for `user_id`, opened with an access token of `token_version` that
    /// expires at `token_expires_at`. 1 PutItem. GSI1SK is a fresh ULID, so the user's
    /// connections list oldest first.
    pub async fn put_connection(
        &self,
        connection_id: &str,
        user_id: &str,
        token_version: u64,
        token_expires_at: i64,
    ) -> ApiResult<()> {
        let now = crate::time::now_epoch();
        let mut item = keys::connection(connection_id).to_item();
        item.insert("connectionId".into(), s(connection_id));
        item.insert("userId".into(), s(user_id));
        item.insert("tokenVersion".into(), n(token_version));
        item.insert("tokenExpiresAt".into(), n(token_expires_at));
        item.insert("connectedAt".into(), s(crate::time::now_rfc3339()));
        item.insert(keys::GSI1PK.into(), s(keys::connections_of(user_id)));
        item.insert(keys::GSI1SK.into(), s(ulid::Ulid::new().to_string()));
        item.insert(keys::TTL.into(), n(now + CONNECTION_TTL_SECS));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// A re-authenticated connection carries the new token's version and expiry. `false` when
    /// the connection is gone. 1 UpdateItem.
    pub async fn reauthenticate_connection(
        &self,
        connection_id: &str,
        token_version: u64,
        token_expires_at: i64,
    ) -> ApiResult<bool> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::connection(connection_id).to_item()))
            .update_expression("SET tokenVersion = :version, tokenExpiresAt = :expires")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":version", n(token_version))
            .expression_attribute_values(":expires", n(token_expires_at))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(err) if super::is_condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// The connection's owner and the token it was (re-)authenticated with, unless it is gone
    /// or expired. 1 GetItem.
    pub async fn connection_session(
        &self,
        connection_id: &str,
    ) -> ApiResult<Option<ConnectionSession>> {
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
            let number = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
            };
            if number(keys::TTL).is_none_or(|ttl| ttl <= now) {
                return None;
            }
            Some(ConnectionSession {
                user_id: item.get("userId")?.as_s().ok()?.clone(),
                token_version: number("tokenVersion")
                    .and_then(|v| u64::try_from(v).ok())
                    .unwrap_or_default(),
                // A record without it (from before tokens were tracked) counts as expired.
                token_expires_at: number("tokenExpiresAt").unwrap_or_default(),
            })
        }))
    }

    /// The user's live connections, oldest first, with their tokens' expiries. 1 Query on GSI1.
    pub async fn user_connection_expiries(&self, user_id: &str) -> ApiResult<Vec<(String, i64)>> {
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
            .expression_attribute_values(":now", n(crate::time::now_epoch()))
            .scan_index_forward(true);
        let items = self.query_all(query).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let id = super::listing::string_attr(item, "connectionId")?.to_string();
                let expires = item
                    .get("tokenExpiresAt")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or_default();
                Some((id, expires))
            })
            .collect())
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
