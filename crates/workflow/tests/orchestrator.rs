//! The orchestrator under the durable SDK's `LocalRunner`: per record, below the map, the
//! chained invoke `validate-{messageId}` (the runner does not model
//! chained invokes, so the execution suspends there; end-to-end runs need the local
//! durable-execution service); events it cannot answer for fail as a whole; and the retry loop
//! retries transient error types with durable waits, across replays, but never `ValidationError`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use aws_durable_execution_sdk::test_util::{LocalRunner, TestOperation};
use aws_durable_execution_sdk::{BoxError, DurableContext, RetryDecision, TypedError};
use aws_lambda_events::event::sqs::SqsEvent;
use durapipe_core::{OrchestratorConfig, RetryPolicy};
use durapipe_workflow::orchestrator::retry_transient;
use durapipe_workflow::{orchestrate, BatchResponse};
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/sqs_event.json");
const ID_1: &str = "059f36b4-87a3-44ab-83d2-661975830a7d";
const ID_2: &str = "2e1424d4-f796-459a-8184-9c92662be6da";

fn config() -> Arc<OrchestratorConfig> {
    Arc::new(
        OrchestratorConfig::from_lookup(|name| {
            Some(
                match name {
                    "ENVIRONMENT" => "dev",
                    "VALIDATION_FUNCTION_ARN" => "dev-validate",
                    "TRANSFORMATION_FUNCTION_ARN" => "dev-transform",
                    "STORAGE_FUNCTION_ARN" => "dev-store",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .unwrap(),
    )
}

fn fixture_with_bodies() -> SqsEvent {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    for record in event["Records"].as_array_mut().unwrap() {
        record["body"] = r#"{"data_source":"test.csv","processing_type":"standard"}"#.into();
    }
    serde_json::from_value(event).unwrap()
}

async fn run(event: SqsEvent) -> aws_durable_execution_sdk::test_util::TestResult<BatchResponse> {
    let config = config();
    LocalRunner::new()
        .run(
            move |event: SqsEvent, ctx: DurableContext| {
                orchestrate(event, ctx, Arc::clone(&config))
            },
            event,
        )
        .await
}

fn named<'a>(ops: &'a [TestOperation], name: &str) -> Vec<&'a TestOperation> {
    ops.iter().filter(|op| op.name() == Some(name)).collect()
}

#[tokio::test]
async fn each_record_suspends_on_its_named_validate_invoke() {
    let result = run(fixture_with_bodies()).await;
    assert!(result.is_suspended(), "{:?}", result.error_message());
    let ops = result.operations();

    assert_eq!(named(ops, "records").len(), 1, "one map over the batch");
    for id in [ID_1, ID_2] {
        // Flat records: no context per record, the invoke sits directly below the map.
        assert!(named(ops, &format!("record-{id}")).is_empty());
        let invoke = named(ops, &format!("validate-{id}"));
        assert_eq!(invoke.len(), 1, "validate invoke for {id}");
        assert_eq!(invoke[0].op_type(), "ChainedInvoke");
        assert_eq!(invoke[0].status(), "Started");

        // Later stages wait for validate's result.
        assert!(named(ops, &format!("transform-{id}")).is_empty());
        assert!(named(ops, &format!("store-{id}")).is_empty());
    }
    let invokes = ops
        .iter()
        .filter(|op| op.op_type() == "ChainedInvoke")
        .count();
    assert_eq!(invokes, 2);
    // No wrappers: the map and the invokes are every operation.
    assert_eq!(
        ops.len(),
        1 + 2,
        "{:?}",
        ops.iter().map(TestOperation::name).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn operation_ids_are_deterministic() {
    let ids = |result: &aws_durable_execution_sdk::test_util::TestResult<BatchResponse>| {
        result
            .operations()
            .iter()
            .map(|op| (op.id().to_owned(), op.name().map(str::to_owned)))
            .collect::<Vec<_>>()
    };
    let first = run(fixture_with_bodies()).await;
    let second = run(fixture_with_bodies()).await;
    assert!(!ids(&first).is_empty());
    assert_eq!(ids(&first), ids(&second));
}

#[tokio::test]
async fn an_empty_batch_succeeds_with_no_failures() {
    let result = run(serde_json::from_str(r#"{"Records":[]}"#).unwrap()).await;
    assert!(result.is_success());
    assert_eq!(result.output(), Some(&BatchResponse::default()));
    assert!(result.operations().is_empty());
}

#[tokio::test]
async fn a_record_without_message_id_fails_the_whole_batch() {
    for missing in [r#"{"body":"{}"}"#, r#"{"messageId":"","body":"{}"}"#] {
        let event: SqsEvent = serde_json::from_str(&format!(
            r#"{{"Records":[{{"messageId":"ok","body":"{{}}"}},{missing}]}}"#
        ))
        .unwrap();
        let result = run(event).await;
        assert!(result.is_failure(), "{missing}");
        assert_eq!(result.error_type(), Some("InvalidEvent"));
        assert!(
            result
                .error_message()
                .unwrap_or_default()
                .contains("record 1"),
            "{:?}",
            result.error_message()
        );
        assert!(result.operations().is_empty(), "fails before any operation");
    }
}

/// A retry loop whose attempt is a step failing with `error_type` (the step itself never
/// retries).
async fn failing_block(
    error_type: &'static str,
) -> aws_durable_execution_sdk::test_util::TestResult<u32> {
    LocalRunner::new()
        .run(
            move |_: (), ctx: DurableContext| async move {
                retry_transient(&ctx, "store-m", RetryPolicy::default(), |name| {
                    let ctx = ctx.clone();
                    async move {
                        ctx.step(move |_| async move {
                            Err::<u32, BoxError>(Box::new(TypedError::with_type(
                                error_type,
                                std::io::Error::other("stage failed"),
                            )))
                        })
                        .name(name)
                        .retry_strategy(|_, _| RetryDecision::Stop)
                        .await
                        .map_err(|e| Box::new(e) as BoxError)
                    }
                })
                .await
            },
            (),
        )
        .await
}

fn attempts(ops: &[TestOperation]) -> usize {
    ops.iter()
        .filter(|op| {
            op.name()
                .is_some_and(|n| n == "store-m" || n.starts_with("store-m-attempt-"))
        })
        .count()
}

#[tokio::test]
async fn transient_failures_are_retried_with_durable_waits() {
    for error_type in ["StorageThrottled", "StorageUnavailable", "Sandbox.Timedout"] {
        let result = failing_block(error_type).await;
        assert!(result.is_failure(), "{error_type}");
        let ops = result.operations();
        let max = RetryPolicy::default().max_attempts as usize;
        assert_eq!(attempts(ops), max, "{error_type}");
        let waits = ops
            .iter()
            .filter(|op| {
                op.name()
                    .is_some_and(|n| n.starts_with("retry-delay-store-m-"))
            })
            .count();
        assert_eq!(waits, max - 1, "{error_type}");
        assert!(
            result.invocation_count() > 1,
            "the waits suspend and replay"
        );
    }
}

#[tokio::test]
async fn permanent_failures_are_not_retried() {
    for error_type in [
        "ValidationError",
        "StorageError",
        "InvalidEvent",
        "Runtime.ExitError",
    ] {
        let result = failing_block(error_type).await;
        assert!(result.is_failure(), "{error_type}");
        assert_eq!(attempts(result.operations()), 1, "{error_type}");
    }
}
