//! Emailed single-use secrets: the verification link + 6-digit code, and the password-reset link.
//! Only HMACs of the secrets are stored; consuming one deletes it in the same transaction as its effect.

use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::keys::{self, EmailPurpose};
use super::{is_condition_failed, n, s, Db, Item};
use crate::error::ApiResult;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailTokenRecord {
    pub user_id: String,
    pub purpose: String,
    pub link_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    pub sent_at: i64,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Db {
    pub fn email_token_put(
        &self,
        token: &EmailTokenRecord,
        purpose: EmailPurpose,
    ) -> ApiResult<TransactWriteItem> {
        let mut item: Item = serde_dynamo::to_item(token)?;
        item.extend(keys::email_token(&token.user_id, purpose).to_item());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub async fn get_email_token(
        &self,
        user_id: &str,
        purpose: EmailPurpose,
    ) -> ApiResult<Option<EmailTokenRecord>> {
        self.get_record(&keys::email_token(user_id, purpose)).await
    }

    /// Deletes the token only if `hash_attr` still holds `hash` and it has not expired: the
    /// single-use guard, for use in a transaction with the token's effect.
    pub fn email_token_consume(
        &self,
        user_id: &str,
        purpose: EmailPurpose,
        hash_attr: &str,
        hash: &str,
        now: i64,
    ) -> ApiResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keys::email_token(user_id, purpose).to_item()))
            .condition_expression("#h = :h AND expiresAt > :now")
            .expression_attribute_names("#h", hash_attr)
            .expression_attribute_values(":h", s(hash))
            .expression_attribute_values(":now", n(now))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Counts one code attempt, refusing once `max_attempts` is reached or the code expired.
    /// Returns the token as it is after the count, or `None` when no attempt is allowed.
    pub async fn count_code_attempt(
        &self,
        user_id: &str,
        max_attempts: u32,
        now: i64,
    ) -> ApiResult<Option<EmailTokenRecord>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::email_token(user_id, EmailPurpose::Verify).to_item()))
            .update_expression("ADD attempts :one")
            .condition_expression(
                "attribute_exists(PK) AND expiresAt > :now AND (attribute_not_exists(attempts) OR attempts < :max)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(max_attempts))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(match out.attributes {
                Some(item) => Some(serde_dynamo::from_item(item)?),
                None => None,
            }),
            Err(err) if is_condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}
