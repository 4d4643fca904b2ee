//! The table's stream (NEW_AND_OLD_IMAGES), processed by the `fanout` function: the side effects
//! others see later (notifications, their pushes, mentions, timeline entries, what suggestions read) are derived here
//! from the item a request wrote, not inside the request. Lambda hands over `DynamoDBEvent` batches; the local
//! stack polls moto's stream and calls [`handle`] with the same JSON (`local/src/streams.rs`).
//!
//! Records are processed in shard order. The first one that fails is reported in
//! `batchItemFailures` (ReportBatchItemFailures) and the rest of the batch is left for the retry
//! that starts at it; every write is conditioned on the record's `eventID`, so a record
//! processed twice changes nothing twice.

pub mod messages;
pub mod notifications;
pub mod recent_images;
pub mod record;
pub mod suggestions;
pub mod timeline;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::state::AppState;
pub use record::{Change, ChangeKind};

/// Every rule of one record, in turn (each idempotent, so a retry after a later one failed
/// redoes nothing twice).
async fn apply(state: &AppState, change: &Change) -> crate::error::ApiResult<()> {
    // Boxed: the rules' nested futures otherwise overflow the compiler's layout depth.
    Box::pin(notifications::apply(state, change)).await?;
    Box::pin(recent_images::apply(state, change)).await?;
    Box::pin(suggestions::apply(state, change)).await?;
    Box::pin(timeline::apply(state, change)).await
}

/// Processes one batch in order; answers the first record that failed (and so the ones after it)
/// as the batch item failure Lambda retries from.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for raw in &event.records {
        let outcome = match Change::from_record(raw) {
            Ok(change) => apply(state, &change).await,
            Err(err) => Err(err),
        };
        if let Err(err) = outcome {
            tracing::error!(
                event_id = %raw.event_id,
                event_name = %raw.event_name,
                sequence = ?raw.change.sequence_number,
                error = %err,
                "stream record failed"
            );
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = raw.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}
