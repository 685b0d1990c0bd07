//! The pure core: `apply(&mut state, command, env) -> Result<Vec<Action>, ApiError>`.
//!
//! No I/O, no clock, no threads: time and fresh ids arrive in [`Env`], and everything the shell
//! must do (answer, invoke the handler, dispatch a chained invoke, report completion) comes back
//! as [`Action`]s. State changes are recorded in the state's delta, which the shell persists
//! before it acts. An `Err` leaves the state untouched (validation happens before mutation).

mod checkpoint;
mod external;
mod get_state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::model::{ErrorObject, ExecStatus, Op, OpStatus, OpType};
use crate::state::{encode_token, ExecutionState, Limits};

pub use get_state::first_page;

/// How a chained-invoke target is hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A durable function: runs as a child execution.
    Durable,
    /// A plain function: invoked once.
    Plain,
}

/// Everything `apply` may know about the world.
pub struct Env<'a> {
    /// Now, epoch ms.
    pub now_ms: i64,
    /// A fresh unique id (used when an invocation starts).
    pub nonce: String,
    pub limits: &'a Limits,
    /// Resolves a function reference (name, name:qualifier, ARN) to its canonical name and kind.
    pub resolve: &'a (dyn Fn(&str) -> Option<(String, TargetKind)> + Sync),
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now_ms", &self.now_ms)
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

/// What a handler invocation produced.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationOutcome {
    /// The service function returned this response envelope.
    Response(Value),
    /// The invocation itself failed (error, panic, timeout).
    Failed(ErrorObject),
}

/// How a chained invoke ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChainedOutcome {
    /// SUCCEEDED, FAILED, TIMED_OUT or STOPPED.
    pub status: OpStatus,
    /// The target's result (JSON text).
    pub result: Option<String>,
    /// The target's error.
    pub error: Option<ErrorObject>,
}

/// A terminal execution outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The final status (never RUNNING).
    pub status: ExecStatus,
    /// The result (JSON text) when SUCCEEDED.
    pub result: Option<String>,
    /// The error otherwise.
    pub error: Option<ErrorObject>,
}

/// Inputs to the state machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `CheckpointDurableExecution`.
    Checkpoint {
        /// Inbound token.
        token: String,
        client_token: Option<String>,
        /// Updates in order.
        updates: Vec<crate::model::OperationUpdate>,
    },
    /// `GetDurableExecutionState` (no mutation).
    GetState {
        token: String,
        /// Marker (offset).
        marker: Option<String>,
        /// Page size.
        max_items: Option<usize>,
    },
    /// Fire every timer due at `now`, and start an invocation if one is due.
    Tick,
    /// After a restart: fence any old invocation, re-dispatch chained invokes, invoke.
    Recover,
    /// Start the first invocation of a new execution.
    Kick,
    /// An invocation ended.
    InvocationDone {
        /// Which invocation.
        invocation_id: String,
        /// What it produced.
        outcome: InvocationOutcome,
    },
    /// `SendDurableExecutionCallbackSuccess`.
    CallbackSucceed {
        /// CALLBACK op id.
        op_id: String,
        /// The body (UTF-8), absent if empty.
        result: Option<String>,
    },
    /// `SendDurableExecutionCallbackFailure`.
    CallbackFail {
        /// CALLBACK op id.
        op_id: String,
        /// The caller's error.
        error: ErrorObject,
    },
    /// `SendDurableExecutionCallbackHeartbeat`.
    CallbackHeartbeat {
        /// CALLBACK op id.
        op_id: String,
    },
    /// A chained invoke's target finished.
    ChainedDone {
        /// CHAINED_INVOKE op id.
        op_id: String,
        /// How.
        outcome: ChainedOutcome,
    },
    /// Several chained invokes finished (plain targets dispatched together): recorded in one
    /// transition, so the execution is re-invoked once for all of them (`docs/wire-contract.md` §8).
    ChainedDoneMany {
        /// (CHAINED_INVOKE op id, outcome), in dispatch order.
        done: Vec<(String, ChainedOutcome)>,
    },
    /// `StopDurableExecution`.
    Stop {
        /// Error to record.
        error: Option<ErrorObject>,
    },
}

