//! The in-memory state of one execution (metadata + operation records) and the delta of changes
//! the shell must persist after each [`crate::core::apply`].

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{ErrorObject, ExecStatus, Op};

/// AWS's limits and the service's paging knobs.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Operations per execution (AWS: 3,000).
    pub max_operations: usize,
    /// Bytes per step / context / callback result (AWS: 256 KiB).
    pub max_result_bytes: usize,
    /// Bytes of execution input (AWS: 256 KiB).
    pub max_input_bytes: usize,
    /// Bytes of a chained-invoke input or result (1 MiB).
    pub max_invoke_payload_bytes: usize,
    /// Bytes stored per execution (AWS: 100 MB).
    pub max_stored_bytes: u64,
    /// Default `GetDurableExecutionState` page size.
    pub state_page_size: usize,
    /// Most operations inlined in the invocation envelope.
    pub envelope_page_size: usize,
    /// Byte budget of one state page / the envelope's first page.
    pub page_bytes: usize,
    /// Invocation-level failures tolerated before the execution fails.
    pub max_invocation_attempts: u32,
    /// First backoff after a failed invocation (ms); doubles up to `backoff_max_ms`.
    pub backoff_base_ms: i64,
    /// Longest backoff (ms).
    pub backoff_max_ms: i64,
    /// `PENDING` answers with nothing pending tolerated before failing (spec: 3).
    pub max_invalid_pending: u32,
    /// How long (ms) a re-invocation waits for the results of plain chained invokes that were
    /// dispatched this recently and have not reported yet, so that the results of one batch of
    /// invokes resume the execution once instead of once each. 0 re-invokes on every result.
    pub reinvoke_coalesce_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 3_000,
            max_result_bytes: 256 * 1024,
            max_input_bytes: 256 * 1024,
            max_invoke_payload_bytes: 1024 * 1024,
            max_stored_bytes: 100 * 1000 * 1000,
            state_page_size: 100,
            envelope_page_size: 1_000,
            page_bytes: 5 * 1024 * 1024,
            max_invocation_attempts: 5,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            max_invalid_pending: 3,
            reinvoke_coalesce_ms: 50,
        }
    }
}

