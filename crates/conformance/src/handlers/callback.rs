//! The `callback` suite: `create_callback`, then the callback's result.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::serdes::SerdesContext;
use serde_json::{json, Value};

use durable::builders::callback::CreateCallbackBuilder;

use super::{err, message_of, Install, Limits};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("callback/4-1", r4_1),
        ("callback/4-2", r4_2),
        ("callback/4-3", r4_3),
        ("callback/4-4", r4_4),
        ("callback/4-5", r4_5),
        ("callback/4-6", r4_6),
        ("callback/4-7", r4_7),
        ("callback/4-8", r4_8),
        ("callback/4-9", r4_9),
        ("callback/4-10", r4_10),
        ("callback/4-11", r4_11),
        ("callback/4-12", r4_12),
        ("callback/4-13", r4_13),
        ("callback/4-14", r4_14),
        ("callback/4-15", r4_15),
        ("callback/4-16", r4_16),
        ("callback/4-17", r4_17),
        ("callback/4-18", r4_18),
        ("callback/4-19", r4_19),
    ]
}

/// Creates a callback named `cb_name` with `limits`.
fn create(
    ctx: &durable::DurableContext,
    cb_name: String,
    limits: Limits,
) -> CreateCallbackBuilder<Value> {
    limits.apply(
        ctx.create_callback::<Value>().name(cb_name),
        CreateCallbackBuilder::timeout,
        CreateCallbackBuilder::heartbeat,
    )
}

/// Creates a callback named `cb_name` (with `limits`), runs `between`, then awaits its result.
fn callback_then(host: &Host, name: &str, limits: Limits, between: Between) -> anyhow::Result<()> {
    host.durable(
        name,
        move |cb_name: String, ctx: durable::DurableContext| async move {
            let cb = create(&ctx, cb_name, limits).await?;
            match between {
                Between::Nothing => {}
                Between::Step => {
                    let _: String = ctx.step(|_| async { Ok("step done".to_owned()) }).await?;
                }
                Between::Wait(s) => ctx.wait(Duration::from_secs(s)).await?,
            }
            let out = cb.result().await?;
            Ok(out)
        },
    )
}

/// What runs between creating the callback and awaiting its result.
#[derive(Clone, Copy)]
enum Between {
    Nothing,
    Step,
    Wait(u64),
}

/// 4.1: a callback named by the input; returns its payload.
fn r4_1(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::default(), Between::Nothing)
}

/// 4.2: a callback named `approval`.
fn r4_2(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let cb = ctx.create_callback::<Value>().name("approval").await?;
        let out = cb.result().await?;
        Ok(out)
    })
}

/// 4.3: a callback with a 5 s timeout that nobody completes.
fn r4_3(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::timeout(5), Between::Nothing)
}

/// 4.4: a callback with a 5 s heartbeat timeout that gets no heartbeat.
fn r4_4(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::heartbeat(5), Between::Nothing)
}

/// 4.5: a callback with a 10 s heartbeat timeout, kept alive by a heartbeat.
fn r4_5(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::heartbeat(10), Between::Nothing)
}

/// 4.6: the external system fails the callback; the error escapes.
fn r4_6(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::default(), Between::Nothing)
}

/// 4.7: create, a step, then the result, which fails.
fn r4_7(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::default(), Between::Step)
}

/// 4.8: create (5 s timeout), a step, then the result, which times out.
fn r4_8(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::timeout(5), Between::Step)
}

/// 4.9: create, a 5 s wait, then the result (which arrived during the wait).
fn r4_9(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::default(), Between::Wait(5))
}

/// 4.10: create, a 5 s wait, then the result (failed during the wait).
fn r4_10(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::default(), Between::Wait(5))
}

/// 4.11: create (3 s timeout), a 6 s wait, then the result (timed out during the wait).
fn r4_11(host: &Host, name: &str) -> anyhow::Result<()> {
    callback_then(host, name, Limits::timeout(3), Between::Wait(6))
}

/// 4.12: the callback's result, then a 2 s wait, then the result is returned.
fn r4_12(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |cb_name: String, ctx: durable::DurableContext| async move {
            let cb = ctx.create_callback::<Value>().name(cb_name).await?;
            let out = cb.result().await?;
            ctx.wait(Duration::from_secs(2)).await?;
            Ok(out)
        },
    )
}

/// A callback (with `limits`) whose failure is caught, then a 2 s wait; returns the caught
/// error's message.
fn caught_then_wait(host: &Host, name: &str, limits: Limits) -> anyhow::Result<()> {
    host.durable(
        name,
        move |cb_name: String, ctx: durable::DurableContext| async move {
            let cb = create(&ctx, cb_name, limits).await?;
            let outcome = match cb.result().await {
                Ok(v) => json!({ "result": v }),
                Err(e) => json!({ "error": message_of(&e) }),
            };
            ctx.wait(Duration::from_secs(2)).await?;
            Ok(outcome)
        },
    )
}

