//! CHAINED_INVOKE: START names a target; a known target is dispatched, an unknown one fails the
//! op at once. The service completes a dispatched op when the target ends.

use serde_json::json;

use super::{check_size, invalid_action, Applied, Change, Check, Verdict};
use crate::core::{error_payload, op_event, payload, Action, TargetKind};
use crate::error::ApiError;
use crate::model::{ErrorObject, Op, OpAction, OpStatus, OpType};

pub(super) fn check(c: &Check<'_, '_>) -> Result<Verdict, ApiError> {
    if c.action != OpAction::Start || c.status.is_some() {
        return Err(invalid_action(OpType::ChainedInvoke));
    }
    let u = c.update;
    let Some(name) = u
        .chained_invoke_options
        .as_ref()
        .and_then(|o| o.function_name.clone())
    else {
        return Err(ApiError::invalid(
            "ChainedInvokeOptions.FunctionName is required.",
        ));
    };
    check_size(
        "Chained invoke input",
        &u.payload,
        c.env.limits.max_invoke_payload_bytes,
    )?;
    let target = (c.env.resolve)(&name);
    Ok(Verdict {
        status: if target.is_some() {
            OpStatus::Started
        } else {
            OpStatus::Failed
        },
        target,
    })
}

pub(super) fn apply(op: &mut Op, c: Change<'_>) -> Applied {
    let (now, u) = (c.now, c.update);
    let requested = u
        .chained_invoke_options
        .as_ref()
        .and_then(|o| o.function_name.clone())
        .unwrap_or_default();
    let tenant = u
        .chained_invoke_options
        .as_ref()
        .and_then(|o| o.tenant_id.clone());
    op.invoke_input = u.payload.clone();
    op.invoke_tenant = tenant.clone();
    let mut details = json!({
        "FunctionName": requested, "TenantId": tenant,
        "Input": payload(&u.payload), "ExecutedVersion": "$LATEST",
    });
    if let Some((function, TargetKind::Durable)) = &c.target {
        details["DurableExecutionArn"] = json!(crate::core::child_arn(c.arn, function, &u.id));
    }
    let started = op_event(
        op,
        "ChainedInvokeStarted",
        Some(("ChainedInvokeStartedDetails", details)),
    );
    match c.target {
        Some((function, kind)) => {
            op.status = OpStatus::Started;
            op.invoke_function = Some(function.clone());
            Applied {
                events: vec![started],
                dispatch: Some(Action::Dispatch {
                    op_id: u.id.clone(),
                    function,
                    kind,
                    payload: u.payload.unwrap_or_else(|| "{}".into()),
                    tenant,
                }),
            }
        }
        None => {
            op.status = OpStatus::Failed;
            op.end_ms = Some(now);
            op.error = Some(ErrorObject::new(
                "ResourceNotFoundException",
                format!("Function not found: {requested}"),
            ));
            let e = error_payload(&op.error);
            let failed = op_event(
                op,
                "ChainedInvokeFailed",
                Some(("ChainedInvokeFailedDetails", json!({ "Error": e }))),
            );
            Applied {
                events: vec![started, failed],
                dispatch: None,
            }
        }
    }
}
