//! Real SDK handlers on the service: with_retry, parallel, the combinators, wait_for_condition,
//! callbacks completed through the callback HTTP APIs (success, failure, timeout, heartbeat
//! timeout) and stop; each asserting status, result and history.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use common::{harness, result_json};
use durable::builders::wait_for_condition::WaitDecision;
use durable::{Branch, DurableContext, RetryDecision, Settled};
use durapipe_durable::ExecStatus;
use serde_json::{json, Value};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_retry_retries_the_block_as_a_unit() {
    let h = harness().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    h.durable("retry-block", move |_: Value, ctx: DurableContext| {
        let a = a.clone();
        async move {
            let v = ctx
                .with_retry(move |child| {
                    let a = a.clone();
                    async move {
                        let n = child
                            .step(move |_| {
                                let a = a.clone();
                                async move { Ok(a.fetch_add(1, Ordering::SeqCst) + 1) }
                            })
                            .name("count")
                            .await?;
                        if n < 2 {
                            return Err::<usize, durable::BoxError>("not yet".into());
                        }
                        Ok(n)
                    }
                })
                .name("block")
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
        }
    });
    let (arn, o) = h.run("retry-block", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!(2));
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(h.count(&arn, "StepSucceeded", Some("count")).await, 2);
    assert_eq!(h.count(&arn, "ContextSucceeded", Some("block")).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_branches_and_combinators() {
    let h = harness().await;
    h.durable("fan", |_: Value, ctx: DurableContext| async move {
        let branches: Vec<Branch<u32>> = vec![
            Branch::new("double", |child| async move {
                let base = child.step(|_| async { Ok(21u32) }).name("compute").await?;
                Ok(base * 2)
            }),
            Branch::new("wait-then-value", |child| async move {
                child.wait(Duration::from_secs(1)).name("cooldown").await?;
                Ok(100u32)
            }),
        ];
        let par = ctx.parallel(branches).name("fan-out").await?;
        let a = ctx.step(|_| async { Ok(1u32) }).name("a").future();
        let b = ctx.step(|_| async { Ok(2u32) }).name("b").future();
        let all: Vec<u32> = ctx.try_join_all([a, b]).name("gather").await?;
        let good = ctx.step(|_| async { Ok(1u32) }).name("good").future();
        let bad = ctx
            .step(|_| async { Err::<u32, durable::BoxError>("boom".into()) })
            .name("bad")
            .retry_strategy(|_, _| RetryDecision::Stop)
            .future();
        let settled = ctx.join_all([good, bad]).name("collect").await?;
        let settled: Vec<bool> = settled
            .iter()
            .map(|s| matches!(s, Settled::Fulfilled(_)))
            .collect();
        let primary = ctx
            .step(|_| async { Err::<u32, durable::BoxError>("unavailable".into()) })
            .name("primary")
            .retry_strategy(|_, _| RetryDecision::Stop)
            .future();
        let fallback = ctx.step(|_| async { Ok(42u32) }).name("fallback").future();
        let winner: u32 = ctx.select_ok([primary, fallback]).name("first-ok").await?;
        let first = ctx
            .step(|_| async { Ok("first".to_owned()) })
            .name("first")
            .future();
        let second = ctx
            .step(|_| async { Ok("second".to_owned()) })
            .name("second")
            .future();
        let raced: String = ctx.race([first, second]).name("fastest").await?;
        Ok(json!({ "par": par, "all": all, "settled": settled, "winner": winner, "raced": raced }))
    });
    let (arn, o) = h.run("fan", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    let r = result_json(&o);
    assert_eq!(r["par"], json!([42, 100]));
    assert_eq!(r["all"], json!([1, 2]));
    assert_eq!(r["settled"], json!([true, false]));
    assert_eq!(r["winner"], json!(42));
    assert!(r["raced"] == json!("first") || r["raced"] == json!("second"));
    for name in ["fan-out", "gather", "collect", "first-ok", "fastest"] {
        assert_eq!(
            h.count(&arn, "ContextSucceeded", Some(name)).await,
            1,
            "{name}"
        );
    }
    assert_eq!(h.count(&arn, "WaitSucceeded", Some("cooldown")).await, 1);
    assert_eq!(h.count(&arn, "StepFailed", Some("bad")).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_condition_polls_with_carried_state() {
    let h = harness().await;
    h.durable("poll", |_: Value, ctx: DurableContext| async move {
        let n = ctx
            .wait_for_condition(|_ctx, state: i32| async move { Ok(state + 1) }, 0)
            .wait_strategy_fn(|state: i32, _attempt| {
                if state >= 3 {
                    WaitDecision::complete()
                } else {
                    WaitDecision::continue_with(Duration::from_secs(1))
                }
            })
            .name("until-3")
            .await?;
        Ok(n)
    });
    let (arn, o) = h.run("poll", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!(3));
    // two RETRYs carrying state (StepSucceeded with RetryDetails) and the final SUCCEED
    assert_eq!(h.count(&arn, "StepSucceeded", Some("until-3")).await, 3);
}

/// A handler that publishes its callback id on `tx` and returns the callback's outcome.
fn callback_handler(
    tx: mpsc::UnboundedSender<(String, String)>,
    timeout: Option<Duration>,
    heartbeat: Option<Duration>,
) -> impl Fn(
    Value,
    DurableContext,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Value, durable::BoxError>> + Send>,
> + Send
       + Sync
       + 'static {
    move |_: Value, ctx: DurableContext| {
        let tx = tx.clone();
        Box::pin(async move {
            let mut b = ctx.create_callback::<Value>().name("approval");
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            if let Some(hb) = heartbeat {
                b = b.heartbeat(hb);
            }
            let cb = b.await?;
            let _ = tx.send((ctx.execution_arn().to_owned(), cb.id().to_owned()));
            let v = cb.result().await?;
            Ok(json!({ "approved": v }))
        })
    }
}

async fn recv_for(rx: &mut mpsc::UnboundedReceiver<(String, String)>, arn: &str) -> String {
    loop {
        let (a, id) = rx.recv().await.unwrap();
        if a == arn {
            return id;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_complete_through_the_http_apis() {
    let h = harness().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.durable("cb", callback_handler(tx, None, None));

    // success (with a heartbeat first)
    let arn = h.svc.start("cb", &json!({})).await.unwrap();
    let id = recv_for(&mut rx, &arn).await;
    h.client
        .send_durable_execution_callback_heartbeat()
        .callback_id(&id)
        .send()
        .await
        .unwrap();
    h.client
        .send_durable_execution_callback_success()
        .callback_id(&id)
        .result(aws_sdk_lambda::primitives::Blob::new(
            br#"{"by":"alice"}"#.to_vec(),
        ))
        .send()
        .await
        .unwrap();
    let o = h.svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!({"approved": {"by": "alice"}}));
    assert_eq!(
        h.count(&arn, "CallbackSucceeded", Some("approval")).await,
        1
    );
    // completing twice is rejected
    let again = h
        .client
        .send_durable_execution_callback_success()
        .callback_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{again:?}").contains("InvalidParameterValue"),
        "{again:?}"
    );
    // unknown callback id
    let unknown = h
        .client
        .send_durable_execution_callback_success()
        .callback_id("bm9wZQ")
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{unknown:?}").contains("ResourceNotFound"),
        "{unknown:?}"
    );

    // failure
    let arn = h.svc.start("cb", &json!({"n": 2})).await.unwrap();
    let id = recv_for(&mut rx, &arn).await;
    h.client
        .send_durable_execution_callback_failure()
        .callback_id(&id)
        .error(
            aws_sdk_lambda::types::ErrorObject::builder()
                .error_type("Rejected")
                .error_message("no way")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let o = h.svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Failed, "{o:?}");
    assert!(format!("{:?}", o.error).contains("no way"), "{o:?}");
    assert_eq!(h.count(&arn, "CallbackFailed", Some("approval")).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_timeouts_and_heartbeat_timeouts() {
    let h = harness().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    h.durable(
        "cb-timeout",
        callback_handler(tx.clone(), Some(Duration::from_secs(1)), None),
    );
    h.durable(
        "cb-heartbeat",
        callback_handler(
            tx,
            Some(Duration::from_secs(60)),
            Some(Duration::from_secs(1)),
        ),
    );

    let (arn, o) = h.run("cb-timeout", json!({})).await;
    let id = recv_for(&mut rx, &arn).await;
    assert_eq!(o.status, ExecStatus::Failed, "{o:?}");
    assert_eq!(h.count(&arn, "CallbackTimedOut", Some("approval")).await, 1);
    let late = h
        .client
        .send_durable_execution_callback_success()
        .callback_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{late:?}").contains("CallbackTimeout"), "{late:?}");

    let (arn, o) = h.run("cb-heartbeat", json!({})).await;
    assert_eq!(o.status, ExecStatus::Failed, "{o:?}");
    assert_eq!(h.count(&arn, "CallbackTimedOut", Some("approval")).await, 1);
    let out = h
        .client
        .get_durable_execution_history()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    let timed_out = out
        .events()
        .iter()
        .find(|e| e.event_type().map(|t| t.as_str()) == Some("CallbackTimedOut"))
        .unwrap();
    let err = timed_out
        .callback_timed_out_details()
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(
        err.payload().unwrap().error_type(),
        Some("Callback.Heartbeat")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_callback_and_stop() {
    let h = harness().await;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    h.durable("wfc", move |_: Value, ctx: DurableContext| {
        let tx = tx.clone();
        async move {
            let v: String = ctx
                .wait_for_callback::<String, _, _>(move |_s, id| async move {
                    let _ = tx.send(id);
                    Ok(())
                })
                .name("await-approval")
                .await?;
            Ok(v)
        }
    });
    let arn = h.svc.start("wfc", &json!({})).await.unwrap();
    let id = rx.recv().await.unwrap();
    h.client
        .send_durable_execution_callback_success()
        .callback_id(&id)
        .result(aws_sdk_lambda::primitives::Blob::new(br#""yes""#.to_vec()))
        .send()
        .await
        .unwrap();
    let o = h.svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!("yes"));
    assert_eq!(
        h.count(&arn, "ContextSucceeded", Some("await-approval"))
            .await,
        1
    );

    // stop while waiting on a callback
    let arn = h.svc.start("wfc", &json!({"again": true})).await.unwrap();
    let _ = rx.recv().await.unwrap();
    let out = h
        .client
        .stop_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    let stopped_at = out.stop_timestamp();
    let o = h.svc.wait(&arn, Duration::from_secs(5)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Stopped);
    assert_eq!(h.count(&arn, "ExecutionStopped", None).await, 1);
    // stopping again is idempotent and returns the same time
    let again = h
        .client
        .stop_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(again.stop_timestamp(), stopped_at);
}
