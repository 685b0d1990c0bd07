//! The event source mapping's target in the local stack: start a durable execution of the
//! orchestrator with the SQS event and wait for it, as Lambda's ESM does for a durable function.

use std::collections::BTreeMap;
use std::time::Duration;

use durapipe_durable::{DurableService, ExecStatus};
use serde_json::Value;
use tracing::Instrument as _;

use crate::esm::{BatchResult, BatchTarget};

/// Runs each batch as one execution of `function` on `service`.
#[derive(Debug, Clone)]
pub struct OrchestratorTarget {
    service: DurableService,
    function: String,
    timeout: Duration,
}

impl OrchestratorTarget {
    /// A target that starts `function` and waits at most `timeout` (its execution timeout).
    pub fn new(service: DurableService, function: impl Into<String>, timeout: Duration) -> Self {
        Self {
            service,
            function: function.into(),
            timeout,
        }
    }

    /// Why each failed record failed: the last failed chained invoke named `{stage}-{messageId}`.
    async fn item_errors(&self, arn: &str, response: &Value) -> BTreeMap<String, String> {
        let failed: Vec<&str> = response
            .get("batchItemFailures")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|e| e.get("itemIdentifier").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if failed.is_empty() {
            return BTreeMap::new();
        }
        let operations = self.service.operations(arn).await.unwrap_or_default();
        let mut reasons = BTreeMap::new();
        for op in &operations {
            let (Some(name), Some(error)) = (
                op.get("Name").and_then(Value::as_str),
                op.pointer("/ChainedInvokeDetails/Error"),
            ) else {
                continue;
            };
            if let Some(id) = failed.iter().find(|id| name.ends_with(&format!("-{id}"))) {
                reasons.insert((*id).to_owned(), describe(error));
            }
        }
        reasons
    }
}

fn describe(error: &Value) -> String {
    let kind = error
        .get("ErrorType")
        .and_then(Value::as_str)
        .unwrap_or("Error");
    let message = error
        .get("ErrorMessage")
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{kind}: {message}")
}

impl BatchTarget for OrchestratorTarget {
    async fn invoke(&self, event: Value) -> BatchResult {
        let span = tracing::info_span!(
            "function",
            function = %self.function,
            executionArn = tracing::field::Empty,
        );
        let result = self.run(event, &span).instrument(span.clone()).await;
        span.in_scope(|| match &result {
            BatchResult::Completed { item_errors, .. } => {
                tracing::info!(failed_records = item_errors.len(), "execution succeeded");
            }
            BatchResult::Failed {
                error_type,
                message,
            } => tracing::warn!(error_type = %error_type, error = %message, "execution failed"),
            BatchResult::TimedOut => tracing::warn!("execution timed out"),
        });
        result
    }
}

impl OrchestratorTarget {
    async fn run(&self, event: Value, span: &tracing::Span) -> BatchResult {
        let arn = match self.service.start(&self.function, &event).await {
            Ok(arn) => arn,
            Err(e) => {
                return BatchResult::Failed {
                    error_type: e.kind().code().to_owned(),
                    message: e.to_string(),
                }
            }
        };
        span.record("executionArn", tracing::field::display(&arn));
        tracing::info!("execution started");
        let outcome = match self.service.wait(&arn, self.timeout).await {
            Ok(outcome) => outcome,
            Err(e) => {
                return BatchResult::Failed {
                    error_type: e.kind().code().to_owned(),
                    message: e.to_string(),
                }
            }
        };
        match outcome.status {
            ExecStatus::Succeeded => {
                let response = outcome
                    .result
                    .as_deref()
                    .map_or(Ok(Value::Null), serde_json::from_str)
                    .unwrap_or_else(|_| Value::String("<result is not JSON>".into()));
                let item_errors = self.item_errors(&arn, &response).await;
                BatchResult::Completed {
                    response,
                    item_errors,
                }
            }
            ExecStatus::Running | ExecStatus::TimedOut => BatchResult::TimedOut,
            ExecStatus::Failed | ExecStatus::Stopped => {
                let error = outcome.error.unwrap_or_default();
                BatchResult::Failed {
                    error_type: error
                        .error_type
                        .unwrap_or_else(|| format!("Execution{}", outcome.status.as_str())),
                    message: error.error_message.unwrap_or_default(),
                }
            }
        }
    }
}