/// Execution metadata (one row of `dx_executions`, stored as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Execution ARN.
    pub arn: String,
    /// Canonical function name.
    pub function_name: String,
    /// Qualifier (`$LATEST`).
    pub qualifier: String,
    /// Execution name.
    pub name: String,
    pub status: ExecStatus,
    /// Input payload (JSON text). Stored in its own column, written once (see `store`), not in
    /// the metadata JSON that every checkpoint rewrites.
    #[serde(default, skip_serializing)]
    pub input: String,
    /// Result (JSON text) when SUCCEEDED.
    #[serde(default)]
    pub result: Option<String>,
    /// Error when FAILED / TIMED_OUT / STOPPED.
    #[serde(default)]
    pub error: Option<ErrorObject>,
    /// Result checkpointed through an EXECUTION SUCCEED update (cross-SDK).
    #[serde(default)]
    pub checkpointed_result: Option<String>,
    pub start_ms: i64,
    #[serde(default)]
    pub end_ms: Option<i64>,
    /// Execution timeout in seconds.
    pub timeout_s: i64,
    /// Absolute execution deadline (ms).
    pub deadline_ms: i64,
    /// Id of the EXECUTION operation.
    pub execution_op_id: String,
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Parent execution and CHAINED_INVOKE op, for child executions.
    #[serde(default)]
    pub parent: Option<(String, String)>,
    /// Token sequence: +1 per accepted checkpoint.
    #[serde(default)]
    pub token_seq: u64,
    /// The current invocation (fences older ones).
    #[serde(default)]
    pub invocation_id: Option<String>,
    /// An invocation is in flight.
    #[serde(default)]
    pub invoking: bool,
    /// When the current invocation started.
    #[serde(default)]
    pub invocation_started_ms: Option<i64>,
    /// Invocations started so far.
    #[serde(default)]
    pub invocations: u64,
    /// `change_seq` when the current invocation's envelope was built.
    #[serde(default)]
    pub base_seq: u64,
    /// Bumped by every operation change.
    #[serde(default)]
    pub change_seq: u64,
    /// `change_seq` of the last service-originated transition.
    #[serde(default)]
    pub async_seq: u64,
    /// Re-invoke as soon as the current invocation returns.
    #[serde(default)]
    pub needs_reinvoke: bool,
    /// Consecutive failed invocations.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Consecutive `PENDING` answers with nothing pending.
    #[serde(default)]
    pub invalid_pending: u32,
    /// When to invoke again after a failure (ms).
    #[serde(default)]
    pub next_invoke_ms: Option<i64>,
    /// Last ClientToken accepted (idempotent replay).
    #[serde(default)]
    pub last_client_token: Option<String>,
    /// The inbound CheckpointToken of that request.
    #[serde(default)]
    pub last_in_token: Option<String>,
    /// The response body of that request.
    #[serde(default)]
    pub last_response: Option<String>,
    /// Ops changed by the service since the handler last observed state (checkpoint delta).
    #[serde(default)]
    pub unseen_async: Vec<String>,
    /// Ops changed since the last envelope (`UpdatedOperationIds`).
    #[serde(default)]
    pub updated_ids: Vec<String>,
    /// Chained invokes that finished while an invocation was running, as written by releases
    /// before `held` (see [`ExecutionState::hold_chained`]) kept them in memory: recorded when
    /// the invocation ends, like the held ones. New states never fill it.
    #[serde(default)]
    pub deferred_chained: Vec<(String, crate::core::ChainedOutcome)>,
    /// Next history event id.
    #[serde(default)]
    pub event_seq: u64,
    /// Next operation creation ordinal.
    #[serde(default)]
    pub op_seq: u64,
    /// Approximate payload bytes stored.
    #[serde(default)]
    pub stored_bytes: u64,
}

/// One execution: metadata, operations in creation order, and the unpersisted delta.
#[derive(Debug, Clone)]
pub struct ExecutionState {
    /// Metadata.
    pub meta: Meta,
    ops: Vec<Op>,
    index: HashMap<String, usize>,
    delta: Delta,
    held: Vec<(String, crate::core::ChainedOutcome)>,
    held_until: Option<i64>,
}

/// What changed since the last [`ExecutionState::take_delta`].
#[derive(Debug, Clone, Default)]
pub struct Delta {
    /// The metadata changed.
    pub meta: bool,
    /// Ids of changed operations.
    pub ops: BTreeSet<String>,
    /// New history events (wire JSON), in order, with their ids.
    pub events: Vec<(u64, Value)>,
}

impl Delta {
    /// Nothing to persist.
    pub fn is_empty(&self) -> bool {
        !self.meta && self.ops.is_empty() && self.events.is_empty()
    }
}

