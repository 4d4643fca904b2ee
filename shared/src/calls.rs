//! Which AWS operations each function makes, recorded when `AWS_CALL_LOG` names a file, so a
//! test can hold them against the template's IAM policies (`tests/tests/api/iam.rs`). An SDK
//! interceptor on every client appends `<function>\t<service>:<operation>` once per distinct
//! pair. The function is the task-local name the local stack scopes around each function's
//! routes (and its stream and WebSocket handlers), or, in a function binary, the binary's name.
//! Without the variable nothing is recorded and the interceptor costs one check.

use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;

tokio::task_local! {
    static FUNCTION: &'static str;
}

/// Runs `fut` as the function `name` (whose IAM policy its AWS calls need).
pub async fn as_function<F: Future>(name: &'static str, fut: F) -> F::Output {
    FUNCTION.scope(name, fut).await
}

struct Log {
    path: String,
    seen: Mutex<HashSet<String>>,
}

fn log() -> Option<&'static Log> {
    static LOG: OnceLock<Option<Log>> = OnceLock::new();
    LOG.get_or_init(|| {
        std::env::var("AWS_CALL_LOG")
            .ok()
            .filter(|path| !path.trim().is_empty())
            .map(|path| Log {
                path,
                seen: Mutex::new(HashSet::new()),
            })
    })
    .as_ref()
}

/// The function a call outside any scope belongs to: the binary's own name (a Lambda's), or
/// `unattributed` (start-up and background work of the local stack).
fn default_function() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unattributed".into())
    })
}

/// Installed on every AWS client (`aws::Clients`, the realtime and secrets clients).
#[derive(Debug, Clone, Copy)]
pub struct CallRecorder {
    /// The IAM service prefix of the client's calls (`dynamodb`, `s3`, `ses`, ...).
    pub service: &'static str,
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "CallRecorder"
    }

    // Not `read_before_execution`: a client's interceptors see that hook before the operation's
    // configuration (its `Metadata`) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (Some(log), Some(metadata)) = (log(), cfg.load::<Metadata>()) else {
            return Ok(());
        };
        let function = FUNCTION
            .try_with(|name| *name)
            .unwrap_or_else(|_| default_function());
        let line = format!("{function}\t{}:{}\n", self.service, metadata.name());
        let fresh = log
            .seen
            .lock()
            .map(|mut seen| seen.insert(line.clone()))
            .unwrap_or(false);
        if fresh {
            // One short append per line: concurrent processes' lines do not interleave.
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log.path)
            {
                let _ = file.write_all(line.as_bytes());
            }
        }
        Ok(())
    }
}
