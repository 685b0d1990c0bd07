//! `durapipe up` stops cleanly on SIGTERM and on SIGINT (Ctrl-C), idle or
//! with messages in flight, and exits 0; started again on the same `--data-dir`, the queue, the
//! executions and the table are all there and unfinished work continues, so every message sent
//! before the shutdown ends up stored exactly once (also after `kill -9`). A second `durapipe up`
//! on a data directory in use fails at once, naming the directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{jsonl, queue_depth, up, valid_bodies, wait_until, SEED};

const QUEUE: &str = "dev-data-processing-queue";

fn executions(stack: &common::Up) -> Vec<String> {
    stack
        .cli_ok(&["executions", "--limit", "1000"])
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

fn stored_sources(stack: &common::Up) -> Vec<String> {
    stack
        .scan()
        .iter()
        .map(|i| i["data_source"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn idle_sigterm_and_sigint_exit_zero_and_everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stack = up(&data, &["--batching-window", "0"]);
    let id = common::first_line(&stack.cli_ok(&["send", SEED]));
    wait_until(Duration::from_secs(20), "the seed item", || {
        stack.scan().len() == 1
    });
    // The item is stored before the execution ends: wait for it to finish.
    let mut before = Vec::new();
    wait_until(Duration::from_secs(10), "the execution to succeed", || {
        before = executions(&stack);
        before.len() == 1 && before[0].starts_with("SUCCEEDED")
    });
    // Something left on the DLQ, to see it survive too.
    common::send_to(&stack.endpoint, "dev-data-processing-dlq", "parked");
    let (status, _, stderr) = stack.stop("TERM");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");

    let stack = up(&data, &["--batching-window", "0"]);
    let items = stack.scan();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["execution_id"], format!("dev-esm-{id}").as_str());
    assert_eq!(items[0]["transformed_data"]["data_source"], "TEST.CSV");
    assert_eq!(executions(&stack), before, "the executions survive");
    let arn = before[0].split_whitespace().last().unwrap();
    assert!(stack
        .cli_ok(&["history", arn])
        .contains(&format!("store-{id}")));
    assert_eq!(
        queue_depth(&stack.endpoint, "dev-data-processing-dlq"),
        (1, 0)
    );
    // The queue still works after the restart.
    stack.cli_ok(&[
        "send",
        r#"{"data_source": "after.csv", "processing_type": "standard"}"#,
    ]);
    wait_until(Duration::from_secs(20), "the second item", || {
        stack.scan().len() == 2
    });
    let (status, _, stderr) = stack.stop("INT");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
}

/// Sends 40 messages, signals the stack once some are stored (others still queued or in flight),
/// restarts it on the same directory and waits for all 40 to be stored, each once.
fn in_flight(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // kill -9 leaves received messages hidden for the visibility timeout: keep it short.
    let args = [
        "--batching-window",
        "0",
        "--batch-size",
        "2",
        "--concurrency",
        "2",
        "--visibility-timeout",
        "3",
    ];
    let stack = up(&data, &args);
    let bodies = valid_bodies(signal, 40);
    let file = jsonl(dir.path(), "load.jsonl", &bodies);
    stack.cli_ok(&["send", "--file", file.to_str().unwrap()]);
    wait_until(Duration::from_secs(20), "the first items", || {
        !stack.scan().is_empty()
    });
    let stored_before = stack.scan().len();
    let started = Instant::now();
    let (status, _, stderr) = stack.stop(signal);
    if signal == "KILL" {
        assert_eq!(status.code(), None, "killed by the signal");
    } else {
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "shutdown took {:?}",
            started.elapsed()
        );
    }

    let stack = up(&data, &args);
    let after_restart = stack.scan().len();
    assert!(
        after_restart >= stored_before,
        "items lost over the restart"
    );
    wait_until(Duration::from_secs(60), "all 40 items", || {
        stack.scan().len() >= 40
    });
    std::thread::sleep(Duration::from_millis(500));
    let sources = stored_sources(&stack);
    assert_eq!(sources.len(), 40, "each message stored exactly once");
    let want: BTreeSet<String> = (0..40).map(|i| format!("{signal}-{i}.csv")).collect();
    assert_eq!(sources.into_iter().collect::<BTreeSet<_>>(), want);
    wait_until(Duration::from_secs(10), "an empty queue", || {
        queue_depth(&stack.endpoint, QUEUE) == (0, 0)
    });
    // Every execution of either run finished successfully.
    let listed = stack.cli_ok(&["executions", "--limit", "1000"]);
    assert!(
        listed.lines().skip(1).all(|l| l.starts_with("SUCCEEDED")),
        "{listed}"
    );
    eprintln!(
        "{signal}: {stored_before} stored before the signal, {after_restart} right after the restart"
    );
    let (status, _, _) = stack.stop("TERM");
    assert!(status.success());
}

#[test]
fn sigterm_with_messages_in_flight_then_restart_stores_each_once() {
    in_flight("TERM");
}

#[test]
fn sigint_with_messages_in_flight_then_restart_stores_each_once() {
    in_flight("INT");
}

#[test]
fn kill_9_with_messages_in_flight_then_restart_stores_each_once() {
    in_flight("KILL");
}

#[test]
fn a_second_up_on_a_data_dir_in_use_fails_at_once_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = up(&data, &[]);
    let started = Instant::now();
    let (mut second, stdout, stderr) = common::spawn_up(&data, &[]);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the second durapipe up did not fail"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    let (stdout, stderr) = (
        stdout.lock().unwrap().clone(),
        stderr.lock().unwrap().clone(),
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains("durapipe is up"), "{stdout}");
    assert!(stderr.contains(&data.display().to_string()), "{stderr}");
    assert!(stderr.contains("in use by another durapipe"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The first one is unaffected.
    assert_eq!(
        common::http(&first.endpoint, "GET", "/health", &[], "").map(|r| r.0),
        Some(200)
    );
    let (status, _, _) = first.stop("TERM");
    assert!(status.success());
}
