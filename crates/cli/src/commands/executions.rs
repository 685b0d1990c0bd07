//! `durapipe executions` and `durapipe history <arn>`.

use anyhow::{bail, Context as _};
use aws_sdk_lambda::types::ExecutionStatus;

use crate::args::{ExecutionsArgs, HistoryArgs};
use crate::aws;

pub async fn list(args: ExecutionsArgs) -> anyhow::Result<()> {
    let config = aws::target_config(&args.target).await?;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let function = args.target.names().functions.orchestrator;
    let mut request = lambda
        .list_durable_executions_by_function()
        .function_name(&function)
        .reverse_order(true);
    if let Some(status) = &args.status {
        let upper = status.to_ascii_uppercase();
        if !ExecutionStatus::values().contains(&upper.as_str()) {
            bail!(
                "--status must be one of {:?}, got {status:?}",
                ExecutionStatus::values()
            );
        }
        request = request.statuses(ExecutionStatus::from(upper.as_str()));
    }
    let mut pages = request.into_paginator().send();
    let mut shown = 0;
    println!("{:<10} {:<26} ARN", "STATUS", "STARTED");
    'pages: while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("cannot list executions of {function}"))?;
        for e in page.durable_executions.unwrap_or_default() {
            if shown >= args.limit {
                break 'pages;
            }
            shown += 1;
            println!(
                "{:<10} {:<26} {}",
                e.status.as_str(),
                millis(e.start_timestamp),
                e.durable_execution_arn
            );
        }
    }
    Ok(())
}

pub async fn history(args: HistoryArgs) -> anyhow::Result<()> {
    let config = aws::target_config(&args.target).await?;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let mut pages = lambda
        .get_durable_execution_history()
        .durable_execution_arn(&args.arn)
        .include_execution_data(true)
        .into_paginator()
        .send();
    let mut timeline = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("cannot read the history of {}", args.arn))?;
        for event in page.events {
            if args.timeline {
                timeline.push(super::timeline::Event {
                    id: event.id.clone().unwrap_or_default(),
                    parent_id: event.parent_id.clone(),
                    name: event.name.clone(),
                    event_type: event
                        .event_type
                        .as_ref()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    at_ms: event.event_timestamp.map(epoch_ms).unwrap_or_default(),
                });
                continue;
            }
            println!(
                "{:>4} {:<26} {:<22} {}",
                event.event_id,
                event.event_timestamp.map(millis).unwrap_or_default(),
                event
                    .event_type
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                event.name.or(event.id).unwrap_or_default()
            );
        }
    }
    if args.timeline {
        let spans = super::timeline::spans(&timeline);
        let now = epoch_ms(aws_sdk_lambda::primitives::DateTime::from(
            std::time::SystemTime::now(),
        ));
        print!(
            "{}",
            super::timeline::render(&spans, usize::from(args.width), now)
        );
    }
    Ok(())
}

#[allow(clippy::cast_possible_truncation)]
fn epoch_ms(t: aws_sdk_lambda::primitives::DateTime) -> i64 {
    (t.as_secs_f64() * 1000.0).round() as i64
}

/// RFC 3339 with exactly three fraction digits (`2026-11-27T08:40:55.494Z`): the API's epoch
/// seconds are floats, so plain `Display` would print `55.493999Z` or `55.9Z`.
pub(super) fn millis(t: aws_sdk_lambda::primitives::DateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    #[allow(clippy::cast_possible_truncation)]
    let ms = (t.as_secs_f64() * 1000.0).round() as i128;
    time::OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000)
        .ok()
        .and_then(|d| d.format(FORMAT).ok())
        .unwrap_or_else(|| t.to_string())
}
