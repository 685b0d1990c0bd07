//! Transitions that do not come from the handler's checkpoints: invocation results, callbacks,
//! chained-invoke completion and stop (`docs/wire-contract.md` §2, §3.2, §6, §7).

use serde_json::{json, Value};

use super::{
    claim, error_payload, finish, has_outstanding_work, note_async_change, op_event, payload,
    Action, ChainedOutcome, Env, TargetKind,
};
use crate::error::{ApiError, ErrorKind};
use crate::model::{ErrorObject, ExecStatus, OpStatus, OpType};
use crate::state::ExecutionState;

fn backoff_ms(env: &Env<'_>, failures: u32) -> i64 {
    let l = env.limits;
    let shift = failures.saturating_sub(1).min(20);
    l.backoff_base_ms
        .saturating_mul(1_i64 << shift)
        .min(l.backoff_max_ms)
}

fn invalid_output(message: &str) -> Option<ErrorObject> {
    Some(ErrorObject::new("InvalidParameterValueException", message))
}

/// An invocation ended: its answer decides the execution's fate and the next invocation
/// (`docs/wire-contract.md` §2, §6).
pub(super) fn invocation_done(
    state: &mut ExecutionState,
    invocation_id: &str,
    outcome: super::InvocationOutcome,
    env: &Env<'_>,
) -> Vec<Action> {
    let m = &state.meta;
    if m.status != ExecStatus::Running
        || !m.invoking
        || m.invocation_id.as_deref() != Some(invocation_id)
    {
        return Vec::new(); // fenced: a stopped, timed-out or superseded invocation
    }
    let now = env.now_ms;
    let started = m.invocation_started_ms.unwrap_or(now);
    {
        let m = state.meta_mut();
        m.invoking = false;
        m.invocation_id = None;
    }
    let mut event = json!({
        "EventType": "InvocationCompleted",
        "InvocationCompletedDetails": {
            "StartTimestamp": crate::model::ts(started, crate::model::TimeFormat::EpochSeconds),
            "EndTimestamp": crate::model::ts(now, crate::model::TimeFormat::EpochSeconds),
            "RequestId": invocation_id,
        }
    });
    let response = match outcome {
        super::InvocationOutcome::Failed(error) => {
            event["InvocationCompletedDetails"]["Error"] = error_payload(&Some(error.clone()));
            state.push_event(now, event);
            record_deferred(state, now);
            return invocation_failed(state, error, env);
        }
        super::InvocationOutcome::Response(v) => v,
    };
    state.push_event(now, event);
    record_deferred(state, now);
    let status = response.get("Status").and_then(Value::as_str);
    let result = response.get("Result");
    let error = response.get("Error");
    match status {
        Some("SUCCEEDED") if error.is_none_or(Value::is_null) => {
            let result = match result {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                None | Some(Value::Null) | Some(Value::String(_)) => {
                    state.meta.checkpointed_result.clone()
                }
                Some(_) => {
                    return finish(
                        state,
                        ExecStatus::Failed,
                        None,
                        invalid_output("Result must be a string."),
                        env,
                    )
                }
            };
            finish(state, ExecStatus::Succeeded, result, None, env)
        }
        Some("FAILED") if result.is_none_or(Value::is_null) => {
            let error = error
                .and_then(|e| serde_json::from_value::<ErrorObject>(e.clone()).ok())
                .unwrap_or_else(|| ErrorObject::message("The execution failed."));
            finish(state, ExecStatus::Failed, None, Some(error), env)
        }
        Some("PENDING") => {
            let m = state.meta_mut();
            m.consecutive_failures = 0;
            if m.async_seq > m.base_seq || m.needs_reinvoke {
                m.invalid_pending = 0;
                return claim_unless_results_imminent(state, env);
            }
            if has_outstanding_work(state) {
                state.meta_mut().invalid_pending = 0;
                return Vec::new();
            }
            let m = state.meta_mut();
            m.invalid_pending += 1;
            if m.invalid_pending > env.limits.max_invalid_pending {
                return finish(
                    state,
                    ExecStatus::Failed,
                    None,
                    invalid_output("The function returned PENDING with no pending operations."),
                    env,
                );
            }
            let delay = backoff_ms(env, m.invalid_pending);
            m.next_invoke_ms = Some(now + delay);
            Vec::new()
        }
        _ => finish(
            state,
            ExecStatus::Failed,
            None,
            invalid_output("Invalid Status in the invocation output."),
            env,
        ),
    }
}

fn invocation_failed(state: &mut ExecutionState, error: ErrorObject, env: &Env<'_>) -> Vec<Action> {
    let m = state.meta_mut();
    m.consecutive_failures += 1;
    if m.consecutive_failures >= env.limits.max_invocation_attempts {
        let attempts = m.consecutive_failures;
        let mut error = error;
        let msg = error.error_message.take().unwrap_or_default();
        error.error_message = Some(format!(
            "The function failed {attempts} consecutive invocations; last error: {msg}"
        ));
        return finish(state, ExecStatus::Failed, None, Some(error), env);
    }
    let delay = backoff_ms(env, m.consecutive_failures);
    m.next_invoke_ms = Some(env.now_ms + delay);
    Vec::new()
}