/// 4.13: the callback's failure is caught, then a 2 s wait.
fn r4_13(host: &Host, name: &str) -> anyhow::Result<()> {
    caught_then_wait(host, name, Limits::default())
}

/// 4.14: the callback's timeout (3 s) is caught, then a 2 s wait.
fn r4_14(host: &Host, name: &str) -> anyhow::Result<()> {
    caught_then_wait(host, name, Limits::timeout(3))
}

/// Reads a callback payload `{id, message, timestamp}` whose timestamp is an RFC 3339 string
/// into the same object with the timestamp in Unix seconds.
struct EventSerdes;

impl durable::Serdes<Value> for EventSerdes {
    async fn serialize(&self, value: Value, _: SerdesContext) -> Result<String, durable::BoxError> {
        Ok(value.to_string())
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<Value, durable::BoxError> {
        let mut v: Value = serde_json::from_str(&wire)?;
        let stamp = v
            .get("timestamp")
            .and_then(Value::as_str)
            .ok_or_else(|| err("the payload has no timestamp string"))?;
        let when =
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)?;
        v["timestamp"] = json!(when.unix_timestamp());
        Ok(v)
    }
}

/// 4.15: a custom deserializer turns the payload's timestamp string into seconds.
fn r4_15(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |cb_name: String, ctx: durable::DurableContext| async move {
            let cb = ctx
                .create_callback::<Value>()
                .name(cb_name)
                .serdes(EventSerdes)
                .await?;
            let received = cb.result().await?;
            Ok(json!({ "received": received }))
        },
    )
}

/// Reads a callback payload as a number (a JSON number or a numeric string).
struct NumberSerdes;

impl durable::Serdes<i64> for NumberSerdes {
    async fn serialize(&self, value: i64, _: SerdesContext) -> Result<String, durable::BoxError> {
        Ok(value.to_string())
    }

    async fn deserialize(&self, wire: String, _: SerdesContext) -> Result<i64, durable::BoxError> {
        let text = match serde_json::from_str::<Value>(&wire) {
            Ok(Value::String(s)) => s,
            _ => wire,
        };
        Ok(text.trim().parse()?)
    }
}

/// 4.16: a custom deserializer turns the payload into a number.
fn r4_16(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |cb_name: String, ctx: durable::DurableContext| async move {
            let cb = ctx
                .create_callback::<i64>()
                .name(cb_name)
                .serdes(NumberSerdes)
                .await?;
            let count = cb.result().await?;
            Ok(json!({ "count": count, "doubled": count * 2 }))
        },
    )
}

/// The two callback names of the input `[a, b]`.
fn two_names(names: &[String]) -> Result<(String, String), durable::BoxError> {
    match names {
        [a, b] => Ok((a.clone(), b.clone())),
        _ => Err(err("the input must be two callback names")),
    }
}

/// In which order 4.17–4.19 create and await two callbacks, A and B.
#[derive(Clone, Copy)]
enum Order {
    /// Create A, await A, then create B, await B.
    OneAfterTheOther,
    /// Create A and B, then await A, then B.
    BothThenA,
    /// Create A and B, then await B, then A.
    BothThenB,
}

/// Two callbacks named by the input `[a, b]`, created and awaited in `order`; returns both
/// results, A's first.
fn two_callbacks(host: &Host, name: &str, order: Order) -> anyhow::Result<()> {
    host.durable(
        name,
        move |names: Vec<String>, ctx: durable::DurableContext| async move {
            let (a, b) = two_names(&names)?;
            let cb_a = ctx.create_callback::<Value>().name(a).await?;
            let (ra, rb) = match order {
                Order::OneAfterTheOther => {
                    let ra = cb_a.result().await?;
                    let cb_b = ctx.create_callback::<Value>().name(b).await?;
                    (ra, cb_b.result().await?)
                }
                Order::BothThenA => {
                    let cb_b = ctx.create_callback::<Value>().name(b).await?;
                    let ra = cb_a.result().await?;
                    (ra, cb_b.result().await?)
                }
                Order::BothThenB => {
                    let cb_b = ctx.create_callback::<Value>().name(b).await?;
                    let rb = cb_b.result().await?;
                    (cb_a.result().await?, rb)
                }
            };
            Ok(json!([ra, rb]))
        },
    )
}

/// 4.17: create A, await A, then create B, await B.
fn r4_17(host: &Host, name: &str) -> anyhow::Result<()> {
    two_callbacks(host, name, Order::OneAfterTheOther)
}

/// 4.18: create A and B, await A, then B.
fn r4_18(host: &Host, name: &str) -> anyhow::Result<()> {
    two_callbacks(host, name, Order::BothThenA)
}

/// 4.19: create A and B, await B, then A.
fn r4_19(host: &Host, name: &str) -> anyhow::Result<()> {
    two_callbacks(host, name, Order::BothThenB)
}
