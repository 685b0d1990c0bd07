//! Puts conformance handlers on a [`DurableService`], as the local stack hosts its functions.

use aws_durable_execution_sdk as durable;
use durapipe_durable::{durable_fn, plain_fn, DurableService, FunctionError};
use serde_json::Value;

/// Registers functions on one service; the SDK inside each durable handler talks to `client`.
#[derive(Debug, Clone)]
pub struct Host {
    svc: DurableService,
    client: aws_sdk_lambda::Client,
}

impl Host {
    /// A host registering on `svc`, its durable handlers pointed at `client`.
    pub fn new(svc: DurableService, client: aws_sdk_lambda::Client) -> Self {
        Self { svc, client }
    }

    /// Registers a durable function `name`.
    ///
    /// # Errors
    /// The SDK's options validation error.
    pub fn durable<F, E, Fut, O>(&self, name: &str, handler: F) -> anyhow::Result<()>
    where
        F: Fn(E, durable::DurableContext) -> Fut + Send + Sync + 'static,
        E: for<'de> serde::Deserialize<'de> + Send + 'static,
        Fut: std::future::Future<Output = Result<O, durable::BoxError>> + Send + 'static,
        O: serde::Serialize + Send + 'static,
    {
        let f = durable_fn(handler, self.client.clone())?;
        self.svc.register_durable(name, f);
        Ok(())
    }

    /// Registers a plain (non-durable) function `name`.
    pub fn plain<F, Fut>(&self, name: &str, f: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value, FunctionError>> + Send + 'static,
    {
        self.svc.register_plain(name, plain_fn(f));
    }
}
