//! `CheckpointDurableExecution` and `GetDurableExecutionState` (spec §3.5, §4.2, §4.3).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::{error_payload, op_event, payload, Action, Env, TargetKind};
use crate::error::ApiError;
use crate::model::{
    ErrorObject, ExecStatus, Op, OpAction, OpStatus, OpType, OperationUpdate, TimeFormat,
};
use crate::state::{decode_token, encode_callback_id, encode_token, ExecutionState, Limits};

/// Checks the token against the execution's current invocation and sequence.
fn validate_token(state: &ExecutionState, token: &str) -> Result<(), ApiError> {
    let m = &state.meta;
    let Some((seq, inv)) = decode_token(token) else {
        return Err(ApiError::stale_token());
    };
    if m.status != ExecStatus::Running
        || !m.invoking
        || m.invocation_id.as_deref() != Some(inv.as_str())
        || m.token_seq != seq
    {
        return Err(ApiError::stale_token());
    }
    Ok(())
}

/// One update, parsed and validated.
struct Checked {
    update: OperationUpdate,
    op_type: OpType,
    action: OpAction,
    target: Option<(String, TargetKind)>,
}

/// A view of an op's (type, status) as the request's earlier updates left it.
#[derive(Clone, Copy)]
struct View {
    op_type: OpType,
    status: OpStatus,
}

fn check_size(what: &str, text: &Option<String>, max: usize) -> Result<(), ApiError> {
    match text {
        Some(t) if t.len() > max => Err(ApiError::invalid(format!(
            "{what} size {} bytes exceeds the maximum of {max} bytes",
            t.len()
        ))),
        _ => Ok(()),
    }
}

