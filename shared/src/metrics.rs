//! Counts DynamoDB operations per request. An SDK interceptor bumps a task-local counter that
//! the HTTP layer scopes around each request, so the count is exact even with requests in parallel.

use std::cell::Cell;
use std::future::Future;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;

tokio::task_local! {
    static DDB_CALLS: Cell<u32>;
}

/// Runs `fut` and returns how many DynamoDB operations it made along with its output.
pub async fn count_ddb_calls<F: Future>(fut: F) -> (u32, F::Output) {
    DDB_CALLS
        .scope(Cell::new(0), async move {
            let out = fut.await;
            (DDB_CALLS.with(Cell::get), out)
        })
        .await
}

/// Installed on the DynamoDB client: one count per operation (retries are not round trips we chose).
#[derive(Debug, Default)]
pub struct DdbCallCounter;

impl Intercept for DdbCallCounter {
    fn name(&self) -> &'static str {
        "DdbCallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Outside a counted scope (start-up, background work) there is nothing to count.
        let _ = DDB_CALLS.try_with(|calls| calls.set(calls.get() + 1));
        Ok(())
    }
}
