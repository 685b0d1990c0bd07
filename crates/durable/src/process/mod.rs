//! Functions hosted as processes: each is an executable (a Lambda `bootstrap`) that speaks the
//! Lambda Runtime API, as a Rust function does on AWS. The service spawns sandboxes (child
//! processes) on demand, one invocation at a time each, keeps idle ones warm for the next
//! invocation, and observes their exits: a child that exits while it holds an invocation fails
//! it with `Runtime.ExitError`, as AWS reports a crashed runtime.
//!
//! - `sandbox.rs`: spawning and supervising one child;
//! - `runtime_api.rs`: the Runtime API routes one child polls;
//! - `logs.rs`: the children's output, line by line.

mod logs;
mod runtime_api;
mod sandbox;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{oneshot, Semaphore};

use logs::LogBuffer;
pub use logs::{LogLine, Stream, MAX_LINE_BYTES};
use sandbox::{Job, Sandbox};

use crate::core::TargetKind;
use crate::functions::Function;
use crate::service::DurableService;

/// Lambda's cap on an invocation's event and on its response (6 MB).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Whether a process-hosted function is durable (its invocations carry the durable envelope)
/// or plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKind {
    /// Runs as durable executions.
    Durable,
    /// Invoked directly.
    Plain,
}

/// How to run a function's sandboxes.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The executable (the function's `bootstrap`).
    pub command: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment (added after the Lambda variables, so it may override them).
    pub env: Vec<(String, String)>,
    /// Durable or plain.
    pub kind: ProcessKind,
    /// The service's endpoint (`http://127.0.0.1:port`), given to the child as
    /// `AWS_ENDPOINT_URL_LAMBDA` so the SDK inside it checkpoints here.
    pub endpoint: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (informational).
    pub memory_mb: u32,
    /// Most sandboxes running at once; an invocation waits when all are busy.
    pub max_sandboxes: usize,
    /// Output lines kept in memory (the oldest are dropped first).
    pub log_capacity: usize,
}

impl ProcessSpec {
    /// A spec with defaults: no arguments or extra environment, 128 MB, at most 8 sandboxes,
    /// the last 10 000 output lines kept.
    pub fn new(
        command: impl Into<PathBuf>,
        kind: ProcessKind,
        endpoint: impl Into<String>,
    ) -> Self {
        Self {
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
            kind,
            endpoint: endpoint.into(),
            memory_mb: 128,
            max_sandboxes: 8,
            log_capacity: 10_000,
        }
    }
}

/// Why a process-hosted invocation produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The handler's error, posted to `/invocation/{id}/error`.
    Handler {
        error_type: String,
        error_message: String,
    },
    /// The runtime exited (`Runtime.ExitError`) or failed its init (`Runtime.InitError`).
    Exit { error_type: String, message: String },
    /// What the runtime sent (or the event) broke a rule, e.g. the size cap.
    Invalid { error_type: String, message: String },
    /// The invocation overran its timeout; the sandbox was killed.
    Timeout,
}

impl Failure {
    /// The error type and message Lambda reports for it (`None` for a timeout, whose error
    /// depends on who reports it).
    pub(crate) fn into_parts(self) -> Option<(String, String)> {
        match self {
            Self::Handler {
                error_type,
                error_message: message,
            }
            | Self::Exit {
                error_type,
                message,
            }
            | Self::Invalid {
                error_type,
                message,
            } => Some((error_type, message)),
            Self::Timeout => None,
        }
    }
}

/// What the service keeps of one function's sandboxes.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) function_arn: String,
    pub(crate) region: String,
    pub(crate) timeout: Duration,
    pub(crate) spec: ProcessSpec,
}

#[derive(Debug)]
struct Pool {
    settings: Settings,
    sandboxes: Mutex<Vec<(Arc<Sandbox>, bool)>>,
    permits: Arc<Semaphore>,
    next_id: AtomicU64,
    logs: Arc<LogBuffer>,
}

/// A process-hosted function: its sandboxes and their output. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProcessFn {
    pool: Arc<Pool>,
}

/// Gives a sandbox back to the pool when an invocation ends, however it ends.
struct Lease<'a> {
    pool: &'a Pool,
    sandbox: Arc<Sandbox>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Ok(mut list) = self.pool.sandboxes.lock() {
            list.retain(|(s, _)| !s.is_dead());
            for (s, busy) in list.iter_mut() {
                if Arc::ptr_eq(s, &self.sandbox) {
                    *busy = false;
                }
            }
        }
    }
}

impl ProcessFn {
    fn new(settings: Settings) -> Self {
        let logs = Arc::new(LogBuffer::new(&settings.name, settings.spec.log_capacity));
        let permits = Arc::new(Semaphore::new(settings.spec.max_sandboxes.max(1)));
        Self {
            pool: Arc::new(Pool {
                settings,
                sandboxes: Mutex::new(Vec::new()),
                permits,
                next_id: AtomicU64::new(1),
                logs,
            }),
        }
    }

    /// Durable or plain.
    pub fn kind(&self) -> ProcessKind {
        self.pool.settings.spec.kind
    }

