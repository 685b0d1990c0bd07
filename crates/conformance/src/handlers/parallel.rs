//! The `parallel` suite.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::builders::map_parallel::{CompletionConfig, NestingMode};
use durable::serdes::SerdesContext;
use durable::Branch;
use serde_json::{json, Value};

use super::batch::{
    batch_handler, projection, results_handler, throwing, OneAtATime, Projected, Shape, FAIL_FAST,
    TOLERATED, TOLERATED_EXCEEDED, TOLERATED_PCT,
};
use super::{err, Install};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("parallel/8-1", r8_1),
        ("parallel/8-2", r8_2),
        ("parallel/8-3", r8_3),
        ("parallel/8-4", r8_4),
        ("parallel/8-5", r8_5),
        ("parallel/8-6", r8_6),
        ("parallel/8-7", r8_7),
        ("parallel/8-8", r8_8),
        ("parallel/8-9", r8_9),
        ("parallel/8-10", r8_10),
        ("parallel/8-11", r8_11),
        ("parallel/8-12", r8_12),
        ("parallel/8-13", r8_13),
        ("parallel/8-14", r8_14),
        ("parallel/8-15", r8_15),
        ("parallel/8-16", r8_16),
        ("parallel/8-17", r8_17),
        ("parallel/8-18", r8_18),
        ("parallel/8-19", r8_19),
        ("parallel/8-20", r8_20),
        ("parallel/8-21", r8_21),
        ("parallel/8-22", r8_22),
    ]
}

/// A branch `b<index>` returning `value` directly.
fn constant<O: Send + 'static>(index: usize, value: O) -> Branch<O> {
    Branch::new(format!("b{index}"), move |_| async move { Ok(value) })
}

/// A branch `b<index>` running one step that returns `value`.
fn one_step(index: usize, value: &str) -> Branch<String> {
    let value = value.to_owned();
    Branch::new(
        format!("b{index}"),
        move |ctx: durable::DurableContext| async move {
            let v: String = ctx.step(move |_| async move { Ok(value) }).await?;
            Ok(v)
        },
    )
}

/// Branches from outcomes: `true` succeeds with `"ok"`, `false` fails.
fn outcomes(list: &[bool]) -> Vec<Branch<String>> {
    list.iter()
        .enumerate()
        .map(|(i, ok)| {
            let ok = *ok;
            Branch::new(format!("b{i}"), move |_| async move {
                if ok {
                    Ok("ok".to_owned())
                } else {
                    Err(err("branch failed"))
                }
            })
        })
        .collect()
}

/// A parallel of one branch per outcome (see [`outcomes`]).
fn parallel_of(ctx: &durable::DurableContext, list: &'static [bool]) -> impl OneAtATime<String> {
    ctx.parallel(outcomes(list))
}

/// 8.1: `parallel`, two branches of one step each.
fn r8_1(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(vec![one_step(0, "task-1"), one_step(1, "task-2")])
            .name("parallel")
            .max_concurrency(1)
    })
}

/// 8.2: an unnamed parallel of two constant branches.
fn r8_2(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(vec![
            constant(0, "alpha".to_owned()),
            constant(1, "beta".to_owned()),
        ])
        .max_concurrency(1)
    })
}

/// 8.3: `named`, branches named `first` and `second`.
fn r8_3(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(vec![
            Branch::new("first", |_| async { Ok("one".to_owned()) }),
            Branch::new("second", |_| async { Ok("two".to_owned()) }),
        ])
        .name("named")
        .max_concurrency(1)
    })
}

/// 8.4: `hetero`, branches returning a string, a number and an object.
fn r8_4(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(vec![
            constant(0, json!("hello")),
            constant(1, json!(42)),
            constant(2, json!({ "k": "v" })),
        ])
        .name("hetero")
        .max_concurrency(1)
    })
}

/// 8.5: `empty`, no branches.
fn r8_5(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(Vec::<Branch<Value>>::new()).name("empty")
    })
}

/// 8.6: fail-fast: branch 1 fails, branch 2 never starts.
fn r8_6(host: &Host, name: &str) -> anyhow::Result<()> {
    FAIL_FAST.install(host, name, parallel_of)
}

/// 8.7: fail-fast; branch 0 fails; the handler re-raises the batch's first failure.
fn r8_7(host: &Host, name: &str) -> anyhow::Result<()> {
    throwing(host, name, parallel_of)
}

/// 8.8: stops once two branches succeeded.
fn r8_8(host: &Host, name: &str) -> anyhow::Result<()> {
    Projected {
        op: "min-successful",
        outcomes: &[true, true, true, true],
        config: || CompletionConfig::with_min_successful(2),
        shape: Shape::Successes,
    }
    .install(host, name, parallel_of)
}

/// 8.9: one failure tolerated; every branch runs.
fn r8_9(host: &Host, name: &str) -> anyhow::Result<()> {
    TOLERATED.install(host, name, parallel_of)
}

/// 8.10: one failure tolerated; the second failure stops the operation.
fn r8_10(host: &Host, name: &str) -> anyhow::Result<()> {
    TOLERATED_EXCEEDED.install(host, name, parallel_of)
}

