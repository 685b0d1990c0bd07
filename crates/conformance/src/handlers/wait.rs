//! The `wait` suite.

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use serde_json::{json, Value};

use super::Install;
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![
        ("wait/2-1", r2_1),
        ("wait/2-2", r2_2),
        ("wait/2-3", r2_3),
        ("wait/2-4", r2_4),
        ("wait/2-5", r2_5),
    ]
}

/// A handler that waits `secs` seconds (named `name` if given), then returns null.
fn one_wait(
    host: &Host,
    name: &str,
    secs: u64,
    wait_name: Option<&'static str>,
) -> anyhow::Result<()> {
    host.durable(
        name,
        move |_: Value, ctx: durable::DurableContext| async move {
            let mut wait = ctx.wait(Duration::from_secs(secs));
            if let Some(n) = wait_name {
                wait = wait.name(n);
            }
            wait.await?;
            Ok(Value::Null)
        },
    )
}

/// 2.1: one 2 s wait.
fn r2_1(host: &Host, name: &str) -> anyhow::Result<()> {
    one_wait(host, name, 2, None)
}

/// 2.2: one 2 s wait named `custom_wait_name`.
fn r2_2(host: &Host, name: &str) -> anyhow::Result<()> {
    one_wait(host, name, 2, Some("custom_wait_name"))
}

/// 2.3: two sequential 2 s waits, `wait-1` and `wait-2`.
fn r2_3(host: &Host, name: &str) -> anyhow::Result<()> {
    host.durable(name, |_: Value, ctx: durable::DurableContext| async move {
        ctx.wait(Duration::from_secs(2)).name("wait-1").await?;
        ctx.wait(Duration::from_secs(2)).name("wait-2").await?;
        Ok(json!({ "completedWaits": 2 }))
    })
}

/// 2.4: a one-minute wait (60 s on the wire).
fn r2_4(host: &Host, name: &str) -> anyhow::Result<()> {
    one_wait(host, name, 60, None)
}

/// 2.5: a one-hour wait (3600 s on the wire).
fn r2_5(host: &Host, name: &str) -> anyhow::Result<()> {
    one_wait(host, name, 3600, None)
}
