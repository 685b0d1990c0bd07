//! STEP: START, then RETRY (to PENDING, readied by its timer), SUCCEED or FAIL.

use serde_json::{json, Value};

use super::{check_size, invalid_action, invalid_state, Applied, Change, Check, Verdict};
use crate::core::{error_payload, payload};
use crate::error::ApiError;
use crate::model::{Op, OpAction, OpStatus, OpType};

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    let u = c.update;
    match c.action {
        OpAction::Start => {
            return match c.status {
                None | Some(OpStatus::Ready) => Verdict::status(OpStatus::Started),
                _ => Err(invalid_state(OpType::Step, u)),
            }
        }
        OpAction::Cancel => return Err(invalid_action(OpType::Step)),
        _ => {}
    }
    if !matches!(c.status, None | Some(OpStatus::Started | OpStatus::Ready)) {
        return Err(invalid_state(OpType::Step, u));
    }
    check_size("Step result", &u.payload, c.env.limits.max_result_bytes)?;
    match c.action {
        OpAction::Retry => {
            if u.step_options.is_none() {
                return Err(ApiError::invalid("Invalid StepOptions for RETRY."));
            }
            if u.error.is_some() && u.payload.is_some() {
                return Err(ApiError::invalid(
                    "Cannot provide both error and payload to RETRY a STEP.",
                ));
            }
            Verdict::status(OpStatus::Pending)
        }
        OpAction::Succeed if u.error.is_some() => {
            Err(ApiError::invalid("Cannot provide an Error for SUCCEED."))
        }
        OpAction::Succeed => Verdict::status(OpStatus::Succeeded),
        _ if u.payload.is_some() => Err(ApiError::invalid("Cannot provide a Payload for FAIL.")),
        _ => Verdict::status(OpStatus::Failed),
    }
}

pub(super) fn apply(op: &mut Op, c: Change<'_>) -> Applied {
    let (now, u) = (c.now, c.update);
    match c.action {
        OpAction::Start => {
            op.status = OpStatus::Started;
            op.result = None;
            op.error = None;
            op.next_attempt_ms = None;
            Applied::event(op, "StepStarted", ("StepStartedDetails", json!({})))
        }
        OpAction::Retry => {
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
            attempt_event(op, op.error.is_some(), retry)
        }
        action => {
            let failed = action != OpAction::Succeed;
            if failed {
                op.status = OpStatus::Failed;
                op.error = u.error;
            } else {
                op.status = OpStatus::Succeeded;
                op.result = u.payload;
                op.error = None;
            }
            op.attempt += 1;
            op.next_attempt_ms = None;
            op.end_ms = Some(now);
            let retry = json!({ "CurrentAttempt": op.attempt });
            attempt_event(op, failed, retry)
        }
    }
}

/// The event that closes an attempt: `StepFailed` with the error or `StepSucceeded` with the
/// result, each with its retry details.
fn attempt_event(op: &Op, failed: bool, retry: Value) -> Applied {
    if failed {
        let e = error_payload(&op.error);
        let details = json!({ "Error": e, "RetryDetails": retry });
        Applied::event(op, "StepFailed", ("StepFailedDetails", details))
    } else {
        let r = payload(&op.result);
        let details = json!({ "Result": r, "RetryDetails": retry });
        Applied::event(op, "StepSucceeded", ("StepSucceededDetails", details))
    }
}
