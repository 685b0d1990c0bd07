//! The `child` suite: `run_in_child_context`.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::serdes::SerdesContext;
use serde_json::{json, Value};

use super::{crash, err, no_retry, retry_up_to, Install};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("child/3-1", r3_1),
        ("child/3-2", r3_2),
        ("child/3-3", r3_3),
        ("child/3-4", r3_4),
        ("child/3-5", r3_5),
        ("child/3-6", r3_6),
        ("child/3-7", r3_7),
        ("child/3-8", r3_8),
        ("child/3-9", r3_9),
        ("child/3-10", r3_10),
        ("child/3-11", r3_11),
        ("child/3-12", r3_12),
        ("child/3-13", r3_13),
        ("child/3-14", r3_14),
        ("child/3-15", r3_15),
        ("child/3-16", r3_16),
        ("child/3-17", r3_17),
        ("child/3-18", r3_18),
    ]
}

/// A step in `ctx` that returns `value`.
async fn echo(ctx: &durable::DurableContext, value: String) -> Result<String, durable::BoxError> {
    Ok(ctx.step(move |_| async move { Ok(value) }).await?)
}

/// Registers a handler that runs `body` (given the context and the input) in a child context,
/// named `child_name` when given, and returns the child's result.
fn in_child<E, O, F, Fut>(
    host: &Host,
    name: &str,
    child_name: Option<&'static str>,
    body: F,
) -> anyhow::Result<()>
where
    E: for<'de> serde::Deserialize<'de> + Send + 'static,
    O: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    F: Fn(durable::DurableContext, E) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<O, durable::BoxError>> + Send + 'static,
{
    host.durable(
        name,
        move |input: E, ctx: durable::DurableContext| async move {
            let mut child = ctx.run_in_child_context(move |child| body(child, input));
            if let Some(child_name) = child_name {
                child = child.name(child_name);
            }
            Ok(child.await?)
        },
    )
}

/// A step in `ctx` that always fails with `message`, retried as `retry` says.
async fn failing_step(
    ctx: &durable::DurableContext,
    message: &'static str,
    retry: impl Fn(&durable::StepError, u32) -> durable::RetryDecision + Send + Sync + 'static,
) -> Result<String, durable::BoxError> {
    Ok(ctx
        .step(move |_| async move { Err(err(message)) })
        .retry_strategy(retry)
        .await?)
}

/// A child context `step-and-wait`: a step returning `input`, then a 1 s wait.
async fn step_and_wait(
    ctx: &durable::DurableContext,
    input: String,
) -> Result<String, durable::BoxError> {
    Ok(ctx
        .run_in_child_context(move |child| async move {
            let v = echo(&child, input).await?;
            child.wait(Duration::from_secs(1)).await?;
            Ok(v)
        })
        .name("step-and-wait")
        .await?)
}

/// 3.1: an unnamed child context with one step returning the input.
fn r3_1(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(host, name, None, |child, input: String| async move {
        echo(&child, input).await
    })
}

/// The input of 3.2.
#[derive(serde::Deserialize)]
struct NameValue {
    name: String,
    value: String,
}

/// 3.2: a child context named by `input.name`, its step returning `input.value`.
fn r3_2(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: NameValue, ctx: durable::DurableContext| async move {
            let value = input.value;
            let out: String = ctx
                .run_in_child_context(move |child| async move { echo(&child, value).await })
                .name(input.name)
                .await?;
            Ok(out)
        },
    )
}

/// 3.3: a named child context with two steps, the second taking the first's result.
fn r3_3(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(
        host,
        name,
        Some("two-steps"),
        |child, input: String| async move {
            let first = echo(&child, input).await?;
            echo(&child, first).await
        },
    )
}

/// 3.4: a named child context whose step fails (no retry); the execution fails.
fn r3_4(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(
        host,
        name,
        Some("failing-child"),
        |child, _: Value| async move { failing_step(&child, "child step failed", no_retry).await },
    )
}

/// 3.5: an unnamed child context fails and is caught; a recovery step returns the input.
fn r3_5(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let failed = ctx
                .run_in_child_context(|child| async move {
                    failing_step(&child, "child step failed", no_retry).await
                })
                .await;
            if failed.is_ok() {
                return Err(err("the child context was expected to fail"));
            }
            echo(&ctx, input).await
        },
    )
}

