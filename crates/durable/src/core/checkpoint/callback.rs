//! CALLBACK: START only; the service completes it (external success, failure, or a timeout).

use serde_json::json;

use super::{invalid_action, Applied, Change, Check, Verdict};
use crate::error::ApiError;
use crate::model::{Op, OpAction, OpStatus, OpType};
use crate::state::encode_callback_id;

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    match c.action {
        OpAction::Start if c.status.is_none() => Verdict::status(OpStatus::Started),
        _ => Err(invalid_action(OpType::Callback)),
    }
}

pub(super) fn apply(op: &mut Op, c: Change<'_>) -> Applied {
    let (now, u) = (c.now, c.update);
    let opts = u.callback_options.clone().unwrap_or_default();
    let timeout = opts.timeout_seconds.unwrap_or(0).max(0);
    let heartbeat = opts.heartbeat_timeout_seconds.unwrap_or(0).max(0);
    op.status = OpStatus::Started;
    op.callback_id = Some(encode_callback_id(c.arn, &u.id));
    op.cb_timeout_s = timeout;
    op.cb_heartbeat_s = heartbeat;
    op.cb_deadline_ms = (timeout > 0).then(|| now + timeout * 1000);
    op.cb_heartbeat_deadline_ms = (heartbeat > 0).then(|| now + heartbeat * 1000);
    let details =
        json!({ "CallbackId": op.callback_id, "Timeout": timeout, "HeartbeatTimeout": heartbeat });
    Applied::event(op, "CallbackStarted", ("CallbackStartedDetails", details))
}
