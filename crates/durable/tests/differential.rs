//! Differential test: the same handler run on the service and on the SDK's own `LocalRunner`
//! (feature `test-util`) gives the same result and the same operations (ids, types, sub-types,
//! names, statuses, results).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use common::harness;
use durable::builders::wait_for_condition::WaitDecision;
use durable::test_util::LocalRunner;
use durable::{BoxError, Branch, DurableContext, RetryDecision};
use durapipe_durable::ExecStatus;
use serde_json::{json, Value};

async fn kitchen(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let x = event["x"].as_i64().unwrap_or(0);
    let a = ctx
        .step(move |_| async move { Ok(x * 2) })
        .name("double")
        .await?;
    let flaky = ctx
        .step(|s| async move {
            if s.attempt() < 2 {
                return Err::<u32, BoxError>("transient".into());
            }
            Ok(s.attempt())
        })
        .name("flaky")
        .retry_strategy(|_, attempt| {
            if attempt >= 3 {
                RetryDecision::Stop
            } else {
                RetryDecision::Retry {
                    delay: Duration::from_secs(1),
                }
            }
        })
        .await?;
    ctx.wait(Duration::from_secs(1)).name("pause").await?;
    let greeting = ctx
        .run_in_child_context(|c| async move {
            let n = c
                .step(|_| async { Ok("world".to_owned()) })
                .name("name")
                .await?;
            Ok(format!("hello {n}"))
        })
        .name("greet")
        .await?;
    let mapped: Vec<u32> = ctx
        .map(vec![1u32, 2, 3], |c, item, _| async move {
            Ok(c.step(move |_| async move { Ok(item * 10) })
                .name("times-ten")
                .await?)
        })
        .name("map")
        .max_concurrency(1)
        .await?;
    let branches: Vec<Branch<u32>> = vec![
        Branch::new("one", |c| async move {
            Ok(c.step(|_| async { Ok(1u32) }).name("b1").await?)
        }),
        Branch::new("two", |c| async move {
            Ok(c.step(|_| async { Ok(2u32) }).name("b2").await?)
        }),
    ];
    let par: Vec<u32> = ctx
        .parallel(branches)
        .name("par")
        .max_concurrency(1)
        .await?;
    let polled = ctx
        .wait_for_condition(|_c, s: i32| async move { Ok(s + 1) }, 0)
        .wait_strategy_fn(|s: i32, _| {
            if s >= 2 {
                WaitDecision::complete()
            } else {
                WaitDecision::continue_with(Duration::from_secs(1))
            }
        })
        .name("poll")
        .await?;
    let failed = ctx
        .step(|_| async { Err::<u32, BoxError>("nope".into()) })
        .name("fails")
        .retry_strategy(|_, _| RetryDecision::Stop)
        .await
        .is_err();
    Ok(
        json!({ "a": a, "flaky": flaky, "greeting": greeting, "mapped": mapped, "par": par, "polled": polled, "failed": failed }),
    )
}

/// (id, type, sub-type, name, status, result), normalised.
type OpKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

fn norm(s: &str) -> String {
    s.replace('_', "").to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_matches_local_runner() {
    let local = LocalRunner::new().run(kitchen, json!({"x": 4})).await;
    assert!(local.is_success(), "{:?}", local.error_message());
    let local_out: Value = local.output().cloned().unwrap();
    let mut local_ops: Vec<OpKey> = local
        .operations()
        .iter()
        .filter(|o| norm(o.op_type()) != "execution")
        .map(|o| {
            (
                o.id().to_owned(),
                norm(o.op_type()),
                o.sub_type().map(norm),
                o.name().map(str::to_owned),
                norm(o.status()),
                o.result().map(str::to_owned),
            )
        })
        .collect();

    let h = harness().await;
    h.durable("kitchen", kitchen);
    let (arn, o) = h.run("kitchen", json!({"x": 4})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    let out: Value = serde_json::from_str(o.result.as_deref().unwrap()).unwrap();
    assert_eq!(out, local_out);

    let ops = h.svc.operations(&arn).await.unwrap();
    let mut ours: Vec<OpKey> = ops
        .iter()
        .filter(|o| o["Type"] != "EXECUTION")
        .map(|o| {
            let details = [
                "StepDetails",
                "ContextDetails",
                "CallbackDetails",
                "ChainedInvokeDetails",
            ]
            .iter()
            .find_map(|k| o.get(*k));
            (
                o["Id"].as_str().unwrap().to_owned(),
                norm(o["Type"].as_str().unwrap()),
                o["SubType"].as_str().map(norm),
                o["Name"].as_str().map(str::to_owned),
                norm(o["Status"].as_str().unwrap()),
                details
                    .and_then(|d| d["Result"].as_str())
                    .map(str::to_owned),
            )
        })
        .collect();
    local_ops.sort();
    ours.sort();
    assert_eq!(
        ours.len(),
        local_ops.len(),
        "ours: {ours:#?}\nlocal: {local_ops:#?}"
    );
    for (a, b) in ours.iter().zip(&local_ops) {
        assert_eq!(a, b);
    }
}