/// Side effects for the shell, executed after the delta is committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Answer the API call with this JSON body.
    Reply(Value),
    /// Run the handler with this envelope.
    Invoke {
        /// Invocation id (fencing).
        invocation_id: String,
        /// The envelope.
        envelope: Value,
    },
    /// Run a chained invoke's target.
    Dispatch {
        /// CHAINED_INVOKE op id.
        op_id: String,
        /// Canonical target name.
        function: String,
        /// Target kind.
        kind: TargetKind,
        /// Target input (JSON text).
        payload: String,
        tenant: Option<String>,
    },
    /// The execution finished.
    Finished(Outcome),
    /// Tell the parent execution its chained invoke finished.
    NotifyParent {
        /// Parent execution ARN.
        parent_arn: String,
        /// Parent CHAINED_INVOKE op id.
        op_id: String,
        outcome: ChainedOutcome,
    },
}

/// Applies one command.
///
/// # Errors
/// The API error to return; the state is then unchanged.
pub fn apply(
    state: &mut ExecutionState,
    command: Command,
    env: &Env<'_>,
) -> Result<Vec<Action>, ApiError> {
    match command {
        Command::Checkpoint {
            token,
            client_token,
            updates,
        } => checkpoint::checkpoint(state, &token, client_token, updates, env),
        Command::GetState {
            token,
            marker,
            max_items,
        } => get_state::get_state(state, &token, marker.as_deref(), max_items, env),
        Command::Tick => Ok(tick(state, env)),
        Command::Recover => Ok(recover(state, env)),
        Command::Kick => Ok(claim(state, env).into_iter().collect()),
        Command::InvocationDone {
            invocation_id,
            outcome,
        } => Ok(external::invocation_done(
            state,
            &invocation_id,
            outcome,
            env,
        )),
        Command::CallbackSucceed { op_id, result } => {
            external::callback_complete(state, &op_id, OpStatus::Succeeded, result, None, env)
        }
        Command::CallbackFail { op_id, error } => {
            external::callback_complete(state, &op_id, OpStatus::Failed, None, Some(error), env)
        }
        Command::CallbackHeartbeat { op_id } => external::callback_heartbeat(state, &op_id, env),
        Command::ChainedDone { op_id, outcome } => {
            Ok(external::chained_done(state, vec![(op_id, outcome)], env))
        }
        Command::ChainedDoneMany { done } => Ok(external::chained_done(state, done, env)),
        Command::Stop { error } => Ok(external::stop(state, error, env)),
    }
}

/// The earliest time something is due for this execution (timers, deadline, invocation retry).
pub fn next_due(state: &ExecutionState) -> Option<i64> {
    let m = &state.meta;
    if m.status != ExecStatus::Running {
        return None;
    }
    let mut due = Some(m.deadline_ms);
    let mut consider = |t: Option<i64>| {
        if let Some(t) = t {
            due = Some(due.map_or(t, |d: i64| d.min(t)));
        }
    };
    if !m.invoking {
        consider(m.next_invoke_ms);
        consider(state.held_until());
    }
    for op in state.ops() {
        match (op.op_type, op.status) {
            (OpType::Wait, OpStatus::Started) => consider(op.scheduled_end_ms),
            (OpType::Step, OpStatus::Pending) => consider(op.next_attempt_ms),
            (OpType::Callback, OpStatus::Started) => {
                consider(op.cb_deadline_ms);
                consider(op.cb_heartbeat_deadline_ms);
            }
            _ => {}
        }
    }
    due
}

/// Whether the execution waits on something the service will complete.
pub(crate) fn has_outstanding_work(state: &ExecutionState) -> bool {
    state.ops().iter().any(|op| {
        matches!(
            (op.op_type, op.status),
            (OpType::Wait, OpStatus::Started)
                | (OpType::Step, OpStatus::Pending)
                | (OpType::Callback, OpStatus::Started)
                | (OpType::ChainedInvoke, OpStatus::Started)
        )
    })
}

/// The name and id of the child execution a chained invoke of a durable function starts:
/// derived from the parent and the op, so a re-dispatch finds the same execution and the
/// history can name it before it starts.
pub(crate) fn child_identity(parent_arn: &str, op_id: &str) -> (String, String) {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{parent_arn}\n{op_id}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    (hex[..32].to_owned(), hex[32..].to_owned())
}