fn validate(
    state: &ExecutionState,
    updates: Vec<OperationUpdate>,
    env: &Env<'_>,
) -> Result<Vec<Checked>, ApiError> {
    let limits = env.limits;
    let mut view: HashMap<String, View> = HashMap::new();
    let mut new_ops = 0usize;
    let mut new_bytes = 0u64;
    let count = updates.len();
    let mut out = Vec::with_capacity(count);
    for (i, u) in updates.into_iter().enumerate() {
        if u.id.is_empty() || u.id.len() > 64 {
            return Err(ApiError::invalid(
                "Operation Id must be 1 to 64 characters.",
            ));
        }
        let Some(op_type) = OpType::parse(&u.op_type) else {
            return Err(ApiError::invalid(format!(
                "Invalid operation type {}.",
                u.op_type
            )));
        };
        let Some(action) = OpAction::parse(&u.action) else {
            return Err(ApiError::invalid(format!(
                "Invalid action for {} operation.",
                op_type.as_str()
            )));
        };
        let current = view.get(&u.id).copied().or_else(|| {
            state.op(&u.id).map(|o| View {
                op_type: o.op_type,
                status: o.status,
            })
        });
        if let Some(existing) = state.op(&u.id) {
            let same = existing.op_type == op_type
                && u.sub_type
                    .as_ref()
                    .is_none_or(|s| existing.sub_type.as_ref() == Some(s))
                && u.name
                    .as_ref()
                    .is_none_or(|n| existing.name.as_ref() == Some(n))
                && u.parent_id
                    .as_ref()
                    .is_none_or(|p| existing.parent_id.as_ref() == Some(p));
            if !same {
                return Err(ApiError::invalid(format!(
                    "Inconsistent operation type, subtype, name or parent for operation {}.",
                    u.id
                )));
            }
        }
        if let Some(parent) = &u.parent_id {
            let parent_ok = view
                .get(parent)
                .map(|v| v.op_type)
                .or_else(|| state.op(parent).map(|o| o.op_type))
                == Some(OpType::Context);
            if !parent_ok {
                return Err(ApiError::invalid(format!(
                    "Invalid parent operation id {parent}."
                )));
            }
        }
        let status = current.map(|v| v.status);
        let bad_state = |verb: &str| {
            ApiError::invalid(format!(
                "Invalid current {} state to {verb}.",
                op_type.as_str()
            ))
        };
        let mut target = None;
        let new_status = match (op_type, action) {
            (OpType::Execution, OpAction::Succeed | OpAction::Fail) => {
                if i + 1 != count {
                    return Err(ApiError::invalid(
                        "EXECUTION update must be the last update of the request.",
                    ));
                }
                check_size("Execution result", &u.payload, limits.max_result_bytes)?;
                OpStatus::Started
            }
            (OpType::Step, OpAction::Start) => match status {
                None | Some(OpStatus::Ready) => OpStatus::Started,
                _ => return Err(ApiError::invalid("Invalid current STEP state to start.")),
            },
            (OpType::Step, OpAction::Retry | OpAction::Succeed | OpAction::Fail) => {
                if !matches!(status, None | Some(OpStatus::Started | OpStatus::Ready)) {
                    return Err(bad_state(u.action.to_lowercase().as_str()));
                }
                check_size("Step result", &u.payload, limits.max_result_bytes)?;
                match action {
                    OpAction::Retry => {
                        if u.step_options.is_none() {
                            return Err(ApiError::invalid("Invalid StepOptions for RETRY."));
                        }
                        if u.error.is_some() && u.payload.is_some() {
                            return Err(ApiError::invalid(
                                "Cannot provide both error and payload to RETRY a STEP.",
                            ));
                        }
                        OpStatus::Pending
                    }
                    OpAction::Succeed if u.error.is_some() => {
                        return Err(ApiError::invalid("Cannot provide an Error for SUCCEED."))
                    }
                    OpAction::Succeed => OpStatus::Succeeded,
                    _ if u.payload.is_some() => {
                        return Err(ApiError::invalid("Cannot provide a Payload for FAIL."))
                    }
                    _ => OpStatus::Failed,
                }
            }
            (OpType::Wait, OpAction::Start) if status.is_none() => {
                if u.wait_options
                    .as_ref()
                    .and_then(|w| w.wait_seconds)
                    .is_none_or(|s| s < 0)
                {
                    return Err(ApiError::invalid("Invalid WaitOptions for WAIT START."));
                }
                OpStatus::Started
            }
            (OpType::Wait, OpAction::Cancel) if status == Some(OpStatus::Started) => {
                OpStatus::Cancelled
            }
            (OpType::Callback, OpAction::Start) if status.is_none() => OpStatus::Started,
            (OpType::ChainedInvoke, OpAction::Start) if status.is_none() => {
                let Some(name) = u
                    .chained_invoke_options
                    .as_ref()
                    .and_then(|o| o.function_name.clone())
                else {
                    return Err(ApiError::invalid(
                        "ChainedInvokeOptions.FunctionName is required.",
                    ));
                };
                check_size(
                    "Chained invoke input",
                    &u.payload,
                    limits.max_invoke_payload_bytes,
                )?;
                target = (env.resolve)(&name);
                if target.is_some() {
                    OpStatus::Started
                } else {
                    OpStatus::Failed
                }
            }
            (OpType::Context, OpAction::Start) => {
                if status.is_some() {
                    return Err(ApiError::invalid(
                        "Cannot start a CONTEXT that already exist.",
                    ));
                }
                OpStatus::Started
            }
            (OpType::Context, OpAction::Succeed | OpAction::Fail) => {
                if !matches!(status, None | Some(OpStatus::Started)) {
                    return Err(bad_state(u.action.to_lowercase().as_str()));
                }
                check_size("Context result", &u.payload, limits.max_result_bytes)?;
                if action == OpAction::Succeed {
                    OpStatus::Succeeded
                } else {
                    OpStatus::Failed
                }
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid action for {} operation.",
                    op_type.as_str()
                )))
            }
        };
        if op_type != OpType::Execution {
            if current.is_none() {
                new_ops += 1;
            }
            view.insert(
                u.id.clone(),
                View {
                    op_type,
                    status: new_status,
                },
            );
        }
        new_bytes += u.payload.as_ref().map_or(0, |p| p.len() as u64)
            + u.error.as_ref().map_or(0, |e| e.size() as u64);
        out.push(Checked {
            update: u,
            op_type,
            action,
            target,
        });
    }
    if state.ops().len() + new_ops > limits.max_operations + 1 {
        return Err(ApiError::invalid(format!(
            "The execution exceeds the maximum number of operations ({}).",
            limits.max_operations
        )));
    }
    if state.meta.stored_bytes + new_bytes > limits.max_stored_bytes {
        return Err(ApiError::invalid(format!(
            "The execution exceeds the maximum stored data size ({} bytes).",
            limits.max_stored_bytes
        )));
    }
    Ok(out)
}

