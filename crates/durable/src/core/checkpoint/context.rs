//! CONTEXT: a parent for child ops; START once, then SUCCEED or FAIL.

use serde_json::json;

use super::{check_size, invalid_action, invalid_state, Applied, Change, Check, Verdict};
use crate::core::{error_payload, payload};
use crate::error::ApiError;
use crate::model::{Op, OpAction, OpStatus, OpType};

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    let u = c.update;
    match c.action {
        OpAction::Start if c.status.is_some() => Err(ApiError::invalid(
            "Cannot start a CONTEXT that already exist.",
        )),
        OpAction::Start => Verdict::status(OpStatus::Started),
        OpAction::Succeed | OpAction::Fail => {
            if !matches!(c.status, None | Some(OpStatus::Started)) {
                return Err(invalid_state(OpType::Context, u));
            }
            check_size("Context result", &u.payload, c.env.limits.max_result_bytes)?;
            Verdict::status(if c.action == OpAction::Succeed {
                OpStatus::Succeeded
            } else {
                OpStatus::Failed
            })
        }
        _ => Err(invalid_action(OpType::Context)),
    }
}

pub(super) fn apply(op: &mut Op, c: Change<'_>) -> Applied {
    let u = c.update;
    if c.action == OpAction::Start {
        op.status = OpStatus::Started;
        return Applied::event(op, "ContextStarted", ("ContextStartedDetails", json!({})));
    }
    op.end_ms = Some(c.now);
    if c.action == OpAction::Succeed {
        op.status = OpStatus::Succeeded;
        op.result = u.payload;
        op.replay_children = u.context_options.as_ref().and_then(|o| o.replay_children);
        let details = json!({ "Result": payload(&op.result) });
        Applied::event(op, "ContextSucceeded", ("ContextSucceededDetails", details))
    } else {
        op.status = OpStatus::Failed;
        op.error = u.error;
        let details = json!({ "Error": error_payload(&op.error) });
        Applied::event(op, "ContextFailed", ("ContextFailedDetails", details))
    }
}
