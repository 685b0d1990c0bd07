//! durapipe's own orchestrator end to end on the local durable-execution
//! service, inside the real stack (`Stack::start`): one SQS event of 5 records (3 valid, 2
//! invalid) stores exactly 3 items and returns `batchItemFailures` naming exactly the 2 invalid
//! message ids; GetDurableExecutionHistory shows the chained invokes named `{stage}-{messageId}`.
//! Once by driving the ESM's target directly, once through the queue in a single batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_lambda::types::EventType;
use durapipe_local::esm::{BatchResult, BatchTarget as _};
use durapipe_local::stack::{OrchestratorTarget, Stack, StackConfig};
use serde_json::{json, Value};

const VALID: [&str; 3] = [
    r#"{"data_source": "a.csv", "processing_type": "standard"}"#,
    r#"{"data_source": "straße.csv", "processing_type": "batch_1", "extra": 7}"#,
    r#"{"data_source": "c.csv", "processing_type": "fast-lane"}"#,
];
const INVALID: [&str; 2] = [
    r#"{"processing_type": "standard"}"#,
    r#"{"data_source": "d.csv", "processing_type": "no spaces allowed"}"#,
];

fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

async fn start(dir: &std::path::Path, batching_window: u64) -> Stack {
    Stack::start(StackConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        batching_window: Duration::from_secs(batching_window),
        visibility_timeout: Duration::from_secs(30),
        durability: durapipe_sqlite::Durability::Normal,
        ..StackConfig::default()
    })
    .await
    .unwrap()
}

/// A record as Lambda's SQS event source mapping delivers it.
fn record(id: &str, body: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "000000000000",
            "ApproximateFirstReceiveTimestamp": "1700000000001"
        },
        "messageAttributes": {},
        "md5OfBody": "00000000000000000000000000000000",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:dev-data-processing-queue",
        "awsRegion": "us-east-1"
    })
}

/// The stored items' `execution_id`s, through the DynamoDB endpoint.
async fn stored_ids(endpoint: &str) -> BTreeSet<String> {
    let out = common::ddb_client(endpoint)
        .scan()
        .table_name("dev-processed-data")
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .map(|i| i["execution_id"].as_s().unwrap().clone())
        .collect()
}

/// Checks the history of `arn`: a chained invoke per stage reached, named `{stage}-{id}`.
async fn assert_history(endpoint: &str, arn: &str, valid: &[String], invalid: &[String]) {
    let lambda = lambda_client(endpoint);
    let mut events = Vec::new();
    let mut pages = lambda
        .get_durable_execution_history()
        .durable_execution_arn(arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        events.extend(page.unwrap().events);
    }
    let invokes = |kind: EventType| -> BTreeSet<String> {
        events
            .iter()
            .filter(|e| e.event_type.as_ref() == Some(&kind))
            .filter_map(|e| e.name.clone())
            .collect()
    };
    let started = invokes(EventType::ChainedInvokeStarted);
    let succeeded = invokes(EventType::ChainedInvokeSucceeded);
    let failed = invokes(EventType::ChainedInvokeFailed);
    let mut want_started = BTreeSet::new();
    let mut want_succeeded = BTreeSet::new();
    for id in valid {
        for stage in ["validate", "transform", "store"] {
            want_started.insert(format!("{stage}-{id}"));
            want_succeeded.insert(format!("{stage}-{id}"));
        }
    }
    let want_failed: BTreeSet<String> = invalid.iter().map(|id| format!("validate-{id}")).collect();
    want_started.extend(want_failed.iter().cloned());
    assert_eq!(started, want_started, "chained invokes started");
    assert_eq!(succeeded, want_succeeded, "chained invokes succeeded");
    assert_eq!(
        failed, want_failed,
        "chained invokes failed (validation, never retried)"
    );
    // The records ran in the map "records", started and succeeded once.
    assert!(invokes(EventType::ContextStarted).contains("records"));
    assert!(invokes(EventType::ContextSucceeded).contains("records"));
}

