//! The `fanout` function: DynamoDB Streams batches of the table in, batch item failures out.
//! The rules live in `shared::fanout` (the local stack's stream poller calls the same code).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use shared::AppState;

/// One invocation: the batch, in order; the first failed record (and so the rest) is reported.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    shared::fanout::handle(state, event).await
}
