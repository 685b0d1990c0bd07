//! The `map` suite.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::builders::map_parallel::{BatchSummary, CompletionConfig, NestingMode};
use durable::serdes::SerdesContext;
use serde_json::{json, Value};

use super::batch::{
    batch_handler, projection, results_handler, throwing, OneAtATime, Shape, FAIL_FAST, TOLERATED,
    TOLERATED_EXCEEDED, TOLERATED_PCT,
};
use super::{err, Install};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("map/9-1", r9_1),
        ("map/9-2", r9_2),
        ("map/9-3", r9_3),
        ("map/9-4", r9_4),
        ("map/9-5", r9_5),
        ("map/9-6", r9_6),
        ("map/9-7", r9_7),
        ("map/9-8", r9_8),
        ("map/9-9", r9_9),
        ("map/9-10", r9_10),
        ("map/9-11", r9_11),
        ("map/9-12", r9_12),
        ("map/9-13", r9_13),
        ("map/9-14", r9_14),
        ("map/9-15", r9_15),
        ("map/9-16", r9_16),
        ("map/9-17", r9_17),
        ("map/9-18", r9_18),
        ("map/9-19", r9_19),
        ("map/9-20", r9_20),
    ]
}

/// An item function: `"fail"` fails, anything else succeeds with itself.
async fn ok_or_fail(
    _: durable::DurableContext,
    item: String,
    _: usize,
) -> Result<String, durable::BoxError> {
    if item == "fail" {
        return Err(err("item failed"));
    }
    Ok(item)
}

/// Items as owned strings.
fn items(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A map over one item per outcome, through [`ok_or_fail`]: `"ok"` for `true`, `"fail"` for
/// `false`.
fn map_of(ctx: &durable::DurableContext, outcomes: &'static [bool]) -> impl OneAtATime<String> {
    let list: Vec<String> = outcomes
        .iter()
        .map(|ok| if *ok { "ok" } else { "fail" }.to_owned())
        .collect();
    ctx.map(list, ok_or_fail)
}

/// 9.1: map `map` over the input, each item a greeting step.
fn r9_1(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |list: Vec<String>, ctx| {
        ctx.map(list, |child, item: String, _| async move {
            let greeting: String = child
                .step(move |_| async move { Ok(format!("Hello, {item}!")) })
                .await?;
            Ok(greeting)
        })
        .name("map")
        .max_concurrency(1)
    })
}

/// 9.2: an unnamed map doubling numbers directly.
fn r9_2(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |list: Vec<i64>, ctx| {
        ctx.map(list, |_, item: i64, _| async move { Ok(item * 2) })
            .max_concurrency(1)
    })
}

/// 9.3: map `indexed` computing item + index.
fn r9_3(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |list: Vec<i64>, ctx| {
        ctx.map(list, |_, item: i64, index| async move {
            Ok(item + i64::try_from(index)?)
        })
        .name("indexed")
        .max_concurrency(1)
    })
}

/// 9.4: map `empty` over no items.
fn r9_4(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |list: Vec<Value>, ctx| {
        ctx.map(list, |_, item: Value, _| async move { Ok(item) })
            .name("empty")
    })
}

/// 9.5: fail-fast (no failure tolerated): item 1 fails, item 2 never starts.
fn r9_5(host: &Host, name: &str) -> anyhow::Result<()> {
    FAIL_FAST.install(host, name, map_of)
}

/// 9.6: fail-fast; item 0 fails; the handler re-raises the batch's first failure.
fn r9_6(host: &Host, name: &str) -> anyhow::Result<()> {
    throwing(host, name, map_of)
}

/// 9.7: stops once two items succeeded.
fn r9_7(host: &Host, name: &str) -> anyhow::Result<()> {
    batch_handler(
        host,
        name,
        "min-successful",
        |ctx| {
            ctx.map(items(&["a", "b", "c", "d"]), |_, _: String, _| async {
                Ok("done".to_owned())
            })
        },
        || CompletionConfig::with_min_successful(2),
        |batch| Ok(projection(batch, Shape::Successes)),
    )
}

/// 9.8: one failure tolerated; every item runs.
fn r9_8(host: &Host, name: &str) -> anyhow::Result<()> {
    TOLERATED.install(host, name, map_of)
}

/// 9.9: one failure tolerated; the second failure stops the map.
fn r9_9(host: &Host, name: &str) -> anyhow::Result<()> {
    TOLERATED_EXCEEDED.install(host, name, map_of)
}

/// 9.10: 25 % of failures tolerated; the second failure (50 %) stops the map.
fn r9_10(host: &Host, name: &str) -> anyhow::Result<()> {
    TOLERATED_PCT.install(host, name, map_of)
}

/// 9.11: two at a time; results still in item order.
fn r9_11(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.map(
            items(&["r0", "r1", "r2"]),
            |_, item: String, _| async move { Ok(item) },
        )
        .name("concurrent")
        .max_concurrency(2)
    })
}

/// 9.12: flat nesting: each item's step sits directly under the map.
fn r9_12(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.map(items(&["fa", "fb"]), |child, item: String, _| async move {
            let v: String = child.step(move |_| async move { Ok(item) }).await?;
            Ok(v)
        })
        .name("flat")
        .max_concurrency(1)
        .nesting(NestingMode::Flat)
    })
}

