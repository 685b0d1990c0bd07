//! `GetDurableExecutionState`, and the first page of state an invocation's envelope carries.

use serde_json::{json, Value};

use super::checkpoint::validate_token;
use super::{Action, Env};
use crate::error::ApiError;
use crate::model::{Op, TimeFormat};
use crate::state::{ExecutionState, Limits};

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
