//! `durapipe up`'s defaults equal `template.yaml`'s values. The template is
//! parsed as YAML (CloudFormation's `!Sub`/`!GetAtt`/`!Ref` load as tagged values) and compared
//! with `StackConfig::default()`, `template_defaults` and the defaults `durapipe up --help` prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use durapipe_local::stack::{template_defaults as t, StackConfig};
use serde_norway::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn u64_at(v: &Value, path: &[&str]) -> u64 {
    let mut at = v;
    for key in path {
        at = at
            .get(*key)
            .unwrap_or_else(|| panic!("template.yaml has no {}", path.join(".")));
    }
    at.as_u64()
        .unwrap_or_else(|| panic!("{} is not a number: {at:?}", path.join(".")))
}

/// The template's resource whose `Type` is `kind` and whose name `name` matches `pick`.
fn resource<'a>(template: &'a Value, kind: &str, pick: impl Fn(&Value) -> bool) -> &'a Value {
    let resources = template["Resources"].as_mapping().unwrap();
    let found: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some(kind) && pick(r))
        .collect();
    assert_eq!(found.len(), 1, "expected one {kind}");
    found[0]
}

/// The `(flag, default)` pairs `durapipe up --help` prints (`[default: X]`).
fn help_defaults() -> Vec<(String, String)> {
    let out = Command::new(common::BIN)
        .args(["up", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut pairs = Vec::new();
    let mut flag = None;
    for line in help.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("--") {
            flag = rest.split_whitespace().next().map(str::to_owned);
        }
        if let (Some(f), Some(at)) = (&flag, trimmed.find("[default: ")) {
            let value = trimmed[at + 10..].trim_end_matches(']').to_owned();
            pairs.push((f.clone(), value));
        }
    }
    pairs
}

#[test]
fn up_defaults_equal_the_template() {
    let tpl = template();
    assert_eq!(
        tpl["Parameters"]["Environment"]["Default"].as_str(),
        Some("dev")
    );
    let queue = resource(&tpl, "AWS::SQS::Queue", |r| {
        r["Properties"].get("RedrivePolicy").is_some()
    });
    let dlq = resource(&tpl, "AWS::SQS::Queue", |r| {
        r["Properties"].get("RedrivePolicy").is_none()
    });
    let orchestrator = resource(&tpl, "AWS::Serverless::Function", |r| {
        r["Properties"].get("DurableConfig").is_some()
    });
    let events = orchestrator["Properties"]["Events"].as_mapping().unwrap();
    let sqs_event = events
        .values()
        .find(|e| e["Type"].as_str() == Some("SQS"))
        .expect("the orchestrator has an SQS event");

    let from_template = [
        (
            "visibility-timeout",
            u64_at(queue, &["Properties", "VisibilityTimeout"]),
        ),
        (
            "batch-size",
            u64_at(sqs_event, &["Properties", "BatchSize"]),
        ),
        (
            "batching-window",
            u64_at(sqs_event, &["Properties", "MaximumBatchingWindowInSeconds"]),
        ),
        (
            "max-receive-count",
            u64_at(queue, &["Properties", "RedrivePolicy", "maxReceiveCount"]),
        ),
        (
            "execution-timeout",
            u64_at(
                orchestrator,
                &["Properties", "DurableConfig", "ExecutionTimeout"],
            ),
        ),
    ];
    // The template's own numbers, as DESIGN.md states them.
    assert_eq!(
        from_template.map(|(_, v)| v),
        [960, 5, 10, 3, 900],
        "template.yaml changed; update DESIGN.md, template_defaults and this test together"
    );
    assert_eq!(
        u64_at(queue, &["Properties", "MessageRetentionPeriod"]),
        t::RETENTION_SECS
    );
    assert_eq!(
        u64_at(dlq, &["Properties", "MessageRetentionPeriod"]),
        t::RETENTION_SECS
    );

    // template_defaults and StackConfig::default().
    let config = StackConfig::default();
    let ours = [
        (
            "visibility-timeout",
            t::VISIBILITY_TIMEOUT_SECS,
            config.visibility_timeout,
        ),
        (
            "batch-size",
            t::BATCH_SIZE as u64,
            Duration::from_secs(config.batch_size as u64),
        ),
        (
            "batching-window",
            t::BATCHING_WINDOW_SECS,
            config.batching_window,
        ),
        (
            "max-receive-count",
            u64::from(t::MAX_RECEIVE_COUNT),
            Duration::from_secs(u64::from(config.max_receive_count)),
        ),
        (
            "execution-timeout",
            t::EXECUTION_TIMEOUT_SECS,
            config.execution_timeout,
        ),
    ];
    let help = help_defaults();
    for ((flag, want), (name, constant, default)) in from_template.iter().zip(ours) {
        assert_eq!(*flag, name);
        assert_eq!(constant, *want, "template_defaults for --{flag}");
        assert_eq!(
            default,
            Duration::from_secs(*want),
            "StackConfig::default() for --{flag}"
        );
        let printed = help.iter().find(|(f, _)| f == flag).unwrap_or_else(|| {
            panic!("`durapipe up --help` shows no default for --{flag}: {help:?}")
        });
        assert_eq!(
            printed.1,
            want.to_string(),
            "`durapipe up --help` default of --{flag}"
        );
    }
    let env = help.iter().find(|(f, _)| f == "environment").unwrap();
    assert_eq!(env.1, "dev");
    assert_eq!(config.environment, "dev");
}
