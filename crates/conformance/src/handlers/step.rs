//! The `step` suite.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::builders::{JitterStrategy, RetryStrategyConfig};
use durable::serdes::SerdesContext;
use serde_json::{json, Value};

use super::{crash, err, input_str, no_retry, retry_up_to, typed_err, Install};
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("step/1-1", r1_1),
        ("step/1-2", r1_2),
        ("step/1-3", r1_3),
        ("step/1-4", r1_4),
        ("step/1-5", r1_5),
        ("step/1-6", r1_6),
        ("step/1-7", r1_7),
        ("step/1-8", r1_8),
        ("step/1-9", r1_9),
        ("step/1-10", r1_10),
        ("step/1-11", r1_11),
        ("step/1-12", r1_12),
        ("step/1-13", r1_13),
        ("step/1-14", r1_14),
        ("step/1-15", r1_15),
        ("step/1-16", r1_16),
        ("step/1-17", r1_17),
        ("step/1-18", r1_18),
        ("step/1-19", r1_19),
        ("step/1-20", r1_20),
    ]
}

/// 1.1: a single step returns a greeting for the input.
fn r1_1(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |event: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .step(move |_| async move { Ok(format!("Hello, {event}!")) })
                .await?;
            Ok(out)
        },
    )
}

/// 1.2: the same greeting step, named `custom_step_name`.
fn r1_2(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |event: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .step(move |_| async move { Ok(format!("Hello, {event}!")) })
                .name("custom_step_name")
                .await?;
            Ok(out)
        },
    )
}

/// 1.3: the second step uses the first step's result.
fn r1_3(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let first: String = ctx.step(|_| async { Ok("first".to_owned()) }).await?;
        let out: String = ctx
            .step(move |_| async move { Ok(format!("{first}_second")) })
            .await?;
        Ok(out)
    })
}

/// 1.4: a step returns a nested object built from the input.
fn r1_4(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |event: Value, ctx: durable::DurableContext| async move {
        let out: Value = ctx
            .step(move |_| async move {
                let tags = event.get("tags").cloned().unwrap_or_else(|| json!([]));
                let count = tags.as_array().map_or(0, Vec::len);
                Ok(json!({
                    "user": { "name": event.get("name").cloned().unwrap_or(Value::Null), "tags": tags },
                    "count": count,
                }))
            })
            .await?;
        Ok(out)
    })
}

/// 1.5: a step returns nothing (null).
fn r1_5(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: Option<String> = ctx.step(|_| async { Ok(None) }).await?;
        Ok(out)
    })
}

/// Serializes strings uppercased; reads them back as stored.
struct UppercaseSerdes;

impl durable::Serdes<String> for UppercaseSerdes {
    async fn serialize(
        &self,
        value: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(serde_json::to_string(&value.to_uppercase())?)
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<String, durable::BoxError> {
        Ok(serde_json::from_str(&wire)?)
    }
}

/// 1.6: a step with a per-step serdes that uppercases the result.
fn r1_6(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |event: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .step(move |_| async move { Ok(event) })
                .serdes(UppercaseSerdes)
                .await?;
            Ok(out)
        },
    )
}

/// 1.7: the greeting step logs when it starts and when it is done.
fn r1_7(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |event: String, ctx: durable::DurableContext| async move {
            let out: String = ctx
                .step(move |_| async move {
                    tracing::info!("Greeting step started for: {event}");
                    let greeting = format!("Hello, {event}!");
                    tracing::info!("Greeting step completed with: {greeting}");
                    Ok(greeting)
                })
                .await?;
            Ok(out)
        },
    )
}

/// 1.8: a step, then a 2 s wait; the replay skips the finished step.
fn r1_8(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx.step(|_| async { Ok("computed".to_owned()) }).await?;
        ctx.wait(Duration::from_secs(2)).await?;
        Ok(out)
    })
}

/// 1.9: a logging step, then a 1 s wait; the replay returns the stored result.
fn r1_9(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|_| async {
                tracing::info!("step executed");
                Ok("cached_value".to_owned())
            })
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(out)
    })
}

/// 1.10: a failing step (no retry) is caught, then a 1 s wait; the replay re-raises it.
fn r1_10(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let caught = ctx
            .step(|_| async {
                tracing::info!("step executed");
                Err::<String, _>(err("step failed"))
            })
            .retry_strategy(no_retry)
            .await
            .is_err();
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(json!({ "caught": caught }))
    })
}

/// 1.11: fails on the first attempt, succeeds on the second (1 s apart).
fn r1_11(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|sc| async move {
                if sc.attempt() < 2 {
                    return Err(err("transient failure"));
                }
                Ok("Operation succeeded".to_owned())
            })
            .retry_strategy(retry_up_to(3, 1))
            .await?;
        Ok(out)
    })
}

