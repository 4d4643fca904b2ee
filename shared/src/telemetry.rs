//! Structured logs: JSON in Lambda (CloudWatch), readable text locally.
//!
//! `RUST_LOG` takes a level (`info`) or `target=level` pairs (`info,shared=debug`): a
//! `tracing_subscriber::filter::Targets` filter, which needs no regex engine in every binary
//! (EnvFilter's span and field directives are not supported).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| value.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

pub fn init() {
    let in_lambda = std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok();
    let registry = tracing_subscriber::registry().with(filter());
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = if in_lambda {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .without_time()
                    .with_target(false),
            )
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_target(false))
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_takes_levels_and_targets() {
        let parsed: Targets = "warn,shared=debug".parse().unwrap_or_default();
        assert!(parsed.would_enable("shared::db", &tracing::Level::DEBUG));
        assert!(!parsed.would_enable("hyper", &tracing::Level::INFO));
    }
}
