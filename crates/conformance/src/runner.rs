//! Runs one requirement the way the suite's own validator does, against a [`Stack`]:
//! - bind `Variables`, substitute them into `Input`, invoke the function (`Event` when
//!   `AsyncInvoke`, else `RequestResponse`) with `json.dumps(Input)`;
//! - synchronous: read the history once, match it, then check `ExpectedResult`;
//! - asynchronous: poll the history until a terminal event (`ExecutionSucceeded`, `Failed`,
//!   `TimedOut`, `Cancelled`); on each poll, answer every new `CallbackStarted` with the first
//!   unused `CallbackAction` whose name matches (after its `Delay`; a heartbeat leaves the
//!   callback open for a later action); without `ExpectedResult`, stop as soon as the expected
//!   history matches; then match the history and check `ExpectedResult`.
//!
//! Delays use the stack's skipping clock; the harness registers as its watcher, so the clock
//! never skips past a callback the harness has not seen yet.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use durapipe_durable::{Clock as _, SkippingClock, Watcher};
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::handlers::Install;
use crate::matcher::{match_history, match_result, regex_source, ActualResult};
use crate::pyvalue::json_dumps;
use crate::requirement::{CallbackAction, Operation, Requirement};
use crate::stack::{Hosting, Stack};
use crate::variables::Context;

/// Wall time between two history polls of an asynchronous requirement.
const POLL: Duration = Duration::from_millis(5);
/// The suite's no-progress limit: no new event for this long (wall time) fails the requirement.
const NO_PROGRESS: Duration = Duration::from_secs(30);

const TERMINAL: [(&str, &str); 4] = [
    ("ExecutionSucceeded", "SUCCEEDED"),
    ("ExecutionFailed", "FAILED"),
    ("ExecutionTimedOut", "TIMED_OUT"),
    ("ExecutionCancelled", "CANCELLED"),
];

/// How a requirement went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Passed,
    /// At least one check failed (the messages).
    Failed(Vec<String>),
}

/// Installs the requirement's handler on a fresh stack (hosted as `hosting` says) and runs it,
/// at most `limit` of wall time; then checks its `ExpectedLogs` against the output of its
/// functions. Returns the verdict and the virtual time the clock skipped.
pub async fn run(
    req: &Requirement,
    install: Install,
    limit: Duration,
    hosting: &Hosting,
) -> (Verdict, Duration) {
    let stack = match Stack::start().await {
        Ok(s) => s,
        Err(e) => return (Verdict::Failed(vec![format!("{e:#}")]), Duration::ZERO),
    };
    let name = req.function_name();
    let mut ctx = Context::default();
    ctx.resolve_variables(&req.variables);
    let verdict = match stack.install(hosting, &req.id, install, &name) {
        Err(e) => Verdict::Failed(vec![format!("installing the handler failed: {e:#}")]),
        Ok(()) => match tokio::time::timeout(limit, validate(req, &name, &stack, &mut ctx)).await {
            Ok(Ok(mut errors)) => {
                errors.extend(check_logs(req, &stack, &ctx).await);
                if errors.is_empty() {
                    Verdict::Passed
                } else {
                    Verdict::Failed(errors)
                }
            }
            Ok(Err(e)) => Verdict::Failed(vec![format!("{e:#}")]),
            Err(_) => Verdict::Failed(vec![format!(
                "did not finish within {} s of wall time",
                limit.as_secs()
            )]),
        },
    };
    let skipped = stack.clock.skipped().0;
    stack.stop().await;
    (verdict, skipped)
}

/// The requirement's `ExpectedLogs` against everything its functions wrote.
async fn check_logs(req: &Requirement, stack: &Stack, ctx: &Context) -> Vec<String> {
    let Some(expected) = &req.expected_logs else {
        return Vec::new();
    };
    if !stack.captures_output() {
        return vec![
            "ExpectedLogs need the functions' output, which only process hosting captures \
             (run without --in-process)"
                .into(),
        ];
    }
    let lines = stack.drain_output().await;
    crate::logs::check(expected, &lines, ctx)
}

