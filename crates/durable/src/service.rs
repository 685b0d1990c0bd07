//! The async shell around the pure core: per-execution serialisation, persistence (acknowledge
//! only after commit), timers, and the public Rust API the local stack calls.
//!
//! [`DurableService`] is one type whose methods live in several files, each owning one part:
//! - here: the shared state ([`Inner`], private: other files use the accessors below), start,
//!   wait, queries, shutdown, and [`DurableService::command`], the one path into the core;
//! - `runner.rs`: the core's side effects (handler invocations, chained-invoke dispatch);
//! - `retention.rs`: the retention sweep;
//! - `slots.rs`: the per-execution slot cache ([`SlotCache`]);
//! - `http/`: the Lambda wire routes.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use durapipe_sqlite::Database;
use serde_json::Value;

use crate::clock::{BoxFuture, Clock};
use crate::core::{self, Action, Command, Env, Outcome, StartParams};
use crate::error::{ApiError, ErrorKind};
use crate::functions::{Function, Registry};
use crate::scheduler::Timers;
use crate::slots::SlotCache;
use crate::state::Limits;
use crate::store::{self, Inserted, Persist};

/// Service configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Default `ExecutionTimeout` of new executions.
    pub execution_timeout: Duration,
    /// Longest a single handler invocation may run before it is abandoned and retried.
    pub invocation_timeout: Duration,
    /// AWS limits, paging and invocation retry/backoff budget.
    pub limits: Limits,
    /// Region in ARNs.
    pub region: String,
    /// Account in ARNs.
    pub account: String,
    /// How long a finished execution is kept after its end before the periodic sweep deletes
    /// it (AWS's `RetentionPeriodInDays`; default 7 days). See [`DurableService::sweep_retention`].
    pub retention: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            execution_timeout: Duration::from_secs(900),
            invocation_timeout: Duration::from_secs(900),
            limits: Limits::default(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
            retention: crate::retention::DEFAULT_RETENTION,
        }
    }
}

/// Options of [`DurableService::start_with`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Execution name (idempotency key); a UUID when absent.
    pub name: Option<String>,
    /// The caller's tenant, stored with the execution (not enforced).
    pub tenant_id: Option<String>,
    /// Execution timeout; the service default when absent.
    pub timeout: Option<Duration>,
}

struct Inner {
    db: Database,
    clock: Arc<dyn Clock>,
    config: Config,
    functions: Registry,
    slots: SlotCache,
    timers: Timers,
    stopping: AtomicBool,
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
    /// Checkpoints accepted since start (for benchmarks).
    checkpoints: AtomicU64,
    /// Handler invocations started since start (for benchmarks).
    invocations: AtomicU64,
    /// How long accepted checkpoints took, request to committed answer (for metrics).
    checkpoint_latency: durapipe_sqlite::histogram::Histogram,
}

/// The local durable-execution service. Cheap to clone.
#[derive(Clone)]
pub struct DurableService {
    inner: Arc<Inner>,
}

/// A handle that does not keep the service alive (for its background loops).
pub(crate) struct WeakService(Weak<Inner>);

impl WeakService {
    /// The service, if it still exists.
    pub(crate) fn upgrade(&self) -> Option<DurableService> {
        self.0.upgrade().map(|inner| DurableService { inner })
    }
}

impl std::fmt::Debug for DurableService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// An in-flight task counter guard (also work in progress for the clock).
pub(crate) struct InFlight {
    inner: Arc<Inner>,
    _busy: crate::clock::Busy,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.inner.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}

