//! Real SDK handlers run to completion on the service (step, retry, wait, chained invoke, child
//! context), asserting status, result and the history read back through the API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_durable_execution_sdk as durable;
use common::{harness, result_json};
use durable::{DurableContext, RetryDecision};
use durapipe_durable::{ExecStatus, FunctionError};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_succeeds_and_never_reruns_on_replay() {
    let h = harness().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    h.durable("steps", move |event: Value, ctx: DurableContext| {
        let r = r.clone();
        async move {
            let x = event["x"].as_i64().unwrap_or(0);
            let doubled = ctx
                .step(move |_| {
                    let r = r.clone();
                    async move {
                        r.fetch_add(1, Ordering::SeqCst);
                        Ok(x * 2)
                    }
                })
                .name("double")
                .await?;
            // a wait forces a second invocation that replays "double"
            ctx.wait(Duration::from_secs(1)).name("pause").await?;
            Ok(doubled + 1)
        }
    });
    let (arn, o) = h.run("steps", json!({"x": 5})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!(11));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "a completed step ran again");
    let types = h.event_types(&arn).await;
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "StepStarted",
            "StepSucceeded",
            "WaitStarted",
            "InvocationCompleted",
            "WaitSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(h.count(&arn, "StepSucceeded", Some("double")).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_step_fails_the_execution_with_its_error() {
    let h = harness().await;
    h.durable("failer", |_: Value, ctx: DurableContext| async move {
        let v: u32 = ctx
            .step(|_| async { Err::<u32, durable::BoxError>("boom".into()) })
            .name("explode")
            .retry_strategy(|_, _| RetryDecision::Stop)
            .await?;
        Ok(v)
    });
    let (arn, o) = h.run("failer", json!({})).await;
    assert_eq!(o.status, ExecStatus::Failed);
    let msg = o.error.unwrap().error_message.unwrap();
    assert!(msg.contains("boom"), "{msg}");
    assert_eq!(h.count(&arn, "StepFailed", Some("explode")).await, 1);
    assert_eq!(h.count(&arn, "ExecutionFailed", None).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_retry_honours_its_delay() {
    let h = harness().await;
    h.durable("flaky", |_: Value, ctx: DurableContext| async move {
        let v = ctx
            .step(|s| async move {
                if s.attempt() < 3 {
                    return Err::<u32, durable::BoxError>(
                        format!("attempt {}", s.attempt()).into(),
                    );
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
        Ok(v)
    });
    let started = Instant::now();
    let (arn, o) = h.run("flaky", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!(3));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "retry delays not honoured"
    );
    // two failed attempts (RETRY with error) then a success
    assert_eq!(h.count(&arn, "StepFailed", Some("flaky")).await, 2);
    assert_eq!(h.count(&arn, "StepSucceeded", Some("flaky")).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chained_invokes_of_plain_and_durable_functions() {
    let h = harness().await;
    h.plain("upper", |v: Value| async move {
        let s = v["s"].as_str().unwrap_or_default().to_uppercase();
        Ok(json!({ "s": s }))
    });
    h.plain("reject", |_: Value| async move {
        Err(FunctionError::new("ValidationError", "bad input"))
    });
    h.durable("doubler", |v: Value, ctx: DurableContext| async move {
        let n = v["n"].as_i64().unwrap_or(0);
        let d = ctx
            .step(move |_| async move { Ok(n * 2) })
            .name("double")
            .await?;
        Ok(json!({ "n": d }))
    });
    h.durable(
        "durable-failer",
        |_: Value, _ctx: DurableContext| async move {
            Err::<Value, durable::BoxError>("child failed".into())
        },
    );
    h.durable("parent", |_: Value, ctx: DurableContext| async move {
        let up: Value = ctx
            .invoke("upper", json!({"s": "abc"}))
            .name("upper")
            .await?;
        let rejected = ctx
            .invoke::<Value, _>("reject", json!({}))
            .name("reject")
            .await
            .map_err(|e| format!("{e:?}"))
            .err();
        let doubled: Value = ctx
            .invoke(
                "arn:aws:lambda:us-east-1:000000000000:function:doubler:$LATEST",
                json!({"n": 21}),
            )
            .name("doubler")
            .await?;
        let child_failed = ctx
            .invoke::<Value, _>("durable-failer", json!({}))
            .name("durable-failer")
            .await
            .map_err(|e| format!("{e:?}"))
            .err();
        let missing = ctx
            .invoke::<Value, _>("no-such-function", json!({}))
            .name("missing")
            .await
            .map_err(|e| format!("{e:?}"))
            .err();
        Ok(json!({
            "up": up, "rejected": rejected, "doubled": doubled,
            "child_failed": child_failed, "missing": missing,
        }))
    });
    let (arn, o) = h.run("parent", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    let r = result_json(&o);
    assert_eq!(r["up"], json!({"s": "ABC"}));
    assert_eq!(r["doubled"], json!({"n": 42}));
    assert!(r["rejected"].as_str().unwrap().contains("bad input"), "{r}");
    assert!(
        r["child_failed"].as_str().unwrap().contains("child failed"),
        "{r}"
    );
    assert!(
        r["missing"].as_str().unwrap().contains("no-such-function"),
        "{r}"
    );
    assert_eq!(
        h.count(&arn, "ChainedInvokeSucceeded", Some("upper")).await,
        1
    );
    assert_eq!(
        h.count(&arn, "ChainedInvokeFailed", Some("reject")).await,
        1
    );
    assert_eq!(
        h.count(&arn, "ChainedInvokeSucceeded", Some("doubler"))
            .await,
        1
    );
    assert_eq!(
        h.count(&arn, "ChainedInvokeFailed", Some("durable-failer"))
            .await,
        1
    );
    assert_eq!(
        h.count(&arn, "ChainedInvokeFailed", Some("missing")).await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_context_and_map() {
    let h = harness().await;
    h.durable("ctx", |_: Value, ctx: DurableContext| async move {
        let greeting = ctx
            .run_in_child_context(|child| async move {
                let name = child
                    .step(|_| async { Ok("world".to_owned()) })
                    .name("fetch-name")
                    .await?;
                Ok(format!("hello, {name}"))
            })
            .name("greet")
            .await?;
        let items = vec![1u32, 2, 3];
        let mapped = ctx
            .map(items, |child, item, idx| async move {
                let out = child
                    .step(move |_| async move { Ok(format!("item-{idx}:{}", item * 10)) })
                    .name("process")
                    .await?;
                Ok(out)
            })
            .name("process-all")
            .max_concurrency(2)
            .await?;
        Ok(json!({ "greeting": greeting, "mapped": mapped }))
    });
    let (arn, o) = h.run("ctx", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(
        result_json(&o),
        json!({"greeting": "hello, world", "mapped": ["item-0:10", "item-1:20", "item-2:30"]})
    );
    assert_eq!(h.count(&arn, "ContextSucceeded", Some("greet")).await, 1);
    assert_eq!(
        h.count(&arn, "ContextSucceeded", Some("process-all")).await,
        1
    );
    assert_eq!(h.count(&arn, "StepSucceeded", Some("process")).await, 3);
    assert_eq!(h.count(&arn, "StepSucceeded", Some("fetch-name")).await, 1);
}