fn failures(response: &Value) -> BTreeSet<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no batchItemFailures in {response}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_records_three_valid_store_three_and_report_the_two_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path(), 0).await;
    let endpoint = stack.info().endpoint.clone();
    let valid: Vec<String> = (0..3).map(|i| format!("valid-{i}-0000")).collect();
    let invalid: Vec<String> = (0..2).map(|i| format!("invalid-{i}-0000")).collect();
    // Interleaved, as a real batch would be.
    let records = vec![
        record(&valid[0], VALID[0]),
        record(&invalid[0], INVALID[0]),
        record(&valid[1], VALID[1]),
        record(&invalid[1], INVALID[1]),
        record(&valid[2], VALID[2]),
    ];
    let target = OrchestratorTarget::new(
        stack.service().clone(),
        &stack.info().names.functions.orchestrator,
        Duration::from_secs(60),
    );
    let result = target.invoke(json!({ "Records": records })).await;
    let BatchResult::Completed {
        response,
        item_errors,
    } = result
    else {
        panic!("the orchestrator did not complete: {result:?}");
    };
    assert_eq!(failures(&response), invalid.iter().cloned().collect());
    // The ESM keeps why each one failed: the validation reason, naming the field.
    assert_eq!(item_errors.len(), 2, "{item_errors:?}");
    assert!(item_errors[&invalid[0]].starts_with("ValidationError"));
    assert!(item_errors[&invalid[0]].contains("data_source"));
    assert!(item_errors[&invalid[1]].contains("processing_type"));

    let want: BTreeSet<String> = valid.iter().map(|id| format!("dev-esm-{id}")).collect();
    assert_eq!(stored_ids(&endpoint).await, want);
    let item = common::ddb_client(&endpoint)
        .get_item()
        .table_name("dev-processed-data")
        .key(
            "execution_id",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("dev-esm-{}", valid[1])),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let transformed = item["transformed_data"].as_m().unwrap();
    assert_eq!(transformed["data_source"].as_s().unwrap(), "STRASSE.CSV");
    assert_eq!(
        item["original_data"].as_m().unwrap()["extra"]
            .as_n()
            .unwrap(),
        "7"
    );

    let lambda = lambda_client(&endpoint);
    let listed = lambda
        .list_durable_executions_by_function()
        .function_name("dev-orchestrator")
        .send()
        .await
        .unwrap();
    let executions = listed.durable_executions();
    assert_eq!(executions.len(), 1);
    let arn = executions[0].durable_execution_arn.clone();
    assert_eq!(item["durable_execution_arn"].as_s().unwrap(), &arn);
    let execution = lambda
        .get_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(execution.status.as_str(), "SUCCEEDED");
    let result: Value = serde_json::from_str(execution.result().unwrap()).unwrap();
    assert_eq!(failures(&result), invalid.iter().cloned().collect());
    assert_history(&endpoint, &arn, &valid, &invalid).await;

    // Re-delivering the same event (an ESM retry) starts a new execution and stores nothing new.
    let again = target
        .invoke(json!({ "Records": [record(&valid[0], VALID[0])] }))
        .await;
    assert!(
        matches!(&again, BatchResult::Completed { response, .. } if failures(response).is_empty()),
        "{again:?}"
    );
    assert_eq!(stored_ids(&endpoint).await.len(), 3);
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_records_sent_in_one_batch_through_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path(), 2).await;
    let endpoint = stack.info().endpoint.clone();
    let sqs = common::sqs_client(&endpoint);
    let bodies = [VALID[0], INVALID[0], VALID[1], INVALID[1], VALID[2]];
    let entries = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(*body)
                .build()
                .unwrap()
        })
        .collect();
    let sent = sqs
        .send_message_batch()
        .queue_url(&stack.info().queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
    let mut ids = vec![String::new(); 5];
    for ok in sent.successful() {
        ids[ok.id.parse::<usize>().unwrap()] = ok.message_id.clone();
    }
    let valid = vec![ids[0].clone(), ids[2].clone(), ids[4].clone()];
    let invalid = vec![ids[1].clone(), ids[3].clone()];

    let lambda = lambda_client(&endpoint);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let arn = loop {
        let listed = lambda
            .list_durable_executions_by_function()
            .function_name("dev-orchestrator")
            .statuses(aws_sdk_lambda::types::ExecutionStatus::Succeeded)
            .send()
            .await
            .unwrap();
        if let Some(e) = listed.durable_executions().first() {
            break e.durable_execution_arn.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no execution finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // One batch of five: the batching window gathered them into a single execution.
    let all = lambda
        .list_durable_executions_by_function()
        .function_name("dev-orchestrator")
        .send()
        .await
        .unwrap();
    assert_eq!(all.durable_executions().len(), 1, "{all:?}");
    let execution = lambda
        .get_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    let result: Value = serde_json::from_str(execution.result().unwrap()).unwrap();
    assert_eq!(failures(&result), invalid.iter().cloned().collect());
    let want: BTreeSet<String> = valid.iter().map(|id| format!("dev-esm-{id}")).collect();
    assert_eq!(stored_ids(&endpoint).await, want);
    assert_history(&endpoint, &arn, &valid, &invalid).await;
    // The valid three were deleted; the invalid two are in flight (hidden for 30 s).
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&stack.info().queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attributes.attributes().unwrap();
    let get = |n: &str| attrs[&aws_sdk_sqs::types::QueueAttributeName::from(n)].clone();
    assert_eq!(get("ApproximateNumberOfMessages"), "0");
    assert_eq!(get("ApproximateNumberOfMessagesNotVisible"), "2");
    stack.shutdown(Duration::from_secs(5)).await;
}

/// The orchestrator with the given record layout, registered in place of the stack's own.
fn register_orchestrator(stack: &Stack, layout: durapipe_workflow::RecordLayout) {
    let service = stack.service().clone();
    let names = &stack.info().names.functions;
    let arns = [
        (
            "VALIDATION_FUNCTION_ARN",
            service.function_arn(&names.validate),
        ),
        (
            "TRANSFORMATION_FUNCTION_ARN",
            service.function_arn(&names.transform),
        ),
        ("STORAGE_FUNCTION_ARN", service.function_arn(&names.store)),
    ];
    let config = std::sync::Arc::new(
        durapipe_core::OrchestratorConfig::from_lookup(|name| match name {
            "ENVIRONMENT" => Some("dev".to_owned()),
            _ => arns
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone()),
        })
        .unwrap(),
    );
    let orchestrator = durapipe_durable::durable_fn(
        move |event: aws_lambda_events::event::sqs::SqsEvent,
              ctx: aws_durable_execution_sdk::DurableContext| {
            durapipe_workflow::orchestrate_with(
                event,
                ctx,
                std::sync::Arc::clone(&config),
                durapipe_core::RetryPolicy::default(),
                layout,
            )
        },
        service.in_process_client(),
    )
    .unwrap();
    service.register_durable(&names.orchestrator, orchestrator);
}

/// An execution started by an earlier release (a child context per record) and resumed by this
/// one (flat records): the binary is replaced while the records' `validate` invokes run, as
/// when `durapipe up` is upgraded with messages in flight. The execution finishes with the
/// right answer and items, and its history keeps the old layout's record contexts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_of_the_per_record_context_layout_finishes_under_the_flat_one() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path(), 0).await;
    let endpoint = stack.info().endpoint.clone();
    let service = stack.service().clone();
    let names = stack.info().names.functions.clone();
    register_orchestrator(&stack, durapipe_workflow::RecordLayout::ContextPerRecord);
    // validate waits until the orchestrator has been replaced.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (g, c) = (gate.clone(), calls.clone());
    service.register_plain(
        &names.validate,
        durapipe_durable::plain_fn(move |event| {
            let (gate, calls) = (g.clone(), c.clone());
            async move {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(gate.acquire().await.unwrap());
                match durapipe_workflow::validate_handler(event).await {
                    Ok(out) => Ok(serde_json::to_value(out).unwrap()),
                    Err(e) => Err(durapipe_durable::FunctionError::new(
                        e.error_type().as_str(),
                        e.full_message(),
                    )),
                }
            }
        }),
    );
    let valid: Vec<String> = (0..2).map(|i| format!("old-valid-{i}")).collect();
    let invalid = vec!["old-invalid-0".to_owned()];
    let records = vec![
        record(&valid[0], VALID[0]),
        record(&invalid[0], INVALID[0]),
        record(&valid[1], VALID[1]),
    ];
    let arn = service
        .start(&names.orchestrator, &json!({ "Records": records }))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while calls.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "validate was not called 3 times"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The old layout's records are in the history: one context per record.
    let lambda = lambda_client(&endpoint);
    let contexts = |events: &[aws_sdk_lambda::types::Event]| -> BTreeSet<String> {
        events
            .iter()
            .filter(|e| e.event_type == Some(EventType::ContextStarted))
            .filter_map(|e| e.name.clone())
            .filter(|n| n.starts_with("record-"))
            .collect()
    };
    let history = |arn: String| {
        let lambda = lambda.clone();
        async move {
            lambda
                .get_durable_execution_history()
                .durable_execution_arn(arn)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .unwrap()
        }
    };
    let want_contexts: BTreeSet<String> = valid
        .iter()
        .chain(&invalid)
        .map(|id| format!("record-{id}"))
        .collect();
    assert_eq!(contexts(&history(arn.clone()).await), want_contexts);

    // The new release takes over.
    register_orchestrator(&stack, durapipe_workflow::RecordLayout::Flat);
    gate.add_permits(100);
    let outcome = service.wait(&arn, Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        outcome.status,
        durapipe_durable::ExecStatus::Succeeded,
        "{outcome:?}"
    );
    let response: Value = serde_json::from_str(outcome.result.as_deref().unwrap()).unwrap();
    assert_eq!(failures(&response), invalid.iter().cloned().collect());
    let want: BTreeSet<String> = valid.iter().map(|id| format!("dev-esm-{id}")).collect();
    assert_eq!(stored_ids(&endpoint).await, want);
    let events = history(arn.clone()).await;
    assert_eq!(contexts(&events), want_contexts);
    assert_history(&endpoint, &arn, &valid, &invalid).await;
}