/// Applies one validated update. Returns an optional dispatch.
fn apply_update(state: &mut ExecutionState, c: Checked, env: &Env<'_>) -> Option<Action> {
    let now = env.now_ms;
    let u = c.update;
    if c.op_type == OpType::Execution {
        if c.action == OpAction::Succeed {
            state.meta_mut().checkpointed_result = u.payload;
        }
        return None;
    }
    if state.op(&u.id).is_none() {
        let mut op = Op::new(u.id.clone(), 0, c.op_type, OpStatus::Started, now);
        op.parent_id = u.parent_id.clone();
        op.name = u.name.clone().filter(|n| !n.is_empty());
        op.sub_type = u.sub_type.clone();
        state.insert_op(op);
    }
    let added =
        u.payload.as_ref().map_or(0, String::len) + u.error.as_ref().map_or(0, ErrorObject::size);
    {
        let m = state.meta_mut();
        m.change_seq += 1;
        m.stored_bytes += added as u64;
    }
    let arn = state.meta.arn.clone();
    let op = state.op_mut(&u.id)?;
    let mut dispatch = None;
    let (event_type, details): (&str, Option<(&str, Value)>) = match (c.op_type, c.action) {
        (OpType::Step, OpAction::Start) => {
            op.status = OpStatus::Started;
            op.result = None;
            op.error = None;
            op.next_attempt_ms = None;
            ("StepStarted", Some(("StepStartedDetails", json!({}))))
        }
        (OpType::Step, OpAction::Retry) => {
            let delay = u
                .step_options
                .as_ref()
                .and_then(|s| s.next_attempt_delay_seconds)
                .unwrap_or(0)
                .max(0);
            op.status = OpStatus::Pending;
            op.attempt += 1;
            op.next_attempt_ms = Some(now + delay * 1000);
            op.result = u.payload;
            op.error = u.error;
            let retry = json!({ "CurrentAttempt": op.attempt, "NextAttemptDelaySeconds": delay });
            if op.error.is_some() {
                let e = error_payload(&op.error);
                (
                    "StepFailed",
                    Some((
                        "StepFailedDetails",
                        json!({ "Error": e, "RetryDetails": retry }),
                    )),
                )
            } else {
                let r = payload(&op.result);
                (
                    "StepSucceeded",
                    Some((
                        "StepSucceededDetails",
                        json!({ "Result": r, "RetryDetails": retry }),
                    )),
                )
            }
        }
        (OpType::Step, OpAction::Succeed) => {
            op.status = OpStatus::Succeeded;
            op.attempt += 1;
            op.result = u.payload;
            op.error = None;
            op.next_attempt_ms = None;
            op.end_ms = Some(now);
            let retry = json!({ "CurrentAttempt": op.attempt });
            let r = payload(&op.result);
            (
                "StepSucceeded",
                Some((
                    "StepSucceededDetails",
                    json!({ "Result": r, "RetryDetails": retry }),
                )),
            )
        }
        (OpType::Step, _) => {
            op.status = OpStatus::Failed;
            op.attempt += 1;
            op.error = u.error;
            op.next_attempt_ms = None;
            op.end_ms = Some(now);
            let retry = json!({ "CurrentAttempt": op.attempt });
            let e = error_payload(&op.error);
            (
                "StepFailed",
                Some((
                    "StepFailedDetails",
                    json!({ "Error": e, "RetryDetails": retry }),
                )),
            )
        }
        (OpType::Wait, OpAction::Start) => {
            let secs = u
                .wait_options
                .as_ref()
                .and_then(|w| w.wait_seconds)
                .unwrap_or(0);
            op.status = OpStatus::Started;
            op.wait_seconds = Some(secs);
            op.scheduled_end_ms = Some(now + secs * 1000);
            let end = crate::model::ts(now + secs * 1000, TimeFormat::EpochSeconds);
            (
                "WaitStarted",
                Some((
                    "WaitStartedDetails",
                    json!({ "Duration": secs, "ScheduledEndTimestamp": end }),
                )),
            )
        }
        (OpType::Wait, _) => {
            op.status = OpStatus::Cancelled;
            op.end_ms = Some(now);
            op.error = u.error;
            let e = error_payload(&op.error);
            (
                "WaitCancelled",
                Some(("WaitCancelledDetails", json!({ "Error": e }))),
            )
        }
        (OpType::Callback, _) => {
            let opts = u.callback_options.clone().unwrap_or_default();
            let timeout = opts.timeout_seconds.unwrap_or(0).max(0);
            let heartbeat = opts.heartbeat_timeout_seconds.unwrap_or(0).max(0);
            op.status = OpStatus::Started;
            op.callback_id = Some(encode_callback_id(&arn, &u.id));
            op.cb_timeout_s = timeout;
            op.cb_heartbeat_s = heartbeat;
            op.cb_deadline_ms = (timeout > 0).then(|| now + timeout * 1000);
            op.cb_heartbeat_deadline_ms = (heartbeat > 0).then(|| now + heartbeat * 1000);
            let details = json!({ "CallbackId": op.callback_id, "Timeout": timeout, "HeartbeatTimeout": heartbeat });
            ("CallbackStarted", Some(("CallbackStartedDetails", details)))
        }
        (OpType::ChainedInvoke, _) => {
            let requested = u
                .chained_invoke_options
                .as_ref()
                .and_then(|o| o.function_name.clone())
                .unwrap_or_default();
            let tenant = u
                .chained_invoke_options
                .as_ref()
                .and_then(|o| o.tenant_id.clone());
            op.invoke_input = u.payload.clone();
            op.invoke_tenant = tenant.clone();
            let mut details = json!({
                "FunctionName": requested, "TenantId": tenant,
                "Input": payload(&u.payload), "ExecutedVersion": "$LATEST",
            });
            if let Some((function, TargetKind::Durable)) = &c.target {
                details["DurableExecutionArn"] = json!(super::child_arn(&arn, function, &u.id));
            }
            let started = op_event(
                op,
                "ChainedInvokeStarted",
                Some(("ChainedInvokeStartedDetails", details)),
            );
            match c.target {
                Some((function, kind)) => {
                    op.status = OpStatus::Started;
                    op.invoke_function = Some(function.clone());
                    dispatch = Some(Action::Dispatch {
                        op_id: u.id.clone(),
                        function,
                        kind,
                        payload: u.payload.unwrap_or_else(|| "{}".into()),
                        tenant,
                    });
                    state.push_event(now, started);
                    return dispatch;
                }
                None => {
                    op.status = OpStatus::Failed;
                    op.end_ms = Some(now);
                    op.error = Some(ErrorObject::new(
                        "ResourceNotFoundException",
                        format!("Function not found: {requested}"),
                    ));
                    let e = error_payload(&op.error);
                    let failed = op_event(
                        op,
                        "ChainedInvokeFailed",
                        Some(("ChainedInvokeFailedDetails", json!({ "Error": e }))),
                    );
                    state.push_event(now, started);
                    state.push_event(now, failed);
                    return None;
                }
            }
        }
        (OpType::Context, OpAction::Start) => {
            op.status = OpStatus::Started;
            ("ContextStarted", Some(("ContextStartedDetails", json!({}))))
        }
        (OpType::Context, OpAction::Succeed) => {
            op.status = OpStatus::Succeeded;
            op.result = u.payload;
            op.replay_children = u.context_options.as_ref().and_then(|c| c.replay_children);
            op.end_ms = Some(now);
            let r = payload(&op.result);
            (
                "ContextSucceeded",
                Some(("ContextSucceededDetails", json!({ "Result": r }))),
            )
        }
        (OpType::Context, _) | (OpType::Execution, _) => {
            op.status = OpStatus::Failed;
            op.error = u.error;
            op.end_ms = Some(now);
            let e = error_payload(&op.error);
            (
                "ContextFailed",
                Some(("ContextFailedDetails", json!({ "Error": e }))),
            )
        }
    };
    let event = op_event(op, event_type, details);
    state.push_event(now, event);
    dispatch
}