fn running_callback(state: &ExecutionState, op_id: &str) -> Result<(), ApiError> {
    let Some(op) = state.op(op_id).filter(|o| o.op_type == OpType::Callback) else {
        return Err(ApiError::not_found("Callback not found."));
    };
    match op.status {
        OpStatus::Started | OpStatus::Pending if state.meta.status == ExecStatus::Running => Ok(()),
        OpStatus::TimedOut => Err(ApiError::new(
            ErrorKind::CallbackTimeout,
            "Callback timed out.",
        )),
        _ if state.meta.status != ExecStatus::Running => {
            Err(ApiError::invalid("The durable execution is not running."))
        }
        _ => Err(ApiError::invalid("Callback is already completed.")),
    }
}

/// Completes a CALLBACK with success or failure.
pub(super) fn callback_complete(
    state: &mut ExecutionState,
    op_id: &str,
    status: OpStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
    env: &Env<'_>,
) -> Result<Vec<Action>, ApiError> {
    running_callback(state, op_id)?;
    let size = result.as_ref().map_or(0, String::len) + error.as_ref().map_or(0, ErrorObject::size);
    if size > env.limits.max_result_bytes {
        return Err(ApiError::invalid(format!(
            "Callback result size {size} bytes exceeds the maximum of {} bytes",
            env.limits.max_result_bytes
        )));
    }
    state.meta_mut().stored_bytes += size as u64;
    let now = env.now_ms;
    let Some(op) = state.op_mut(op_id) else {
        return Err(ApiError::not_found("Callback not found."));
    };
    op.status = status;
    op.result = result;
    op.error = error;
    op.end_ms = Some(now);
    let event = if status == OpStatus::Succeeded {
        let r = payload(&op.result);
        op_event(
            op,
            "CallbackSucceeded",
            Some(("CallbackSucceededDetails", json!({ "Result": r }))),
        )
    } else {
        let e = error_payload(&op.error);
        op_event(
            op,
            "CallbackFailed",
            Some(("CallbackFailedDetails", json!({ "Error": e }))),
        )
    };
    state.push_event(now, event);
    note_async_change(state, op_id);
    let mut actions = vec![Action::Reply(json!({}))];
    actions.extend(claim(state, env));
    Ok(actions)
}

/// Moves a CALLBACK's heartbeat deadline.
pub(super) fn callback_heartbeat(
    state: &mut ExecutionState,
    op_id: &str,
    env: &Env<'_>,
) -> Result<Vec<Action>, ApiError> {
    running_callback(state, op_id)?;
    let now = env.now_ms;
    if let Some(op) = state.op_mut(op_id) {
        if op.cb_heartbeat_s > 0 {
            op.cb_heartbeat_deadline_ms = Some(now + op.cb_heartbeat_s * 1000);
        }
    }
    Ok(vec![Action::Reply(json!({}))])
}

/// Chained invokes' targets finished: each is recorded, then one invocation is claimed for all.
pub(super) fn chained_done(
    state: &mut ExecutionState,
    done: Vec<(String, ChainedOutcome)>,
    env: &Env<'_>,
) -> Vec<Action> {
    if state.meta.status != ExecStatus::Running {
        return Vec::new();
    }
    let live: Vec<(String, ChainedOutcome)> = done
        .into_iter()
        .filter(|(id, _)| chained_started(state, id))
        .collect();
    if state.meta.invoking {
        // As on AWS, where the target starts asynchronously and the invocation that started it
        // has ended long before it reports: its outcome follows that invocation's
        // InvocationCompleted. (A repeated or unknown completion is dropped here already.)
        // Held in memory until then (no commit of its own; see `ExecutionState::hold_chained`).
        state.hold_chained(live, None);
        return Vec::new();
    }
    if live.is_empty() {
        return Vec::new();
    }
    // More results of the batch are moments away: held with the others until the last one
    // (or the window's end), so the batch costs one commit and one invocation.
    let reported: Vec<&str> = state
        .held_chained()
        .iter()
        .chain(&live)
        .map(|(id, _)| id.as_str())
        .collect();
    if let Some(until) = results_imminent_until(state, &reported, env) {
        state.hold_chained(live, Some(until));
        return Vec::new();
    }
    record_deferred(state, env.now_ms);
    for (op_id, outcome) in live {
        record_chained(state, &op_id, outcome, env.now_ms);
    }
    claim_unless_results_imminent(state, env)
}

