//! Executes the core's side effects: handler invocations (in-process, panic-safe, or in a
//! process-hosted function's sandbox; with a timeout) and chained-invoke dispatch. No lock or transaction is held while a handler runs.

use aws_durable_execution_sdk as durable;
use serde_json::{json, Value};

use crate::core::{Action, ChainedOutcome, Command, InvocationOutcome, TargetKind};
use crate::functions::{Function, FunctionError};
use crate::model::{ErrorObject, ExecStatus, OpStatus};
use crate::process::{Failure, ProcessKind};
use crate::service::{DurableService, StartOptions};

fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "the invocation was cancelled".into();
    }
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "handler panicked".into())
}

/// A durable handler's own error, whether the in-process wrapper returned it or a runtime posted
/// it to `/invocation/{id}/error`: the one mapping both hostings use.
fn handler_failed(message: String) -> InvocationOutcome {
    InvocationOutcome::Failed(ErrorObject::new("Runtime.InvocationError", message))
}

/// A durable handler's response, as JSON.
fn durable_response(v: Result<Value, serde_json::Error>) -> InvocationOutcome {
    match v {
        Ok(v) => InvocationOutcome::Response(v),
        Err(e) => {
            InvocationOutcome::Failed(ErrorObject::new("Runtime.InvalidResponse", e.to_string()))
        }
    }
}

/// An invocation that overran its timeout.
fn timed_out(timeout: std::time::Duration) -> ErrorObject {
    ErrorObject::new(
        "Sandbox.Timedout",
        format!("Function timed out after {} seconds", timeout.as_secs_f64()),
    )
}

/// A plain function that overran its timeout.
fn plain_timed_out(timeout: std::time::Duration) -> FunctionError {
    let e = timed_out(timeout);
    FunctionError::new(
        e.error_type.unwrap_or_default(),
        e.error_message.unwrap_or_default(),
    )
}

impl DurableService {
    /// Runs one action produced by the core (after its state was committed).
    pub(crate) fn execute(&self, arn: &str, action: Action) {
        let this = self.clone();
        let arn = arn.to_owned();
        match action {
            Action::Invoke {
                invocation_id,
                envelope,
            } => {
                if self.is_stopping() {
                    return; // resumed by recovery on the next start
                }
                self.note_invocation();
                let guard = self.track();
                tokio::spawn(async move {
                    let outcome = this.invoke(&arn, &invocation_id, envelope).await;
                    let cmd = Command::InvocationDone {
                        invocation_id,
                        outcome,
                    };
                    this.record(&arn, cmd, "recording an invocation failed")
                        .await;
                    drop(guard);
                });
            }
            Action::Dispatch {
                op_id,
                function,
                kind,
                payload,
                tenant,
            } => {
                if self.is_stopping() {
                    return;
                }
                let guard = self.track();
                tokio::spawn(async move {
                    this.dispatch(&arn, op_id, &function, kind, payload, tenant)
                        .await;
                    drop(guard);
                });
            }
            Action::NotifyParent {
                parent_arn,
                op_id,
                outcome,
            } => {
                let busy = self.clock().busy();
                tokio::spawn(async move {
                    let cmd = Command::ChainedDone { op_id, outcome };
                    this.record(&parent_arn, cmd, "notifying the parent failed")
                        .await;
                    drop(busy);
                });
            }
            Action::Reply(_) | Action::Finished(_) => {}
        }
    }