async fn validate(
    req: &Requirement,
    name: &str,
    stack: &Stack,
    ctx: &mut Context,
) -> anyhow::Result<Vec<String>> {
    let input = json_dumps(&ctx.substitute(&req.input));
    // The watcher exists before the execution does: nothing is skipped before the first poll.
    let watcher =
        (req.async_invoke && !req.callback_actions.is_empty()).then(|| stack.clock.watcher());
    let invoked = stack
        .client
        .invoke()
        .function_name(name)
        .qualifier("$LATEST")
        .invocation_type(if req.async_invoke {
            InvocationType::Event
        } else {
            InvocationType::RequestResponse
        })
        .payload(Blob::new(input.into_bytes()))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "Invocation failed: {}",
                aws_sdk_lambda::error::DisplayErrorContext(e)
            )
        })?;
    let arn = invoked
        .durable_execution_arn()
        .context("No DurableExecutionArn in invocation response")?
        .to_owned();
    let mut errors = Vec::new();
    let events = if req.async_invoke {
        match poll(req, &arn, stack, watcher.as_ref(), ctx, &mut errors).await? {
            Polled::Done(events) => events,
            Polled::HistoryMatched => return Ok(Vec::new()),
        }
    } else {
        stack
            .raw
            .history(&arn)
            .await
            .context("Failed to retrieve execution history")?
    };
    if !req.async_invoke && req.expected_history.is_empty() {
        return Ok(vec![
            "No ExpectedExecutionHistory found in description file".into(),
        ]);
    }
    let mismatches = match_history(&req.expected_history, &events, ctx);
    if !mismatches.is_empty() {
        errors.extend(mismatches);
        return Ok(errors);
    }
    if let Some(expected) = &req.expected_result {
        let got = stack
            .client
            .get_durable_execution()
            .durable_execution_arn(&arn)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "Failed to retrieve durable execution details: {}",
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                )
            })?;
        let actual = ActualResult {
            status: got.status().as_str().to_owned(),
            result: got.result().map(str::to_owned),
        };
        errors.extend(match_result(expected, &actual, ctx));
    }
    // The same history must also parse with the official client.
    if let Err(e) = stack
        .client
        .get_durable_execution_history()
        .durable_execution_arn(&arn)
        .include_execution_data(true)
        .send()
        .await
    {
        errors.push(format!(
            "GetDurableExecutionHistory does not parse with aws-sdk-lambda: {}",
            aws_sdk_lambda::error::DisplayErrorContext(e)
        ));
    }
    Ok(errors)
}

enum Polled {
    /// The final history (terminal, or no progress: then `errors` says so).
    Done(Vec<Json>),
    /// History-only mode: the expected history matched before the end.
    HistoryMatched,
}

fn terminal_status(events: &[Json]) -> Option<&'static str> {
    events.iter().rev().find_map(|e| {
        let t = e.get("EventType")?.as_str()?;
        TERMINAL.iter().find(|(ty, _)| *ty == t).map(|(_, s)| *s)
    })
}