/// The ARN of that child execution (same region and account as the parent).
pub(crate) fn child_arn(parent_arn: &str, function: &str, op_id: &str) -> String {
    let prefix = parent_arn.split(":function:").next().unwrap_or_default();
    let (name, id) = child_identity(parent_arn, op_id);
    format!("{prefix}:function:{function}:$LATEST/durable-execution/{name}/{id}")
}

/// Records a service-originated change of `op_id` (bumps sequences, queues the id for delivery).
pub(crate) fn note_async_change(state: &mut ExecutionState, op_id: &str) {
    let m = state.meta_mut();
    m.change_seq += 1;
    m.async_seq = m.change_seq;
    if m.invoking {
        m.needs_reinvoke = true;
    }
    if !m.unseen_async.iter().any(|i| i == op_id) {
        m.unseen_async.push(op_id.to_owned());
    }
    if !m.updated_ids.iter().any(|i| i == op_id) {
        m.updated_ids.push(op_id.to_owned());
    }
}

/// A history event for an operation.
pub(crate) fn op_event(op: &Op, event_type: &str, details: Option<(&str, Value)>) -> Value {
    let mut e = json!({ "EventType": event_type, "Id": op.id });
    if let Some(n) = &op.name {
        e["Name"] = json!(n);
    }
    if let Some(s) = &op.sub_type {
        e["SubType"] = json!(s);
    }
    if let Some(p) = &op.parent_id {
        e["ParentId"] = json!(p);
    }
    if let Some((k, v)) = details {
        e[k] = v;
    }
    e
}

pub(crate) fn payload(text: &Option<String>) -> Value {
    json!({ "Payload": text, "Truncated": false })
}

pub(crate) fn error_payload(error: &Option<ErrorObject>) -> Value {
    json!({ "Payload": error.as_ref().map(ErrorObject::to_value), "Truncated": false })
}

/// Fires every due timer; starts an invocation if something changed or one is due.
fn tick(state: &mut ExecutionState, env: &Env<'_>) -> Vec<Action> {
    if state.meta.status != ExecStatus::Running {
        return Vec::new();
    }
    let now = env.now_ms;
    if now >= state.meta.deadline_ms {
        let msg = format!(
            "Execution timed out after {} seconds.",
            state.meta.timeout_s
        );
        return finish(
            state,
            ExecStatus::TimedOut,
            None,
            Some(ErrorObject::message(msg)),
            env,
        );
    }
    let changed = fire_timers(state, now);
    let retry_due = !state.meta.invoking && state.meta.next_invoke_ms.is_some_and(|t| t <= now);
    let held_due = !state.meta.invoking && state.held_until().is_some_and(|t| t <= now);
    if changed || retry_due || held_due {
        claim(state, env).into_iter().collect()
    } else {
        Vec::new()
    }
}

/// Completes due waits, readies due retries, times out callbacks. Returns whether anything changed.
pub(crate) fn fire_timers(state: &mut ExecutionState, now: i64) -> bool {
    let due: Vec<String> = state
        .ops()
        .iter()
        .filter(|op| match (op.op_type, op.status) {
            (OpType::Wait, OpStatus::Started) => op.scheduled_end_ms.is_some_and(|t| t <= now),
            (OpType::Step, OpStatus::Pending) => op.next_attempt_ms.is_some_and(|t| t <= now),
            (OpType::Callback, OpStatus::Started) => {
                op.cb_deadline_ms.is_some_and(|t| t <= now)
                    || op.cb_heartbeat_deadline_ms.is_some_and(|t| t <= now)
            }
            _ => false,
        })
        .map(|op| op.id.clone())
        .collect();
    for id in &due {
        let Some(op) = state.op_mut(id) else { continue };
        let event = match op.op_type {
            OpType::Wait => {
                op.status = OpStatus::Succeeded;
                op.end_ms = Some(now);
                let d = op.wait_seconds;
                Some(op_event(
                    op,
                    "WaitSucceeded",
                    Some(("WaitSucceededDetails", json!({ "Duration": d }))),
                ))
            }
            OpType::Step => {
                op.status = OpStatus::Ready;
                op.next_attempt_ms = None;
                None
            }
            _ => {
                let total = op.cb_deadline_ms.is_some_and(|t| t <= now);
                op.error = Some(if total {
                    ErrorObject::new("Callback.Timeout", "Callback timed out")
                } else {
                    ErrorObject::new("Callback.Heartbeat", "Callback timed out on heartbeat")
                });
                op.status = OpStatus::TimedOut;
                op.end_ms = Some(now);
                let err = error_payload(&op.error);
                Some(op_event(
                    op,
                    "CallbackTimedOut",
                    Some(("CallbackTimedOutDetails", json!({ "Error": err }))),
                ))
            }
        };
        if let Some(event) = event {
            state.push_event(now, event);
        }
        note_async_change(state, id);
    }
    !due.is_empty()
}

