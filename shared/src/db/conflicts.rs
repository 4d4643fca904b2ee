//! Writes that lost a race are retried by the SDK. DynamoDB cancels a transaction that touches
//! an item another transaction is changing (`TransactionCanceledException` with the reason
//! `TransactionConflict`), and refuses a single-item write to such an item
//! (`TransactionConflictException`); nothing was written in either case. Fifty people liking one
//! post at once is exactly that race, on the post's counter, and the SDK's own classifiers do not
//! retry it: this one marks it transient, so the standard strategy retries with jittered
//! backoff. A cancellation that also names a failed condition is an answer, not a race: it is
//! left to the caller.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_smithy_runtime_api::client::interceptors::context::{Error, InterceptorContext};
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

const CONFLICT_REASON: &str = "TransactionConflict";
const CONFLICT_CODE: &str = "TransactionConflictException";

#[derive(Debug, Default, Clone, Copy)]
pub struct LostRaces;

impl ClassifyRetry for LostRaces {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(error)) => match error.as_operation_error() {
                Some(error) if lost_a_race(error) => RetryAction::transient_error(),
                _ => RetryAction::NoActionIndicated,
            },
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "DynamoDB transaction conflicts"
    }
}

fn lost_a_race(error: &Error) -> bool {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        error.downcast_ref::<TransactWriteItemsError>()
    {
        return only_conflicts(cancelled.cancellation_reasons().iter().map(|r| r.code()));
    }
    error
        .downcast_ref::<UpdateItemError>()
        .map(|e| e.code())
        .or_else(|| error.downcast_ref::<PutItemError>().map(|e| e.code()))
        .or_else(|| error.downcast_ref::<DeleteItemError>().map(|e| e.code()))
        .flatten()
        == Some(CONFLICT_CODE)
}

/// At least one item conflicted and every other one was fine (`None`): running it again can
/// succeed. Any other reason (a failed condition, a validation error) is final.
fn only_conflicts<'a>(reasons: impl Iterator<Item = Option<&'a str>>) -> bool {
    let mut conflicted = false;
    for code in reasons {
        match code {
            Some(CONFLICT_REASON) => conflicted = true,
            None | Some("None") => {}
            Some(_) => return false,
        }
    }
    conflicted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pure_conflict_is_worth_running_again() {
        assert!(only_conflicts(
            [Some("None"), Some("TransactionConflict")].into_iter()
        ));
        assert!(only_conflicts(
            [None, Some("TransactionConflict")].into_iter()
        ));
        assert!(!only_conflicts(
            [Some("TransactionConflict"), Some("ConditionalCheckFailed")].into_iter()
        ));
        assert!(!only_conflicts([Some("None"), Some("None")].into_iter()));
        assert!(!only_conflicts(std::iter::empty()));
    }
}
