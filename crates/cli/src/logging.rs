//! Logging for `durapipe up`: readable text by default (colours only on a terminal), or
//! `--log-format json`: one CloudWatch-style JSON object per line — `timestamp`, `level`,
//! `message`, the fields of every enclosing span flattened in (so a line logged while a batch
//! or an execution runs carries its `requestId`, `function` and `executionArn`), the event's
//! own fields, and `target`.

use std::fmt;
use std::io::IsTerminal as _;

use serde_json::{Map, Value};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the global subscriber; `format` is `text` or `json`. The level filter comes from
/// `DURAPIPE_LOG` (e.g. `debug`, `durapipe_local=debug`), `info` by default.
pub fn init(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DURAPIPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder
            .fmt_fields(JsonFields::new())
            .event_format(CloudWatchJson)
            .init();
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}

/// One flat JSON object per event (see the module docs).
#[derive(Debug, Clone, Copy)]
struct CloudWatchJson;

fn json_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

impl<S, N> FormatEvent<S, N> for CloudWatchJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut out = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        out.insert("timestamp".into(), Value::String(timestamp));
        out.insert(
            "level".into(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        out.insert("message".into(), Value::String(String::new()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                    out.extend(json_object(fields.as_str()));
                }
            }
        }
        let mut fields = String::new();
        ctx.format_fields(Writer::new(&mut fields), event)?;
        out.extend(json_object(&fields));
        out.insert(
            "target".into(),
            Value::String(event.metadata().target().to_owned()),
        );
        writeln!(writer, "{}", Value::Object(out))
    }
}
