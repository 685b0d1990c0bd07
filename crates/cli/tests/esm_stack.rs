//! The event-source mapping through the whole `durapipe up` process (the ESM's own rules are pinned
//! in crates/local/tests/esm.rs): partial batch failure, dead-lettering with the validation reason
//! shown by `durapipe dlq list`, `durapipe dlq redrive`, and concurrent batches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{jsonl, queue_depth, send_to, up, valid_bodies, wait_until};
use serde_json::Value;

const QUEUE: &str = "dev-data-processing-queue";
const DLQ: &str = "dev-data-processing-dlq";
const BLANK: &str = r#"{"data_source": "   ", "processing_type": "standard"}"#;

/// `durapipe dlq list` lines: `(message id, error, body)`.
fn dlq_list(stack: &common::Up) -> Vec<(String, String, String)> {
    let out = stack.cli_ok(&["dlq", "list"]);
    let mut rows = Vec::new();
    for line in out.lines().filter(|l| l.contains('\t')) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line}");
        rows.push((
            fields[0].to_owned(),
            fields[2].trim_start_matches("error=").to_owned(),
            fields[3].trim_start_matches("body=").to_owned(),
        ));
    }
    assert!(
        out.trim_end()
            .ends_with(&format!("{} dead-letter messages", rows.len())),
        "{out}"
    );
    rows
}

fn data_sources(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["data_source"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn partial_failure_dead_letter_with_reason_and_redrive() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &[
            "--visibility-timeout",
            "2",
            "--max-receive-count",
            "2",
            "--batching-window",
            "1",
            "--batch-size",
            "5",
        ],
    );
    let mut lines = valid_bodies("ok", 4);
    lines.insert(2, BLANK.to_owned());
    let file = jsonl(dir.path(), "batch.jsonl", &lines);
    let sent = stack.cli_ok(&["send", "--file", file.to_str().unwrap()]);
    assert!(sent.contains("sent 5 of 5 messages"), "{sent}");

    // The four valid ones are stored and deleted; only the invalid one is left on the queue.
    wait_until(Duration::from_secs(20), "4 stored items", || {
        stack.scan().len() == 4
    });
    assert_eq!(
        data_sources(&stack.scan()),
        (0..4).map(|i| format!("ok-{i}.csv")).collect()
    );
    wait_until(
        Duration::from_secs(3),
        "only the invalid message left",
        || {
            let (visible, in_flight) = queue_depth(&stack.endpoint, QUEUE);
            visible + in_flight == 1
        },
    );

    // Received twice (maxReceiveCount 2), failed twice, then dead-lettered with its reason.
    let mut dead = Vec::new();
    wait_until(Duration::from_secs(20), "the dead letter", || {
        dead = dlq_list(&stack);
        !dead.is_empty()
    });
    assert_eq!(dead.len(), 1, "{dead:?}");
    let (bad_id, error, body) = dead[0].clone();
    assert_eq!(body, BLANK);
    assert!(
        error.starts_with("ValidationError") && error.contains("data_source"),
        "{error}"
    );
    let failures = stack
        .stderr()
        .lines()
        .filter(|l| l.contains("record failed") && l.contains(&bad_id))
        .count();
    assert_eq!(
        failures, 2,
        "the invalid message is retried until maxReceiveCount"
    );
    assert_eq!(queue_depth(&stack.endpoint, QUEUE), (0, 0));
    assert_eq!(stack.scan().len(), 4, "no item for the invalid message");
    // Listing leaves the messages where they are.
    assert_eq!(queue_depth(&stack.endpoint, DLQ), (1, 0));

    // Redrive moves everything back: a valid message parked in the DLQ gets stored, the invalid
    // one fails again and returns.
    send_to(
        &stack.endpoint,
        DLQ,
        r#"{"data_source": "redriven.csv", "processing_type": "standard"}"#,
    );
    let moved = stack.cli_ok(&["dlq", "redrive"]);
    assert!(
        moved.contains(&format!("moved 2 messages from {DLQ} to {QUEUE}")),
        "{moved}"
    );
    assert_eq!(queue_depth(&stack.endpoint, DLQ), (0, 0));
    wait_until(Duration::from_secs(20), "the redriven item", || {
        data_sources(&stack.scan()).contains("redriven.csv")
    });
    wait_until(
        Duration::from_secs(20),
        "the invalid message back in the DLQ",
        || dlq_list(&stack).len() == 1,
    );
    assert_eq!(dlq_list(&stack)[0].2, BLANK);
    assert_eq!(stack.scan().len(), 5);

    let (status, _, stderr) = stack.stop("TERM");
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn several_batches_run_concurrently_and_store_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &[
            "--batch-size",
            "2",
            "--batching-window",
            "0",
            "--concurrency",
            "4",
        ],
    );
    let file = jsonl(dir.path(), "many.jsonl", &valid_bodies("c", 24));
    stack.cli_ok(&["send", "--file", file.to_str().unwrap()]);
    wait_until(Duration::from_secs(30), "24 items", || {
        stack.scan().len() == 24
    });
    assert_eq!(data_sources(&stack.scan()).len(), 24);

    let aws = stack.aws(dir.path());
    let list = || {
        aws.json(&[
            "lambda",
            "list-durable-executions-by-function",
            "--function-name",
            "dev-orchestrator",
        ])
    };
    // Items are stored just before their executions end.
    let mut listed = Value::Null;
    wait_until(Duration::from_secs(10), "every execution to end", || {
        listed = list();
        listed["DurableExecutions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["Status"] != "RUNNING")
    });
    let spans: Vec<(f64, f64)> = listed["DurableExecutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["Status"], "SUCCEEDED");
            (
                e["StartTimestamp"].as_f64().unwrap(),
                e["EndTimestamp"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(spans.len() >= 12, "batches of at most 2: {}", spans.len());
    let most_at_once = spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| s <= start && start < e)
                .count()
        })
        .max()
        .unwrap();
    assert!(most_at_once >= 2, "no two executions overlapped: {spans:?}");
    assert!(most_at_once <= 4, "more batches at once than --concurrency");
    assert_eq!(queue_depth(&stack.endpoint, QUEUE), (0, 0));
}
