//! The validate Lambda function: tracing, configuration, then
//! [`durapipe_workflow::validate_handler`] for every invocation. Failures reach Lambda with a
//! stable `errorType` (`ValidationError`, `InvalidEvent`).

use durapipe_core::StageConfig;
use durapipe_workflow::lambda::{check_lambda_runtime, init_tracing, process_env};
use durapipe_workflow::validate_handler;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let config = StageConfig::from_lookup(process_env)?;
    check_lambda_runtime(process_env)?;
    tracing::info!(environment = %config.environment, "validate starting");
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        validate_handler(event.payload)
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
