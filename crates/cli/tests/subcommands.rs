//! The client subcommands against a running `durapipe up` (`send` with a body and with a
//! JSONL `--file`, `scan`, `executions`, `history`, `dlq list`, `dlq redrive`), every `--help`,
//! clear errors (never a panic) for bad flags, and a smoke check of the stack's port: `GET /health`
//! and an unknown `X-Amz-Target` (the endpoints' error codes are pinned in
//! crates/local/tests/errors.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{aws_json, jsonl, up, valid_bodies, wait_until, BIN, SEED};
use serde_json::{json, Value};

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("DURAPIPE_ENDPOINT")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A command that must fail with exit code `code` and a message containing `expect`, no panic.
fn fails(args: &[&str], code: i32, expect: &str) {
    let started = Instant::now();
    let (status, stdout, stderr) = run(args);
    assert_eq!(status, Some(code), "durapipe {args:?}: {stdout}\n{stderr}");
    assert!(
        stderr.contains(expect),
        "durapipe {args:?}: expected {expect:?} in {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "durapipe {args:?} panicked: {stderr}"
    );
    assert!(!stdout.contains("durapipe is up"), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "durapipe {args:?} hung"
    );
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["up", "--help"],
        &["send", "--help"],
        &["scan", "--help"],
        &["executions", "--help"],
        &["history", "--help"],
        &["dlq", "--help"],
        &["dlq", "list", "--help"],
        &["dlq", "redrive", "--help"],
    ] {
        let (status, stdout, stderr) = run(args);
        assert_eq!(status, Some(0), "durapipe {args:?}: {stderr}");
        assert!(
            stdout.contains("Usage: durapipe"),
            "durapipe {args:?}: {stdout}"
        );
    }
    let (_, top, _) = run(&["--help"]);
    for command in ["up", "send", "scan", "executions", "history", "dlq"] {
        assert!(
            top.lines().any(|l| l.trim_start().starts_with(command)),
            "{top}"
        );
    }
    let (_, send, _) = run(&["send", "--help"]);
    assert!(
        send.contains("--file") && send.contains("--endpoint"),
        "{send}"
    );
}

#[test]
fn bad_flags_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let up = |extra: &[&'static str]| -> Vec<String> {
        let mut args = vec!["up", "--listen", "127.0.0.1:0", "--data-dir", data];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect()
    };
    let check = |extra: &[&'static str], code: i32, expect: &str| {
        let args = up(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, code, expect);
    };
    check(
        &["--batch-size", "0"],
        1,
        "--batch-size must be 1-10, got 0",
    );
    check(&["--batch-size", "11"], 1, "--batch-size must be 1-10");
    check(
        &["--environment", "a b"],
        1,
        "--environment must be 1-20 letters",
    );
    check(
        &["--max-receive-count", "0"],
        1,
        "--max-receive-count must be 1-1000",
    );
    check(
        &["--execution-timeout", "901"],
        1,
        "--execution-timeout must be 1-900",
    );
    check(
        &["--visibility-timeout", "43201"],
        1,
        "--visibility-timeout",
    );
    check(&["--batching-window", "301"], 1, "--batching-window");
    check(&["--concurrency", "0"], 1, "--concurrency");
    check(
        &["--batch-size", "five"],
        2,
        "invalid value 'five' for '--batch-size",
    );
    check(
        &["--durability", "maybe"],
        2,
        "expected full, normal or off",
    );
    check(&["--log-format", "xml"], 2, "--log-format");
    check(
        &["--execution-retention", "0"],
        1,
        "--execution-retention must be 1-7776000 seconds",
    );
    check(
        &["--execution-retention", "7776001"],
        1,
        "--execution-retention must be 1-7776000 seconds",
    );
    check(
        &["--sdk-transport", "pigeon"],
        2,
        "expected in-process or loopback",
    );
    fails(&["up", "--listen", "nowhere"], 2, "--listen");
    // Validation runs before anything is created.
    assert!(!dir.path().join("data").exists());

    fails(
        &["scan", "--endpoint", "ftp://x"],
        1,
        "--endpoint must be an http:// or https:// URL",
    );
    fails(
        &["send", "--endpoint", "ftp://x", "{}"],
        1,
        "--endpoint must be",
    );
    fails(&["send"], 2, "<BODY>");
    fails(
        &["send", "{}", "--file", "x.jsonl"],
        2,
        "cannot be used with",
    );
    fails(&["history"], 2, "<ARN>");
    fails(&["dlq"], 2, "Usage");
    fails(&["nonsense"], 2, "unrecognized subcommand");
    // No stack there: a clear error, quickly.
    fails(
        &["scan", "--endpoint", "http://127.0.0.1:1"],
        1,
        "is the stack running?",
    );
    fails(
        &["send", "--endpoint", "http://127.0.0.1:1", "{}"],
        1,
        "is the stack running?",
    );
}

