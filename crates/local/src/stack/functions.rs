//! The pipeline's four functions registered in-process on the local durable-execution service:
//! the very handlers the Lambda binaries run, configured through the same environment-variable
//! names (validated by the same code).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_durable_execution_sdk as durable;
use aws_lambda_events::event::sqs::SqsEvent;
use durapipe_core::{OrchestratorConfig, StoreConfig, SystemClock};
use durapipe_durable::{plain_fn, DurableFn, DurableService, FunctionError};
use durapipe_workflow::{
    orchestrate, sdk_options, store_handler, transform_handler, validate_handler, StageError,
};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument as _;

use super::names::ResourceNames;
use super::record_table::LocalRecordTable;
use super::StackError;

fn to_function_result<T: Serialize>(out: Result<T, StageError>) -> Result<Value, FunctionError> {
    match out {
        Ok(value) => serde_json::to_value(value)
            .map_err(|e| FunctionError::new("SerializationError", e.to_string())),
        Err(e) => Err(FunctionError::new(
            e.error_type().as_str(),
            e.full_message(),
        )),
    }
}

/// Registers validate, transform, store (plain) and the orchestrator (durable, its SDK client
/// pointed at `lambda_client`) on `service`.
pub fn register(
    service: &DurableService,
    resources: &ResourceNames,
    table: LocalRecordTable,
    lambda_client: aws_sdk_lambda::Client,
) -> Result<(), StackError> {
    let names = &resources.functions;
    let mut env = BTreeMap::new();
    env.insert("ENVIRONMENT", resources.environment.clone());
    env.insert("PROCESSED_DATA_TABLE", resources.table.clone());
    env.insert(
        "VALIDATION_FUNCTION_ARN",
        service.function_arn(&names.validate),
    );
    env.insert(
        "TRANSFORMATION_FUNCTION_ARN",
        service.function_arn(&names.transform),
    );
    env.insert("STORAGE_FUNCTION_ARN", service.function_arn(&names.store));
    let lookup = |name: &str| env.get(name).cloned();
    let store_config = Arc::new(StoreConfig::from_lookup(lookup)?);
    let orchestrator_config = Arc::new(OrchestratorConfig::from_lookup(lookup)?);

    // Each function's logs carry its name (`function`), as CloudWatch groups them per function.
    let span = |name: &str| tracing::info_span!("function", function = %name);
    let validate = names.validate.clone();
    service.register_plain(
        &names.validate,
        plain_fn(move |event| {
            async move { to_function_result(validate_handler(event).await) }
                .instrument(span(&validate))
        }),
    );
    let transform = names.transform.clone();
    service.register_plain(
        &names.transform,
        plain_fn(move |event| {
            async move { to_function_result(transform_handler(event, &SystemClock).await) }
                .instrument(span(&transform))
        }),
    );
    let table = Arc::new(table);
    let store = names.store.clone();
    service.register_plain(
        &names.store,
        plain_fn(move |event| {
            let (table, config) = (table.clone(), store_config.clone());
            async move {
                to_function_result(store_handler(event, &*table, &config, &SystemClock).await)
            }
            .instrument(span(&store))
        }),
    );
    let orchestrator_name = names.orchestrator.clone();
    let options = sdk_options(durable::Options::builder().lambda_client(lambda_client))
        .build()
        .map_err(|e| StackError::Start(format!("cannot configure the durable SDK: {e}").into()))?;
    let orchestrator = durable::wrap(
        move |event: SqsEvent, ctx| {
            orchestrate(event, ctx, orchestrator_config.clone())
                .instrument(span(&orchestrator_name))
        },
        options,
    );
    let orchestrator: DurableFn = Arc::new(move |event| orchestrator(event));
    service.register_durable(&names.orchestrator, orchestrator);
    Ok(())
}
