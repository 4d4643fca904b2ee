//! Failed-login windows: after too many failures for one identifier, logins wait out the window.

use aws_sdk_dynamodb::types::ReturnValue;

use super::keys;
use super::{n, Db};
use crate::error::ApiResult;

#[derive(Debug, Clone, Copy)]
pub struct FailureWindow {
    pub failures: u32,
    pub window_ends: i64,
}

impl Db {
    pub async fn login_failures(
        &self,
        identifier: &str,
        now: i64,
    ) -> ApiResult<Option<FailureWindow>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::login_failures(identifier).to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.and_then(|item| {
            let number = |name: &str| item.get(name)?.as_n().ok()?.parse::<i64>().ok();
            let window = FailureWindow {
                failures: u32::try_from(number("failures")?).ok()?,
                window_ends: number("windowEnds")?,
            };
            // TTL deletes late: an old window is no window.
            (window.window_ends > now).then_some(window)
        }))
    }

    /// Counts a failure, opening a new window when the previous one has passed.
    pub async fn record_login_failure(
        &self,
        identifier: &str,
        now: i64,
        window_secs: i64,
    ) -> ApiResult<FailureWindow> {
        let key = keys::login_failures(identifier).to_item();
        let ends = now + window_secs;
        // One conditional update keeps counting in the live window; a second one starts afresh.
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .update_expression("ADD failures :one")
            .condition_expression("windowEnds > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let attributes = match counted {
            Ok(out) => out.attributes,
            Err(err) if super::is_condition_failed(&err) => {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .update_expression("SET failures = :one, windowEnds = :ends, #ttl = :ends")
                    .expression_attribute_names("#ttl", keys::TTL)
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":ends", n(ends))
                    .return_values(ReturnValue::AllNew)
                    .send()
                    .await?
                    .attributes
            }
            Err(err) => return Err(err.into()),
        };
        let number = |name: &str| {
            attributes
                .as_ref()
                .and_then(|a| a.get(name)?.as_n().ok()?.parse::<i64>().ok())
        };
        Ok(FailureWindow {
            failures: number("failures")
                .and_then(|f| u32::try_from(f).ok())
                .unwrap_or(1),
            window_ends: number("windowEnds").unwrap_or(ends),
        })
    }

    pub async fn clear_login_failures(&self, identifier: &str) -> ApiResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::login_failures(identifier).to_item()))
            .send()
            .await?;
        Ok(())
    }
}
