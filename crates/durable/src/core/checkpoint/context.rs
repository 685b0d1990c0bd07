//! CONTEXT: a parent for child ops; START once, then SUCCEED or FAIL.

use serde_json::json;

use super::{check_size, invalid_action, Applied, ApplyCtx, Check, Verdict};
use crate::core::{error_payload, payload};
use crate::error::ApiError;
use crate::model::{Op, OpAction, OpStatus, OpType, OperationUpdate};

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    match c.action {
        OpAction::Start => {
            if c.status.is_some() {
                return Err(ApiError::invalid(
                    "Cannot start a CONTEXT that already exist.",
                ));
            }
            Verdict::status(OpStatus::Started)
        }
        OpAction::Succeed | OpAction::Fail => {
            if !matches!(c.status, None | Some(OpStatus::Started)) {
                return Err(ApiError::invalid(format!(
                    "Invalid current CONTEXT state to {}.",
                    c.update.action.to_lowercase()
                )));
            }
            check_size(
                "Context result",
                &c.update.payload,
                c.env.limits.max_result_bytes,
            )?;
            Verdict::status(if c.action == OpAction::Succeed {
                OpStatus::Succeeded
            } else {
                OpStatus::Failed
            })
        }
        _ => Err(invalid_action(OpType::Context)),
    }
}

pub(super) fn apply(
    op: &mut Op,
    u: OperationUpdate,
    action: OpAction,
    ctx: &ApplyCtx<'_>,
) -> Applied {
    match action {
        OpAction::Start => {
            op.status = OpStatus::Started;
            Applied::event(op, "ContextStarted", ("ContextStartedDetails", json!({})))
        }
        OpAction::Succeed => {
            op.status = OpStatus::Succeeded;
            op.result = u.payload;
            op.replay_children = u.context_options.as_ref().and_then(|c| c.replay_children);
            op.end_ms = Some(ctx.now);
            let r = payload(&op.result);
            Applied::event(
                op,
                "ContextSucceeded",
                ("ContextSucceededDetails", json!({ "Result": r })),
            )
        }
        _ => {
            op.status = OpStatus::Failed;
            op.error = u.error;
            op.end_ms = Some(ctx.now);
            let e = error_payload(&op.error);
            Applied::event(
                op,
                "ContextFailed",
                ("ContextFailedDetails", json!({ "Error": e })),
            )
        }
    }
}