    /// The lines the function's sandboxes wrote (stdout and stderr), oldest first.
    pub fn logs(&self) -> Vec<LogLine> {
        self.pool.logs.snapshot()
    }

    /// The process ids of the sandboxes alive now.
    pub fn pids(&self) -> Vec<u32> {
        self.pool
            .sandboxes
            .lock()
            .map(|l| {
                l.iter()
                    .filter(|(s, _)| !s.is_dead())
                    .filter_map(|(s, _)| s.pid)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Kills every sandbox and waits until each was reaped and its output read; invocations
    /// they held fail with `Runtime.ExitError`. New invocations still start fresh sandboxes.
    pub async fn shutdown(&self) {
        let all: Vec<Arc<Sandbox>> = match self.pool.sandboxes.lock() {
            Ok(mut l) => l.drain(..).map(|(s, _)| s).collect(),
            Err(_) => Vec::new(),
        };
        for s in &all {
            s.kill();
        }
        for s in &all {
            s.exited().await;
        }
    }

    /// Takes an idle sandbox, or starts one.
    async fn lease(&self) -> Result<Lease<'_>, Failure> {
        let pool = &*self.pool;
        let permit = pool.permits.acquire().await.map_err(|_| Failure::Invalid {
            error_type: "ServiceException".into(),
            message: "the function's sandboxes are closed".into(),
        })?;
        let mut list = pool.sandboxes.lock().map_err(|_| Failure::Invalid {
            error_type: "ServiceException".into(),
            message: "the function's sandbox list is poisoned".into(),
        })?;
        list.retain(|(s, _)| !s.is_dead());
        if let Some((s, busy)) = list.iter_mut().find(|(_, busy)| !*busy) {
            *busy = true;
            let sandbox = s.clone();
            drop(list);
            return Ok(Lease {
                pool,
                sandbox,
                _permit: permit,
            });
        }
        let id = pool.next_id.fetch_add(1, Ordering::Relaxed);
        let sandbox =
            Sandbox::spawn(&pool.settings, id, pool.logs.clone()).map_err(|e| Failure::Exit {
                error_type: "Runtime.InvalidEntrypoint".into(),
                message: format!("the sandbox of {} could not start: {e}", pool.settings.name),
            })?;
        let sandbox = Arc::new(sandbox);
        list.push((sandbox.clone(), true));
        drop(list);
        Ok(Lease {
            pool,
            sandbox,
            _permit: permit,
        })
    }

    /// Runs one invocation: `event` to a sandbox, its response body back.
    pub(crate) async fn invoke(
        &self,
        request_id: &str,
        event: Bytes,
        deadline_ms: u64,
        timeout: Duration,
    ) -> Result<Bytes, Failure> {
        if event.len() > MAX_PAYLOAD_BYTES {
            return Err(Failure::Invalid {
                error_type: "RequestEntityTooLargeException".into(),
                message: format!(
                    "the event is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
                    event.len()
                ),
            });
        }
        let lease = self.lease().await?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request_id: request_id.to_owned(),
            body: event,
            deadline_ms,
            trace_id: trace_id(request_id),
            reply,
        };
        if lease.sandbox.hand(job).is_err() {
            return Err(Failure::Exit {
                error_type: "Runtime.ExitError".into(),
                message: format!("RequestId: {request_id} Error: the runtime exited before it took the invocation"),
            });
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(Failure::Exit {
                error_type: "Runtime.ExitError".into(),
                message: format!("RequestId: {request_id} Error: the sandbox went away"),
            }),
            Err(_) => {
                lease.sandbox.kill();
                lease.sandbox.exited().await;
                Err(Failure::Timeout)
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Ok(list) = self.sandboxes.get_mut() {
            for (s, _) in list.iter() {
                s.kill();
            }
        }
    }
}

/// An X-Ray style trace header for the invocation (`Lambda-Runtime-Trace-Id`).
fn trace_id(request_id: &str) -> String {
    let hex: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let root = format!("{hex:0<32}");
    let (a, b) = root.split_at(8);
    format!("Root=1-{a}-{};Sampled=0", b.get(..24).unwrap_or(b))
}

impl DurableService {
    /// Registers a function hosted as processes (see [`ProcessSpec`]). Sandboxes start on the
    /// first invocation; [`DurableService::shutdown`] kills them. Returns the function's handle
    /// (its output, its sandboxes).
    pub fn register_process(&self, name: &str, spec: ProcessSpec) -> ProcessFn {
        let config = self.config();
        let settings = Settings {
            name: name.to_owned(),
            function_arn: self.function_arn(name),
            region: config.region.clone(),
            timeout: config.invocation_timeout,
            spec,
        };
        let f = ProcessFn::new(settings);
        self.functions().insert(name, Function::Process(f.clone()));
        f
    }
}

impl ProcessKind {
    pub(crate) fn target(self) -> TargetKind {
        match self {
            Self::Durable => TargetKind::Durable,
            Self::Plain => TargetKind::Plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let t = trace_id("8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert_eq!(t, "Root=1-8476a536-e9f411e897392dfe598c3fcd;Sampled=0");
        assert_eq!(
            trace_id("x"),
            "Root=1-00000000-000000000000000000000000;Sampled=0"
        );
    }
}
