//! The `invoke` suite: chained invokes of other durable functions, registered next to each
//! requirement's entry point as `{name}-echo`, `{name}-fail`, ….

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::serdes::SerdesContext;
use serde_json::{json, Value};

use super::{err, Install};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("invoke/5-1", r5_1),
        ("invoke/5-2", r5_2),
        ("invoke/5-3", r5_3),
        ("invoke/5-4", r5_4),
        ("invoke/5-5", r5_5),
        ("invoke/5-6", r5_6),
        ("invoke/5-7", r5_7),
        ("invoke/5-8", r5_8),
        ("invoke/5-9", r5_9),
        ("invoke/5-10", r5_10),
        ("invoke/5-11", r5_11),
        ("invoke/5-12", r5_12),
        ("invoke/5-13", r5_13),
        ("invoke/5-14", r5_14),
        ("invoke/5-15", r5_15),
        ("invoke/5-16", r5_16),
    ]
}

/// Registers `{name}-echo`, a durable function returning its input; returns its name.
fn echo_target(host: &Host, name: &str) -> anyhow::Result<String> {
    let target = format!("{name}-echo");
    host.durable(
        &target,
        |event: Value, _: durable::DurableContext| async move { Ok(event) },
    )?;
    Ok(target)
}

/// Registers `{name}-fail`, a durable function that always fails; returns its name.
fn failing_target(host: &Host, name: &str) -> anyhow::Result<String> {
    let target = format!("{name}-fail");
    host.durable(&target, |_: Value, _: durable::DurableContext| async move {
        Err::<Value, _>(err("target function error"))
    })?;
    Ok(target)
}

/// Registers the entry point `name`: `body` runs with the context, the name of the function
/// it invokes (`target`, registered by the caller) and the input.
fn invoking<E, O, F, Fut>(host: &Host, name: &str, target: String, body: F) -> anyhow::Result<()>
where
    E: for<'de> serde::Deserialize<'de> + Send + 'static,
    O: serde::Serialize + Send + 'static,
    F: Fn(durable::DurableContext, String, E) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<O, durable::BoxError>> + Send + 'static,
{
    host.durable(name, move |input: E, ctx: durable::DurableContext| {
        body(ctx, target.clone(), input)
    })
}

/// An entry point that invokes the echo target with its input and returns the result.
fn invoke_echo_with_input(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out = ctx.invoke::<Value, _>(target, event).await?;
        Ok(out)
    })
}

/// 5.1: invoke the echo target with the input.
fn r5_1(host: &Host, name: &str) -> anyhow::Result<()> {
    invoke_echo_with_input(host, name)
}

/// The input of 5.2.
#[derive(serde::Deserialize)]
struct Named {
    name: String,
    payload: Value,
}

/// 5.2: invoke the echo target with `input.payload`, named `input.name`.
fn r5_2(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, input: Named| async move {
        let out = ctx
            .invoke::<Value, _>(target, input.payload)
            .name(input.name)
            .await?;
        Ok(out)
    })
}

/// 5.3: invoke the echo target with a nested object (the input).
fn r5_3(host: &Host, name: &str) -> anyhow::Result<()> {
    invoke_echo_with_input(host, name)
}

/// 5.4: invoke the echo target with null; returns null.
fn r5_4(host: &Host, name: &str) -> anyhow::Result<()> {
    invoke_echo_with_input(host, name)
}

/// 5.5: the target fails; the error escapes.
fn r5_5(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = failing_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out = ctx.invoke::<Value, _>(target, event).await?;
        Ok(out)
    })
}

/// 5.6: the target fails; the error is caught and a fallback returned.
fn r5_6(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = failing_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out = ctx.invoke::<Value, _>(target, event).await;
        Ok(out.unwrap_or_else(|_| json!("fallback")))
    })
}

/// 5.7: a payload of about 200 KB to a target that reports its size.
fn r5_7(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = format!("{name}-size");
    host.durable(
        &target,
        |event: Value, _: durable::DurableContext| async move {
            let size = event
                .get("data")
                .and_then(Value::as_str)
                .map_or(0, str::len);
            Ok(json!({ "received": size }))
        },
    )?;
    invoking(host, name, target, |ctx, target, _: Value| async move {
        let large = json!({ "data": "x".repeat(200_000) });
        let out = ctx.invoke::<Value, _>(target, large).await?;
        Ok(out)
    })
}

