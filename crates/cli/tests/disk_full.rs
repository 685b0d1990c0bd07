//! The data directory's disk fills while the stack runs: a send that cannot be stored is refused
//! at once with an AWS-style error naming the cause, the process stays up, and once the disk has
//! room again every acknowledged message is processed and stored exactly once (never an
//! acknowledged message that was not stored).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{aws_json, http, is_root, queue_depth, up, Mount};
use serde_json::{json, Value};

const QUEUE: &str = "dev-data-processing-queue";
const DLQ: &str = "dev-data-processing-dlq";
/// The disk while it is full. The stack starts in well under 1 MiB; the WAL alone grows to
/// about 4 MiB (SQLite checkpoints it every 1,000 pages), so the rest holds a dozen messages.
const SMALL: &str = "16m";
/// Sends allowed before the first refusal: 200 bodies of ~100 KB are ~20 MB, more than the
/// small disk can hold.
const MAX_SENDS: usize = 200;
/// How long the disk stays full after the first refusal, with sends still coming in, so the
/// pipeline (receives, checkpoints, the store stage) runs into the full disk too.
const FULL_FOR: Duration = Duration::from_secs(4);
/// The queue drains within this after the disk grew (batches that failed on the full disk come
/// back after the 30 s visibility timeout).
const DRAIN_WITHIN: Duration = Duration::from_secs(120);
/// `x`s in each body's `padding` field (the body stays well under SQS's 256 KiB). Three such
/// bodies are more than the orchestrator's 256 KiB execution input, so the event source mapping
/// must cut batches by size, not only by count, or valid messages end in the DLQ.
const PADDING: usize = 100_000;

fn body(i: usize) -> String {
    json!({
        "data_source": format!("big-{i}.csv"),
        "processing_type": "standard",
        "padding": "x".repeat(PADDING),
    })
    .to_string()
}

/// Every send and how it was answered.
#[derive(Default)]
struct Sends {
    /// Message id -> `data_source` of every send answered 200 with a `MessageId`.
    acknowledged: BTreeMap<String, String>,
    /// (`data_source`, status, body) of every refused send.
    refused: Vec<(String, u16, Value)>,
}

impl Sends {
    fn total(&self) -> usize {
        self.acknowledged.len() + self.refused.len()
    }

    /// Sends message number `total()` and records the answer.
    fn send(&mut self, endpoint: &str, url: &str) {
        let i = self.total();
        let source = format!("big-{i}.csv");
        // A send that gets no answer at all would be uncertain; `aws_json` fails the test then
        // (the process must stay up and answer).
        let (status, out) = aws_json(
            endpoint,
            "AmazonSQS.SendMessage",
            &json!({"QueueUrl": url, "MessageBody": body(i)}),
        );
        if status == 200 {
            let id = out["MessageId"]
                .as_str()
                .unwrap_or_else(|| panic!("200 without a MessageId: {out}"));
            self.acknowledged.insert(id.to_owned(), source);
        } else {
            self.refused.push((source, status, out));
        }
    }
}

