//! WAIT: START with a duration (completed by its timer), or CANCEL while started.

use serde_json::json;

use super::{invalid_action, Applied, Change, Check, Verdict};
use crate::core::error_payload;
use crate::error::ApiError;
use crate::model::{ts, Op, OpAction, OpStatus, OpType, TimeFormat};

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    match c.action {
        OpAction::Start if c.status.is_none() => {
            if c.update
                .wait_options
                .as_ref()
                .and_then(|w| w.wait_seconds)
                .is_none_or(|s| s < 0)
            {
                return Err(ApiError::invalid("Invalid WaitOptions for WAIT START."));
            }
            Verdict::status(OpStatus::Started)
        }
        OpAction::Cancel if c.status == Some(OpStatus::Started) => {
            Verdict::status(OpStatus::Cancelled)
        }
        _ => Err(invalid_action(OpType::Wait)),
    }
}

pub(super) fn apply(op: &mut Op, c: Change<'_>) -> Applied {
    let (now, u) = (c.now, c.update);
    if c.action == OpAction::Start {
        let secs = u
            .wait_options
            .as_ref()
            .and_then(|w| w.wait_seconds)
            .unwrap_or(0);
        op.status = OpStatus::Started;
        op.wait_seconds = Some(secs);
        op.scheduled_end_ms = Some(now + secs * 1000);
        let end = ts(now + secs * 1000, TimeFormat::EpochSeconds);
        return Applied::event(
            op,
            "WaitStarted",
            (
                "WaitStartedDetails",
                json!({ "Duration": secs, "ScheduledEndTimestamp": end }),
            ),
        );
    }
    op.status = OpStatus::Cancelled;
    op.end_ms = Some(now);
    op.error = u.error;
    let e = error_payload(&op.error);
    Applied::event(
        op,
        "WaitCancelled",
        ("WaitCancelledDetails", json!({ "Error": e })),
    )
}
