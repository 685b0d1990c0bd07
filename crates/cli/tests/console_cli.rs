//! The console's actions and views from the CLI: `durapipe history --timeline`, `durapipe stop`,
//! `durapipe callback succeed|fail|heartbeat`, the banner's console and time-scale lines and
//! `--no-console`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use aws_durable_execution_sdk::DurableContext;
use common::{http, up, wait_until, BIN, SEED};
use durapipe_durable::{durable_fn, ExecStatus};
use durapipe_local::stack::{Stack, StackConfig};
use serde_json::{json, Value};

#[test]
fn history_timeline_draws_the_seed_s_stages_and_bad_actions_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        dir.path(),
        &["--batching-window", "0", "--time-scale", "100"],
    );
    let banner = stack.stdout();
    assert!(
        banner.contains(&format!("console    {}/", stack.endpoint)),
        "{banner}"
    );
    assert!(banner.contains(&format!("metrics    {}/metrics", stack.endpoint)));
    assert!(
        banner.contains("run 100x faster (--time-scale)"),
        "{banner}"
    );
    let (status, page) = http(&stack.endpoint, "GET", "/", &[], "").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("durapipe console"));

    stack.cli_ok(&["send", SEED]);
    let mut arn = String::new();
    wait_until(Duration::from_secs(60), "a succeeded execution", || {
        let out = stack.cli_ok(&["executions", "--status", "SUCCEEDED"]);
        arn = out
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_default()
            .to_owned();
        !arn.is_empty()
    });
    let timeline = stack.cli_ok(&["history", "--timeline", "--width", "40", &arn]);
    let stage = |name: &str| {
        timeline
            .lines()
            .position(|l| l.trim_start().starts_with(name) && l.contains(" ChainedInvoke "))
            .unwrap_or_else(|| panic!("no {name} invoke line:\n{timeline}"))
    };
    let (v, t, s) = (stage("validate-"), stage("transform-"), stage("store-"));
    assert!(v < t && t < s, "{timeline}");
    let map = timeline
        .lines()
        .find(|l| l.trim_start().starts_with("records "))
        .unwrap_or_else(|| panic!("no map line:\n{timeline}"));
    let indent = |l: &str| l.len() - l.trim_start().len();
    for i in [v, t, s] {
        let line = timeline.lines().nth(i).unwrap();
        assert!(line.contains("Succeeded") && line.contains('#'), "{line}");
        // Nested one level below the map (execution > map > invoke).
        assert_eq!(indent(line), indent(map) + 2, "{line}\n{map}");
    }
    let header = timeline.lines().next().unwrap();
    assert!(
        header.starts_with("OPERATION") && header.contains("timeline"),
        "{header}"
    );

    let unknown = arn.rsplit_once('/').unwrap().0.to_owned() + "/0000";
    for (args, expect) in [
        (vec!["stop", &unknown], "cannot stop"),
        (vec!["callback", "succeed", "bm9wZQ"], "callback bm9wZQ"),
        (vec!["callback", "heartbeat", "bm9wZQ"], "callback bm9wZQ"),
        (
            vec!["callback", "succeed", "bm9wZQ", "not json"],
            "the payload must be JSON",
        ),
        (
            vec!["history", "--timeline", "--width", "5", arn.as_str()],
            "--width",
        ),
    ] {
        let out = stack.cli(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "durapipe {args:?} succeeded");
        assert!(stderr.contains(expect), "durapipe {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    stack.stop("TERM");

    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &["--no-console"]);
    assert!(stack.stdout().contains("console    off (--no-console)"));
    let (status, _) = http(&stack.endpoint, "GET", "/", &[], "").unwrap();
    assert_ne!(status, 200);
    let (status, _) = http(&stack.endpoint, "GET", "/metrics", &[], "").unwrap();
    assert_eq!(status, 200);
    stack.stop("TERM");
}

#[test]
fn the_new_subcommands_have_help() {
    for args in [
        &["stop", "--help"][..],
        &["callback", "--help"],
        &["callback", "succeed", "--help"],
        &["callback", "fail", "--help"],
        &["callback", "heartbeat", "--help"],
        &["history", "--help"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("Usage"),
            "{args:?}: {text}"
        );
    }
    let out = Command::new(BIN).args(["up", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--no-console") && text.contains("--time-scale"),
        "{text}"
    );
}

/// Runs the binary against `endpoint` off the runtime's threads; returns (ok, stdout, stderr).
async fn durapipe(endpoint: &str, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .args(["--endpoint", endpoint])
        .env_remove("DURAPIPE_ENDPOINT");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The open callback's id, once the execution created it.
async fn callback_id(stack: &Stack, arn: &str) -> String {
    for _ in 0..200 {
        let ops = stack.service().operations(arn).await.unwrap();
        if let Some(id) = ops.iter().find_map(|o| {
            o.pointer("/CallbackDetails/CallbackId")
                .and_then(Value::as_str)
        }) {
            return id.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no callback in {arn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_callback_commands_act_on_running_executions() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(StackConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..StackConfig::default()
    })
    .await
    .unwrap();
    let endpoint = stack.info().endpoint.clone();
    let service = stack.service().clone();
    service.register_durable(
        "dev-approval",
        durable_fn(
            |_: Value, ctx: DurableContext| async move {
                let cb = ctx.create_callback::<Value>().name("approval").await?;
                let v = cb.result().await?;
                Ok(json!({ "approved": v }))
            },
            service.in_process_client(),
        )
        .unwrap(),
    );

    let arn = service
        .start("dev-approval", &json!({"n": 1}))
        .await
        .unwrap();
    let id = callback_id(&stack, &arn).await;
    let (ok, out, err) = durapipe(&endpoint, &["callback", "heartbeat", &id]).await;
    assert!(ok && out.contains("heartbeat sent"), "{out}{err}");
    let (ok, out, err) =
        durapipe(&endpoint, &["callback", "succeed", &id, r#"{"ok": true}"#]).await;
    assert!(ok && out.contains("succeeded"), "{out}{err}");
    let o = service.wait(&arn, Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    let result: Value = serde_json::from_str(o.result.as_deref().unwrap()).unwrap();
    assert_eq!(result, json!({ "approved": { "ok": true } }));

    let arn = service
        .start("dev-approval", &json!({"n": 2}))
        .await
        .unwrap();
    let id = callback_id(&stack, &arn).await;
    let (ok, out, err) = durapipe(
        &endpoint,
        &[
            "callback",
            "fail",
            &id,
            "not approved",
            "--error-type",
            "Rejected",
        ],
    )
    .await;
    assert!(ok && out.contains("failed"), "{out}{err}");
    let o = service.wait(&arn, Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Failed, "{o:?}");

    let arn = service
        .start("dev-approval", &json!({"n": 3}))
        .await
        .unwrap();
    callback_id(&stack, &arn).await;
    let (ok, out, err) = durapipe(&endpoint, &["stop", &arn, "--error-message", "by hand"]).await;
    assert!(ok && out.contains("stopped"), "{out}{err}");
    let o = service.outcome(&arn).await.unwrap();
    assert_eq!(o.status, ExecStatus::Stopped, "{o:?}");
    assert_eq!(
        o.error.and_then(|e| e.error_message).as_deref(),
        Some("by hand")
    );
    stack.shutdown(Duration::from_secs(5)).await;
}