    /// Runs plain chained-invoke targets concurrently and records all their outcomes in one
    /// command (one commit, one re-invocation of the execution).
    pub(crate) fn dispatch_plain(&self, arn: &str, targets: Vec<(String, String, String)>) {
        if self.is_stopping() {
            return; // re-dispatched by recovery on the next start
        }
        let this = self.clone();
        let arn = arn.to_owned();
        let guard = self.track();
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for (index, (op_id, function, payload)) in targets.into_iter().enumerate() {
                let svc = this.clone();
                tasks.spawn(async move {
                    let outcome = svc.call_plain(&function, &payload).await;
                    (index, op_id, outcome)
                });
            }
            let mut done = Vec::with_capacity(tasks.len());
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok(d) => done.push(d),
                    // call_plain catches the target's panics; a failure here is a bug of ours.
                    Err(e) => tracing::error!(arn, error = %e, "a chained invoke task failed"),
                }
            }
            done.sort_by_key(|(index, _, _)| *index);
            let done = done.into_iter().map(|(_, id, o)| (id, o)).collect();
            this.record(
                &arn,
                Command::ChainedDoneMany { done },
                "recording chained invokes failed",
            )
            .await;
            drop(guard);
        });
    }

    async fn invoke(&self, arn: &str, invocation_id: &str, envelope: Value) -> InvocationOutcome {
        let function_name = arn
            .split(":function:")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .unwrap_or_default();
        let timeout = self.config().invocation_timeout;
        let deadline = u64::try_from(self.clock().now_ms()).unwrap_or(0)
            + u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX / 2);
        match self.functions().get(function_name) {
            Some((name, Function::Durable(f))) => {
                let payload: durable::InvocationPayload = match serde_json::from_value(envelope) {
                    Ok(p) => p,
                    Err(e) => {
                        return InvocationOutcome::Failed(ErrorObject::new(
                            "Runtime.InvalidEnvelope",
                            e.to_string(),
                        ))
                    }
                };
                let mut ctx = lambda_runtime::Context::default();
                ctx.request_id = invocation_id.to_owned();
                ctx.invoked_function_arn = self.function_arn(&name);
                ctx.deadline = deadline;
                let mut task = tokio::spawn(f(lambda_runtime::LambdaEvent::new(payload, ctx)));
                match tokio::time::timeout(timeout, &mut task).await {
                    Ok(Ok(Ok(response))) => durable_response(serde_json::to_value(response)),
                    Ok(Ok(Err(e))) => handler_failed(e.to_string()),
                    Ok(Err(join)) => InvocationOutcome::Failed(ErrorObject::new(
                        "Runtime.HandlerPanic",
                        panic_message(join),
                    )),
                    Err(_) => {
                        task.abort();
                        InvocationOutcome::Failed(timed_out(timeout))
                    }
                }
            }
            Some((_, Function::Process(p))) if p.kind() == ProcessKind::Durable => {
                let event = match serde_json::to_vec(&envelope) {
                    Ok(b) => bytes::Bytes::from(b),
                    Err(e) => {
                        return InvocationOutcome::Failed(ErrorObject::new(
                            "Runtime.InvalidEnvelope",
                            e.to_string(),
                        ))
                    }
                };
                match p.invoke(invocation_id, event, deadline, timeout).await {
                    Ok(body) => durable_response(serde_json::from_slice(&body)),
                    Err(Failure::Handler { error_message, .. }) => handler_failed(error_message),
                    Err(failure) => InvocationOutcome::Failed(match failure.into_parts() {
                        Some((error_type, message)) => ErrorObject::new(error_type, message),
                        None => timed_out(timeout),
                    }),
                }
            }
            // Not registered (e.g. after a restart without it): fail the execution at once.
            _ => InvocationOutcome::Response(json!({
                "Status": "FAILED",
                "Error": { "ErrorType": "ResourceNotFoundException",
                           "ErrorMessage": format!("Function not found: {function_name}") }
            })),
        }
    }

    async fn dispatch(
        &self,
        arn: &str,
        op_id: String,
        function: &str,
        kind: TargetKind,
        payload: String,
        tenant: Option<String>,
    ) {
        let outcome = match kind {
            TargetKind::Durable => {
                match self
                    .start_child(arn, &op_id, function, payload, tenant)
                    .await
                {
                    Ok(None) => return, // the child reports back when it finishes
                    Ok(Some(outcome)) => outcome,
                    Err(e) => ChainedOutcome {
                        status: OpStatus::Failed,
                        result: None,
                        error: Some(ErrorObject::new(e.kind().code(), e.message())),
                    },
                }
            }
            TargetKind::Plain => self.call_plain(function, &payload).await,
        };
        self.record(
            arn,
            Command::ChainedDone { op_id, outcome },
            "recording a chained invoke failed",
        )
        .await;
    }

    /// Records `cmd` again later (held chained-invoke outcomes whose state was dropped after a
    /// failed write), retried as [`DurableService::record`] does.
    pub(crate) fn record_again(&self, arn: &str, cmd: Command) {
        let this = self.clone();
        let arn = arn.to_owned();
        let guard = self.track();
        tokio::spawn(async move {
            this.record(&arn, cmd, "recording held chained invokes failed")
                .await;
            drop(guard);
        });
    }

    /// Applies a command that reports something that already happened (an invocation's or a
    /// chained invoke's outcome). Nothing else would ever report it again, so a storage failure
    /// (a full disk) is retried with backoff until it is recorded or the service stops.
    async fn record(&self, arn: &str, cmd: Command, what: &str) {
        let mut delay = std::time::Duration::from_millis(200);
        loop {
            match self.command(arn, cmd.clone()).await {
                Ok(_) => return,
                Err(e) if e.kind() == crate::ErrorKind::Service && !self.is_stopping() => {
                    tracing::warn!(arn, error = %e, "{what}; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::error!(arn, error = %e, "{what}");
                    return;
                }
            }
        }
    }

    /// Starts (idempotently) the child execution of a chained invoke. `Some` when the child
    /// already finished (a re-dispatch after a crash).
    async fn start_child(
        &self,
        parent_arn: &str,
        op_id: &str,
        function: &str,
        payload: String,
        tenant: Option<String>,
    ) -> Result<Option<ChainedOutcome>, crate::ApiError> {
        let (name, _) = crate::core::child_identity(parent_arn, op_id);
        let options = StartOptions {
            name: Some(name),
            tenant_id: tenant,
            timeout: None,
        };
        let parent = Some((parent_arn.to_owned(), op_id.to_owned()));
        let (child, new) = self.start_inner(function, payload, options, parent).await?;
        if new {
            return Ok(None);
        }
        let o = self.outcome(&child).await?;
        Ok(match o.status {
            ExecStatus::Running => None,
            ExecStatus::Succeeded => Some(ChainedOutcome {
                status: OpStatus::Succeeded,
                result: o.result,
                error: None,
            }),
            ExecStatus::TimedOut => Some(ChainedOutcome {
                status: OpStatus::TimedOut,
                result: None,
                error: Some(ErrorObject::new(
                    "ChainedInvoke.Timeout",
                    "Chained invocation timed out",
                )),
            }),
            ExecStatus::Stopped => Some(ChainedOutcome {
                status: OpStatus::Stopped,
                result: None,
                error: o.error,
            }),
            ExecStatus::Failed => Some(ChainedOutcome {
                status: OpStatus::Failed,
                result: None,
                error: o.error,
            }),
        })
    }

    /// Invokes a plain function once, panic-safe and under the invocation timeout.
    pub(crate) async fn call_plain(&self, function: &str, payload: &str) -> ChainedOutcome {
        let event: Value =
            serde_json::from_str(payload).unwrap_or_else(|_| Value::String(payload.to_owned()));
        match self.call_plain_value(function, event).await {
            Ok(v) => ChainedOutcome {
                status: OpStatus::Succeeded,
                result: Some(v.to_string()),
                error: None,
            },
            Err(e) => ChainedOutcome {
                status: if e.error_type == "Sandbox.Timedout" {
                    OpStatus::TimedOut
                } else {
                    OpStatus::Failed
                },
                result: None,
                error: Some(ErrorObject::new(e.error_type, e.error_message)),
            },
        }
    }

    /// Invokes a plain function with a JSON event.
    pub(crate) async fn call_plain_value(
        &self,
        function: &str,
        event: Value,
    ) -> Result<Value, FunctionError> {
        let timeout = self.config().invocation_timeout;
        match self.functions().get(function) {
            Some((_, Function::Plain(f))) => {
                let mut task = tokio::spawn(f(event));
                match tokio::time::timeout(timeout, &mut task).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(join)) => Err(FunctionError::new(
                        "Runtime.HandlerPanic",
                        panic_message(join),
                    )),
                    Err(_) => {
                        task.abort();
                        Err(plain_timed_out(timeout))
                    }
                }
            }
            Some((_, Function::Process(p))) if p.kind() == ProcessKind::Plain => {
                let body = bytes::Bytes::from(event.to_string());
                let request_id = uuid::Uuid::new_v4().to_string();
                let deadline = u64::try_from(self.clock().now_ms()).unwrap_or(0)
                    + u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX / 2);
                match p.invoke(&request_id, body, deadline, timeout).await {
                    Ok(body) => Ok(serde_json::from_slice(&body).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(&body).into_owned())
                    })),
                    Err(failure) => Err(match failure.into_parts() {
                        Some((error_type, message)) => FunctionError::new(error_type, message),
                        None => plain_timed_out(timeout),
                    }),
                }
            }
            _ => Err(FunctionError::new(
                "ResourceNotFoundException",
                format!("Function not found: {function}"),
            )),
        }
    }
}
