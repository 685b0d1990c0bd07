//! One sandbox: a child process running a function's bootstrap, its own Runtime API listener,
//! and the task that supervises it (its exit fails whatever invocation it held).

use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::logs::{capture, LogBuffer, Stream};
use super::{Failure, Settings};

/// How long the supervisor waits for a dead child's output to reach its end (a grandchild may
/// hold the pipes open).
const DRAIN: Duration = Duration::from_secs(2);

/// One invocation handed to a sandbox.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) request_id: String,
    pub(crate) body: Bytes,
    pub(crate) deadline_ms: u64,
    pub(crate) trace_id: String,
    pub(crate) reply: oneshot::Sender<Result<Bytes, Failure>>,
}

/// What the Runtime API and the supervisor share.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) function_arn: String,
    inbox: mpsc::Sender<Job>,
    pub(crate) outbox: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    pub(crate) state: Mutex<State>,
}

/// The sandbox's progress through the Runtime API.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The invocation handed out by `/next` and not answered yet.
    pub(crate) current: Option<(String, oneshot::Sender<Result<Bytes, Failure>>)>,
    /// Whether the runtime has asked for work at least once (it finished its init).
    pub(crate) asked: bool,
    /// What the runtime posted to `/init/error`.
    pub(crate) init_error: Option<(String, String)>,
}

impl Channel {
    /// Answers the invocation in flight if its id is `request_id`; otherwise says why not.
    pub(crate) fn answer(
        &self,
        request_id: &str,
        result: Result<Bytes, Failure>,
    ) -> Result<(), String> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| "the sandbox state is poisoned".to_owned())?;
        match state.current.take() {
            Some((id, reply)) if id == request_id => {
                let _ = reply.send(result);
                Ok(())
            }
            Some(other) => {
                let msg = format!(
                    "request id {request_id} is not the invocation in flight ({})",
                    other.0
                );
                state.current = Some(other);
                Err(msg)
            }
            None => Err(format!(
                "request id {request_id} is not an invocation in flight (none is)"
            )),
        }
    }
}

/// A running child and how to stop it.
#[derive(Debug)]
pub(crate) struct Sandbox {
    pub(crate) pid: Option<u32>,
    channel: Arc<Channel>,
    kill: Arc<Notify>,
    dead: Arc<AtomicBool>,
    done: watch::Receiver<bool>,
}

impl Sandbox {
    /// Binds the sandbox's Runtime API, spawns the child and its supervisor.
    pub(crate) fn spawn(
        settings: &Settings,
        id: u64,
        logs: Arc<LogBuffer>,
    ) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (inbox, outbox) = mpsc::channel(1);
        let channel = Arc::new(Channel {
            function_arn: settings.function_arn.clone(),
            inbox,
            outbox: tokio::sync::Mutex::new(outbox),
            state: Mutex::new(State::default()),
        });
        let kill = Arc::new(Notify::new());
        let mut child = command(settings, &addr.to_string()).spawn().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("spawning {}: {e}", settings.spec.command.display()),
            )
        })?;
        let router = super::runtime_api::router(channel.clone(), kill.clone());
        // No Nagle delay on the small request/response exchanges of the Runtime API.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(error = %e, "a Runtime API listener failed");
            }
        });
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            let logs = logs.clone();
            readers.push(tokio::spawn(async move {
                capture(out, &logs, id, Stream::Stdout).await;
            }));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(async move {
                capture(err, &logs, id, Stream::Stderr).await;
            }));
        }
        let pid = child.id();
        let dead = Arc::new(AtomicBool::new(false));
        let (done_tx, done) = watch::channel(false);
        let supervisor = Supervisor {
            child,
            channel: channel.clone(),
            kill: kill.clone(),
            dead: dead.clone(),
            server,
            readers,
            function: settings.name.clone(),
            id,
        };
        tokio::spawn(async move {
            supervisor.run().await;
            let _ = done_tx.send(true);
        });
        Ok(Self {
            pid,
            channel,
            kill,
            dead,
            done,
        })
    }

    /// Whether the child has exited.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Hands `job` to the child; gives it back when the sandbox can take no more.
    pub(crate) fn hand(&self, job: Job) -> Result<(), Job> {
        self.channel.inbox.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(j) | mpsc::error::TrySendError::Closed(j) => j,
        })
    }

    /// Kills the child (SIGKILL); the supervisor reaps it.
    pub(crate) fn kill(&self) {
        self.kill.notify_one();
    }

    /// Waits until the child was reaped and its output drained.
    pub(crate) async fn exited(&self) {
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }
}

fn command(settings: &Settings, runtime_api: &str) -> Command {
    let spec = &settings.spec;
    let mut cmd = Command::new(&spec.command);
    cmd.args(&spec.args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    if let Some(dir) = spec.command.parent() {
        cmd.env("LAMBDA_TASK_ROOT", dir);
    }
    cmd.env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", &settings.name)
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        )
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_FUNCTION_TIMEOUT",
            settings.timeout.as_secs().to_string(),
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_REGION", &settings.region)
        .env("AWS_DEFAULT_REGION", &settings.region)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_ENDPOINT_URL_LAMBDA", &spec.endpoint)
        .env("_HANDLER", "bootstrap")
        .env("TZ", ":UTC")
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    cmd
}

struct Supervisor {
    child: Child,
    channel: Arc<Channel>,
    kill: Arc<Notify>,
    dead: Arc<AtomicBool>,
    server: tokio::task::JoinHandle<()>,
    readers: Vec<tokio::task::JoinHandle<()>>,
    function: String,
    id: u64,
}

impl Supervisor {
    async fn run(mut self) {
        let status = tokio::select! {
            status = self.child.wait() => status,
            () = self.kill.notified() => {
                let _ = self.child.start_kill();
                self.child.wait().await
            }
        };
        self.dead.store(true, Ordering::SeqCst);
        let reason = match &status {
            Ok(s) => exit_reason(*s),
            Err(e) => format!("Runtime exited with error: {e}"),
        };
        tracing::debug!(
            function = self.function,
            sandbox = self.id,
            reason,
            "a sandbox exited"
        );
        for reader in self.readers {
            let _ = tokio::time::timeout(DRAIN, reader).await;
        }
        self.server.abort();
        let _ = self.server.await;
        let mut outbox = self.channel.outbox.lock().await;
        outbox.close();
        let (current, asked, init_error) = match self.channel.state.lock() {
            Ok(mut s) => (s.current.take(), s.asked, s.init_error.take()),
            Err(_) => (None, false, None),
        };
        let failure = |request_id: &str| match (&init_error, asked) {
            (Some((t, m)), false) => Failure::Exit {
                error_type: "Runtime.InitError".into(),
                message: format!("RequestId: {request_id} Error: {t}: {m}"),
            },
            _ => Failure::Exit {
                error_type: "Runtime.ExitError".into(),
                message: format!("RequestId: {request_id} Error: {reason}"),
            },
        };
        if let Some((id, reply)) = current {
            let _ = reply.send(Err(failure(&id)));
        }
        while let Ok(job) = outbox.try_recv() {
            let _ = job.reply.send(Err(failure(&job.request_id)));
        }
    }
}

/// AWS's wording for how a runtime ended.
pub(crate) fn exit_reason(status: ExitStatus) -> String {
    match status.code() {
        Some(0) => "Runtime exited without providing a reason".into(),
        Some(code) => format!("Runtime exited with error: exit status {code}"),
        // Unix: "signal: 9 (SIGKILL)".
        None => format!("Runtime exited with error: {status}"),
    }
}