/// The input of 5.8.
#[derive(serde::Deserialize)]
struct Tenant {
    #[serde(rename = "tenantId")]
    tenant_id: String,
    payload: Value,
}

/// 5.8: invoke the echo target with `input.payload` for tenant `input.tenantId`.
fn r5_8(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(
        host,
        name,
        target,
        |ctx, target, input: Tenant| async move {
            let out = ctx
                .invoke::<Value, _>(target, input.payload)
                .tenant_id(input.tenant_id)
                .await?;
            Ok(out)
        },
    )
}

/// 5.9: invoke, then a 1 s wait; the replay takes the stored result.
fn r5_9(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out = ctx.invoke::<Value, _>(target, event).await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(out)
    })
}

/// 5.10: a failing invoke is caught, then a 1 s wait; the replay re-raises it.
fn r5_10(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = failing_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let caught = ctx.invoke::<Value, _>(target, event).await.is_err();
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(json!({ "caught": caught }))
    })
}

/// 5.11: a step, then an invoke of the echo target with the step's result.
fn r5_11(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, _: Value| async move {
        let v: String = ctx.step(|_| async { Ok("step result".to_owned()) }).await?;
        let out = ctx.invoke::<Value, _>(target, v).await?;
        Ok(out)
    })
}

/// 5.12: an invoke, then a step that processes its result.
fn r5_12(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, _: Value| async move {
        let got = ctx
            .invoke::<Value, _>(target, json!("invoke result"))
            .await?;
        let out: Value = ctx
            .step(move |_| async move { Ok(json!({ "processed": got })) })
            .await?;
        Ok(out)
    })
}

/// 5.13: an invoke inside an unnamed child context.
fn r5_13(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out: Value = ctx
            .run_in_child_context(move |child| async move {
                Ok(child.invoke::<Value, _>(target, event).await?)
            })
            .await?;
        Ok(out)
    })
}

/// 5.14: two invokes in sequence, of `{name}-first` and `{name}-second`.
fn r5_14(host: &Host, name: &str) -> anyhow::Result<()> {
    let first = format!("{name}-first");
    let second = format!("{name}-second");
    for target in [&first, &second] {
        let label = target.clone();
        host.durable(target, move |event: Value, _: durable::DurableContext| {
            let label = label.clone();
            async move { Ok(json!({ "target": label, "input": event })) }
        })?;
    }
    host.durable(name, move |_: Value, ctx: durable::DurableContext| {
        let (first, second) = (first.clone(), second.clone());
        async move {
            let a = ctx.invoke::<Value, _>(first, json!(1)).await?;
            let b = ctx.invoke::<Value, _>(second, json!(2)).await?;
            Ok(json!([a, b]))
        }
    })
}

/// Serializes an outgoing payload as JSON with every string uppercased.
struct UppercasePayload;

impl durable::Serdes<Value> for UppercasePayload {
    async fn serialize(&self, value: Value, _: SerdesContext) -> Result<String, durable::BoxError> {
        Ok(uppercase_strings(value).to_string())
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<Value, durable::BoxError> {
        Ok(serde_json::from_str(&wire)?)
    }
}

/// `value` with every string in it uppercased.
fn uppercase_strings(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_uppercase()),
        Value::Array(a) => Value::Array(a.into_iter().map(uppercase_strings).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, uppercase_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

/// 5.15: the outgoing payload goes through a serdes that uppercases it.
fn r5_15(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out = ctx
            .invoke::<Value, _>(target, event)
            .payload_serdes(UppercasePayload)
            .await?;
        Ok(out)
    })
}

/// Reads a result as its wire text uppercased (quotes included, as the requirement expects).
struct UppercaseResult;

impl durable::Serdes<String> for UppercaseResult {
    async fn serialize(
        &self,
        value: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(serde_json::to_string(&value)?)
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(wire.to_uppercase())
    }
}

/// 5.16: the result goes through a serdes that uppercases it.
fn r5_16(host: &Host, name: &str) -> anyhow::Result<()> {
    let target = echo_target(host, name)?;
    invoking(host, name, target, |ctx, target, event: Value| async move {
        let out = ctx
            .invoke::<String, _>(target, event)
            .serdes(UppercaseResult)
            .await?;
        Ok(out)
    })
}
