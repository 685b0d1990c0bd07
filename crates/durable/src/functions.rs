//! The registry of functions (in-process durable and plain ones, process-hosted ones) and
//! function-name resolution.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_durable_execution_sdk as durable;
use serde_json::Value;

use crate::clock::BoxFuture;
use crate::core::TargetKind;

/// A durable function: the service function `durable::wrap` returns, boxed.
pub type DurableFn = Arc<
    dyn Fn(
            lambda_runtime::LambdaEvent<durable::InvocationPayload>,
        ) -> BoxFuture<Result<durable::InvocationResponse, lambda_runtime::Error>>
        + Send
        + Sync,
>;

/// A plain (non-durable) function: event in, response or error out.
pub type PlainFn = Arc<dyn Fn(Value) -> BoxFuture<Result<Value, FunctionError>> + Send + Sync>;

/// The error a plain function reports (Lambda's `errorType` / `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {error_message}")]
pub struct FunctionError {
    /// Stable error type, e.g. `ValidationError`.
    pub error_type: String,
    /// What went wrong, for people.
    pub error_message: String,
}

impl FunctionError {
    /// The error `error_type` (as a function reports it) with `error_message`.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            error_message: error_message.into(),
        }
    }
}

/// A registered function.
#[derive(Clone)]
pub enum Function {
    /// Durable: runs as executions.
    Durable(DurableFn),
    /// Plain: invoked directly.
    Plain(PlainFn),
    /// Hosted as processes speaking the Lambda Runtime API (durable or plain).
    Process(crate::process::ProcessFn),
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Durable(_) => f.write_str("Function::Durable"),
            Self::Plain(_) => f.write_str("Function::Plain"),
            Self::Process(p) => write!(f, "Function::Process({:?})", p.kind()),
        }
    }
}

impl Function {
    /// Whether it runs as a durable execution or as a plain call.
    pub fn kind(&self) -> TargetKind {
        match self {
            Self::Durable(_) => TargetKind::Durable,
            Self::Plain(_) => TargetKind::Plain,
            Self::Process(p) => p.kind().target(),
        }
    }
}

/// Wraps a durable handler with `durable::wrap`, pointing the SDK at `client`.
///
/// # Errors
/// The SDK's options validation error.
pub fn durable_fn<F, E, Fut, O>(
    handler: F,
    client: aws_sdk_lambda::Client,
) -> Result<DurableFn, durable::OptionsValidationError>
where
    F: Fn(E, durable::DurableContext) -> Fut + Send + Sync + 'static,
    E: for<'de> serde::Deserialize<'de> + Send + 'static,
    Fut: std::future::Future<Output = Result<O, durable::BoxError>> + Send + 'static,
    O: serde::Serialize + Send + 'static,
{
    let svc = durable::wrap(
        handler,
        durable::Options::builder().lambda_client(client).build()?,
    );
    Ok(Arc::new(move |event| svc(event)))
}

/// Wraps an async closure as a [`PlainFn`].
pub fn plain_fn<F, Fut>(f: F) -> PlainFn
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    Arc::new(move |v| Box::pin(f(v)))
}

/// Extracts the function name from a name, `name:qualifier`, a partial ARN
/// (`account:function:name[:qualifier]`) or a full ARN.
pub fn function_name_of(reference: &str) -> Option<&str> {
    let parts: Vec<&str> = reference.split(':').collect();
    let name = match parts.as_slice() {
        [name] | [name, _] => *name,
        ["arn", _, "lambda", _, _, "function", name]
        | ["arn", _, "lambda", _, _, "function", name, _] => *name,
        [_, "function", name] | [_, "function", name, _] => *name,
        _ => return None,
    };
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(name)
}

/// Registered functions by name.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    map: RwLock<HashMap<String, Function>>,
}

impl Registry {
    pub(crate) fn insert(&self, name: &str, f: Function) {
        if let Ok(mut m) = self.map.write() {
            m.insert(name.to_owned(), f);
        }
    }

    pub(crate) fn get(&self, reference: &str) -> Option<(String, Function)> {
        let name = function_name_of(reference)?;
        let m = self.map.read().ok()?;
        m.get(name).map(|f| (name.to_owned(), f.clone()))
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.map
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Kills the sandboxes of every process-hosted function.
    pub(crate) async fn shutdown_processes(&self) {
        let processes: Vec<crate::process::ProcessFn> = self
            .map
            .read()
            .map(|m| {
                m.values()
                    .filter_map(|f| match f {
                        Function::Process(p) => Some(p.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        for p in processes {
            p.shutdown().await;
        }
    }

    pub(crate) fn resolve(&self, reference: &str) -> Option<(String, TargetKind)> {
        self.get(reference).map(|(n, f)| (n, f.kind()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_from_every_form() {
        for r in [
            "f",
            "f:$LATEST",
            "000000000000:function:f",
            "000000000000:function:f:1",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
        ] {
            assert_eq!(function_name_of(r), Some("f"), "{r}");
        }
        assert_eq!(function_name_of("a:b:c:d:e"), None);
        assert_eq!(function_name_of("bad name"), None);
        assert_eq!(function_name_of(""), None);
    }
}