impl DurableService {
    /// Creates the service's tables in `db` (if missing) and starts its timer loop. Register
    /// functions next, then call [`DurableService::recover`].
    ///
    /// # Errors
    /// A storage error.
    pub async fn open(
        db: Database,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<Self, ApiError> {
        store::init(&db).await?;
        let inner = Arc::new(Inner {
            db,
            clock,
            config,
            functions: Registry::default(),
            slots: SlotCache::default(),
            timers: Timers::default(),
            stopping: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
            checkpoints: AtomicU64::new(0),
            invocations: AtomicU64::new(0),
            checkpoint_latency: durapipe_sqlite::histogram::Histogram::default(),
        });
        let svc = Self { inner };
        tokio::spawn(svc.clone().timer_loop());
        crate::retention::start(&svc).await?;
        Ok(svc)
    }

    /// Registers a durable function (see [`crate::durable_fn`]).
    pub fn register_durable(&self, name: &str, f: crate::DurableFn) {
        self.inner.functions.insert(name, Function::Durable(f));
    }

    /// Registers a plain function (see [`crate::plain_fn`]).
    pub fn register_plain(&self, name: &str, f: crate::PlainFn) {
        self.inner.functions.insert(name, Function::Plain(f));
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The function ARN of a function name.
    pub fn function_arn(&self, name: &str) -> String {
        let c = &self.inner.config;
        format!("arn:aws:lambda:{}:{}:function:{name}", c.region, c.account)
    }

    /// Crash recovery (`docs/wire-contract.md` §11): every RUNNING execution is re-invoked from its checkpoints,
    /// its overdue timers fire, the others are re-armed, and chained invokes in flight are
    /// dispatched again. Call once, after registering functions. Returns how many executions
    /// were resumed.
    ///
    /// # Errors
    /// A storage error listing the executions.
    pub async fn recover(&self) -> Result<usize, ApiError> {
        let arns = self.inner.db.read(store::running).await?;
        for arn in &arns {
            if let Err(e) = self.command(arn, Command::Recover).await {
                tracing::error!(arn, error = %e, "recovery failed");
            }
        }
        Ok(arns.len())
    }

    /// Starts an execution of a durable function with `input` as its event.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown or non-durable function, the input limit,
    /// `DurableExecutionAlreadyStartedException`, or a storage error.
    pub async fn start(&self, function: &str, input: &Value) -> Result<String, ApiError> {
        self.start_with(function, input.to_string(), StartOptions::default())
            .await
    }

    /// Starts an execution with the input as JSON text and options. Same name and same input
    /// return the existing execution's ARN.
    ///
    /// # Errors
    /// As [`DurableService::start`].
    pub async fn start_with(
        &self,
        function: &str,
        input: String,
        options: StartOptions,
    ) -> Result<String, ApiError> {
        self.start_inner(function, input, options, None)
            .await
            .map(|(arn, _)| arn)
    }

    pub(crate) async fn start_inner(
        &self,
        function: &str,
        input: String,
        options: StartOptions,
        parent: Option<(String, String)>,
    ) -> Result<(String, bool), ApiError> {
        let inner = &self.inner;
        // From the start time (which sets the deadline) until the first invocation is running.
        let _busy = inner.clock.busy();
        let Some((name, core::TargetKind::Durable)) = inner.functions.resolve(function) else {
            return Err(ApiError::not_found(format!(
                "Function not found: {} (or it is not a durable function)",
                self.function_arn(function)
            )));
        };
        if input.len() > inner.config.limits.max_input_bytes {
            return Err(ApiError::new(
                ErrorKind::RequestTooLarge,
                format!(
                    "Request payload size ({} bytes) exceeded the maximum of {} bytes",
                    input.len(),
                    inner.config.limits.max_input_bytes
                ),
            ));
        }
        let exec_name = match options.name {
            Some(n) => {
                let ok = !n.is_empty()
                    && n.len() <= 64
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(ApiError::invalid(
                        "DurableExecutionName must be 1-64 characters of [a-zA-Z0-9_-].",
                    ));
                }
                n
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let id = match &parent {
            Some((parent_arn, op_id)) => core::child_identity(parent_arn, op_id).1,
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        let arn = format!(
            "{}:$LATEST/durable-execution/{exec_name}/{id}",
            self.function_arn(&name)
        );
        let timeout = options.timeout.unwrap_or(inner.config.execution_timeout);
        let params = StartParams {
            arn: arn.clone(),
            function_name: name,
            name: exec_name,
            id,
            input,
            timeout_s: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX).max(1),
            tenant_id: options.tenant_id,
            parent,
        };
        let now_ms = inner.clock.now_ms();
        let mut state = core::new_execution(params, now_ms);
        // The first invocation is claimed before the insert, so the new row and its claim are
        // one write; it starts once that write is committed.
        let first = {
            let resolve = |r: &str| inner.functions.resolve(r);
            let env = Env {
                now_ms,
                nonce: uuid::Uuid::new_v4().simple().to_string(),
                limits: &inner.config.limits,
                resolve: &resolve,
            };
            core::apply(&mut state, Command::Kick, &env)?
        };
        let p = Persist::take(&mut state, true)?;
        let inserted = inner
            .db
            .write(move |c| store::insert_idempotent(c, &p))
            .await?;
        match inserted {
            Inserted::Existing(existing) => Ok((existing, false)),
            Inserted::New => {
                inner
                    .timers
                    .arm(&arn, core::next_due(&state), || inner.clock.busy());
                inner.slots.seed(&arn, state);
                for action in first {
                    self.execute(&arn, action);
                }
                Ok((arn, true))
            }
        }
    }

    /// Waits until the execution finishes or `timeout` passes; on timeout the returned outcome
    /// has status `RUNNING`.
    ///
    /// # Errors
    /// `ResourceNotFoundException` or a storage error.
    pub async fn wait(&self, arn: &str, timeout: Duration) -> Result<Outcome, ApiError> {
        let slot = self.inner.slots.take(arn);
        let mut rx = slot.done.subscribe();
        let meta = self.meta(arn).await?;
        if meta.status.is_terminal() {
            return Ok(outcome_of(&meta));
        }
        let waited = tokio::time::timeout(timeout, async {
            rx.wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|o| o.clone())
        })
        .await;
        if let Ok(Some(outcome)) = waited {
            return Ok(outcome);
        }
        let meta = self.meta(arn).await?;
        Ok(outcome_of(&meta))
    }

    /// Current status and outcome of an execution.
    ///
    /// # Errors
    /// `ResourceNotFoundException` or a storage error.
    pub async fn outcome(&self, arn: &str) -> Result<Outcome, ApiError> {
        Ok(outcome_of(&self.meta(arn).await?))
    }

    /// Every operation record of an execution, in creation order (the `Operation` wire shape
    /// with epoch-second timestamps; EXECUTION first). For tooling and tests.
    ///
    /// # Errors
    /// `ResourceNotFoundException` or a storage error.
    pub async fn operations(&self, arn: &str) -> Result<Vec<Value>, ApiError> {
        let a = arn.to_owned();
        let state = self
            .inner
            .db
            .read(move |c| store::load(c, &a))
            .await?
            .ok_or_else(|| not_found_execution(arn))?;
        Ok(state
            .ops()
            .iter()
            .map(|o| o.to_wire(crate::model::TimeFormat::EpochSeconds))
            .collect())
    }

    pub(crate) async fn meta(&self, arn: &str) -> Result<crate::state::Meta, ApiError> {
        let arn_owned = arn.to_owned();
        self.inner
            .db
            .read(move |c| store::load_meta(c, &arn_owned))
            .await?
            .ok_or_else(|| not_found_execution(arn))
    }

    /// Graceful shutdown: stops starting invocations and timers, then waits (at most `grace`)
    /// for in-flight invocations and chained invokes to finish and checkpoint. Executions left
    /// RUNNING resume on the next start through [`DurableService::recover`].
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.timers.changed.notify_one();
        let drained = async {
            loop {
                let notified = self.inner.idle.notified();
                if self.inner.in_flight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(grace, drained).await;
        self.inner.functions.shutdown_processes().await;
    }

    /// Checkpoints accepted since the service started.
    pub fn checkpoints(&self) -> u64 {
        self.inner.checkpoints.load(Ordering::Relaxed)
    }

    /// How long accepted checkpoints took since the service started (request to committed
    /// answer).
    pub fn checkpoint_latency(&self) -> durapipe_sqlite::histogram::HistogramSnapshot {
        self.inner.checkpoint_latency.snapshot()
    }

    /// Handler invocations of durable functions started since the service started.
    pub fn invocations(&self) -> u64 {
        self.inner.invocations.load(Ordering::Relaxed)
    }

    /// Executions stored now (running and finished, until their retention passes), and their
    /// operations.
    ///
    /// # Errors
    /// [`ApiError`] when the database cannot be read.
    pub async fn stored_counts(&self) -> Result<(u64, u64), ApiError> {
        self.inner
            .db
            .read(|c| {
                crate::store::sql(c.query_row(
                    "SELECT (SELECT COUNT(*) FROM dx_executions), \
                            (SELECT COUNT(*) FROM dx_operations)",
                    [],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
                ))
            })
            .await
    }

    /// Whether [`DurableService::shutdown`] was called.
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn track(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight {
            inner: self.inner.clone(),
            _busy: self.inner.clock.busy(),
        }
    }

    /// In-flight invocations and dispatches.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn downgrade(&self) -> WeakService {
        WeakService(Arc::downgrade(&self.inner))
    }

    pub(crate) fn db(&self) -> &Database {
        &self.inner.db
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    pub(crate) fn functions(&self) -> &Registry {
        &self.inner.functions
    }

    pub(crate) fn slots(&self) -> &SlotCache {
        &self.inner.slots
    }

    pub(crate) fn note_checkpoint(&self) {
        self.inner.checkpoints.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn note_checkpoint_latency(&self, took: Duration) {
        self.inner.checkpoint_latency.observe(took);
    }

    pub(crate) fn note_invocation(&self) {
        self.inner.invocations.fetch_add(1, Ordering::Relaxed);
    }

    /// Applies `command` to the execution: serialised per execution, persisted (and committed)
    /// before any action runs; returns the reply body, if the command has one.
    pub(crate) fn command(
        &self,
        arn: &str,
        command: Command,
    ) -> BoxFuture<Result<Option<Value>, ApiError>> {
        let this = self.clone();
        let arn = arn.to_owned();
        Box::pin(async move {
            let _busy = this.inner.clock.busy();
            let slot = this.inner.slots.take(&arn);
            let actions = {
                let mut guard = slot.state.lock().await;
                if guard.is_none() {
                    let a = arn.clone();
                    let loaded = this.inner.db.read(move |c| store::load(c, &a)).await?;
                    *guard = Some(loaded.ok_or_else(|| not_found_execution(&arn))?);
                }
                let Some(state) = guard.as_mut() else {
                    return Err(not_found_execution(&arn));
                };
                let inner = &this.inner;
                // Held chained-invoke outcomes live only in this cached state: if the write
                // below fails, the state is dropped, so they are recorded again from here.
                let held = state.held_chained().to_vec();
                let actions = {
                    let resolve = |r: &str| inner.functions.resolve(r);
                    let env = Env {
                        now_ms: inner.clock.now_ms(),
                        nonce: uuid::Uuid::new_v4().simple().to_string(),
                        limits: &inner.config.limits,
                        resolve: &resolve,
                    };
                    core::apply(state, command, &env)?
                };
                if state.has_delta() {
                    let written = match Persist::take(state, false) {
                        Ok(p) => inner.db.write(move |c| store::write(c, &p)).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = written {
                        *guard = None; // memory may be ahead of the database: reload next time
                        if !held.is_empty() {
                            this.record_again(&arn, Command::ChainedDoneMany { done: held });
                        }
                        return Err(e);
                    }
                }
                inner
                    .timers
                    .arm(&arn, core::next_due(state), || inner.clock.busy());
                if state.meta.status.is_terminal() {
                    *guard = None; // free memory; reloaded from the database if needed
                }
                actions
            };
            let mut reply = None;
            // Plain chained-invoke targets of one transition run together and report back
            // together, so their completions cost one re-invocation, not one each.
            let mut plain = Vec::new();
            for action in actions {
                match action {
                    Action::Reply(v) => reply = Some(v),
                    Action::Finished(outcome) => {
                        slot.done.send_replace(Some(outcome));
                    }
                    Action::Dispatch {
                        op_id,
                        function,
                        kind: core::TargetKind::Plain,
                        payload,
                        ..
                    } => plain.push((op_id, function, payload)),
                    other => this.execute(&arn, other),
                }
            }
            if !plain.is_empty() {
                this.dispatch_plain(&arn, plain);
            }
            Ok(reply)
        })
    }

    async fn timer_loop(self) {
        let inner = self.inner.clone();
        // A sleep that came due stays alive until this loop has taken a busy guard for what it
        // fires (a skipping clock must not jump in between).
        let mut woke: Option<BoxFuture<()>> = None;
        loop {
            if inner.stopping.load(Ordering::SeqCst) {
                return;
            }
            let busy = inner.clock.busy();
            drop(woke.take());
            drop(inner.timers.take_hold());
            let notified = inner.timers.changed.notified();
            let (due, next) = inner.timers.take_due(inner.clock.now_ms());
            for arn in due {
                let this = self.clone();
                let busy = inner.clock.busy();
                tokio::spawn(async move {
                    if let Err(e) = this.command(&arn, Command::Tick).await {
                        tracing::warn!(arn, error = %e, "timer tick failed; retrying in 1 s");
                        // The timer was taken: without re-arming, nothing would fire again.
                        let retry = this.inner.clock.now_ms() + 1_000;
                        this.inner
                            .timers
                            .arm(&arn, Some(retry), || this.inner.clock.busy());
                    }
                    drop(busy);
                });
            }
            drop(busy);
            match next {
                Some(t) => {
                    let mut sleep = inner.clock.sleep_until(t);
                    tokio::select! {
                        () = &mut sleep => {}
                        () = notified => {}
                    }
                    woke = Some(sleep);
                }
                None => notified.await,
            }
        }
    }
}

fn not_found_execution(arn: &str) -> ApiError {
    ApiError::not_found(format!("Durable execution not found: {arn}"))
}

pub(crate) fn outcome_of(meta: &crate::state::Meta) -> Outcome {
    Outcome {
        status: meta.status,
        result: meta.result.clone(),
        error: meta.error.clone(),
    }
}