async fn poll(
    req: &Requirement,
    arn: &str,
    stack: &Stack,
    watcher: Option<&Watcher>,
    ctx: &mut Context,
    errors: &mut Vec<String>,
) -> anyhow::Result<Polled> {
    let mut handled: HashSet<String> = HashSet::new();
    let mut used: HashSet<usize> = HashSet::new();
    let mut last_count = 0;
    let mut last_progress = Instant::now();
    loop {
        let epoch = watcher.map(Watcher::epoch);
        let events = stack
            .raw
            .history(arn)
            .await
            .context("Failed to retrieve execution history during polling")?;
        if terminal_status(&events).is_some() {
            return Ok(Polled::Done(events));
        }
        if events.len() > last_count {
            last_count = events.len();
            last_progress = Instant::now();
        } else if last_progress.elapsed() >= NO_PROGRESS {
            errors.push(format!(
                "No new events for {:.1}s (timeout: {}s)",
                last_progress.elapsed().as_secs_f64(),
                NO_PROGRESS.as_secs()
            ));
            return Ok(Polled::Done(events));
        }
        for event in new_callbacks(&events, &handled) {
            let id = event["CallbackStartedDetails"]["CallbackId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let cb_name = event.get("Name").and_then(Json::as_str).unwrap_or_default();
            let Some((index, action)) = find_action(cb_name, &req.callback_actions, &used, ctx)
            else {
                if !req.callback_actions.is_empty() {
                    let shown = if cb_name.is_empty() {
                        "<anonymous>"
                    } else {
                        cb_name
                    };
                    errors.push(format!(
                        "No matching CallbackAction for callback '{shown}' (id={id})"
                    ));
                }
                handled.insert(id);
                continue;
            };
            used.insert(index);
            if action.operation != Operation::Heartbeat {
                handled.insert(id.clone());
            }
            if let Err(e) = act(stack, watcher, epoch, &id, action, ctx).await {
                errors.push(e);
            }
        }
        if req.expected_result.is_none()
            && !req.expected_history.is_empty()
            && match_history(&req.expected_history, &events, ctx).is_empty()
        {
            return Ok(Polled::HistoryMatched);
        }
        if let (Some(w), Some(e)) = (watcher, epoch) {
            w.seen(e);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `CallbackStarted` events whose callback id was not handled yet, in history order.
fn new_callbacks<'a>(events: &'a [Json], handled: &HashSet<String>) -> Vec<&'a Json> {
    events
        .iter()
        .filter(|e| e.get("EventType").and_then(Json::as_str) == Some("CallbackStarted"))
        .filter(|e| {
            e["CallbackStartedDetails"]["CallbackId"]
                .as_str()
                .is_some_and(|id| !id.is_empty() && !handled.contains(id))
        })
        .collect()
}

/// The first unused action whose (substituted) name is `*`, the callback's name, or a regex
/// found in it.
fn find_action<'a>(
    cb_name: &str,
    actions: &'a [CallbackAction],
    used: &HashSet<usize>,
    ctx: &Context,
) -> Option<(usize, &'a CallbackAction)> {
    actions.iter().enumerate().find(|(i, a)| {
        if used.contains(i) {
            return false;
        }
        let resolved = ctx.substitute_str(&a.callback_name);
        if resolved == "*" || resolved == cb_name {
            return true;
        }
        regex_source(&Yaml::String(resolved))
            .and_then(|p| regex::Regex::new(p).ok())
            .is_some_and(|re| re.is_match(cb_name))
    })
}

/// Waits the action's delay on the stack's clock, then sends it (an error message on failure).
async fn act(
    stack: &Stack,
    watcher: Option<&Watcher>,
    epoch: Option<u64>,
    callback_id: &str,
    action: &CallbackAction,
    ctx: &Context,
) -> Result<(), String> {
    let busy = if action.delay_seconds > 0.0 {
        // Parked while sleeping, as the suite's poller does not look while it sleeps; the
        // due sleep is dropped only once the send is marked busy.
        if let Some(w) = watcher {
            w.park();
        }
        let delay_ms = (action.delay_seconds * 1000.0).round() as i64;
        let mut sleep = SkippingClock::sleep_until(&stack.clock, stack.clock.now_ms() + delay_ms);
        (&mut sleep).await;
        let busy = stack.clock.busy();
        drop(sleep);
        if let (Some(w), Some(e)) = (watcher, epoch) {
            w.seen(e);
        }
        busy
    } else {
        stack.clock.busy()
    };
    let result = send(stack, callback_id, action, ctx).await;
    drop(busy);
    result
}

async fn send(
    stack: &Stack,
    callback_id: &str,
    action: &CallbackAction,
    ctx: &Context,
) -> Result<(), String> {
    let payload = ctx.substitute(&action.payload);
    let (op, sent) = match action.operation {
        Operation::Success => {
            let mut call = stack
                .client
                .send_durable_execution_callback_success()
                .callback_id(callback_id);
            if !payload.is_null() {
                call = call.result(Blob::new(json_dumps(&payload).into_bytes()));
            }
            ("success", call.send().await.map(|_| ()).map_err(err_text))
        }
        Operation::Failure => {
            let mut call = stack
                .client
                .send_durable_execution_callback_failure()
                .callback_id(callback_id);
            match failure_error(&payload) {
                Ok(Some(e)) => call = call.error(e),
                Ok(None) => {}
                Err(msg) => {
                    return Err(format!(
                        "Callback failure failed for callback_id={callback_id}: {msg}"
                    ))
                }
            }
            ("failure", call.send().await.map(|_| ()).map_err(err_text))
        }
        Operation::Heartbeat => (
            "heartbeat",
            stack
                .client
                .send_durable_execution_callback_heartbeat()
                .callback_id(callback_id)
                .send()
                .await
                .map(|_| ())
                .map_err(err_text),
        ),
    };
    sent.map_err(|e| format!("Callback {op} failed for callback_id={callback_id}: {e}"))
}

fn err_text<E: std::error::Error + 'static>(e: E) -> String {
    aws_sdk_lambda::error::DisplayErrorContext(e).to_string()
}

