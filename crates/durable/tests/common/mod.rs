//! Shared harness: a service on a fresh database, served on 127.0.0.1:0, with an SDK client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durapipe_durable::{
    durable_fn, lambda_client, plain_fn, Config, DurableService, FunctionError, Outcome,
    SystemClock,
};
use durapipe_sqlite::{Database, Options};
use serde_json::Value;

pub struct Harness {
    pub svc: DurableService,
    pub client: aws_sdk_lambda::Client,
    pub url: String,
    pub dir: tempfile::TempDir,
}

pub fn fast_config() -> Config {
    let mut c = Config {
        execution_timeout: Duration::from_secs(60),
        invocation_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    c.limits.backoff_base_ms = 50;
    c.limits.backoff_max_ms = 200;
    c
}

pub async fn harness() -> Harness {
    harness_with(fast_config()).await
}

pub async fn harness_with(config: Config) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("db.sqlite"), &Options::default()).unwrap();
    let svc = DurableService::open(db, Arc::new(SystemClock), config)
        .await
        .unwrap();
    let url = serve(&svc).await;
    let client = lambda_client(&url);
    Harness {
        svc,
        client,
        url,
        dir,
    }
}

/// Serves `svc`'s HTTP API on 127.0.0.1:0 in the background; returns its URL.
pub async fn serve(svc: &DurableService) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = svc.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

impl Harness {
    pub fn durable<F, E, Fut, O>(&self, name: &str, handler: F)
    where
        F: Fn(E, durable::DurableContext) -> Fut + Send + Sync + 'static,
        E: for<'de> serde::Deserialize<'de> + Send + 'static,
        Fut: std::future::Future<Output = Result<O, durable::BoxError>> + Send + 'static,
        O: serde::Serialize + Send + 'static,
    {
        let f = durable_fn(handler, self.client.clone()).unwrap();
        self.svc.register_durable(name, f);
    }

    pub fn plain<F, Fut>(&self, name: &str, f: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value, FunctionError>> + Send + 'static,
    {
        self.svc.register_plain(name, plain_fn(f));
    }

    /// Starts `function` and waits (30 s at most) for it to finish.
    pub async fn run(&self, function: &str, input: Value) -> (String, Outcome) {
        let arn = self.svc.start(function, &input).await.unwrap();
        let outcome = self.svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
        (arn, outcome)
    }

    /// History read back through GetDurableExecutionHistory: (EventType, Name) pairs.
    pub async fn history(&self, arn: &str) -> Vec<(String, Option<String>)> {
        let out = self
            .client
            .get_durable_execution_history()
            .durable_execution_arn(arn)
            .include_execution_data(true)
            .send()
            .await
            .unwrap();
        out.events()
            .iter()
            .map(|e| {
                (
                    e.event_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    e.name().map(str::to_owned),
                )
            })
            .collect()
    }

    /// Event types of the history, in order.
    pub async fn event_types(&self, arn: &str) -> Vec<String> {
        self.history(arn)
            .await
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    /// Count of events of `event_type` named `name`.
    pub async fn count(&self, arn: &str, event_type: &str, name: Option<&str>) -> usize {
        self.history(arn)
            .await
            .iter()
            .filter(|(t, n)| t == event_type && (name.is_none() || n.as_deref() == name))
            .count()
    }
}

pub fn result_json(o: &Outcome) -> Value {
    serde_json::from_str(o.result.as_deref().expect("a result")).unwrap()
}

/// Returns once the execution has checkpointed its WAIT START (so advancing a manual clock now
/// moves past a due time computed before the advance); fails the test after `timeout`.
pub async fn wait_op_started(svc: &DurableService, arn: &str, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while !svc
        .operations(arn)
        .await
        .unwrap()
        .iter()
        .any(|o| o["Type"] == "WAIT")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the wait never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