/// `CheckpointDurableExecution`.
pub(super) fn checkpoint(
    state: &mut ExecutionState,
    token: &str,
    client_token: Option<String>,
    updates: Vec<OperationUpdate>,
    env: &Env<'_>,
) -> Result<Vec<Action>, ApiError> {
    if let (Some(ct), Some(last_ct), Some(last_in), Some(resp)) = (
        &client_token,
        &state.meta.last_client_token,
        &state.meta.last_in_token,
        &state.meta.last_response,
    ) {
        if ct == last_ct && token == last_in {
            let body: Value = serde_json::from_str(resp).unwrap_or(Value::Null);
            return Ok(vec![Action::Reply(body)]);
        }
    }
    validate_token(state, token)?;
    let checked = validate(state, updates, env)?;
    let mut touched: Vec<String> = Vec::new();
    let mut actions = Vec::new();
    for c in checked {
        if c.op_type != OpType::Execution && !touched.contains(&c.update.id) {
            touched.push(c.update.id.clone());
        }
        actions.extend(apply_update(state, c, env));
    }
    let unseen = std::mem::take(&mut state.meta_mut().unseen_async);
    for id in unseen {
        if !touched.contains(&id) {
            touched.push(id);
        }
    }
    let ops: Vec<Value> = touched
        .iter()
        .filter_map(|id| state.op(id))
        .map(|o| o.to_wire(TimeFormat::EpochSeconds))
        .collect();
    let m = state.meta_mut();
    m.token_seq += 1;
    let inv = m.invocation_id.clone().unwrap_or_default();
    let body = json!({
        "CheckpointToken": encode_token(m.token_seq, &inv),
        "NewExecutionState": { "Operations": ops },
    });
    m.last_client_token = client_token;
    m.last_in_token = Some(token.to_owned());
    m.last_response = Some(body.to_string());
    actions.insert(0, Action::Reply(body));
    Ok(actions)
}

