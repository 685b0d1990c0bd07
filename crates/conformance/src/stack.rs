//! A durable service of its own for one requirement: a fresh SQLite database, served over HTTP on
//! `127.0.0.1:0`, on a [`SkippingClock`] (waits, retry delays and timeouts cost no wall time).
//! One stack per requirement keeps every requirement's virtual time its own, as each requirement
//! runs in a function of its own on AWS.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use durapipe_durable::{
    lambda_client, Config, DurableService, ProcessFn, ProcessKind, ProcessSpec, SkippingClock,
};
use durapipe_sqlite::{Database, Options};

use crate::handlers::Install;
use crate::host::{Host, Wrapped};
use crate::http::RawClient;

/// The environment variable naming the `conformance-handler` executable.
pub const HANDLER_BIN_ENV: &str = "DURAPIPE_CONFORMANCE_HANDLER_BIN";

/// Where a requirement's functions run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosting {
    /// In the harness's process, on the service (`durable::wrap`); a crash is a panic and the
    /// function's output is not captured.
    InProcess,
    /// As processes of this `conformance-handler` executable speaking the Lambda Runtime API,
    /// as AWS runs a Rust function.
    Process(PathBuf),
}

impl Hosting {
    /// Process hosting with the `conformance-handler` named by [`HANDLER_BIN_ENV`], else the
    /// one next to the running executable.
    ///
    /// # Errors
    /// Neither exists.
    pub fn process() -> anyhow::Result<Self> {
        let bin = match std::env::var_os(HANDLER_BIN_ENV) {
            Some(p) => PathBuf::from(p),
            None => std::env::current_exe()
                .context("locating the running executable")?
                .with_file_name("conformance-handler"),
        };
        if !bin.is_file() {
            anyhow::bail!(
                "the conformance-handler executable {} does not exist (build it with \
                 `cargo build -p durapipe-conformance --bin conformance-handler`, or set {HANDLER_BIN_ENV})",
                bin.display()
            );
        }
        Ok(Self::Process(bin))
    }
}

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
    processes: Mutex<Vec<ProcessFn>>,
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
            processes: Mutex::new(Vec::new()),
            _dir: dir,
        })
    }

    /// A host registering handlers on this stack (their SDK talks to it over HTTP).
    pub fn host(&self) -> Host {
        Host::new(self.svc.clone(), self.client.clone())
    }

    /// Installs requirement `id`'s functions (its entry function named `name`) as `hosting`
    /// says.
    ///
    /// # Errors
    /// The handler's installation failed.
    pub fn install(
        &self,
        hosting: &Hosting,
        id: &str,
        install: Install,
        name: &str,
    ) -> anyhow::Result<()> {
        let bin = match hosting {
            Hosting::InProcess => return install(&self.host(), name),
            Hosting::Process(bin) => bin,
        };
        // Learn which functions the requirement registers; the processes install them again.
        let probe = Host::collecting(self.client.clone());
        install(&probe, name)?;
        for (function, wrapped) in probe.collected() {
            let spec = self.process_spec(bin, id, name, &wrapped);
            let f = self.svc.register_process(&function, spec);
            if let Ok(mut p) = self.processes.lock() {
                p.push(f);
            }
        }
        Ok(())
    }

    fn process_spec(&self, bin: &Path, id: &str, name: &str, wrapped: &Wrapped) -> ProcessSpec {
        let kind = match wrapped {
            Wrapped::Durable(_) => ProcessKind::Durable,
            Wrapped::Plain(_) => ProcessKind::Plain,
        };
        let mut spec = ProcessSpec::new(bin, kind, &self.url);
        spec.env = vec![
            ("DURAPIPE_CONFORMANCE_HANDLER".into(), id.to_owned()),
            ("DURAPIPE_CONFORMANCE_NAME".into(), name.to_owned()),
        ];
        spec
    }

    /// Whether the functions run as processes (their output is captured).
    pub fn captures_output(&self) -> bool {
        self.processes.lock().is_ok_and(|p| !p.is_empty())
    }

    /// Stops the functions' processes and returns every line they wrote (stdout and stderr),
    /// function by function.
    pub async fn drain_output(&self) -> Vec<String> {
        let processes = self.processes.lock().map(|p| p.clone()).unwrap_or_default();
        let mut lines = Vec::new();
        for p in processes {
            p.shutdown().await;
            lines.extend(p.logs().into_iter().map(|l| l.text));
        }
        lines
    }

    /// Stops the service (a short grace for in-flight invocations) and the server.
    pub async fn stop(self) {
        self.svc.shutdown(Duration::from_millis(200)).await;
        self.server.abort();
    }
}
