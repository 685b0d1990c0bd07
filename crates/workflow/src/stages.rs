//! The three stage handlers (validate, transform, store) and their input/output shapes.
//!
//! Each handler takes the raw JSON event, parses it with `serde_path_to_error` (a bad input is a
//! [`StageError::InvalidEvent`] naming the JSON path), and returns a typed output that serializes
//! to the next stage's input pieces. The Lambda functions and the local stack call these same
//! functions.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use durapipe_core::{
    transform, Clock, ExecutionId, PutOutcome, RecordTable, StoreConfig, StoredItem,
    TransformOutput, ValidMessage,
};

use crate::error::StageError;

/// Input of `validate`: the SQS message id and its raw body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateInput {
    /// The SQS message id.
    pub message_id: String,
    /// The SQS message body, unparsed.
    pub body: String,
}

/// Output of `validate`: the message, parsed and validated (serialized as the original body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateOutput {
    /// The SQS message id.
    pub message_id: String,
    /// The validated body.
    pub message: ValidMessage,
}

/// Input of `transform`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformInput {
    /// The SQS message id.
    pub message_id: String,
    /// `{ENVIRONMENT}-esm-{messageId}`, computed by the orchestrator.
    pub execution_id: ExecutionId,
    /// The validated body (validated again when parsed).
    pub message: ValidMessage,
}

/// Input of `store`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    /// The SQS message id.
    pub message_id: String,
    /// The orchestrator execution storing the item.
    pub durable_execution_arn: String,
    /// The validated body (validated again when parsed).
    pub message: ValidMessage,
    /// The transform output; its `execution_id` must be `{ENVIRONMENT}-esm-{message_id}` in the
    /// store function's environment.
    pub transformed: TransformOutput,
}

/// Output of `store`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreOutput {
    /// The item's key.
    pub execution_id: String,
    /// `inserted`, or `duplicate` when the item was already stored (a redelivery: success).
    pub outcome: PutOutcome,
}

fn parse<T: DeserializeOwned>(stage: &'static str, event: Value) -> Result<T, StageError> {
    serde_path_to_error::deserialize(event).map_err(|e| StageError::invalid_event(stage, e))
}

/// The validate stage: parses and validates the body.
///
/// # Errors
/// [`StageError::Validation`] for an invalid body, [`StageError::InvalidEvent`] for an input
/// that is not a [`ValidateInput`].
pub async fn validate_handler(event: Value) -> Result<ValidateOutput, StageError> {
    let input: ValidateInput = parse("validate", event)?;
    let message = durapipe_core::validate(&input.body)?;
    Ok(ValidateOutput {
        message_id: input.message_id,
        message,
    })
}

/// The transform stage: upper-cases `data_source`, stamps `processed_at` from `clock`.
///
/// # Errors
/// [`StageError::InvalidEvent`] for an input that is not a [`TransformInput`] (including a
/// `message` that fails validation).
pub async fn transform_handler(
    event: Value,
    clock: &impl Clock,
) -> Result<TransformOutput, StageError> {
    let input: TransformInput = parse("transform", event)?;
    Ok(transform(&input.message, &input.execution_id, clock.now()))
}

/// The store stage: writes the item with a conditional put; a duplicate is a success.
///
/// # Errors
/// [`StageError::InvalidEvent`] / [`StageError::InconsistentInput`] for a bad input,
/// [`StageError::Storage`] when the table fails (transient or permanent, by kind).
pub async fn store_handler(
    event: Value,
    table: &impl RecordTable,
    config: &StoreConfig,
    clock: &impl Clock,
) -> Result<StoreOutput, StageError> {
    let input: StoreInput = parse("store", event)?;
    let execution_id = ExecutionId::new(config.environment.as_str(), &input.message_id);
    if input.transformed.execution_id != execution_id.as_str() {
        return Err(StageError::InconsistentInput {
            stage: "store",
            reason: format!(
                "transformed.execution_id is {:?}, expected {:?}",
                input.transformed.execution_id,
                execution_id.as_str()
            ),
        });
    }
    let item = StoredItem::new(
        &execution_id,
        &input.message_id,
        &input.message,
        &input.transformed,
        clock.now(),
        &input.durable_execution_arn,
    );
    let outcome = table.put_if_absent(&item).await?;
    tracing::info!(execution_id = %execution_id, ?outcome, "stored");
    Ok(StoreOutput {
        execution_id: execution_id.as_str().to_owned(),
        outcome,
    })
}
