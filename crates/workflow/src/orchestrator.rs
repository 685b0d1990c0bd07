//! The orchestrator: a durable function that runs each SQS record through validate → transform →
//! store with chained invokes, and reports the records that failed.
//!
//! Operations, per record (`{id}` is the SQS message id), in the default [`RecordLayout::Flat`]:
//!
//! ```text
//! map "records"                              the records run concurrently
//! ├─ invoke "validate-{id}"                  VALIDATION_FUNCTION_ARN
//! ├─ invoke "transform-{id}"                 TRANSFORMATION_FUNCTION_ARN
//! └─ invoke "store-{id}"                     STORAGE_FUNCTION_ARN
//! ```
//!
//! Each record runs in a virtual child context of the map (the SDK's flat nesting): its
//! invokes are the map's children, and the map's result lists every record's outcome. The
//! layout of earlier releases, [`RecordLayout::ContextPerRecord`], had a child context
//! `record-{id}` between the map and the invokes; it cost two more operations per record, and
//! the SDK checkpoints each record's context start before it starts the next record, one
//! checkpoint call (and one commit) each. Operation ids are the same in both layouts, so an
//! execution started under the old layout finishes under the new one (its record contexts stay
//! STARTED in its history).
//!
//! A stage that fails with a transient error type is retried in place (see [`retry_transient`]):
//! a durable wait `retry-delay-{stage}-{id}-N`, then the invoke again as `{stage}-{id}-attempt-N`.
//! The happy path is one operation per stage: each operation costs checkpoints, history events
//! and replay work on every later invocation of the execution, so none is spent on wrappers.
//!
//! Determinism: the operations created depend only on the event (records in event order) and on
//! recorded results; retry decisions depend only on the recorded error type, the attempt number
//! and the stage/message id (seeded jitter, see [`RetryPolicy`]); no clock, randomness or I/O
//! outside the invoked functions.
//!
//! A record with a missing or empty `messageId` cannot be named in `batchItemFailures` (AWS
//! treats an empty `itemIdentifier` as a failure of the whole batch), so such an event fails the
//! whole execution up front, before any operation: every message of the batch returns to the
//! queue. SQS never produces such a record; it guards against hand-made events.

use std::error::Error;
use std::sync::Arc;

use aws_durable_execution_sdk::builders::map_parallel::{
    BatchItem, BatchItemStatus, CompletionConfig, NestingMode,
};
use aws_durable_execution_sdk::{
    BoxError, DurableContext, OperationError, ReplayedFailure, TypedError,
};
use aws_lambda_events::event::sqs::SqsEvent;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use durapipe_core::{
    ErrorType, ExecutionId, FunctionRef, OrchestratorConfig, PutOutcome, RetryPolicy,
    TransformOutput,
};

use crate::stages::{StoreInput, StoreOutput, TransformInput, ValidateInput, ValidateOutput};