/// `GetDurableExecutionState`: EXECUTION op first, then creation order; `Marker` is an offset.
pub(super) fn get_state(
    state: &ExecutionState,
    token: &str,
    marker: Option<&str>,
    max_items: Option<usize>,
    env: &Env<'_>,
) -> Result<Vec<Action>, ApiError> {
    validate_token(state, token)?;
    let start = match marker.filter(|m| !m.is_empty()) {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| ApiError::invalid("Invalid Marker."))?,
    };
    let limit = max_items
        .filter(|&n| n > 0)
        .unwrap_or(env.limits.state_page_size)
        .min(1_000);
    let (ops, next) = page(
        state.ops(),
        start,
        limit,
        env.limits.page_bytes,
        TimeFormat::EpochSeconds,
    );
    let mut body = json!({ "Operations": ops });
    if let Some(n) = next {
        body["NextMarker"] = json!(n.to_string());
    }
    Ok(vec![Action::Reply(body)])
}

fn page(
    ops: &[Op],
    start: usize,
    limit: usize,
    byte_budget: usize,
    format: TimeFormat,
) -> (Vec<Value>, Option<usize>) {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for (i, op) in ops.iter().enumerate().skip(start) {
        let size = op.payload_size() + 256;
        if out.len() >= limit || (!out.is_empty() && bytes + size > byte_budget) {
            return (out, Some(i));
        }
        bytes += size;
        out.push(op.to_wire(format));
    }
    (out, None)
}

/// The envelope's first page (epoch-ms timestamps) and whether more state exists.
pub fn first_page(state: &ExecutionState, limits: &Limits) -> (Vec<Value>, Option<String>) {
    let (ops, next) = page(
        state.ops(),
        0,
        limits.envelope_page_size.max(1),
        limits.page_bytes,
        TimeFormat::EpochMillis,
    );
    (ops, next.map(|n| n.to_string()))
}
