//! `durapipe up` logs readable text by default and, with
//! `--log-format json`, one CloudWatch-style JSON object per line on stderr: `timestamp`,
//! `level`, `message`, plus the function name, the execution ARN and the request id where a
//! line belongs to a batch, an execution or a function.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{up, wait_until, SEED};
use serde_json::{Map, Value};

const BLANK: &str = r#"{"data_source": "", "processing_type": "standard"}"#;

fn lines_with<'a>(lines: &'a [Map<String, Value>], message: &str) -> Vec<&'a Map<String, Value>> {
    lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message))
        })
        .collect()
}

#[test]
fn json_logs_are_one_cloudwatch_style_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &[
            "--log-format",
            "json",
            "--batching-window",
            "0",
            "--batch-size",
            "1",
        ],
    );
    let good = common::first_line(&stack.cli_ok(&["send", SEED]));
    let bad = common::first_line(&stack.cli_ok(&["send", BLANK]));
    wait_until(
        Duration::from_secs(20),
        "the stored item and the failure",
        || {
            let err = stack.stderr();
            err.contains("\"stored\"") && err.contains("record failed")
        },
    );
    let (status, stdout, stderr) = stack.stop("TERM");
    assert!(status.success());
    assert!(
        stdout.contains("durapipe is up"),
        "the banner stays on stdout"
    );

    let lines: Vec<Map<String, Value>> = stderr
        .lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            _ => panic!("not one JSON object per line: {l:?}"),
        })
        .collect();
    assert!(lines.len() >= 6, "{stderr}");
    for l in &lines {
        let ts = l["timestamp"].as_str().unwrap();
        assert!(
            ts.len() >= 20 && ts.contains('T') && ts.ends_with('Z'),
            "{ts}"
        );
        assert!(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&l["level"].as_str().unwrap()));
        assert!(!l["message"].as_str().unwrap().is_empty(), "{l:?}");
    }

    // Each batch has a request id; the execution it starts names the function and its ARN.
    let invoking = lines_with(&lines, "invoking batch");
    assert_eq!(invoking.len(), 2, "{stderr}");
    for batch in invoking {
        let request_id = batch["requestId"].as_str().unwrap();
        let started: Vec<_> = lines_with(&lines, "execution started")
            .into_iter()
            .filter(|l| l["requestId"] == request_id)
            .collect();
        assert_eq!(started.len(), 1, "no execution for request {request_id}");
        assert_eq!(started[0]["function"], "dev-orchestrator");
        let arn = started[0]["executionArn"].as_str().unwrap();
        assert!(arn.starts_with("arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator"));
        let finished: Vec<_> = lines_with(&lines, "execution succeeded")
            .into_iter()
            .filter(|l| l["executionArn"] == arn && l["requestId"] == request_id)
            .collect();
        assert_eq!(finished.len(), 1, "{stderr}");
    }
    // A stage function's lines name it.
    let stored = lines_with(&lines, "stored");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["function"], "dev-store");
    assert_eq!(
        stored[0]["execution_id"],
        format!("dev-esm-{good}").as_str()
    );
    // The orchestrator's own lines carry the execution and the invocation's request id.
    let failed = lines_with(&lines, "record failed");
    assert!(!failed.is_empty());
    assert_eq!(failed[0]["message_id"], bad.as_str());
    assert_eq!(failed[0]["level"], "WARN");
    assert!(failed[0]["executionArn"]
        .as_str()
        .unwrap()
        .contains(":dev-orchestrator"));
    assert!(failed[0]["requestId"].is_string());
    assert_eq!(lines.last().unwrap()["message"], "stopped");
}

#[test]
fn text_logs_are_readable_lines_without_colour_codes_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), &["--batching-window", "0"]);
    stack.cli_ok(&["send", SEED]);
    wait_until(Duration::from_secs(20), "the stored item", || {
        stack.scan().len() == 1
    });
    let (status, _, stderr) = stack.stop("TERM");
    assert!(status.success());
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI escapes in piped logs: {stderr:?}"
    );
    let started = stderr
        .lines()
        .find(|l| l.contains("event source mapping started"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(started.contains(" INFO "), "{started}");
    assert!(serde_json::from_str::<Value>(started).is_err());
    assert!(stderr.lines().any(|l| l.contains("execution started")
        && l.contains("function=dev-orchestrator")
        && l.contains("executionArn=arn:aws:lambda")));
    assert!(stderr.lines().any(|l| l.contains("stopped")));
}
