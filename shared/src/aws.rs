//! AWS SDK clients, built once per cold start. `AWS_ENDPOINT_URL` (honoured by aws-config)
//! points them at moto locally; nothing else knows the difference.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::retry::RetryPartition;

use crate::calls::CallRecorder;
use crate::config::Config;
use crate::db::conflicts::LostRaces;
use crate::metrics::DdbCallCounter;

/// Attempts per DynamoDB call (throttling, 5xx, lost transaction races), within the operation
/// timeout.
const DYNAMODB_MAX_ATTEMPTS: u32 = 4;

pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    #[cfg(feature = "ses")]
    pub ses: aws_sdk_ses::Client,
}

pub async fn load_sdk_config(config: &Config) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = &config.aws_endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_millis(config.aws_attempt_timeout_ms))
                .operation_timeout(Duration::from_millis(config.aws_operation_timeout_ms))
                .build(),
        )
        .load()
        .await
}

impl Clients {
    pub fn new(sdk: &SdkConfig, config: &Config) -> Self {
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(DdbCallCounter)
            .interceptor(CallRecorder {
                service: "dynamodb",
            })
            // A lost race (a transaction conflict) is retried, and soon: it is not an overload.
            .retry_classifier(LostRaces)
            // Its own retry quota (token bucket). By default every DynamoDB client of a process
            // shares one: in the test binary, the fault tests that throttle every call on
            // purpose drained it, and other apps' lost races then went unretried (a 503).
            .retry_partition(RetryPartition::custom("dynamodb").build())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(DYNAMODB_MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(20)),
            )
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(config.s3_force_path_style)
            .interceptor(CallRecorder { service: "s3" })
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            s3: aws_sdk_s3::Client::from_conf(s3),
            #[cfg(feature = "ses")]
            ses: aws_sdk_ses::Client::from_conf(
                aws_sdk_ses::config::Builder::from(sdk)
                    .interceptor(CallRecorder { service: "ses" })
                    .build(),
            ),
        }
    }
}

/// The `SecretString` of one Secrets Manager secret (name or ARN): 1 GetSecretValue, at
/// start-up only.
#[cfg(feature = "secrets")]
pub async fn secret_string(sdk: &SdkConfig, id: &str) -> Result<String, String> {
    let client = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(sdk)
            .interceptor(crate::calls::CallRecorder {
                service: "secretsmanager",
            })
            .build(),
    );
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|err| {
            format!(
                "{:?}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&err)
            )
        })?;
    out.secret_string
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| "the secret has no SecretString".to_string())
}

/// Without the `secrets` feature a function cannot read the secret: it is built for functions
/// that never see a token.
#[cfg(not(feature = "secrets"))]
pub async fn secret_string(_sdk: &SdkConfig, _id: &str) -> Result<String, String> {
    Err("this function is built without the secrets feature".into())
}
