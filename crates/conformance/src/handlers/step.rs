//! The `step` suite.

use aws_durable_execution_sdk as durable;

use super::Install;
use crate::host::Host;

/// This suite's handlers.
pub(super) fn handlers() -> Vec<(&'static str, Install)> {
    vec![("step/1-1", r1_1)]
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
