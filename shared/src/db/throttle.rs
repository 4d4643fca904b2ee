//! Budgets: an atomic counter item per (subject, action, fixed window) with a TTL. One
//! conditional UpdateItem counts an event and refuses it past the limit in the same step, so
//! concurrent requests can never pass a budget together (the old read-check-write could).

use aws_sdk_dynamodb::types::{ReturnValue, Update};

use super::keys;
use super::{n, Db};
use crate::error::{ApiError, ApiResult};

/// The fixed window `now` falls in: its index and when it ends.
pub fn window_of(now: i64, window_secs: i64) -> (i64, i64) {
    let window_secs = window_secs.max(1);
    let index = now.div_euclid(window_secs);
    (index, index.saturating_add(1).saturating_mul(window_secs))
}

/// A spent budget: how long until its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub retry_after_secs: u64,
}

impl Exhausted {
    pub fn into_error(self, message: impl Into<String>) -> ApiError {
        ApiError::TooManyRequests {
            message: message.into(),
            retry_after_secs: self.retry_after_secs,
        }
    }
}

/// One event of a budget, to be counted inside another write's transaction (the event and the
/// count then happen together or not at all, in the caller's round trip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSpend {
    pub action: &'static str,
    pub subject: String,
    pub max: u32,
    pub window_secs: i64,
    pub now: i64,
}

impl BudgetSpend {
    /// The transaction's Update: the same counting and refusal as `Db::take_budget`.
    pub fn update(&self, table: &str) -> ApiResult<Update> {
        let (index, ends) = window_of(self.now, self.window_secs);
        Ok(Update::builder()
            .table_name(table)
            .set_key(Some(
                keys::budget(self.action, &self.subject, index).to_item(),
            ))
            .update_expression("ADD #count :one SET windowEnds = :ends, #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(self.max))
            .expression_attribute_values(":ends", n(ends))
            .expression_attribute_values(":ttl", n(ends.saturating_add(60)))
            .build()?)
    }

    /// What a refused spend answers: the time left in its window.
    pub fn exhausted(&self) -> Exhausted {
        let (_, ends) = window_of(self.now, self.window_secs);
        Exhausted {
            retry_after_secs: u64::try_from((ends - self.now).max(1)).unwrap_or(1),
        }
    }
}

impl Db {
    /// Counts one event of `action` by `subject` in the current window of `window_secs`:
    /// `Ok(count)` while at most `max` happened, `Err(Exhausted)` (nothing counted) once the
    /// window is full. 1 UpdateItem.
    pub async fn take_budget(
        &self,
        action: &str,
        subject: &str,
        max: u32,
        window_secs: i64,
        now: i64,
    ) -> ApiResult<Result<u32, Exhausted>> {
        let (index, ends) = window_of(now, window_secs);
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::budget(action, subject, index).to_item()))
            .update_expression("ADD #count :one SET windowEnds = :ends, #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":ends", n(ends))
            // Kept a little past the window so a late clock still finds it.
            .expression_attribute_values(":ttl", n(ends.saturating_add(60)))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match counted {
            Ok(out) => Ok(Ok(out
                .attributes
                .as_ref()
                .and_then(|a| a.get("count")?.as_n().ok()?.parse::<u32>().ok())
                .unwrap_or(1))),
            Err(err) if super::is_condition_failed(&err) => Ok(Err(Exhausted {
                retry_after_secs: u64::try_from((ends - now).max(1)).unwrap_or(1),
            })),
            Err(err) => Err(err.into()),
        }
    }

    /// Gives one event back (a login that turned out right). 1 UpdateItem, never below zero.
    pub async fn refund_budget(
        &self,
        action: &str,
        subject: &str,
        window_secs: i64,
        now: i64,
    ) -> ApiResult<()> {
        let (index, _) = window_of(now, window_secs);
        let refunded = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::budget(action, subject, index).to_item()))
            .update_expression("ADD #count :minus")
            .condition_expression("#count > :zero")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match refunded {
            Ok(_) => Ok(()),
            Err(err) if super::is_condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Forgets the current window of a budget (a successful login clears its account's
    /// failures). 1 DeleteItem.
    pub async fn clear_budget(
        &self,
        action: &str,
        subject: &str,
        window_secs: i64,
        now: i64,
    ) -> ApiResult<()> {
        let (index, _) = window_of(now, window_secs);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::budget(action, subject, index).to_item()))
            .send()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_end_after_now() {
        assert_eq!(window_of(0, 60), (0, 60));
        assert_eq!(window_of(59, 60), (0, 60));
        assert_eq!(window_of(60, 60), (1, 120));
        assert_eq!(window_of(-1, 60), (-1, 0));
        let (_, ends) = window_of(1_700_000_123, 900);
        assert!(ends > 1_700_000_123 && ends - 1_700_000_123 <= 900);
        // A zero window is a one-second window, not a division by zero.
        assert_eq!(window_of(5, 0), (5, 6));
    }
}
