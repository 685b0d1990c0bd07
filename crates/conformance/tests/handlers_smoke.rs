//! Every handler installs; the handlers that need neither a long timer nor a callback (or only
//! a plain success/failure callback) reach the end state their requirement expects, on a
//! service with the real clock. The requirement files themselves are checked by the
//! conformance runner; this test guards the handlers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use durapipe_conformance::handlers;
use durapipe_conformance::host::Host;
use durapipe_durable::{Config, DurableService, ExecStatus, SystemClock};
use durapipe_sqlite::{Database, Options};
use serde_json::{json, Value};

/// What the external system does once the callback exists.
#[derive(Clone, Copy)]
enum Action {
    None,
    Succeed(&'static str),
    Fail,
}

/// One run: id, input, callback action, expected status and (when given) result.
struct Case {
    id: &'static str,
    input: Value,
    action: Action,
    status: ExecStatus,
    result: Option<Value>,
}

fn ok(id: &'static str, input: Value, result: Value) -> Case {
    Case {
        id,
        input,
        action: Action::None,
        status: ExecStatus::Succeeded,
        result: Some(result),
    }
}

/// [`ok`] for a requirement that returns its input unchanged.
fn echoes(id: &'static str, input: Value) -> Case {
    ok(id, input.clone(), input)
}

/// [`ok`] for a requirement that returns the `key` member of its (object) input.
fn returns_member(id: &'static str, input: Value, key: &str) -> Case {
    let result = input[key].clone();
    ok(id, input, result)
}

/// [`ok`] for a requirement run without input (`null`).
fn no_input(id: &'static str, result: Value) -> Case {
    ok(id, Value::Null, result)
}

fn ends(id: &'static str, input: Value, status: ExecStatus) -> Case {
    Case {
        id,
        input,
        action: Action::None,
        status,
        result: None,
    }
}

fn with(mut c: Case, action: Action) -> Case {
    c.action = action;
    c
}

fn function_name(id: &str) -> String {
    id.replace('/', "_")
}

fn cases() -> Vec<Case> {
    use ExecStatus::{Failed, Succeeded};
    const EXCEEDED: &str = "FAILURE_TOLERANCE_EXCEEDED";
    const ALL_COMPLETED: &str = "ALL_COMPLETED";
    let projection = |reason: &str, status: &str, s: u32, f: u32, t: u32| {
        json!({"completionReason": reason, "status": status, "successCount": s,
               "failureCount": f, "totalCount": t})
    };
    let short = |reason: &str, s: u32, f: u32, t: u32| json!({"completionReason": reason, "successCount": s, "failureCount": f, "totalCount": t});
    vec![
        ok("step/1-1", json!("World"), json!("Hello, World!")),
        ok("step/1-2", json!("World"), json!("Hello, World!")),
        no_input("step/1-3", json!("first_second")),
        ok(
            "step/1-4",
            json!({"name": "Alice", "tags": ["admin", "active"]}),
            json!({"user": {"name": "Alice", "tags": ["admin", "active"]}, "count": 2}),
        ),
        no_input("step/1-5", Value::Null),
        ok("step/1-6", json!("hello world"), json!("HELLO WORLD")),
        no_input("step/1-8", json!("computed")),
        ends("step/1-10", Value::Null, Succeeded),
        no_input("step/1-11", json!("Operation succeeded")),
        ends("step/1-12", Value::Null, Failed),
        ends("step/1-15", Value::Null, Succeeded),
        ends("step/1-16", Value::Null, Failed),
        ends("step/1-19", Value::Null, Failed),
        no_input("step/1-20", json!("fallback_result")),
        ends("step/1-17", json!("crash17"), Failed),
        ok(
            "step/1-18",
            json!("crash18"),
            json!("succeeded on second attempt"),
        ),
        echoes("child/3-12", json!("crash12")),
        ends("wait/2-1", Value::Null, Succeeded),
        no_input("wait/2-3", json!({"completedWaits": 2})),
        with(
            ends("callback/4-1", json!("cb-a"), Succeeded),
            Action::Succeed("\"payload\""),
        ),
        ends("callback/4-3", json!("cb-b"), Failed),
        with(ends("callback/4-6", json!("cb-c"), Failed), Action::Fail),
        ends("callback/4-8", json!("cb-d"), Failed),
        with(
            ok(
                "callback/4-16",
                json!("cb-e"),
                json!({"count": 42, "doubled": 84}),
            ),
            Action::Succeed("42"),
        ),
        with(
            ok(
                "callback/4-15",
                json!("cb-f"),
                json!({"received": {"id": "i1", "message": "hello", "timestamp": 1_767_225_600}}),
            ),
            Action::Succeed(
                r#"{"id":"i1","message":"hello","timestamp":"2026-01-01T00:00:00.000Z"}"#,
            ),
        ),
        with(
            ok("wait_for_callback/7-6", json!("op"), json!("recovered")),
            Action::Fail,
        ),
        ends("wait_for_callback/7-7", json!("op"), Failed),
        with(
            ok("wait_for_callback/7-11", json!("op"), json!("approved")),
            Action::Succeed(r#"{"status": "approved"}"#),
        ),
        ok(
            "wait_for_callback/7-14",
            json!("op"),
            json!("timed-out-handled"),
        ),
        echoes("wait_for_condition/6-1", json!(3)),
        echoes("wait_for_condition/6-2", json!(5)),
        echoes("wait_for_condition/6-4", json!(8)),
        echoes("wait_for_condition/6-5", json!(3)),
        ends("wait_for_condition/6-6", json!(0), Failed),
        ends("wait_for_condition/6-7", Value::Null, Failed),
        no_input("wait_for_condition/6-8", json!("recovered")),
        no_input(
            "wait_for_condition/6-9",
            json!({"status": "DONE", "attempts": 2}),
        ),
        no_input("wait_for_condition/6-10", Value::Null),
        no_input("wait_for_condition/6-11", json!("xx")),
        ok("wait_for_condition/6-12", json!(2), json!(20)),
        no_input("wait_for_condition/6-13", json!(4)),
        echoes("child/3-1", json!("in1")),
        returns_member("child/3-2", json!({"name": "n1", "value": "v1"}), "value"),
        ends("child/3-4", Value::Null, Failed),
        echoes("child/3-5", json!("in5")),
        echoes("child/3-6", json!("in6")),
        echoes("child/3-7", json!("in7")),
        ends("child/3-8", Value::Null, Failed),
        ends("child/3-11", json!("in11"), Succeeded),
        echoes("child/3-13", json!("in13")),
        ok("child/3-14", json!("hello child"), json!("HELLO CHILD")),
        ends("child/3-15", Value::Null, Failed),
        no_input("child/3-16", Value::Null),
        echoes("child/3-18", json!("in18")),
        echoes("invoke/5-1", json!("echo")),
        returns_member(
            "invoke/5-2",
            json!({"name": "nm", "payload": "p"}),
            "payload",
        ),
        ends("invoke/5-5", Value::Null, Failed),
        no_input("invoke/5-6", json!("fallback")),
        ends("invoke/5-7", Value::Null, Succeeded),
        returns_member(
            "invoke/5-8",
            json!({"tenantId": "t1", "payload": "p"}),
            "payload",
        ),
        no_input("invoke/5-10", json!({"caught": true})),
        ends("invoke/5-14", Value::Null, Succeeded),
        ok("invoke/5-16", json!("hello"), json!("\"HELLO\"")),
        ok(
            "map/9-1",
            json!(["World", "Kiro"]),
            json!(["Hello, World!", "Hello, Kiro!"]),
        ),
        ok("map/9-2", json!([1, 2]), json!([2, 4])),
        ok("map/9-3", json!([10, 20, 30]), json!([10, 21, 32])),
        echoes("map/9-4", json!([])),
        no_input("map/9-5", projection(EXCEEDED, "FAILED", 1, 1, 2)),
        ends("map/9-6", Value::Null, Failed),
        no_input(
            "map/9-7",
            json!({"completionReason": "MIN_SUCCESSFUL_REACHED", "successCount": 2, "totalCount": 2}),
        ),
        no_input("map/9-8", projection(ALL_COMPLETED, "FAILED", 2, 1, 3)),
        no_input("map/9-9", short(EXCEEDED, 0, 2, 2)),
        no_input("map/9-10", short(EXCEEDED, 0, 2, 2)),
        no_input("map/9-11", json!(["r0", "r1", "r2"])),
        no_input("map/9-12", json!(["fa", "fb"])),
        ok("map/9-13", json!([1, 2]), json!([10, 20])),
        no_input("map/9-14", json!(["X", "Y"])),
        no_input("map/9-15", json!(["r0", "r1"])),
        no_input("map/9-16", json!({"successCount": 4, "totalCount": 4})),
        no_input("map/9-18", projection(ALL_COMPLETED, "FAILED", 1, 1, 2)),
        no_input("map/9-20", json!(["X", "Y"])),
        no_input("parallel/8-1", json!(["task-1", "task-2"])),
        no_input("parallel/8-3", json!(["one", "two"])),
        no_input("parallel/8-4", json!(["hello", 42, {"k": "v"}])),
        no_input("parallel/8-5", json!([])),
        no_input("parallel/8-6", projection(EXCEEDED, "FAILED", 1, 1, 2)),
        ends("parallel/8-7", Value::Null, Failed),
        no_input("parallel/8-10", short(EXCEEDED, 0, 2, 2)),
        no_input("parallel/8-12", json!(["fa", "fb"])),
        no_input("parallel/8-14", json!(["b0", "b1"])),
        no_input("parallel/8-15", json!(["x", "y"])),
        no_input(
            "parallel/8-16",
            projection(ALL_COMPLETED, "FAILED", 0, 3, 3),
        ),
        no_input(
            "parallel/8-17",
            projection(ALL_COMPLETED, "FAILED", 2, 1, 3),
        ),
        no_input("parallel/8-18", short(EXCEEDED, 0, 2, 2)),
        ends("parallel/8-19", Value::Null, Failed),
        no_input(
            "parallel/8-20",
            json!({"hasFailure": true, "successCount": 2, "failureCount": 1, "errorCount": 1}),
        ),
        no_input("parallel/8-21", json!([["i1", "i2"]])),
        no_input(
            "parallel/8-22",
            projection(ALL_COMPLETED, "FAILED", 3, 1, 4),
        ),
    ]
}

/// The id of the execution's first callback, once it is in the history.
async fn callback_id(client: &aws_sdk_lambda::Client, arn: &str) -> String {
    for _ in 0..200 {
        let history = client
            .get_durable_execution_history()
            .durable_execution_arn(arn)
            .send()
            .await
            .unwrap();
        let found = history.events().iter().find_map(|e| {
            e.callback_started_details()
                .map(|d| d.callback_id())
                .map(str::to_owned)
        });
        if let Some(id) = found {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no callback started in {arn}");
}

async fn run(svc: DurableService, client: aws_sdk_lambda::Client, case: Case) -> Option<String> {
    let arn = svc
        .start(&function_name(case.id), &case.input)
        .await
        .unwrap();
    match case.action {
        Action::None => {}
        Action::Succeed(payload) => {
            let id = callback_id(&client, &arn).await;
            client
                .send_durable_execution_callback_success()
                .callback_id(id)
                .result(Blob::new(payload.as_bytes().to_vec()))
                .send()
                .await
                .unwrap();
        }
        Action::Fail => {
            let id = callback_id(&client, &arn).await;
            let error = aws_sdk_lambda::types::ErrorObject::builder()
                .error_type("RejectedError")
                .error_message("not approved")
                .build();
            client
                .send_durable_execution_callback_failure()
                .callback_id(id)
                .error(error)
                .send()
                .await
                .unwrap();
        }
    }
    let o = svc.wait(&arn, Duration::from_secs(60)).await.unwrap();
    if o.status != case.status {
        return Some(format!(
            "{}: status {:?}, want {:?}: {o:?}",
            case.id, o.status, case.status
        ));
    }
    if let Some(want) = case.result {
        let got: Value = o
            .result
            .as_deref()
            .map_or(Value::Null, |r| serde_json::from_str(r).unwrap());
        if got != want {
            return Some(format!("{}: result {got}, want {want}", case.id));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_install_and_reach_their_expected_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("db.sqlite"), &Options::default()).unwrap();
    let mut config = Config {
        execution_timeout: Duration::from_secs(120),
        invocation_timeout: Duration::from_secs(20),
        ..Config::default()
    };
    config.limits.backoff_base_ms = 50;
    config.limits.backoff_max_ms = 200;
    let svc = DurableService::open(db, Arc::new(SystemClock), config)
        .await
        .unwrap();
    let client = svc.in_process_client();
    let host = Host::new(svc.clone(), client.clone());

    let all = handlers::all();
    let ids: HashSet<&str> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), all.len(), "requirement ids are unique");
    assert_eq!(
        all.len(),
        148,
        "every requirement outside `plugin` has a handler"
    );
    for (id, install) in &all {
        install(&host, &function_name(id)).unwrap_or_else(|e| panic!("{id}: {e}"));
    }

    let tasks: Vec<_> = cases()
        .into_iter()
        .map(|c| tokio::spawn(run(svc.clone(), client.clone(), c)))
        .collect();
    let mut failures = Vec::new();
    for t in tasks {
        if let Some(f) = t.await.unwrap() {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