#[test]
fn subcommands_against_a_running_stack() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &["--batching-window", "0", "--concurrency", "4"],
    );

    // The port: health, and an unknown operation of each JSON service.
    assert_eq!(
        common::http(&stack.endpoint, "GET", "/health", &[], "").map(|r| r.0),
        Some(200)
    );
    for target in [
        "AmazonSQS.Frobnicate",
        "DynamoDB_20120810.Frobnicate",
        "Nope.Nope",
    ] {
        let (status, body) = aws_json(&stack.endpoint, target, &json!({}));
        assert_eq!(status, 400, "{target}: {body}");
        assert!(
            body["__type"]
                .as_str()
                .is_some_and(|t| t.ends_with("UnknownOperationException")),
            "{target}: {body}"
        );
    }

    // send <body> prints the message id; send --file sends every line with a summary.
    let id = common::first_line(&stack.cli_ok(&["send", SEED]));
    assert_eq!(id.len(), 36, "a message id: {id}");
    let file = jsonl(dir.path(), "fifty.jsonl", &valid_bodies("f", 50));
    let sent = stack.cli_ok(&["send", "--file", file.to_str().unwrap()]);
    assert!(sent.contains("sent 50 of 50 messages"), "{sent}");
    let empty = jsonl(dir.path(), "bad.jsonl", &["".into(), "{}".into()]);
    assert!(stack
        .cli_ok(&["send", "-f", empty.to_str().unwrap()])
        .contains("sent 1 of 1"));
    let missing = stack.cli(&["send", "--file", "/no/such/file.jsonl"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open /no/such/file.jsonl"));

    // scan: a JSON array of plain JSON items.
    wait_until(Duration::from_secs(60), "51 items", || {
        stack.scan().len() == 51
    });
    let items = stack.scan();
    let seed = items
        .iter()
        .find(|i| i["execution_id"] == format!("dev-esm-{id}").as_str())
        .unwrap();
    assert_eq!(seed["transformed_data"]["data_source"], "TEST.CSV");
    assert_eq!(
        seed["original_data"],
        serde_json::from_str::<Value>(SEED).unwrap()
    );

    // executions: a header and one line per execution, newest first; --status and --limit.
    // (Items are stored just before their executions end; the `{}` record fails alone, its
    // execution still succeeds.)
    let mut listed = String::new();
    wait_until(
        Duration::from_secs(10),
        "every execution to succeed",
        || {
            listed = stack.cli_ok(&["executions", "--limit", "1000"]);
            listed.lines().skip(1).all(|r| r.starts_with("SUCCEEDED"))
        },
    );
    let rows: Vec<&str> = listed.lines().collect();
    assert!(rows[0].starts_with("STATUS"), "{listed}");
    assert!(rows.len() > 2, "{listed}");
    // Newest first, millisecond timestamps.
    let started: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split_whitespace().nth(1).unwrap())
        .collect();
    assert!(started.windows(2).all(|w| w[0] >= w[1]), "{listed}");
    assert!(
        started.iter().all(|t| t.len() == 24 && t.ends_with('Z')),
        "{listed}"
    );
    let three = stack.cli_ok(&["executions", "--status", "succeeded", "--limit", "3"]);
    assert_eq!(three.lines().count(), 4, "{three}");
    let bad = stack.cli(&["executions", "--status", "sideways"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--status must be one of"));

    // history <arn>: the stages by name.
    let arn = seed["durable_execution_arn"].as_str().unwrap();
    let history = stack.cli_ok(&["history", arn]);
    for stage in ["validate", "transform", "store"] {
        assert!(history.contains(&format!("{stage}-{id}")), "{history}");
    }
    assert!(history.contains("ExecutionSucceeded"), "{history}");
    let unknown = stack.cli(&[
        "history",
        "arn:aws:lambda:us-east-1:000000000000:function:x",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    let unknown_err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        unknown_err.contains("cannot read the history of"),
        "{unknown_err}"
    );
    assert!(!unknown_err.contains("panicked"));

    // dlq list / redrive on an empty DLQ, then with one parked message.
    assert!(stack
        .cli_ok(&["dlq", "list"])
        .contains("0 dead-letter messages"));
    assert!(stack
        .cli_ok(&["dlq", "redrive"])
        .contains("moved 0 messages"));
    common::send_to(
        &stack.endpoint,
        "dev-data-processing-dlq",
        r#"{"data_source": "parked.csv", "processing_type": "standard"}"#,
    );
    let list = stack.cli_ok(&["dlq", "list"]);
    assert!(
        list.contains("parked.csv") && list.contains("1 dead-letter messages"),
        "{list}"
    );
    assert!(stack
        .cli_ok(&["dlq", "redrive"])
        .contains("moved 1 messages"));
    wait_until(Duration::from_secs(20), "the redriven item", || {
        stack.scan().len() == 52
    });

    // Another environment's names do not exist on this stack: a clear error.
    let other = stack.cli(&["scan", "--environment", "prod"]);
    assert_eq!(other.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other.stderr).contains("prod-processed-data"));

    // The listen address in use: a clear error naming it.
    let addr = stack.endpoint.trim_start_matches("http://").to_owned();
    let taken = dir.path().join("other");
    fails(
        &[
            "up",
            "--listen",
            &addr,
            "--data-dir",
            taken.to_str().unwrap(),
        ],
        1,
        &format!("cannot listen on {addr}"),
    );
    let (status, _, _) = stack.stop("TERM");
    assert!(status.success());
}