/// 9.13: iterations named `item-1`, `item-2` by an item namer; each returns item × 10.
fn r9_13(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |list: Vec<i64>, ctx| {
        ctx.map(list, |_, item: i64, _| async move { Ok(item * 10) })
            .name("named-items")
            .max_concurrency(1)
            .item_namer(|index| format!("item-{}", index + 1))
    })
}

/// Stores each item's string result as `wrapped:<value>`.
struct Wrapped;

impl durable::Serdes<String> for Wrapped {
    async fn serialize(
        &self,
        value: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(format!("wrapped:{value}"))
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        wire.strip_prefix("wrapped:")
            .map(str::to_owned)
            .ok_or_else(|| err("the item payload is not wrapped"))
    }
}

/// An item function returning the item uppercased.
async fn upper(
    _: durable::DurableContext,
    item: String,
    _: usize,
) -> Result<String, durable::BoxError> {
    Ok(item.to_uppercase())
}

/// 9.14: a per-item serdes (`wrapped:X`).
fn r9_14(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.map(items(&["x", "y"]), upper)
            .name("serdes")
            .max_concurrency(1)
            .serdes(Wrapped)
    })
}

/// 9.15: iteration 1 waits 1 s mid-map, suspending the execution.
fn r9_15(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.map(
            items(&["r0", "r1"]),
            |child, item: String, index| async move {
                if index == 1 {
                    child.wait(Duration::from_secs(1)).await?;
                }
                let v: String = child.step(move |_| async move { Ok(item) }).await?;
                Ok(v)
            },
        )
        .name("suspend")
        .max_concurrency(1)
    })
}

/// 9.16: four results of about 70 KB each (over the checkpoint limit together).
fn r9_16(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let batch = ctx
            .map(vec![0_u8, 1, 2, 3], |_, item: u8, _| async move {
                Ok(char::from(b'a' + item).to_string().repeat(70 * 1024))
            })
            .name("large")
            .max_concurrency(1)
            .await_batch()
            .await?;
        Ok(json!({
            "successCount": batch.success_count(),
            "totalCount": batch.total_count(),
        }))
    })
}

/// 9.17: a successful map, then a 1 s wait.
fn r9_17(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .map(items(&["a", "b"]), upper)
            .name("then-wait")
            .max_concurrency(1)
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(out)
    })
}

/// 9.18: a map with a tolerated failure, then a 1 s wait.
fn r9_18(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let batch = map_of(&ctx, &[true, false])
            .one_at_a_time(
                "fail-then-wait",
                CompletionConfig::with_tolerated_failure_count(1),
            )
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(projection(&batch, Shape::WithStatus))
    })
}

/// Stores the whole map result as `OPSERDE:` and the comma-joined string results; reads it
/// back into an all-succeeded batch.
struct OpSerde;

/// The prefix [`OpSerde`] writes.
const OPSERDE: &str = "OPSERDE:";

impl durable::Serdes<BatchSummary> for OpSerde {
    async fn serialize(
        &self,
        value: BatchSummary,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        let summary = serde_json::to_value(value)?;
        let results = summary
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| err("the batch summary has no results"))?;
        let mut values = Vec::with_capacity(results.len());
        for item in results {
            let wire = item.get("result").and_then(Value::as_str).unwrap_or("null");
            let value: String = serde_json::from_str(wire)?;
            values.push(value);
        }
        Ok(format!("{OPSERDE}{}", values.join(",")))
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<BatchSummary, durable::BoxError> {
        let joined = wire
            .strip_prefix(OPSERDE)
            .ok_or_else(|| err("the map payload lacks the OPSERDE: prefix"))?;
        let results: Vec<Value> = joined
            .split(',')
            .filter(|s| !s.is_empty())
            .enumerate()
            .map(|(index, v)| {
                json!({ "index": index, "status": "SUCCEEDED", "result": Value::from(v).to_string() })
            })
            .collect();
        Ok(serde_json::from_value(
            json!({ "results": results, "reason": "ALL_COMPLETED" }),
        )?)
    }
}

/// A map named `map_name` over `x`, `y` (uppercased) with the whole result stored by
/// [`OpSerde`], optionally followed by a 1 s wait.
fn op_serde(host: &Host, name: &str, map_name: &'static str, wait: bool) -> anyhow::Result<()> {
    host.durable(
        name,
        move |_: Value, ctx: durable::DurableContext| async move {
            let out = ctx
                .map(items(&["x", "y"]), upper)
                .name(map_name)
                .max_concurrency(1)
                .result_serdes(OpSerde)
                .await?;
            if wait {
                ctx.wait(Duration::from_secs(1)).await?;
            }
            Ok(out)
        },
    )
}

/// 9.19: an operation-level serdes writes the map result as `OPSERDE:X,Y`.
fn r9_19(host: &Host, name: &str) -> anyhow::Result<()> {
    op_serde(host, name, "op-serde", false)
}

/// 9.20: as 9.19, then a 1 s wait; the replay reads the result back through the serdes.
fn r9_20(host: &Host, name: &str) -> anyhow::Result<()> {
    op_serde(host, name, "op-serde-replay", true)
}