/// 3.6: an outer named child (a step, then an inner named child with a step).
fn r3_6(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(
        host,
        name,
        Some("outer"),
        |outer, input: String| async move {
            let v = echo(&outer, input).await?;
            let inner: String = outer
                .run_in_child_context(move |inner| async move { echo(&inner, v).await })
                .name("inner")
                .await?;
            Ok(inner)
        },
    )
}

/// 3.7: a named child whose step fails once and succeeds on the retry.
fn r3_7(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(
        host,
        name,
        Some("retrying-child"),
        |child, input: String| async move {
            let v: String = child
                .step(move |sc| async move {
                    if sc.attempt() < 2 {
                        return Err(err("transient failure"));
                    }
                    Ok(input)
                })
                .retry_strategy(retry_up_to(3, 1))
                .await?;
            Ok(v)
        },
    )
}

/// 3.8: a named child whose step always fails, two attempts in all; the execution fails.
fn r3_8(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(
        host,
        name,
        Some("exhausted-child"),
        |child, _: Value| async move { failing_step(&child, "always fails", retry_up_to(2, 1)).await },
    )
}

/// 3.9: an unnamed child with a step, then a wait; the replay uses the child's stored result.
fn r3_9(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .run_in_child_context(move |child| async move { echo(&child, input).await })
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok(out)
        },
    )
}

/// 3.10: a named child with a step and then a wait inside.
fn r3_10(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move { step_and_wait(&ctx, input).await },
    )
}

/// Size of 3.11's child result: over the 256 KiB checkpoint limit.
const LARGE: usize = 300 * 1024;

/// 3.11: a named child logs the input, runs a small step and builds a result over the
/// checkpoint limit (so it is rebuilt by replaying its children); then a wait.
fn r3_11(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let large: String = ctx
                .run_in_child_context(move |child| async move {
                    tracing::info!("{input}");
                    let small: String = child.step(|_| async { Ok("x".to_owned()) }).await?;
                    Ok(small.repeat(LARGE))
                })
                .name("large-result")
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok(json!({ "length": large.len() }))
        },
    )
}

/// 3.12: the function crashes inside an unnamed child's step on the first invocation; the
/// next invocation re-runs the step.
fn r3_12(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(host, name, None, |child, input: String| async move {
        let first_run = !child.is_replaying();
        let v: String = child
            .step(move |_| async move {
                if first_run {
                    crash("the step crashed the function");
                }
                Ok(input)
            })
            .await?;
        Ok(v)
    })
}

/// 3.13: a named child with only a wait, then a step outside it.
fn r3_13(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let inner = input.clone();
            let _: String = ctx
                .run_in_child_context(move |child| async move {
                    child.wait(Duration::from_secs(1)).await?;
                    Ok(inner)
                })
                .name("wait-only")
                .await?;
            echo(&ctx, input).await
        },
    )
}

/// Serializes the child's string result as uppercase raw text; reads the text back as is.
struct UppercaseRaw;

impl durable::Serdes<String> for UppercaseRaw {
    async fn serialize(
        &self,
        value: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(value.to_uppercase())
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(wire)
    }
}

/// 3.14: a named child with a custom serdes that uppercases its result.
fn r3_14(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .run_in_child_context(move |child| async move { echo(&child, input).await })
                .name("uppercase")
                .serdes(UppercaseRaw)
                .await?;
            Ok(out)
        },
    )
}

/// 3.15: a named child fails directly, without any operation; the execution fails.
fn r3_15(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(host, name, Some("failing-body"), |_, _: Value| async {
        Err::<String, _>(err("child body failed"))
    })
}

/// 3.16: a named child returns null directly.
fn r3_16(host: &Host, name: &str) -> anyhow::Result<()> {
    in_child(host, name, Some("null-child"), |_, _: Value| async {
        Ok(None::<String>)
    })
}

/// 3.17: a named child only logs the input and returns it; then a wait.
fn r3_17(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .run_in_child_context(move |_| async move {
                    tracing::info!("{input}");
                    Ok(input)
                })
                .name("log-only")
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok(out)
        },
    )
}

/// 3.18: a named child (step, wait), then a step and a wait at the top level.
fn r3_18(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |input: String, ctx: durable::DurableContext| async move {
            let v = step_and_wait(&ctx, input).await?;
            let out = echo(&ctx, v).await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok(out)
        },
    )
}
