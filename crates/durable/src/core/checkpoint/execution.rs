//! EXECUTION: SUCCEED or FAIL as the request's last update; a SUCCEED's payload is kept as the
//! result the execution ends with if the invocation's response carries none.

use super::{check_size, invalid_action, Check, Verdict};
use crate::error::ApiError;
use crate::model::{OpAction, OpStatus, OpType, OperationUpdate};
use crate::state::ExecutionState;

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    if !matches!(c.action, OpAction::Succeed | OpAction::Fail) {
        return Err(invalid_action(OpType::Execution));
    }
    if !c.is_last {
        return Err(ApiError::invalid(
            "EXECUTION update must be the last update of the request.",
        ));
    }
    check_size(
        "Execution result",
        &c.update.payload,
        c.env.limits.max_result_bytes,
    )?;
    Verdict::status(OpStatus::Started)
}

pub(super) fn apply(state: &mut ExecutionState, u: OperationUpdate, action: OpAction) {
    if action == OpAction::Succeed {
        state.meta_mut().checkpointed_result = u.payload;
    }
}
