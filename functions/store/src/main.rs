//! The store Lambda function: tracing, configuration, the DynamoDB adapter, then
//! [`durapipe_workflow::store_handler`] for every invocation. Failures reach Lambda with a
//! stable `errorType` (`StorageThrottled`, `StorageUnavailable`, `StorageError`,
//! `InvalidEvent`).

use durapipe_aws::DynamoRecordTable;
use durapipe_core::{StoreConfig, SystemClock};
use durapipe_workflow::lambda::{check_lambda_runtime, init_tracing, process_env};
use durapipe_workflow::store_handler;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let config = StoreConfig::from_lookup(process_env)?;
    check_lambda_runtime(process_env)?;
    let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = DynamoRecordTable::new(
        aws_sdk_dynamodb::Client::new(&sdk_config),
        config.table.as_str(),
    );
    tracing::info!(environment = %config.environment, table = %config.table.as_str(), "store starting");
    let (table, config) = (&table, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        store_handler(event.payload, table, config, &SystemClock).await
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