#[test]
fn a_disk_that_fills_while_running_refuses_sends_clearly_and_loses_no_acknowledged_message() {
    assert!(
        is_root(),
        "this test mounts a tmpfs and needs root (the gate runs as root)"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Declared after `dir` and before the stack: dropped after the stack is killed, before the
    // temp dir is removed.
    let mount = Mount::tmpfs(&data, &format!("size={SMALL}"));
    let stack = up(
        &data,
        &["--batching-window", "0", "--visibility-timeout", "30"],
    );
    let url = stack.queue_url(QUEUE);

    // 1. Fill the disk through the SQS endpoint, while the pipeline processes what was sent.
    let mut sends = Sends::default();
    while sends.refused.is_empty() {
        assert!(
            sends.total() < MAX_SENDS,
            "{MAX_SENDS} sends of {PADDING} bytes each were all acknowledged on a {SMALL} disk"
        );
        sends.send(&stack.endpoint, &url);
    }
    println!(
        "the first refusal came at send {}: HTTP {} {}",
        sends.total(),
        sends.refused[0].1,
        sends.refused[0].2
    );
    // Keep it full for a while with sends still coming in: some may be acknowledged when the
    // pipeline frees pages, and every one of those must be stored like the others.
    let full_since = Instant::now();
    while full_since.elapsed() < FULL_FOR {
        sends.send(&stack.endpoint, &url);
        std::thread::sleep(Duration::from_millis(50));
    }
    let Sends {
        acknowledged,
        refused,
    } = sends;
    println!(
        "while the disk was full: {} acknowledged, {} refused in all",
        acknowledged.len(),
        refused.len()
    );
    for (source, status, error) in &refused {
        // A server-side failure, as AWS reports one: 5xx, `__type` and a message that names the
        // cause, so the operator knows what to do.
        assert!(
            (500..600).contains(status),
            "{source}: HTTP {status} {error}"
        );
        let kind = error["__type"].as_str().unwrap_or_default();
        assert!(
            kind.ends_with("#InternalFailure") || kind.ends_with("#ServiceUnavailable"),
            "{source}: __type {kind:?} in {error}"
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("disk is full"),
            "{source}: the message does not name the full disk: {error}"
        );
    }
    // The process stayed up and still answers.
    assert_eq!(
        http(&stack.endpoint, "GET", "/health", &[], "").map(|r| r.0),
        Some(200),
        "GET /health after the refusals:\n{}",
        stack.stderr()
    );

    // 2. Give the disk room while the stack runs.
    mount.resize("256m");

    let grown = Instant::now();
    // 3. Every acknowledged message is processed: batches that failed while the disk was full
    // (their checkpoints could not be written) come back after the visibility timeout; an
    // invocation outcome or chained-invoke result that could not be recorded on the full disk
    // is retried by the service until it is (crates/durable/src/runner.rs `record`), so no
    // execution is left waiting for its 900 s timeout.
    let deadline = grown + DRAIN_WITHIN;
    loop {
        let depth = queue_depth(&stack.endpoint, QUEUE);
        if depth == (0, 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue still holds (visible, in flight) = {depth:?} {DRAIN_WITHIN:?} after the \
             disk grew; DLQ {:?}; items {}\n{}",
            queue_depth(&stack.endpoint, DLQ),
            stack.scan().len(),
            stack.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let items = stack.scan();
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        let id = item["message_id"]
            .as_str()
            .unwrap_or_else(|| panic!("an item without message_id: {}", item["data_source"]));
        *stored.entry(id.to_owned()).or_default() += 1;
    }
    let refused_sources: BTreeSet<&str> = refused.iter().map(|r| r.0.as_str()).collect();
    println!(
        "acknowledged {}, refused {}, items {}; the queue drained {:?} after the disk grew",
        acknowledged.len(),
        refused.len(),
        items.len(),
        grown.elapsed()
    );
    for (id, source) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(&1),
            "acknowledged message {id} ({source}) is not stored exactly once"
        );
    }
    for item in &items {
        let id = item["message_id"].as_str().unwrap();
        let source = item["original_data"]["data_source"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            acknowledged.get(id).map(String::as_str),
            Some(source),
            "item {id} ({source}) was never acknowledged"
        );
        assert!(
            !refused_sources.contains(source),
            "refused send {source} was stored anyway"
        );
        assert_eq!(
            item["original_data"]["padding"].as_str().map(str::len),
            Some(PADDING),
            "item {id} ({source}) does not hold the whole body"
        );
    }
    assert_eq!(stored.len(), acknowledged.len());
    assert_eq!(
        queue_depth(&stack.endpoint, DLQ),
        (0, 0),
        "valid messages ended in the dead-letter queue"
    );

    // How the executions ended (a TIMED_OUT one is an execution the full disk left stuck).
    let mut ended: BTreeMap<String, usize> = BTreeMap::new();
    for line in stack
        .cli_ok(&["executions", "--limit", "10000"])
        .lines()
        .skip(1)
    {
        let status = line.split_whitespace().next().unwrap_or_default();
        *ended.entry(status.to_owned()).or_default() += 1;
    }
    println!("executions: {ended:?}");

    let (status, _, stderr) = stack.stop("TERM");
    assert!(status.success(), "exit {status}:\n{stderr}");
    drop(mount);
}
