//! Invocation-level failures (a panicking handler, an envelope error, an invocation past its
//! timeout) are retried with bounded backoff, then the execution fails with a clear error; the
//! service keeps serving throughout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use common::{fast_config, harness_with, result_json};
use durable::DurableContext;
use durapipe_durable::ExecStatus;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_and_timeouts_are_retried_then_fail_clearly() {
    let mut config = fast_config();
    config.invocation_timeout = Duration::from_millis(500);
    config.limits.max_invocation_attempts = 3;
    let h = harness_with(config).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    h.durable("panicky", move |_: Value, _ctx: DurableContext| {
        c.fetch_add(1, Ordering::SeqCst);
        async move {
            if true {
                panic!("handler exploded");
            }
            Ok(0)
        }
    });
    let (arn, o) = h.run("panicky", json!({})).await;
    assert_eq!(o.status, ExecStatus::Failed);
    let e = o.error.unwrap();
    assert_eq!(e.error_type.as_deref(), Some("Runtime.HandlerPanic"));
    assert!(e.error_message.unwrap().contains("handler exploded"));
    assert_eq!(calls.load(Ordering::SeqCst), 3, "bounded retries");
    assert_eq!(h.count(&arn, "InvocationCompleted", None).await, 3);

    h.durable("hangs", |_: Value, _ctx: DurableContext| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(0)
    });
    let (_, o) = h.run("hangs", json!({})).await;
    assert_eq!(o.status, ExecStatus::Failed);
    assert_eq!(
        o.error.unwrap().error_type.as_deref(),
        Some("Sandbox.Timedout")
    );

    // an input the handler cannot deserialize is an invocation error (the SDK returns Err)
    h.durable("typed", |n: u32, _ctx: DurableContext| async move { Ok(n) });
    let (_, o) = h.run("typed", json!({"not": "a number"})).await;
    assert_eq!(o.status, ExecStatus::Failed, "{o:?}");

    // the service still serves
    h.durable(
        "fine",
        |_: Value, _ctx: DurableContext| async move { Ok("ok") },
    );
    let (_, o) = h.run("fine", json!({})).await;
    assert_eq!(result_json(&o), json!("ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_recovers_and_resets_the_budget() {
    let mut config = fast_config();
    config.limits.max_invocation_attempts = 2;
    let h = harness_with(config).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    h.durable("flaky-host", move |_: Value, ctx: DurableContext| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            // invocations 0 and 2 panic; each is followed by a clean one
            if n == 0 || n == 2 {
                panic!("transient {n}");
            }
            ctx.wait(Duration::from_secs(1)).name("w").await?;
            Ok(n)
        }
    });
    let (_, o) = h.run("flaky-host", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!(3));
}
