//! STEP: START, then RETRY (to PENDING, readied by its timer), SUCCEED or FAIL.

use serde_json::json;

use super::{check_size, Applied, ApplyCtx, Check, Verdict};
use crate::core::{error_payload, payload};
use crate::error::ApiError;
use crate::model::{Op, OpAction, OpStatus, OperationUpdate};

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    let u = c.update;
    if c.action == OpAction::Start {
        return match c.status {
            None | Some(OpStatus::Ready) => Verdict::status(OpStatus::Started),
            _ => Err(ApiError::invalid("Invalid current STEP state to start.")),
        };
    }
    if c.action == OpAction::Cancel {
        return Err(super::invalid_action(crate::model::OpType::Step));
    }
    if !matches!(c.status, None | Some(OpStatus::Started | OpStatus::Ready)) {
        return Err(ApiError::invalid(format!(
            "Invalid current STEP state to {}.",
            u.action.to_lowercase()
        )));
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

pub(super) fn apply(
    op: &mut Op,
    u: OperationUpdate,
    action: OpAction,
    ctx: &ApplyCtx<'_>,
) -> Applied {
    let now = ctx.now;
    match action {
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
            if op.error.is_some() {
                let e = error_payload(&op.error);
                Applied::event(
                    op,
                    "StepFailed",
                    (
                        "StepFailedDetails",
                        json!({ "Error": e, "RetryDetails": retry }),
                    ),
                )
            } else {
                let r = payload(&op.result);
                Applied::event(
                    op,
                    "StepSucceeded",
                    (
                        "StepSucceededDetails",
                        json!({ "Result": r, "RetryDetails": retry }),
                    ),
                )
            }
        }
        OpAction::Succeed => {
            op.status = OpStatus::Succeeded;
            op.attempt += 1;
            op.result = u.payload;
            op.error = None;
            op.next_attempt_ms = None;
            op.end_ms = Some(now);
            let retry = json!({ "CurrentAttempt": op.attempt });
            let r = payload(&op.result);
            Applied::event(
                op,
                "StepSucceeded",
                (
                    "StepSucceededDetails",
                    json!({ "Result": r, "RetryDetails": retry }),
                ),
            )
        }
        _ => {
            op.status = OpStatus::Failed;
            op.attempt += 1;
            op.error = u.error;
            op.next_attempt_ms = None;
            op.end_ms = Some(now);
            let retry = json!({ "CurrentAttempt": op.attempt });
            let e = error_payload(&op.error);
            Applied::event(
                op,
                "StepFailed",
                (
                    "StepFailedDetails",
                    json!({ "Error": e, "RetryDetails": retry }),
                ),
            )
        }
    }
}