fn chained_started(state: &ExecutionState, op_id: &str) -> bool {
    state
        .op(op_id)
        .is_some_and(|o| o.op_type == OpType::ChainedInvoke && o.status == OpStatus::Started)
}

/// The end of the coalescing window of the plain chained invokes still running (not among
/// `reported`) that started less than `reinvoke_coalesce_ms` ago, if any.
fn results_imminent_until(state: &ExecutionState, reported: &[&str], env: &Env<'_>) -> Option<i64> {
    let window = env.limits.reinvoke_coalesce_ms;
    if window <= 0 {
        return None;
    }
    state
        .ops()
        .iter()
        .filter(|op| op.op_type == OpType::ChainedInvoke && op.status == OpStatus::Started)
        .filter(|op| !reported.contains(&op.id.as_str()))
        .filter(|op| {
            op.invoke_function
                .as_deref()
                .and_then(|f| (env.resolve)(f))
                .is_some_and(|(_, kind)| kind == TargetKind::Plain)
        })
        .map(|op| op.start_ms.saturating_add(window))
        .filter(|until| *until > env.now_ms)
        .max()
}

/// Starts the next invocation, unless plain chained invokes dispatched less than
/// `reinvoke_coalesce_ms` ago are still running: their results are moments away, and one
/// invocation for the whole batch costs one replay instead of one per result. The wait is a
/// timer (`next_invoke_ms`), so a slow target delays the others' results by the window at most;
/// the last result of the batch starts the invocation at once.
fn claim_unless_results_imminent(state: &mut ExecutionState, env: &Env<'_>) -> Vec<Action> {
    match results_imminent_until(state, &[], env) {
        Some(until) => {
            state.meta_mut().next_invoke_ms = Some(until);
            Vec::new()
        }
        None => claim(state, env).into_iter().collect(),
    }
}

/// Records the chained-invoke outcomes that arrived during the invocation that just ended (held
/// in memory, or persisted in the metadata by an earlier release).
pub(super) fn record_deferred(state: &mut ExecutionState, now: i64) {
    let mut outcomes = Vec::new();
    if !state.meta.deferred_chained.is_empty() {
        outcomes = std::mem::take(&mut state.meta_mut().deferred_chained);
    }
    outcomes.extend(state.take_held_chained());
    for (op_id, outcome) in outcomes {
        record_chained(state, &op_id, outcome, now);
    }
}

/// Records one chained invoke's outcome; false if the op is unknown or no longer STARTED.
fn record_chained(
    state: &mut ExecutionState,
    op_id: &str,
    outcome: ChainedOutcome,
    now: i64,
) -> bool {
    if !chained_started(state, op_id) {
        return false; // op_mut would mark it changed
    }
    let Some(op) = state.op_mut(op_id) else {
        return false;
    };
    op.status = outcome.status;
    op.result = outcome.result;
    op.error = outcome.error;
    op.end_ms = Some(now);
    let event = match outcome.status {
        OpStatus::Succeeded => {
            let r = payload(&op.result);
            op_event(
                op,
                "ChainedInvokeSucceeded",
                Some(("ChainedInvokeSucceededDetails", json!({ "Result": r }))),
            )
        }
        OpStatus::TimedOut => {
            let e = error_payload(&op.error);
            op_event(
                op,
                "ChainedInvokeTimedOut",
                Some(("ChainedInvokeTimedOutDetails", json!({ "Error": e }))),
            )
        }
        OpStatus::Stopped => {
            let e = error_payload(&op.error);
            op_event(
                op,
                "ChainedInvokeStopped",
                Some(("ChainedInvokeStoppedDetails", json!({ "Error": e }))),
            )
        }
        _ => {
            let e = error_payload(&op.error);
            op_event(
                op,
                "ChainedInvokeFailed",
                Some(("ChainedInvokeFailedDetails", json!({ "Error": e }))),
            )
        }
    };
    let size = op.payload_size() as u64;
    state.meta_mut().stored_bytes += size;
    state.push_event(now, event);
    note_async_change(state, op_id);
    true
}

/// `StopDurableExecution`: idempotent on a finished execution.
pub(super) fn stop(
    state: &mut ExecutionState,
    error: Option<ErrorObject>,
    env: &Env<'_>,
) -> Vec<Action> {
    if state.meta.status.is_terminal() {
        let end = state.meta.end_ms.unwrap_or(env.now_ms);
        return vec![Action::Reply(json!({
            "StopTimestamp": crate::model::ts(end, crate::model::TimeFormat::EpochSeconds)
        }))];
    }
    let error = error.unwrap_or_else(|| ErrorObject::message("Execution stopped by user request"));
    let mut actions = vec![Action::Reply(json!({
        "StopTimestamp": crate::model::ts(env.now_ms, crate::model::TimeFormat::EpochSeconds)
    }))];
    actions.extend(finish(state, ExecStatus::Stopped, None, Some(error), env));
    actions
}
