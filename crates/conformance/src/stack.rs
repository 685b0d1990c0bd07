//! A durable service of its own for one requirement: a fresh SQLite database, served over HTTP on
//! `127.0.0.1:0`, on a [`SkippingClock`] (waits, retry delays and timeouts cost no wall time).
//! One stack per requirement keeps every requirement's virtual time its own, as each requirement
//! runs in a function of its own on AWS.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use durapipe_durable::{lambda_client, Config, DurableService, SkippingClock};
use durapipe_sqlite::{Database, Options};

use crate::host::Host;
use crate::http::RawClient;

/// Finished executions are never swept during a run (virtual time may pass days).
const RETENTION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The service, its endpoint and clients.
#[derive(Debug)]
pub struct Stack {
    /// The service.
    pub svc: DurableService,
    /// Its clock.
    pub clock: SkippingClock,
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// A Lambda client for the endpoint (the harness's calls and the handlers' SDK).
    pub client: aws_sdk_lambda::Client,
    /// Raw reads of the endpoint.
    pub raw: RawClient,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Opens a fresh stack.
    ///
    /// # Errors
    /// The temporary directory, the database, the service or the listener failed.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let db = Database::open(&dir.path().join("durable.sqlite"), &Options::default())
            .context("opening the database")?;
        let clock = SkippingClock::new();
        let config = Config {
            retention: RETENTION,
            ..Config::default()
        };
        let svc = DurableService::open(db, Arc::new(clock.clone()), config)
            .await
            .context("opening the durable service")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let router = svc.router();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                eprintln!("conformance: the HTTP server failed: {e}");
            }
        });
        let client = lambda_client(&url);
        let raw = RawClient::new(&url);
        Ok(Self {
            svc,
            clock,
            url,
            client,
            raw,
            server,
            _dir: dir,
        })
    }

    /// A host registering handlers on this stack (their SDK talks to it over HTTP).
    pub fn host(&self) -> Host {
        Host::new(self.svc.clone(), self.client.clone())
    }

    /// Stops the service (a short grace for in-flight invocations) and the server.
    pub async fn stop(self) {
        self.svc.shutdown(Duration::from_millis(200)).await;
        self.server.abort();
    }
}