/// Starts an invocation if the execution is running and none is in flight.
pub(crate) fn claim(state: &mut ExecutionState, env: &Env<'_>) -> Option<Action> {
    if state.meta.status != ExecStatus::Running || state.meta.invoking {
        return None;
    }
    // Chained-invoke results held for their batch go into this invocation's state.
    external::record_deferred(state, env.now_ms);
    let (ops, marker) = first_page(state, env.limits);
    let m = state.meta_mut();
    m.invoking = true;
    m.invocation_id = Some(env.nonce.clone());
    m.invocation_started_ms = Some(env.now_ms);
    m.invocations += 1;
    m.base_seq = m.change_seq;
    m.needs_reinvoke = false;
    m.next_invoke_ms = None;
    let updated = std::mem::take(&mut m.updated_ids);
    m.unseen_async.clear();
    let mut initial = json!({ "Operations": ops });
    if let Some(marker) = marker {
        initial["NextMarker"] = json!(marker);
    }
    let envelope = json!({
        "DurableExecutionArn": m.arn,
        "CheckpointToken": encode_token(m.token_seq, &env.nonce),
        "InitialExecutionState": initial,
        "UpdatedOperationIds": updated,
    });
    Some(Action::Invoke {
        invocation_id: env.nonce.clone(),
        envelope,
    })
}

/// Ends the execution.
pub(crate) fn finish(
    state: &mut ExecutionState,
    status: ExecStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
    env: &Env<'_>,
) -> Vec<Action> {
    let now = env.now_ms;
    let op_status = match status {
        ExecStatus::Succeeded => OpStatus::Succeeded,
        ExecStatus::Failed | ExecStatus::Running => OpStatus::Failed,
        ExecStatus::TimedOut => OpStatus::TimedOut,
        ExecStatus::Stopped => OpStatus::Stopped,
    };
    let exec_op = state.meta.execution_op_id.clone();
    if let Some(op) = state.op_mut(&exec_op) {
        op.status = op_status;
        op.end_ms = Some(now);
    }
    let m = state.meta_mut();
    m.status = status;
    m.end_ms = Some(now);
    m.result = result.clone();
    m.error = error.clone();
    m.invoking = false;
    m.invocation_id = None;
    m.next_invoke_ms = None;
    m.last_response = None;
    let parent = m.parent.clone();
    let (event_type, details_key, details) = match status {
        ExecStatus::Succeeded => (
            "ExecutionSucceeded",
            "ExecutionSucceededDetails",
            json!({ "Result": payload(&result) }),
        ),
        ExecStatus::TimedOut => (
            "ExecutionTimedOut",
            "ExecutionTimedOutDetails",
            json!({ "Error": error_payload(&error) }),
        ),
        ExecStatus::Stopped => (
            "ExecutionStopped",
            "ExecutionStoppedDetails",
            json!({ "Error": error_payload(&error) }),
        ),
        _ => (
            "ExecutionFailed",
            "ExecutionFailedDetails",
            json!({ "Error": error_payload(&error) }),
        ),
    };
    let mut event = json!({ "EventType": event_type, "Id": exec_op, "Name": state.meta.name });
    event[details_key] = details;
    state.push_event(now, event);
    let outcome = Outcome {
        status,
        result,
        error,
    };
    let mut actions = vec![Action::Finished(outcome.clone())];
    if let Some((parent_arn, op_id)) = parent {
        let (status, error) = match outcome.status {
            ExecStatus::Succeeded => (OpStatus::Succeeded, None),
            ExecStatus::TimedOut => (
                OpStatus::TimedOut,
                Some(ErrorObject::new(
                    "ChainedInvoke.Timeout",
                    "Chained invocation timed out",
                )),
            ),
            ExecStatus::Stopped => (OpStatus::Stopped, outcome.error.clone()),
            _ => (OpStatus::Failed, outcome.error.clone()),
        };
        actions.push(Action::NotifyParent {
            parent_arn,
            op_id,
            outcome: ChainedOutcome {
                status,
                result: outcome.result.clone(),
                error,
            },
        });
    }
    actions
}

