//! `durapipe bench` end to end (its JSON keys, the soak's samples CSV, the loopback SDK
//! transport, the backlog limit, the events workload), `/_durapipe/stats`, and
//! `--execution-retention` deleting finished executions from a running stack.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{send_to, up, wait_until, BIN, SEED};
use serde_json::Value;

fn stats(endpoint: &str) -> Value {
    let (status, body) = common::http(endpoint, "GET", "/_durapipe/stats", &[], "").unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Runs `bench` (a `durapipe bench … --json`), which must succeed; returns its report.
fn bench_report(bench: &mut Command) -> Value {
    let out = bench.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap()
}

/// The number `report[k]`.
fn number_in(report: &Value, k: &str) -> f64 {
    report[k]
        .as_f64()
        .unwrap_or_else(|| panic!("{k} missing: {report}"))
}

#[test]
fn the_events_workload_runs_units_through_the_orchestrator() {
    let report = bench_report(Command::new(BIN).args([
        "bench",
        "--workload",
        "events",
        "--concurrency",
        "2",
        "--duration",
        "2",
        "--warmup",
        "2",
        "--json",
    ]));
    assert_eq!(report["workload"], "events", "{report}");
    assert_eq!(report["concurrency"], 2, "{report}");
    // Each unit's batch response named exactly its invalid record (else the bench fails).
    assert!(report["units"].as_u64().unwrap() > 0, "{report}");
    let number = |k: &str| number_in(&report, k);
    assert!(number("records_per_second") > 0.0, "{report}");
    assert!(number("p50_ms") <= number("p99_ms"), "{report}");
    // Every record's three stages checkpoint, and each unit takes several invocations.
    assert!(number("checkpoints_per_record") > 0.0, "{report}");
    assert!(number("invocations_per_unit") >= 2.0, "{report}");

    let refused = Command::new(BIN)
        .args(["bench", "--workload", "events", "--duration", "0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--duration"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn bench_reports_json_and_writes_samples() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("samples.csv");
    let report = bench_report(
        Command::new(BIN)
            .args([
                "bench",
                "--messages",
                "40",
                "--concurrency",
                "2",
                "--batch-size",
                "5",
                "--max-backlog",
                "10",
                "--sdk-transport",
                "loopback",
                "--execution-retention",
                "60",
                "--sample-every",
                "1",
                "--json",
                "--samples",
            ])
            .arg(&csv),
    );
    assert_eq!(report["messages"], 40, "{report}");
    let number = |k: &str| number_in(&report, k);
    assert!(number("messages_per_second") > 0.0, "{report}");
    assert!(number("p50_ms") <= number("p90_ms"), "{report}");
    assert!(number("p90_ms") <= number("p99_ms"), "{report}");
    assert!(number("peak_rss_mb") > 1.0, "{report}");
    assert!(number("checkpoints") > 0.0, "{report}");
    assert!(number("samples") >= 1.0, "{report}");

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "elapsed_s", "{text}");
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len() as f64, number("samples"), "{text}");
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let last = rows.last().unwrap();
    assert_eq!(last[col("sent")], 40.0, "{text}");
    assert!(last[col("rss_mb")] > 1.0, "{text}");
    assert!(last[col("db_mb")] > 0.0, "{text}");
    assert!(last[col("executions_stored")] >= 1.0, "{text}");
}

#[test]
fn bench_rejects_bad_flags() {
    for (args, expect) in [
        (&["bench", "--messages", "0"][..], "--messages"),
        (&["bench", "--sample-every", "0"], "--sample-every"),
        (&["bench", "--sdk-transport", "pigeon"], "--sdk-transport"),
        (&["bench", "--max-backlog", "lots"], "--max-backlog"),
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn finished_executions_are_deleted_after_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &["--batching-window", "0", "--execution-retention", "2"],
    );
    let before = stats(&stack.endpoint);
    for key in ["rss_kb", "peak_rss_kb", "db_bytes"] {
        assert!(
            before[key].as_u64().is_some_and(|v| v > 0),
            "{key}: {before}"
        );
    }
    // CPU time counts in 10 ms ticks: a stack that just started may not have used one yet.
    assert!(before["cpu_ms"].as_u64().is_some(), "cpu_ms: {before}");
    assert_eq!(before["executions_stored"], 0, "{before}");

    send_to(&stack.endpoint, "dev-data-processing-queue", SEED);
    wait_until(Duration::from_secs(30), "the item", || {
        stack.scan().len() == 1
    });
    wait_until(Duration::from_secs(10), "the execution to finish", || {
        stats(&stack.endpoint)["executions_stored"] == 1
    });
    // Kept while its retention lasts...
    let listed = stack.cli_ok(&["executions"]);
    assert!(listed.contains("SUCCEEDED"), "{listed}");
    // ...then deleted by the sweep (every retention / 4, at least 1 s), operations too.
    wait_until(Duration::from_secs(15), "the sweep", || {
        let s = stats(&stack.endpoint);
        s["executions_stored"] == 0 && s["operations_stored"] == 0
    });
    // The item stays: retention is about executions, not the table.
    assert_eq!(stack.scan().len(), 1);
}