/// 1.12: always fails; 4 attempts in all, 1 s apart.
fn r1_12(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|_| async { Err(err("always fails")) })
            .retry_strategy(retry_up_to(4, 1))
            .await?;
        Ok(out)
    })
}

/// 1.13: fails twice, succeeds on the third attempt, under the default retry strategy.
fn r1_13(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|sc| async move {
                if sc.attempt() < 3 {
                    return Err(err("transient failure"));
                }
                Ok("succeeded on third attempt".to_owned())
            })
            .await?;
        Ok(out)
    })
}

/// 1.14: fails twice, then succeeds; 5 attempts, 2 s initial delay, 3x backoff, no jitter.
fn r1_14(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let config = RetryStrategyConfig::builder()
            .max_attempts(5)
            .initial_delay(Duration::from_secs(2))
            .backoff_rate(3.0)
            .jitter(JitterStrategy::None)
            .build();
        let out: String = ctx
            .step(|sc| async move {
                if sc.attempt() < 3 {
                    return Err(err("transient failure"));
                }
                Ok("succeeded on third attempt".to_owned())
            })
            .retry_strategy_config(config)
            .await?;
        Ok(out)
    })
}

/// Whether a step failed with a `TransientError`.
fn is_transient(e: &durable::StepError) -> bool {
    let mut link: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(l) = link {
        if l.downcast_ref::<durable::TypedError>()
            .is_some_and(|t| t.error_type() == "TransientError")
        {
            return true;
        }
        link = l.source();
    }
    false
}

/// A retry strategy: up to three attempts, 1 s apart, for failures whose [`is_transient`] is
/// `transient`; any other failure stops at once.
fn retry_when_transient_is(
    transient: bool,
) -> impl Fn(&durable::StepError, u32) -> durable::RetryDecision + Send + Sync + 'static {
    move |e, attempt| {
        if attempt < 3 && is_transient(e) == transient {
            durable::RetryDecision::Retry {
                delay: Duration::from_secs(1),
            }
        } else {
            durable::RetryDecision::Stop
        }
    }
}

/// 1.15: a `TransientError` on the first attempt is retried (1 s) because of its type.
fn r1_15(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|sc| async move {
                if sc.attempt() < 2 {
                    return Err(typed_err("TransientError", "temporary failure"));
                }
                Ok("recovered".to_owned())
            })
            .retry_strategy(retry_when_transient_is(true))
            .await?;
        Ok(out)
    })
}

/// 1.16: a `TransientError` is not retried because of its type; the execution fails.
fn r1_16(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|_| async { Err(typed_err("TransientError", "temporary failure")) })
            .retry_strategy(retry_when_transient_is(false))
            .await?;
        Ok(out)
    })
}

/// 1.17: an at-most-once step (no retry) crashes; the replay fails it as interrupted.
fn r1_17(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |event: Value, ctx: durable::DurableContext| async move {
            let input = input_str(&event);
            let out: String = ctx
                .step(move |_| async move {
                    tracing::info!("{input}");
                    crash("the step crashed the function")
                })
                .name("at_most_once_flaky_step")
                .semantics(durable::StepSemantics::AtMostOncePerRetry)
                .retry_strategy(no_retry)
                .await?;
            Ok(out)
        },
    )
}

/// 1.18: an at-most-once step with retry crashes on attempt 1 and succeeds on attempt 2.
fn r1_18(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(
        name,
        |event: Value, ctx: durable::DurableContext| async move {
            let input = input_str(&event);
            let out: String = ctx
                .step(move |sc| async move {
                    tracing::info!("{input}");
                    if sc.attempt() < 2 {
                        crash("the step crashed the function");
                    }
                    Ok("succeeded on second attempt".to_owned())
                })
                .semantics(durable::StepSemantics::AtMostOncePerRetry)
                .retry_strategy(retry_up_to(3, 1))
                .await?;
            Ok(out)
        },
    )
}

/// 1.19: a step that always fails, without retries; the execution fails.
fn r1_19(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let out: String = ctx
            .step(|_| async { Err(err("step failed permanently")) })
            .retry_strategy(no_retry)
            .await?;
        Ok(out)
    })
}

/// 1.20: a failing step is caught; a second step carries the fallback value.
fn r1_20(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        let first = ctx
            .step(|_| async { Err::<String, _>(err("step failed")) })
            .retry_strategy(no_retry)
            .await;
        let fallback = first.unwrap_or_else(|_| "fallback_result".to_owned());
        let out: String = ctx.step(move |_| async move { Ok(fallback) }).await?;
        Ok(out)
    })
}
