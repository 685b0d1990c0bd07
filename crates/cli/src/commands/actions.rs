//! `durapipe stop ARN` and `durapipe callback succeed|fail|heartbeat CALLBACK_ID`: the Lambda
//! APIs `StopDurableExecution` and `SendDurableExecutionCallback{Success,Failure,Heartbeat}`.

use anyhow::Context as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::ErrorObject;

use crate::args::{CallbackCommand, StopArgs};
use crate::aws;

fn error_object(error_type: Option<String>, message: Option<String>) -> Option<ErrorObject> {
    if error_type.is_none() && message.is_none() {
        return None;
    }
    Some(
        ErrorObject::builder()
            .set_error_type(error_type)
            .set_error_message(message)
            .build(),
    )
}

pub async fn stop(args: StopArgs) -> anyhow::Result<()> {
    let config = aws::target_config(&args.target).await?;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let out = lambda
        .stop_durable_execution()
        .durable_execution_arn(&args.arn)
        .set_error(error_object(args.error_type, args.error_message))
        .send()
        .await
        .with_context(|| format!("cannot stop {}", args.arn))?;
    println!(
        "stopped {} at {}",
        args.arn,
        super::executions::millis(out.stop_timestamp)
    );
    Ok(())
}

pub async fn callback(command: CallbackCommand) -> anyhow::Result<()> {
    let (target, id) = match &command {
        CallbackCommand::Succeed(a) => (&a.target, &a.callback_id),
        CallbackCommand::Fail(a) => (&a.target, &a.callback_id),
        CallbackCommand::Heartbeat(a) => (&a.target, &a.callback_id),
    };
    let config = aws::target_config(target).await?;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let what = match &command {
        CallbackCommand::Succeed(a) => {
            if let Some(p) = &a.payload {
                serde_json::from_str::<serde_json::Value>(p)
                    .with_context(|| format!("the payload must be JSON, got {p:?}"))?;
            }
            lambda
                .send_durable_execution_callback_success()
                .callback_id(id)
                .set_result(a.payload.clone().map(Blob::new))
                .send()
                .await
                .map(|_| "succeeded")
                .map_err(anyhow::Error::from)
        }
        CallbackCommand::Fail(a) => lambda
            .send_durable_execution_callback_failure()
            .callback_id(id)
            .set_error(error_object(Some(a.error_type.clone()), a.message.clone()))
            .send()
            .await
            .map(|_| "failed")
            .map_err(anyhow::Error::from),
        CallbackCommand::Heartbeat(_) => lambda
            .send_durable_execution_callback_heartbeat()
            .callback_id(id)
            .send()
            .await
            .map(|_| "heartbeat sent")
            .map_err(anyhow::Error::from),
    }
    .with_context(|| format!("callback {id}"))?;
    println!("callback {id}: {what}");
    Ok(())
}
