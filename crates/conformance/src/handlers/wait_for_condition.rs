//! The `wait_for_condition` suite.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::builders::wait_for_condition::{WaitDecision, WaitStrategy};
use durable::builders::JitterStrategy;
use durable::serdes::SerdesContext;
use serde_json::{json, Value};

use super::{err, Install};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("wait_for_condition/6-1", r6_1),
        ("wait_for_condition/6-2", r6_2),
        ("wait_for_condition/6-3", r6_3),
        ("wait_for_condition/6-4", r6_4),
        ("wait_for_condition/6-5", r6_5),
        ("wait_for_condition/6-6", r6_6),
        ("wait_for_condition/6-7", r6_7),
        ("wait_for_condition/6-8", r6_8),
        ("wait_for_condition/6-9", r6_9),
        ("wait_for_condition/6-10", r6_10),
        ("wait_for_condition/6-11", r6_11),
        ("wait_for_condition/6-12", r6_12),
        ("wait_for_condition/6-13", r6_13),
    ]
}

/// A check that adds one to the state.
async fn increment(_: durable::StepContext, state: i64) -> Result<i64, durable::BoxError> {
    Ok(state + 1)
}

/// Polls (1 s apart) while the state is below `target`.
fn until_at_least(target: i64) -> impl Fn(i64, u32) -> WaitDecision + Send + Sync + 'static {
    move |state, _| {
        if state >= target {
            WaitDecision::complete()
        } else {
            WaitDecision::continue_with(Duration::from_secs(1))
        }
    }
}

/// Counts from `initial` up to the input threshold.
fn count_up(host: &Host, name: &str, initial: i64) -> anyhow::Result<()> {
    host.durable(
        name,
        move |target: i64, ctx: durable::DurableContext| async move {
            let out = ctx
                .wait_for_condition(increment, initial)
                .wait_strategy_fn(until_at_least(target))
                .await?;
            Ok(out)
        },
    )
}

/// 6.1: counts from 0 to the input (3).
fn r6_1(host: &Host, name: &str) -> anyhow::Result<()> {
    count_up(host, name, 0)
}

/// 6.2: the state (5) already meets the condition at the first check.
fn r6_2(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |target: i64, ctx: durable::DurableContext| async move {
            let out = ctx
                .wait_for_condition(|_, state: i64| async move { Ok(state) }, 5_i64)
                .wait_strategy_fn(until_at_least(target))
                .await?;
            Ok(out)
        },
    )
}

/// 6.3: counts from 0 to the input (2), named `poll-status`.
fn r6_3(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |target: i64, ctx: durable::DurableContext| async move {
            let out = ctx
                .wait_for_condition(increment, 0_i64)
                .name("poll-status")
                .wait_strategy_fn(until_at_least(target))
                .await?;
            Ok(out)
        },
    )
}

/// 6.4: counts from 5 to the input (8).
fn r6_4(host: &Host, name: &str) -> anyhow::Result<()> {
    count_up(host, name, 5)
}

/// 6.5: counts from 0 to the input (3) with a fixed 2 s delay between checks.
fn r6_5(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |target: i64, ctx: durable::DurableContext| async move {
            let strategy = WaitStrategy::builder(move |state: &i64| *state >= target)
                .initial_delay(Duration::from_secs(2))
                .max_delay(Duration::from_secs(2))
                .backoff_rate(1.0)
                .jitter(JitterStrategy::None)
                .build();
            let out = ctx
                .wait_for_condition(increment, 0_i64)
                .wait_strategy(strategy)
                .await?;
            Ok(out)
        },
    )
}

/// 6.6: the condition is never met; three checks in all (1 s apart), then the execution fails.
fn r6_6(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |initial: i64, ctx: durable::DurableContext| async move {
            let strategy = WaitStrategy::builder(|_: &i64| false)
                .max_attempts(3)
                .initial_delay(Duration::from_secs(1))
                .backoff_rate(1.0)
                .jitter(JitterStrategy::None)
                .build();
            let out = ctx
                .wait_for_condition(increment, initial)
                .wait_strategy(strategy)
                .await?;
            Ok(out)
        },
    )
}