/// The `Error` of a failure action: the payload's `ErrorType`, `ErrorMessage`, `ErrorData` and
/// `StackTrace` (none: no `Error`); a payload that is not a mapping is refused.
fn failure_error(payload: &Yaml) -> Result<Option<aws_sdk_lambda::types::ErrorObject>, String> {
    if payload.is_null() {
        return Ok(None);
    }
    let Some(m) = payload.as_mapping() else {
        return Err(format!(
            "Failure callback payload must be a dict containing ErrorType/ErrorMessage/ErrorData/StackTrace fields, got {payload:?}"
        ));
    };
    let text = |k: &str| -> Result<Option<String>, String> {
        match m.get(k) {
            None => Ok(None),
            Some(Yaml::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{k} must be a string, got {other:?}")),
        }
    };
    let error_type = text("ErrorType")?;
    let error_message = text("ErrorMessage")?;
    let error_data = text("ErrorData")?;
    let stack_trace = match m.get("StackTrace") {
        None => None,
        Some(Yaml::Sequence(items)) => Some(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("StackTrace entries must be strings, got {i:?}"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => return Err(format!("StackTrace must be a list, got {other:?}")),
    };
    if error_type.is_none()
        && error_message.is_none()
        && error_data.is_none()
        && stack_trace.is_none()
    {
        return Ok(None);
    }
    Ok(Some(
        aws_sdk_lambda::types::ErrorObject::builder()
            .set_error_type(error_type)
            .set_error_message(error_message)
            .set_error_data(error_data)
            .set_stack_trace(stack_trace)
            .build(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(name: &str) -> CallbackAction {
        CallbackAction {
            callback_name: name.into(),
            operation: Operation::Success,
            payload: Yaml::Null,
            delay_seconds: 0.0,
        }
    }

    #[test]
    fn actions_match_by_name_wildcard_or_regex_and_are_used_once() {
        let mut ctx = Context::default();
        ctx.resolve_variables(&[("A".into(), Yaml::String("cb-a".into()))]);
        let actions = [action("${A}"), action("${/^x-/}"), action("*")];
        let mut used = HashSet::new();
        assert_eq!(find_action("cb-a", &actions, &used, &ctx).unwrap().0, 0);
        used.insert(0);
        assert_eq!(find_action("cb-a", &actions, &used, &ctx).unwrap().0, 2);
        assert_eq!(find_action("x-1", &actions, &used, &ctx).unwrap().0, 1);
        used.extend([1, 2]);
        assert!(find_action("x-1", &actions, &used, &ctx).is_none());
    }

    #[test]
    fn a_failure_payload_must_be_a_mapping_of_known_fields() {
        let y = |s: &str| serde_norway::from_str::<Yaml>(s).unwrap();
        let e = failure_error(&y(
            "{ErrorType: T, ErrorMessage: m, StackTrace: [a, b], X: 1}",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(e.error_type(), Some("T"));
        assert_eq!(e.stack_trace(), ["a", "b"]);
        assert!(failure_error(&y("{X: 1}")).unwrap().is_none());
        assert!(failure_error(&y("oops")).is_err());
    }

    #[test]
    fn only_the_suites_four_terminal_events_end_polling() {
        let ev = |t: &str| serde_json::json!({ "EventType": t });
        assert_eq!(
            terminal_status(&[ev("ExecutionStarted"), ev("ExecutionTimedOut")]),
            Some("TIMED_OUT")
        );
        assert_eq!(terminal_status(&[ev("ExecutionStopped")]), None);
    }
}
