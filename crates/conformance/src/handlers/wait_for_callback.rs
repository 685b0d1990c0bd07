//! The `wait_for_callback` suite.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use serde_json::Value;

use durable::builders::callback::WaitForCallbackBuilder;

use super::{err, retry_up_to, Install, Limits};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("wait_for_callback/7-1", r7_1),
        ("wait_for_callback/7-2", r7_2),
        ("wait_for_callback/7-3", r7_3),
        ("wait_for_callback/7-4", r7_4),
        ("wait_for_callback/7-5", r7_5),
        ("wait_for_callback/7-6", r7_6),
        ("wait_for_callback/7-7", r7_7),
        ("wait_for_callback/7-8", r7_8),
        ("wait_for_callback/7-9", r7_9),
        ("wait_for_callback/7-10", r7_10),
        ("wait_for_callback/7-11", r7_11),
        ("wait_for_callback/7-12", r7_12),
        ("wait_for_callback/7-13", r7_13),
        ("wait_for_callback/7-14", r7_14),
        ("wait_for_callback/7-15", r7_15),
    ]
}

/// A submitter that only hands the callback id over (logs it) and returns.
async fn submit(_: durable::StepContext, callback_id: String) -> Result<(), durable::BoxError> {
    tracing::info!(callback_id, "callback id submitted");
    Ok(())
}

/// A wait-for-callback named `op_name` whose submitter is [`submit`].
fn submitted(
    ctx: &durable::DurableContext,
    op_name: impl Into<String>,
) -> durable::DurableFuture<Value> {
    ctx.wait_for_callback::<Value, _, _>(submit)
        .name(op_name)
        .future()
}

/// Runs one wait-for-callback named after the input (with `limits`) and returns its result.
fn named_by_input(host: &Host, name: &str, limits: Limits) -> anyhow::Result<()> {
    host.durable(
        name,
        move |op_name: String, ctx: durable::DurableContext| async move {
            let op = limits.apply(
                ctx.wait_for_callback::<Value, _, _>(submit).name(op_name),
                WaitForCallbackBuilder::timeout,
                WaitForCallbackBuilder::heartbeat,
            );
            let out = op.await?;
            Ok(out)
        },
    )
}

/// 7.1: one wait-for-callback named by the input; returns the payload.
fn r7_1(host: &Host, name: &str) -> anyhow::Result<()> {
    named_by_input(host, name, Limits::default())
}

/// 7.2: one wait-for-callback named `approval`.
fn r7_2(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = submitted(&ctx, "approval").await?;
        Ok(out)
    })
}

/// 7.3: one wait-for-callback with no name.
fn r7_3(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .wait_for_callback::<Value, _, _>(|_, _| async { Ok(()) })
            .await?;
        Ok(out)
    })
}

/// 7.4: the callback fails; the error escapes.
fn r7_4(host: &Host, name: &str) -> anyhow::Result<()> {
    named_by_input(host, name, Limits::default())
}

/// 7.5: a 3 s timeout elapses; the error escapes.
fn r7_5(host: &Host, name: &str) -> anyhow::Result<()> {
    named_by_input(host, name, Limits::timeout(3))
}

/// 7.6: the callback's failure is caught; returns `recovered`.
fn r7_6(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |op_name: String, ctx: durable::DurableContext| async move {
            let out = submitted(&ctx, op_name).await;
            Ok(match out {
                Ok(v) => v,
                Err(_) => Value::from("recovered"),
            })
        },
    )
}

/// 7.7: the submitter always fails; two attempts, 1 s apart, then the operation fails.
fn r7_7(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |op_name: String, ctx: durable::DurableContext| async move {
            let out = ctx
                .wait_for_callback::<Value, _, _>(|_, _| async { Err(err("submitter failed")) })
                .name(op_name)
                .submitter_retry(retry_up_to(2, 1))
                .await?;
            Ok(out)
        },
    )
}

/// 7.8: the wait-for-callback runs inside a child context named `wrapper`.
fn r7_8(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |op_name: String, ctx: durable::DurableContext| async move {
            let out: Value = ctx
                .run_in_child_context(move |child| async move {
                    let v = submitted(&child, op_name).await?;
                    Ok(v)
                })
                .name("wrapper")
                .await?;
            Ok(out)
        },
    )
}

/// 7.9: two wait-for-callbacks, `first` then `second`; returns the second result.
fn r7_9(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let _first = submitted(&ctx, "first").await?;
        let second = submitted(&ctx, "second").await?;
        Ok(second)
    })
}

/// 7.10: a 1 s wait, a step, then a wait-for-callback named by the input.
fn r7_10(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |op_name: String, ctx: durable::DurableContext| async move {
            ctx.wait(Duration::from_secs(1)).await?;
            let _data: Value = ctx
                .step(|_| async { Ok(serde_json::json!({ "prepared": true })) })
                .await?;
            let out = submitted(&ctx, op_name).await?;
            Ok(out)
        },
    )
}

/// The payload `{"status": ...}` of 7.11.
#[derive(serde::Serialize, serde::Deserialize)]
struct Status {
    status: String,
}

/// 7.11: the payload is read as an object; returns its `status`.
fn r7_11(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |op_name: String, ctx: durable::DurableContext| async move {
            let out = ctx
                .wait_for_callback::<Status, _, _>(submit)
                .name(op_name)
                .await?;
            Ok(out.status)
        },
    )
}

/// 7.12: a 5 s heartbeat timeout elapses with no heartbeat; the error escapes.
fn r7_12(host: &Host, name: &str) -> anyhow::Result<()> {
    named_by_input(host, name, Limits::heartbeat(5))
}

/// 7.13: a 10 s heartbeat timeout, kept alive by a heartbeat, then success.
fn r7_13(host: &Host, name: &str) -> anyhow::Result<()> {
    named_by_input(host, name, Limits::heartbeat(10))
}

/// 7.14: a 3 s timeout elapses and is caught; returns `timed-out-handled`.
fn r7_14(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |op_name: String, ctx: durable::DurableContext| async move {
            let out = ctx
                .wait_for_callback::<Value, _, _>(submit)
                .name(op_name)
                .timeout(Duration::from_secs(3))
                .await;
            Ok(match out {
                Ok(v) => v,
                Err(_) => Value::from("timed-out-handled"),
            })
        },
    )
}

/// 7.15: success without a payload; returns null.
fn r7_15(host: &Host, name: &str) -> anyhow::Result<()> {
    named_by_input(host, name, Limits::default())
}
