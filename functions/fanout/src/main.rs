use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};
use shared::AppState;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let state = AppState::from_env().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let state = state.clone();
        async move { Ok::<_, lambda_runtime::Error>(fanout::handle(&state, event.payload).await) }
    }))
    .await
}
