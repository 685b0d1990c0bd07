//! The orchestrator Lambda durable function: tracing, configuration, then
//! [`durapipe_workflow::orchestrate`] under the durable SDK's runtime for every invocation.

use std::sync::Arc;

use durapipe_core::OrchestratorConfig;
use durapipe_workflow::lambda::{check_lambda_runtime, init_tracing, process_env};
use durapipe_workflow::{orchestrate, sdk_options};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let config = Arc::new(OrchestratorConfig::from_lookup(process_env)?);
    check_lambda_runtime(process_env)?;
    tracing::info!(
        environment = %config.environment,
        validate = %config.validate_function,
        transform = %config.transform_function,
        store = %config.store_function,
        "orchestrator starting"
    );
    let options = sdk_options(aws_durable_execution_sdk::Options::builder()).build()?;
    aws_durable_execution_sdk::run_with_options(
        move |event, ctx| orchestrate(event, ctx, Arc::clone(&config)),
        options,
    )
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
