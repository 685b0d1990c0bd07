//! Puts conformance handlers somewhere: on a [`DurableService`] (in-process, as the local stack
//! hosts its functions) or into a list of wrapped functions (what the `conformance-handler`
//! bootstrap runs, and how the harness learns which functions a requirement registers before it
//! hosts them as processes).

use std::sync::{Arc, Mutex};

use aws_durable_execution_sdk as durable;
use durapipe_durable::{durable_fn, plain_fn, DurableFn, DurableService, FunctionError, PlainFn};
use serde_json::Value;

/// One function a requirement registers.
#[derive(Clone)]
pub enum Wrapped {
    /// A durable handler, wrapped by `durable::wrap`.
    Durable(DurableFn),
    /// A plain function.
    Plain(PlainFn),
}

impl std::fmt::Debug for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Durable(_) => "Wrapped::Durable",
            Self::Plain(_) => "Wrapped::Plain",
        })
    }
}

#[derive(Debug, Clone)]
enum Target {
    Service(DurableService),
    List(Arc<Mutex<Vec<(String, Wrapped)>>>),
}

/// Registers functions; the SDK inside each durable handler talks to `client`.
#[derive(Debug, Clone)]
pub struct Host {
    target: Target,
    client: aws_sdk_lambda::Client,
}

impl Host {
    /// A host registering on `svc` (in-process), its durable handlers pointed at `client`.
    pub fn new(svc: DurableService, client: aws_sdk_lambda::Client) -> Self {
        Self {
            target: Target::Service(svc),
            client,
        }
    }

    /// A host that only collects what is registered (see [`Host::collected`]).
    pub fn collecting(client: aws_sdk_lambda::Client) -> Self {
        Self {
            target: Target::List(Arc::default()),
            client,
        }
    }

    /// What a collecting host was given, in registration order (empty for a service host).
    pub fn collected(&self) -> Vec<(String, Wrapped)> {
        match &self.target {
            Target::Service(_) => Vec::new(),
            Target::List(list) => list.lock().map(|l| l.clone()).unwrap_or_default(),
        }
    }

    fn put(&self, name: &str, f: Wrapped) {
        match &self.target {
            Target::Service(svc) => match f {
                Wrapped::Durable(f) => svc.register_durable(name, f),
                Wrapped::Plain(f) => svc.register_plain(name, f),
            },
            Target::List(list) => {
                if let Ok(mut l) = list.lock() {
                    l.push((name.to_owned(), f));
                }
            }
        }
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
        self.put(name, Wrapped::Durable(f));
        Ok(())
    }

    /// Registers a plain (non-durable) function `name`.
    pub fn plain<F, Fut>(&self, name: &str, f: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value, FunctionError>> + Send + 'static,
    {
        self.put(name, Wrapped::Plain(plain_fn(f)));
    }
}
