//! Refresh-token families. One item per signed-in device; the token rotates on every refresh and
//! the hashes it had before are kept so that a replayed one can be recognised.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::keys;
use super::users::UserRecord;
use super::{is_condition_failed, s, Db, Item};
use crate::error::{ApiError, ApiResult};

/// How many spent hashes a session remembers for reuse detection.
const SPENT_MEMORY: usize = 20;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub session_id: String,
    pub user_id: String,
    pub token_hash: String,
    #[serde(default)]
    pub spent_hashes: Vec<String>,
    /// The user's token version when the family began; a later bump ends the family.
    pub token_version: u64,
    pub created_at: String,
    pub expires_at: i64,
    pub ttl: i64,
}

pub enum Rotation {
    Rotated,
    /// Another refresh spent the same token first.
    LostRace,
}

impl Db {
    pub fn session_put(&self, session: &SessionRecord) -> ApiResult<TransactWriteItem> {
        let mut item: Item = serde_dynamo::to_item(session)?;
        item.extend(keys::session(&session.user_id, &session.session_id).to_item());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub async fn put_session(&self, session: &SessionRecord) -> ApiResult<()> {
        let mut item: Item = serde_dynamo::to_item(session)?;
        item.extend(keys::session(&session.user_id, &session.session_id).to_item());
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// The user and one of their sessions, in one round trip.
    pub async fn get_user_and_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> ApiResult<(Option<UserRecord>, Option<SessionRecord>)> {
        let keys = vec![
            keys::user(user_id).to_item(),
            keys::session(user_id, session_id).to_item(),
        ];
        let items = self.batch_get(keys, true).await?;
        let (mut user, mut session) = (None, None);
        for item in items {
            let is_profile = item
                .get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("PROFILE");
            if is_profile {
                user = Some(serde_dynamo::from_item(item)?);
            } else {
                session = Some(serde_dynamo::from_item(item)?);
            }
        }
        Ok((user, session))
    }

    /// Replaces the live token hash, only if it is still `old_hash`.
    pub async fn rotate_session(
        &self,
        session: &SessionRecord,
        new_hash: &str,
        expires_at: i64,
    ) -> ApiResult<Rotation> {
        let mut spent = session.spent_hashes.clone();
        spent.push(session.token_hash.clone());
        if spent.len() > SPENT_MEMORY {
            spent.drain(..spent.len() - SPENT_MEMORY);
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(
                keys::session(&session.user_id, &session.session_id).to_item(),
            ))
            .update_expression(
                "SET tokenHash = :new, spentHashes = :spent, expiresAt = :exp, #ttl = :exp",
            )
            .condition_expression("tokenHash = :old")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(&session.token_hash))
            .expression_attribute_values(
                ":spent",
                aws_sdk_dynamodb::types::AttributeValue::L(spent.into_iter().map(s).collect()),
            )
            .expression_attribute_values(":exp", super::n(expires_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Rotation::Rotated),
            Err(err) if is_condition_failed(&err) => Ok(Rotation::LostRace),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn delete_session(&self, user_id: &str, session_id: &str) -> ApiResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::session(user_id, session_id).to_item()))
            .send()
            .await
            .map_err(ApiError::from)?;
        Ok(())
    }
}