/// 8.11: two at a time; results still in branch order.
fn r8_11(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(
            (0..3)
                .map(|i| constant(i, format!("r{i}")))
                .collect::<Vec<_>>(),
        )
        .name("concurrent")
        .max_concurrency(2)
    })
}

/// 8.12: flat nesting: each branch's step sits directly under the parallel.
fn r8_12(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        ctx.parallel(vec![one_step(0, "fa"), one_step(1, "fb")])
            .name("flat")
            .max_concurrency(1)
            .nesting(NestingMode::Flat)
    })
}

/// 8.13: 25 % of failures tolerated; the second failure (50 %) stops the operation.
fn r8_13(host: &Host, name: &str) -> anyhow::Result<()> {
    TOLERATED_PCT.install(host, name, parallel_of)
}

/// 8.14: branch 1 waits 2 s, suspending the execution; the replay skips branch 0.
fn r8_14(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        let waiting = Branch::new("b1", |ctx: durable::DurableContext| async move {
            ctx.wait(Duration::from_secs(2)).await?;
            Ok("b1".to_owned())
        });
        ctx.parallel(vec![one_step(0, "b0"), waiting])
            .name("replay")
            .max_concurrency(1)
    })
}

/// Stores each branch result `v` as `{"wrapped": v}`.
struct WrapSerde;

impl durable::Serdes<String> for WrapSerde {
    async fn serialize(
        &self,
        value: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(json!({ "wrapped": value }).to_string())
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        let v: Value = serde_json::from_str(&wire)?;
        v.get("wrapped")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| err("the branch payload is not wrapped"))
    }
}

/// 8.15: a per-branch serdes wrapping each result.
fn r8_15(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .parallel(vec![
                constant(0, "x".to_owned()),
                constant(1, "y".to_owned()),
            ])
            .name("serde")
            .max_concurrency(1)
            .serdes(WrapSerde)
            .await?;
        Ok(out)
    })
}

/// 8.16: every branch fails, all within a tolerance of three.
fn r8_16(host: &Host, name: &str) -> anyhow::Result<()> {
    Projected {
        op: "all-fail",
        outcomes: &[false, false, false],
        config: || CompletionConfig::with_tolerated_failure_count(3),
        shape: Shape::WithStatus,
    }
    .install(host, name, parallel_of)
}

/// 8.17: three successes are required but only two happen; every branch runs.
fn r8_17(host: &Host, name: &str) -> anyhow::Result<()> {
    Projected {
        op: "min-not-reached",
        outcomes: &[true, false, true],
        config: || CompletionConfig::with_min_successful(3),
        shape: Shape::WithStatus,
    }
    .install(host, name, parallel_of)
}

/// 8.18: three successes required, one failure tolerated; the failures stop it first.
fn r8_18(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let config = CompletionConfig::builder()
            .min_successful(3)
            .tolerated_failure_count(1)
            .build()?;
        let batch = parallel_of(&ctx, &[false, false, true, true])
            .one_at_a_time("combined", config)
            .await?;
        Ok(projection(&batch, Shape::Counts))
    })
}

/// 8.19: a max concurrency of 0 is refused; the execution fails.
fn r8_19(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .parallel(vec![
                constant(0, "a".to_owned()),
                constant(1, "b".to_owned()),
            ])
            .name("bad-concurrency")
            .max_concurrency(0)
            .await?;
        Ok(out)
    })
}

/// 8.20: one tolerated failure; the projection comes from the batch accessors.
fn r8_20(host: &Host, name: &str) -> anyhow::Result<()> {
    batch_handler(
        host,
        name,
        "accessors",
        |ctx| ctx.parallel(outcomes(&[true, false, true])),
        || CompletionConfig::with_tolerated_failure_count(1),
        |batch| {
            Ok(json!({
                "hasFailure": batch.has_failure(),
                "successCount": batch.results().len(),
                "failureCount": batch.failure_count(),
                "errorCount": batch.errors().len(),
            }))
        },
    )
}

/// 8.21: `outer` has one branch running `inner`, a parallel of two one-step branches.
fn r8_21(host: &Host, name: &str) -> anyhow::Result<()> {
    results_handler(host, name, |_: Value, ctx| {
        let branch = Branch::new("a", |ctx: durable::DurableContext| async move {
            let inner = ctx
                .parallel(vec![one_step(0, "i1"), one_step(1, "i2")])
                .name("inner")
                .max_concurrency(1)
                .await?;
            Ok(inner)
        });
        ctx.parallel(vec![branch]).name("outer").max_concurrency(1)
    })
}

/// 8.22: 25 % of failures tolerated and exactly 25 % fail; every branch runs.
fn r8_22(host: &Host, name: &str) -> anyhow::Result<()> {
    Projected {
        op: "pct-boundary",
        outcomes: &[false, true, true, true],
        config: || CompletionConfig::with_tolerated_failure_percentage(25),
        shape: Shape::WithStatus,
    }
    .install(host, name, parallel_of)
}