/// A check that fails.
async fn failing_check(_: durable::StepContext, _: i64) -> Result<i64, durable::BoxError> {
    Err(err("the check failed"))
}

/// 6.7: the check fails at once; the execution fails.
fn r6_7(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .wait_for_condition(failing_check, 0_i64)
            .wait_strategy_fn(until_at_least(1))
            .await?;
        Ok(out)
    })
}

/// 6.8: the check fails at once; the failure is caught and `recovered` returned.
fn r6_8(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .wait_for_condition(failing_check, 0_i64)
            .wait_strategy_fn(until_at_least(1))
            .await;
        Ok(match out {
            Ok(v) => json!(v),
            Err(_) => json!("recovered"),
        })
    })
}

/// The object state of 6.9.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Job {
    status: String,
    attempts: u32,
}

/// 6.9: an object state, `PENDING` until its second check makes it `DONE`.
fn r6_9(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let initial = Job {
            status: "PENDING".to_owned(),
            attempts: 0,
        };
        let out = ctx
            .wait_for_condition(
                |_, job: Job| async move {
                    let attempts = job.attempts + 1;
                    let status = if attempts >= 2 { "DONE" } else { "PENDING" };
                    Ok(Job {
                        status: status.to_owned(),
                        attempts,
                    })
                },
                initial,
            )
            .wait_strategy_fn(|job: Job, _| {
                if job.status == "PENDING" {
                    WaitDecision::continue_with(Duration::from_secs(1))
                } else {
                    WaitDecision::complete()
                }
            })
            .await?;
        Ok(out)
    })
}

/// 6.10: the check returns null and the strategy stops at once.
fn r6_10(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .wait_for_condition(|_, _: Value| async { Ok(Value::Null) }, Value::Null)
            .wait_strategy_fn(|_, _| WaitDecision::complete())
            .await?;
        Ok(out)
    })
}

/// Stores a string state as `enc:` followed by its characters reversed.
struct Reversed;

impl durable::Serdes<String> for Reversed {
    async fn serialize(
        &self,
        value: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(format!("enc:{}", value.chars().rev().collect::<String>()))
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        wire.strip_prefix("enc:")
            .map(|s| s.chars().rev().collect())
            .ok_or_else(|| err("the state payload is not encoded"))
    }
}

/// 6.11: a string state kept through a custom serdes; one `x` per check until `xx`.
fn r6_11(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out = ctx
            .wait_for_condition(
                |_, state: String| async move { Ok(format!("{state}x")) },
                String::new(),
            )
            .serdes(Reversed)
            .wait_strategy_fn(|state: String, _| {
                if state.len() >= 2 {
                    WaitDecision::complete()
                } else {
                    WaitDecision::continue_with(Duration::from_secs(1))
                }
            })
            .await?;
        Ok(out)
    })
}

/// 6.12: counts from 0 to the input (2), then a step multiplies the result by 10.
fn r6_12(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |target: i64, ctx: durable::DurableContext| async move {
            let reached = ctx
                .wait_for_condition(increment, 0_i64)
                .wait_strategy_fn(until_at_least(target))
                .await?;
            let out: i64 = ctx.step(move |_| async move { Ok(reached * 10) }).await?;
            Ok(out)
        },
    )
}

/// 6.13: counts 0 → 2, then that result seeds a second count to 4.
fn r6_13(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let first = ctx
            .wait_for_condition(increment, 0_i64)
            .wait_strategy_fn(until_at_least(2))
            .await?;
        let second = ctx
            .wait_for_condition(increment, first)
            .wait_strategy_fn(until_at_least(4))
            .await?;
        Ok(second)
    })
}