/// Crash recovery: fences the old invocation, fires overdue timers, re-dispatches chained
/// invokes still in flight, and invokes.
fn recover(state: &mut ExecutionState, env: &Env<'_>) -> Vec<Action> {
    if state.meta.status != ExecStatus::Running {
        return Vec::new();
    }
    {
        let m = state.meta_mut();
        m.invoking = false;
        m.invocation_id = None;
        m.next_invoke_ms = None;
    }
    external::record_deferred(state, env.now_ms);
    let mut actions = tick(state, env);
    if state.meta.status != ExecStatus::Running {
        return actions;
    }
    for op in state.ops() {
        if op.op_type == OpType::ChainedInvoke && op.status == OpStatus::Started {
            if let Some(function) = &op.invoke_function {
                if let Some((function, kind)) = (env.resolve)(function) {
                    actions.push(Action::Dispatch {
                        op_id: op.id.clone(),
                        function,
                        kind,
                        payload: op.invoke_input.clone().unwrap_or_else(|| "{}".into()),
                        tenant: op.invoke_tenant.clone(),
                    });
                }
            }
        }
    }
    actions.extend(claim(state, env));
    actions
}

/// What a new execution is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct StartParams {
    /// Execution ARN.
    pub arn: String,
    /// Canonical function name.
    pub function_name: String,
    /// Execution name.
    pub name: String,
    /// Id part of the ARN (also the EXECUTION op id).
    pub id: String,
    /// Input payload (JSON text).
    pub input: String,
    /// Execution timeout (seconds).
    pub timeout_s: i64,
    pub tenant_id: Option<String>,
    /// Parent execution and CHAINED_INVOKE op id.
    pub parent: Option<(String, String)>,
}

/// A new RUNNING execution with its EXECUTION op and `ExecutionStarted` event (not yet invoked:
/// apply [`Command::Kick`] after it is stored).
pub fn new_execution(p: StartParams, now_ms: i64) -> ExecutionState {
    let meta = crate::state::Meta {
        arn: p.arn,
        function_name: p.function_name,
        qualifier: "$LATEST".into(),
        name: p.name.clone(),
        status: ExecStatus::Running,
        input: p.input.clone(),
        result: None,
        error: None,
        checkpointed_result: None,
        start_ms: now_ms,
        end_ms: None,
        timeout_s: p.timeout_s,
        deadline_ms: now_ms.saturating_add(p.timeout_s.saturating_mul(1000)),
        execution_op_id: p.id.clone(),
        tenant_id: p.tenant_id,
        parent: p.parent,
        token_seq: 0,
        invocation_id: None,
        invoking: false,
        invocation_started_ms: None,
        invocations: 0,
        base_seq: 0,
        change_seq: 0,
        async_seq: 0,
        needs_reinvoke: false,
        consecutive_failures: 0,
        invalid_pending: 0,
        next_invoke_ms: None,
        last_client_token: None,
        last_in_token: None,
        last_response: None,
        unseen_async: Vec::new(),
        updated_ids: Vec::new(),
        deferred_chained: Vec::new(),
        event_seq: 0,
        op_seq: 0,
        stored_bytes: p.input.len() as u64,
    };
    let mut state = ExecutionState::from_parts(meta, Vec::new());
    let mut op = Op::new(
        p.id.clone(),
        0,
        OpType::Execution,
        OpStatus::Started,
        now_ms,
    );
    op.name = Some(p.name);
    op.input_payload = Some(p.input.clone());
    state.insert_op(op);
    let timeout = p.timeout_s;
    state.push_event(
        now_ms,
        json!({
            "EventType": "ExecutionStarted", "Id": p.id, "Name": state.meta.name,
            "ExecutionStartedDetails": { "Input": payload(&Some(p.input)), "ExecutionTimeout": timeout },
        }),
    );
    state
}