impl ExecutionState {
    /// Builds a state from stored parts (ops in any order; sorted by `ord`).
    pub fn from_parts(meta: Meta, mut ops: Vec<Op>) -> Self {
        ops.sort_by_key(|o| o.ord);
        let index = ops
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.clone(), i))
            .collect();
        Self {
            meta,
            ops,
            index,
            delta: Delta::default(),
            held: Vec::new(),
            held_until: None,
        }
    }

    /// Operations in creation order (the EXECUTION op first).
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// One operation.
    pub fn op(&self, id: &str) -> Option<&Op> {
        self.index.get(id).and_then(|&i| self.ops.get(i))
    }

    /// One operation, mutably; marks it changed.
    pub fn op_mut(&mut self, id: &str) -> Option<&mut Op> {
        let i = *self.index.get(id)?;
        self.delta.ops.insert(id.to_owned());
        self.ops.get_mut(i)
    }

    /// Appends a new operation (its `ord` is assigned here); marks it changed.
    pub fn insert_op(&mut self, mut op: Op) {
        op.ord = self.meta.op_seq;
        self.meta.op_seq += 1;
        self.delta.ops.insert(op.id.clone());
        self.index.insert(op.id.clone(), self.ops.len());
        self.ops.push(op);
        self.delta.meta = true;
    }

    /// Mutable metadata; marks it changed.
    pub fn meta_mut(&mut self) -> &mut Meta {
        self.delta.meta = true;
        &mut self.meta
    }

    /// Appends a history event (`EventId` and `EventTimestamp` are filled in here).
    pub fn push_event(&mut self, now_ms: i64, mut event: Value) {
        self.meta.event_seq += 1;
        let id = self.meta.event_seq;
        event["EventId"] = Value::from(id);
        event["EventTimestamp"] = crate::model::ts(now_ms, crate::model::TimeFormat::EpochSeconds);
        self.delta.events.push((id, event));
        self.delta.meta = true;
    }

    /// Takes the unpersisted delta.
    pub fn take_delta(&mut self) -> Delta {
        std::mem::take(&mut self.delta)
    }

    /// Whether there is something to persist.
    pub fn has_delta(&self) -> bool {
        !self.delta.is_empty()
    }

    /// Keeps chained-invoke outcomes in memory only, until the execution can use them: while an
    /// invocation runs (recorded when it ends), or while more results of the same batch are
    /// moments away (recorded with the last one, or at `until`, the end of the batch's
    /// coalescing window). One commit for all instead of one each. Not persisted: after a crash
    /// their operations are still STARTED and recovery dispatches them again.
    pub fn hold_chained(
        &mut self,
        outcomes: Vec<(String, crate::core::ChainedOutcome)>,
        until: Option<i64>,
    ) {
        self.held.extend(outcomes);
        if let Some(until) = until {
            self.held_until = Some(self.held_until.map_or(until, |u| u.max(until)));
        }
    }

    /// When held outcomes must be recorded at the latest (see [`ExecutionState::hold_chained`]).
    pub fn held_until(&self) -> Option<i64> {
        self.held_until.filter(|_| !self.held.is_empty())
    }

    /// The held outcomes (see [`ExecutionState::hold_chained`]).
    pub fn held_chained(&self) -> &[(String, crate::core::ChainedOutcome)] {
        &self.held
    }

    /// Takes the held outcomes (see [`ExecutionState::hold_chained`]).
    pub fn take_held_chained(&mut self) -> Vec<(String, crate::core::ChainedOutcome)> {
        self.held_until = None;
        std::mem::take(&mut self.held)
    }
}

/// Encodes a checkpoint token for `(seq, invocation)`.
pub fn encode_token(seq: u64, invocation_id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{seq}:{invocation_id}"))
}

/// Decodes a checkpoint token.
pub fn decode_token(token: &str) -> Option<(u64, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (seq, inv) = text.split_once(':')?;
    Some((seq.parse().ok()?, inv.to_owned()))
}

/// Mints the callback id of `(execution, op)`: it names both, so no global index is needed.
pub fn encode_callback_id(arn: &str, op_id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{arn}\n{op_id}"))
}

/// Decodes a callback id into `(execution arn, op id)`.
pub fn decode_callback_id(id: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (arn, op) = text.split_once('\n')?;
    Some((arn.to_owned(), op.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_callback_ids_round_trip() {
        assert_eq!(
            decode_token(&encode_token(7, "inv-1")),
            Some((7, "inv-1".into()))
        );
        assert_eq!(decode_token("garbage!"), None);
        assert_eq!(
            decode_callback_id(&encode_callback_id("arn:x/y", "op")),
            Some(("arn:x/y".into(), "op".into()))
        );
        assert_eq!(decode_callback_id("%%%"), None);
    }
}
