//! `CheckpointDurableExecution`: the token check, the request-wide limits, and the dispatch of
//! each update to its operation kind's module, where the kind's check and its apply sit side by
//! side (see `docs/wire-contract.md`).

mod callback;
mod chained_invoke;
mod context;
mod execution;
mod step;
mod wait;

use std::collections::HashMap;

use serde_json::{json, Value};

use super::{op_event, Action, Env, TargetKind};
use crate::error::ApiError;
use crate::model::TimeFormat;
use crate::model::{ErrorObject, ExecStatus, Op, OpAction, OpStatus, OpType, OperationUpdate};
use crate::state::{decode_token, encode_token, ExecutionState};

/// Checks the token against the execution's current invocation and sequence.
pub(super) fn validate_token(state: &ExecutionState, token: &str) -> Result<(), ApiError> {
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

/// What a kind's check is given.
struct Check<'a, 'e> {
    update: &'a OperationUpdate,
    action: OpAction,
    /// The op's status as the request's earlier updates left it; `None` for a new op.
    status: Option<OpStatus>,
    /// Whether this is the request's last update.
    is_last: bool,
    env: &'a Env<'e>,
}

/// What a kind's check decided: the op's status after the update, and for a chained invoke
/// the resolved target.
struct Verdict {
    status: OpStatus,
    target: Option<(String, TargetKind)>,
}

impl Verdict {
    fn status(status: OpStatus) -> Result<Self, ApiError> {
        Ok(Self {
            status,
            target: None,
        })
    }
}

/// What a kind's apply produced: history events in order, and a dispatch if any.
struct Applied {
    events: Vec<Value>,
    dispatch: Option<Action>,
}

impl Applied {
    /// One history event for `op`.
    fn event(op: &Op, event_type: &str, details: (&str, Value)) -> Self {
        Self {
            events: vec![op_event(op, event_type, Some(details))],
            dispatch: None,
        }
    }
}

/// What a kind's apply is given besides the op: the checked update and the moment.
struct Change<'a> {
    update: OperationUpdate,
    action: OpAction,
    target: Option<(String, TargetKind)>,
    now: i64,
    /// The execution's ARN.
    arn: &'a str,
}

/// The error for an action the op's kind does not accept in its current state.
fn invalid_action(op_type: OpType) -> ApiError {
    ApiError::invalid(format!(
        "Invalid action for {} operation.",
        op_type.as_str()
    ))
}

/// The error for an action the op's current status does not allow.
fn invalid_state(op_type: OpType, u: &OperationUpdate) -> ApiError {
    ApiError::invalid(format!(
        "Invalid current {} state to {}.",
        op_type.as_str(),
        u.action.to_lowercase()
    ))
}

/// The error for a result, input or payload over its size limit.
fn check_size(what: &str, text: &Option<String>, max: usize) -> Result<(), ApiError> {
    match text {
        Some(t) if t.len() > max => Err(ApiError::invalid(format!(
            "{what} size {} bytes exceeds the maximum of {max} bytes",
            t.len()
        ))),
        _ => Ok(()),
    }
}

/// Checks that an update to an existing op names the same type, subtype, name and parent.
fn check_consistent(
    state: &ExecutionState,
    u: &OperationUpdate,
    op_type: OpType,
) -> Result<(), ApiError> {
    let Some(existing) = state.op(&u.id) else {
        return Ok(());
    };
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
    if same {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Inconsistent operation type, subtype, name or parent for operation {}.",
            u.id
        )))
    }
}

/// The kind's check for one update.
fn check_kind(op_type: OpType, c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    match op_type {
        OpType::Execution => execution::check(c),
        OpType::Step => step::check(c),
        OpType::Wait => wait::check(c),
        OpType::Callback => callback::check(c),
        OpType::ChainedInvoke => chained_invoke::check(c),
        OpType::Context => context::check(c),
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
            return Err(invalid_action(op_type));
        };
        let current = view.get(&u.id).copied().or_else(|| {
            state.op(&u.id).map(|o| View {
                op_type: o.op_type,
                status: o.status,
            })
        });
        check_consistent(state, &u, op_type)?;
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
        let verdict = check_kind(
            op_type,
            &Check {
                update: &u,
                action,
                status: current.map(|v| v.status),
                is_last: i + 1 == count,
                env,
            },
        )?;
        if op_type != OpType::Execution {
            if current.is_none() {
                new_ops += 1;
            }
            view.insert(
                u.id.clone(),
                View {
                    op_type,
                    status: verdict.status,
                },
            );
        }
        new_bytes += u.payload.as_ref().map_or(0, |p| p.len() as u64)
            + u.error.as_ref().map_or(0, |e| e.size() as u64);
        out.push(Checked {
            update: u,
            op_type,
            action,
            target: verdict.target,
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
        execution::apply(state, u, c.action);
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
    let change = Change {
        update: u,
        action: c.action,
        target: c.target,
        now,
        arn: &arn,
    };
    let applied = match c.op_type {
        OpType::Step => step::apply(op, change),
        OpType::Wait => wait::apply(op, change),
        OpType::Callback => callback::apply(op, change),
        OpType::ChainedInvoke => chained_invoke::apply(op, change),
        OpType::Context | OpType::Execution => context::apply(op, change),
    };
    for event in applied.events {
        state.push_event(now, event);
    }
    applied.dispatch
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