/// The orchestrator's response: the partial batch response of `ReportBatchItemFailures`.
///
/// Serializes exactly as `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchResponse {
    /// The records that failed, in event order.
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One failed record of a [`BatchResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchItemFailure {
    /// The SQS message id.
    pub item_identifier: String,
}

/// The recorded result of one record that went through all three stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOutcome {
    /// The stored item's key.
    pub execution_id: String,
    /// Whether the item was inserted or already there.
    pub outcome: PutOutcome,
}

/// What became of one record, as the map records it: stored, or failed in a stage (it goes
/// back to the queue). A stage failure is a value, not an error: a flat record's body runs again
/// on every replay, and an error would make the SDK capture and format a backtrace each time.
/// Untagged, so the results of earlier releases' record contexts (a bare [`RecordOutcome`])
/// read back as `Stored`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordResult {
    /// The record went through all three stages.
    Stored(RecordOutcome),
    /// A stage failed (after the retries its error type allows).
    Failed(RecordFailure),
}

/// A record's stage failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordFailure {
    /// The most specific recorded error type, e.g. `ValidationError`.
    pub error_type: String,
    /// The error and its causes.
    pub error_message: String,
}

/// The event cannot be processed at all: a record has no `messageId`.
#[derive(Debug, thiserror::Error)]
#[error("record {index} of the SQS event has no messageId; the whole batch fails")]
#[non_exhaustive]
pub struct InvalidEvent {
    /// The record's position in the event.
    pub index: usize,
}

/// The pipeline's three stages, as invoked by the orchestrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Checks the message (permanent failures name the field).
    Validate,
    /// Upper-cases `data_source` and stamps `processed_at`.
    Transform,
    /// Writes the record to the table, once per execution id.
    Store,
}

impl Stage {
    /// The stage's name, as used in operation names.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Transform => "transform",
            Self::Store => "store",
        }
    }

    /// The name of the stage's invoke for a message: `{stage}-{messageId}`.
    #[must_use]
    pub fn invoke_name(self, message_id: &str) -> String {
        format!("{}-{message_id}", self.as_str())
    }
}

/// How a batch's records appear among the execution's operations (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordLayout {
    /// The records' invokes directly below the `records` map (the SDK's flat nesting).
    #[default]
    Flat,
    /// One child context `record-{id}` per record, the invokes below it (releases up to
    /// 2026-12-03).
    ContextPerRecord,
}

impl RecordLayout {
    const fn nesting(self) -> NestingMode {
        match self {
            Self::Flat => NestingMode::Flat,
            Self::ContextPerRecord => NestingMode::Normal,
        }
    }
}

#[derive(Debug, Clone)]
struct Record {
    message_id: String,
    body: String,
}

/// The SDK options the orchestrator runs with, in both homes (AWS and the local stack):
/// checkpoint batching, so the concurrent records of a batch share checkpoint calls instead of
/// making one each (the SDK never delays a checkpoint for it; ordering and replay are unchanged).
pub fn sdk_options(
    builder: aws_durable_execution_sdk::OptionsBuilder,
) -> aws_durable_execution_sdk::OptionsBuilder {
    builder.checkpoint_batching(true)
}

/// The orchestrator's handler, with the default [`RetryPolicy`].
///
/// # Errors
/// [`InvalidEvent`] (recorded with error type `InvalidEvent`) when a record has no `messageId`;
/// SDK errors that end the execution
/// (checkpoint failures, non-determinism). A failed record is not an error: it is listed in
/// the [`BatchResponse`].
pub async fn orchestrate(
    event: SqsEvent,
    ctx: DurableContext,
    config: Arc<OrchestratorConfig>,
) -> Result<BatchResponse, BoxError> {
    orchestrate_with(
        event,
        ctx,
        config,
        RetryPolicy::default(),
        RecordLayout::default(),
    )
    .await
}

/// [`orchestrate`] with an explicit retry policy and record layout.
///
/// # Errors
/// As [`orchestrate`].
pub async fn orchestrate_with(
    event: SqsEvent,
    ctx: DurableContext,
    config: Arc<OrchestratorConfig>,
    policy: RetryPolicy,
    layout: RecordLayout,
) -> Result<BatchResponse, BoxError> {
    let mut records = Vec::with_capacity(event.records.len());
    for (index, message) in event.records.into_iter().enumerate() {
        match message.message_id {
            Some(message_id) if !message_id.is_empty() => records.push(Record {
                message_id,
                body: message.body.unwrap_or_default(),
            }),
            _ => {
                return Err(Box::new(TypedError::with_type(
                    ErrorType::InvalidEvent.as_str(),
                    InvalidEvent { index },
                )))
            }
        }
    }
    if records.is_empty() {
        return Ok(BatchResponse::default());
    }

    let ids: Vec<String> = records.iter().map(|r| r.message_id.clone()).collect();
    let namer_ids = ids.clone();
    let execution_arn = ctx.execution_arn().to_owned();
    let batch = ctx
        .map(records, move |child, record: Record, _index| {
            process_record(
                child,
                record,
                Arc::clone(&config),
                execution_arn.clone(),
                policy,
            )
        })
        .name("records")
        .item_namer(move |index| match namer_ids.get(index) {
            Some(id) => format!("record-{id}"),
            None => format!("record-{index}"),
        })
        .completion(CompletionConfig::with_tolerated_failure_percentage(100))
        .nesting(layout.nesting())
        .await_batch()
        .await?;

    log_failures(&ids, &batch.items);
    Ok(batch_response(&ids, &batch.items))
}

/// One warning per record that goes back to the queue, when the batch is decided (a record's
/// body runs again on every replay of the execution, so it does not log its own failure).
fn log_failures(ids: &[String], items: &[BatchItem<RecordResult>]) {
    for (id, item) in failed_records(ids, items) {
        let (error_type, error) = match item {
            Some(BatchItem {
                result: Some(RecordResult::Failed(f)),
                ..
            }) => (Some(f.error_type.as_str()), Some(f.error_message.as_str())),
            Some(i) => (i.error_type.as_deref(), i.error_message.as_deref()),
            None => (None, None),
        };
        tracing::warn!(
            message_id = %id,
            error_type = error_type.unwrap_or("unknown"),
            error = error.unwrap_or("the record did not finish"),
            "record failed; it goes back to the queue"
        );
    }
}

/// The records that go back to the queue, each with its item if it has one: every record whose
/// item did not succeed (failed, or not finished). Listing a record that did succeed would be
/// harmless (the conditional put makes its redelivery a duplicate); dropping a failed one would
/// lose it, so anything not positively stored is listed.
fn failed_records<'a>(
    ids: &'a [String],
    items: &'a [BatchItem<RecordResult>],
) -> impl Iterator<Item = (&'a String, Option<&'a BatchItem<RecordResult>>)> {
    ids.iter().enumerate().filter_map(move |(index, id)| {
        let item = items.iter().find(|item| item.index == index);
        let stored = item.is_some_and(|item| {
            item.status == BatchItemStatus::Succeeded
                && !matches!(item.result, Some(RecordResult::Failed(_)))
        });
        (!stored).then_some((id, item))
    })
}

/// The response for a batch: the [`failed_records`], in event order.
fn batch_response(ids: &[String], items: &[BatchItem<RecordResult>]) -> BatchResponse {
    BatchResponse {
        batch_item_failures: failed_records(ids, items)
            .map(|(id, _)| BatchItemFailure {
                item_identifier: id.clone(),
            })
            .collect(),
    }
}

async fn process_record(
    ctx: DurableContext,
    record: Record,
    config: Arc<OrchestratorConfig>,
    execution_arn: String,
    policy: RetryPolicy,
) -> Result<RecordResult, BoxError> {
    match run_stages(&ctx, record, &config, execution_arn, policy).await {
        Ok(outcome) => Ok(RecordResult::Stored(outcome)),
        Err(err) if is_stage_failure(err.as_ref()) => Ok(RecordResult::Failed(RecordFailure {
            error_type: failure_error_type(err.as_ref()).unwrap_or_else(|| "unknown".into()),
            error_message: chain(err.as_ref()),
        })),
        // Checkpoint failures, non-determinism: the SDK's to handle (the invocation fails).
        Err(err) => Err(err),
    }
}

/// Whether `err` is a stage's recorded failure: an invoke that ended FAILED, TIMED_OUT or
/// STOPPED (after the retries its error type allows), not an SDK failure.
fn is_stage_failure(err: &(dyn Error + 'static)) -> bool {
    let mut link = Some(err);
    for _ in 0..32 {
        let Some(current) = link else {
            return false;
        };
        if let Some(op) = current.downcast_ref::<OperationError>() {
            return matches!(op.status(), Some("FAILED" | "TIMED_OUT" | "STOPPED"));
        }
        link = current.source();
    }
    false
}

fn chain(err: &(dyn Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

async fn run_stages(
    ctx: &DurableContext,
    record: Record,
    config: &OrchestratorConfig,
    execution_arn: String,
    policy: RetryPolicy,
) -> Result<RecordOutcome, BoxError> {
    let id = record.message_id;
    let validated: ValidateOutput = invoke_stage(
        ctx,
        Stage::Validate,
        &config.validate_function,
        &id,
        ValidateInput {
            message_id: id.clone(),
            body: record.body,
        },
        policy,
    )
    .await?;
    let execution_id = ExecutionId::new(config.environment.as_str(), &id);
    let transformed: TransformOutput = invoke_stage(
        ctx,
        Stage::Transform,
        &config.transform_function,
        &id,
        TransformInput {
            message_id: id.clone(),
            execution_id,
            message: validated.message.clone(),
        },
        policy,
    )
    .await?;
    let stored: StoreOutput = invoke_stage(
        ctx,
        Stage::Store,
        &config.store_function,
        &id,
        StoreInput {
            message_id: id.clone(),
            durable_execution_arn: execution_arn,
            message: validated.message,
            transformed,
        },
        policy,
    )
    .await?;
    Ok(RecordOutcome {
        execution_id: stored.execution_id,
        outcome: stored.outcome,
    })
}

/// Invokes one stage, retrying transient failures per `policy`.
async fn invoke_stage<I, O>(
    ctx: &DurableContext,
    stage: Stage,
    function: &FunctionRef,
    message_id: &str,
    input: I,
    policy: RetryPolicy,
) -> Result<O, BoxError>
where
    I: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    O: Serialize + DeserializeOwned + Send + 'static,
{
    let invoke_name = stage.invoke_name(message_id);
    let function = function.as_str().to_owned();
    retry_transient(ctx, &invoke_name, policy, |name| {
        let function = function.clone();
        let input = input.clone();
        let ctx = ctx.clone();
        async move {
            ctx.invoke::<O, I>(function, input)
                .name(name)
                .await
                .map_err(typed_invoke_error)
        }
    })
    .await
}

/// Runs `attempt` (which creates one operation, named as it is told) until it succeeds or fails
/// with an error that [`RetryPolicy::decide`] does not retry ([`failure_error_type`]: the
/// recorded error type, live or replayed). Attempt 1's operation is `name`, attempt N's
/// `{name}-attempt-N`; before attempt N comes a durable wait `retry-delay-{name}-{N-1}`; `name`
/// seeds the jitter. Every decision depends only on recorded outcomes, so replay takes the same
/// path.
///
/// # Errors
/// The last attempt's failure, once the policy stops (a permanent error type, or the attempts
/// are used up); a failed wait.
pub async fn retry_transient<O, F, Fut>(
    ctx: &DurableContext,
    name: &str,
    policy: RetryPolicy,
    mut attempt_op: F,
) -> Result<O, BoxError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<O, BoxError>>,
{
    let mut attempt: u32 = 1;
    loop {
        let op_name = if attempt == 1 {
            name.to_owned()
        } else {
            format!("{name}-attempt-{attempt}")
        };
        let err = match attempt_op(op_name).await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let error_type = failure_error_type(err.as_ref());
        let Some(delay) = policy.decide(error_type.as_deref(), attempt, name) else {
            return Err(err);
        };
        // The same 1-second floor the SDK's own retries keep.
        ctx.wait(delay.max(std::time::Duration::from_secs(1)))
            .name(format!("retry-delay-{name}-{attempt}"))
            .await?;
        attempt = attempt.saturating_add(1);
    }
}

/// Wraps a failed invoke so its error type (the stage function's `errorType`) is recorded on
/// the attempt's checkpoint and survives replay.
fn typed_invoke_error(err: OperationError) -> BoxError {
    let error_type = failure_error_type(&err).unwrap_or_else(|| {
        if err.status() == Some("TIMED_OUT") {
            // The invoked function did not finish in time: Lambda's own name for it.
            "Sandbox.Timedout".to_owned()
        } else {
            "InvokeError".to_owned()
        }
    });
    Box::new(TypedError::with_type(error_type, err))
}

/// Error type names the SDK records for its own wrappers; they say nothing about the cause.
const GENERIC_ERROR_TYPES: &[&str] = &[
    "Error",
    "StepError",
    "InvokeError",
    "ChildContextError",
    "ChildFnError",
    "PromiseCombinatorError",
];

/// The most specific recorded error type in an error's source chain: the stage function's
/// `errorType` (e.g. `StorageThrottled`), live or replayed. `None` if only generic SDK types
/// are found.
pub fn failure_error_type(err: &(dyn Error + 'static)) -> Option<String> {
    let mut link = Some(err);
    for _ in 0..32 {
        let current = link?;
        let found = if let Some(typed) = current.downcast_ref::<TypedError>() {
            Some(typed.error_type())
        } else if let Some(op) = current.downcast_ref::<OperationError>() {
            op.wire().and_then(|w| w.error_type())
        } else if let Some(replayed) = current.downcast_ref::<ReplayedFailure>() {
            replayed.error_type()
        } else {
            None
        };
        if let Some(name) = found.filter(|n| !n.is_empty() && !GENERIC_ERROR_TYPES.contains(n)) {
            return Some(name.to_owned());
        }
        link = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_is_found_through_wrappers() {
        let typed = TypedError::with_type("StorageThrottled", "throttled");
        assert_eq!(
            failure_error_type(&typed).as_deref(),
            Some("StorageThrottled")
        );

        let generic = TypedError::with_type(
            "InvokeError",
            TypedError::with_type("Sandbox.Timedout", "t"),
        );
        assert_eq!(
            failure_error_type(&generic).as_deref(),
            Some("Sandbox.Timedout")
        );

        let plain = std::io::Error::other("boom");
        assert_eq!(failure_error_type(&plain), None);
    }

    fn item(index: usize, status: BatchItemStatus) -> BatchItem<RecordResult> {
        BatchItem::new(index, format!("record-{index}"), status, None, None, None)
    }

    #[test]
    fn only_succeeded_records_are_left_out_of_the_response() {
        let ids = ["a", "b", "c", "d"].map(String::from).to_vec();
        let items = [
            item(0, BatchItemStatus::Succeeded),
            item(1, BatchItemStatus::Failed),
            item(2, BatchItemStatus::Started),
            // index 3 has no item at all
        ];
        let response = batch_response(&ids, &items);
        let listed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(listed, ["b", "c", "d"]);
        assert_eq!(
            batch_response(&["a".into()], &[item(0, BatchItemStatus::Succeeded)]),
            BatchResponse::default()
        );
    }

    #[test]
    fn a_record_whose_stage_failed_is_listed_though_its_item_succeeded() {
        let mut failed = item(0, BatchItemStatus::Succeeded);
        failed.result = Some(RecordResult::Failed(RecordFailure {
            error_type: "ValidationError".into(),
            error_message: "invalid message".into(),
        }));
        let mut stored = item(1, BatchItemStatus::Succeeded);
        stored.result = Some(RecordResult::Stored(RecordOutcome {
            execution_id: "dev-esm-b".into(),
            outcome: PutOutcome::Inserted,
        }));
        let response = batch_response(&["a".into(), "b".into()], &[failed, stored]);
        assert_eq!(
            response.batch_item_failures,
            [BatchItemFailure {
                item_identifier: "a".into()
            }]
        );
    }

    #[test]
    fn record_results_read_back_including_earlier_releases_outcomes() {
        // An earlier release's record context recorded a bare RecordOutcome.
        let old: RecordResult =
            serde_json::from_str(r#"{"execution_id":"dev-esm-a","outcome":"inserted"}"#).unwrap();
        assert!(matches!(old, RecordResult::Stored(ref o) if o.execution_id == "dev-esm-a"));
        let failed = RecordResult::Failed(RecordFailure {
            error_type: "ValidationError".into(),
            error_message: "m".into(),
        });
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(serde_json::from_str::<RecordResult>(&text).unwrap(), failed);
    }

    #[test]
    fn invoke_names() {
        assert_eq!(Stage::Validate.invoke_name("m-1"), "validate-m-1");
        assert_eq!(Stage::Transform.invoke_name("m-1"), "transform-m-1");
        assert_eq!(Stage::Store.invoke_name("m-1"), "store-m-1");
    }
}
