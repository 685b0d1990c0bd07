//! The whole local stack in one process: the template's resources, the four handlers registered
//! in-process on the durable-execution service, the SQS event source mapping, and one HTTP
//! listener for the SQS, DynamoDB and Lambda endpoints — all in one SQLite file.
//!
//! Start-up order makes a half-started stack impossible: lock the data directory, open the
//! database, create the resources, register functions, bind the listener, recover executions
//! that were running, then start polling. Any failure before that returns an error and leaves
//! nothing running.

mod functions;
mod names;
mod record_table;
mod target;

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use durapipe_durable::{DurableService, SystemClock as DurableClock};
use durapipe_sqlite::{Database, Durability, Options as DbOptions};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::dynamodb::{TableDefinition, Tables};
use crate::esm::{EsmConfig, EsmStats, EventSourceMapping};
use crate::guard::{Credentials, GuardConfig};
use crate::server::{ConnectionLimits, MAX_MAX_CONNECTIONS};
use crate::sqs::{queue_arn, queue_url, QueueConfig, Queues, MAX_VISIBILITY_TIMEOUT_SECS};
use crate::{AwsEndpoints, SystemClock};

pub use functions::register as register_functions;
pub use names::{FunctionNames, ResourceNames};
pub use record_table::LocalRecordTable;
pub use target::OrchestratorTarget;

/// Everything `durapipe up` can set. [`StackConfig::default`] equals `template.yaml`'s values.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Resource-name prefix.
    pub environment: String,
    /// The queue's `VisibilityTimeout`.
    pub visibility_timeout: Duration,
    /// The mapping's `MaximumBatchingWindowInSeconds`.
    pub batching_window: Duration,
    /// The mapping's `BatchSize`.
    pub batch_size: usize,
    /// The redrive policy's `maxReceiveCount`.
    pub max_receive_count: u32,
    /// The orchestrator's `DurableConfig.ExecutionTimeout`.
    pub execution_timeout: Duration,
    /// Batches processed at once.
    pub concurrency: usize,
    /// Commit durability.
    pub durability: Durability,
    /// How long a finished execution is kept before the retention sweep deletes it (AWS's
    /// `RetentionPeriodInDays`; default 7 days).
    pub execution_retention: Duration,
    /// How the durable SDK inside the orchestrator reaches the service.
    pub sdk_transport: SdkTransport,
    /// Who may call the endpoints.
    pub security: SecurityConfig,
    /// Connection cap and timeouts.
    pub limits: ConnectionLimits,
    /// Serve the web console at `/` (`--no-console` turns it off; `/metrics` stays).
    pub console: bool,
    /// Durable time runs this many times faster than the wall clock (`--time-scale`; 1 is
    /// real time): waits, retry delays, callback and execution timeouts.
    pub time_scale: f64,
}

/// Who may call the stack's endpoints (see [`crate::guard`]).
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    /// With `Some`, every request (but `GET /health`) must carry a valid AWS Signature V4
    /// for these credentials.
    pub credentials: Option<Credentials>,
    /// `--allow-host` values: more names accepted in `Host`.
    pub allow_hosts: Vec<String>,
    /// `--allow-origin` values: more web origins whose requests are accepted.
    pub allow_origins: Vec<String>,
    /// `--insecure-no-auth`: allow a non-loopback listen address without credentials.
    pub insecure_no_auth: bool,
}

/// How the durable SDK's Lambda client (checkpoint and state calls) reaches the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SdkTransport {
    /// Straight into the service's router, no socket (default).
    #[default]
    InProcess,
    /// Over loopback TCP to the stack's own listener, as a Lambda function on AWS would (for
    /// benchmarks: the before/after of the in-process client).
    Loopback,
}

impl SdkTransport {
    /// Parses `in-process` or `loopback`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "in-process" => Some(Self::InProcess),
            "loopback" => Some(Self::Loopback),
            _ => None,
        }
    }
}

/// The longest `--execution-retention`: AWS's `RetentionPeriodInDays` maximum of 90 days.
pub const MAX_EXECUTION_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// The template's values (`template.yaml`; a test compares them).
pub mod template_defaults {
    /// The `Environment` parameter: the prefix of every resource name.
    pub const ENVIRONMENT: &str = "dev";
    /// `VisibilityTimeout` of the queue, seconds.
    pub const VISIBILITY_TIMEOUT_SECS: u64 = 960;
    /// `MaximumBatchingWindowInSeconds`.
    pub const BATCHING_WINDOW_SECS: u64 = 10;
    /// `BatchSize` of the event source mapping.
    pub const BATCH_SIZE: usize = 5;
    /// `maxReceiveCount` of the queue's redrive policy.
    pub const MAX_RECEIVE_COUNT: u32 = 3;
    /// `DurableConfig.ExecutionTimeout`, seconds.
    pub const EXECUTION_TIMEOUT_SECS: u64 = 900;
    /// `MessageRetentionPeriod` of both queues, seconds.
    pub const RETENTION_SECS: u64 = 1_209_600;
}

impl Default for StackConfig {
    fn default() -> Self {
        use template_defaults as t;
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4577)),
            data_dir: PathBuf::from(".durapipe"),
            environment: t::ENVIRONMENT.into(),
            visibility_timeout: Duration::from_secs(t::VISIBILITY_TIMEOUT_SECS),
            batching_window: Duration::from_secs(t::BATCHING_WINDOW_SECS),
            batch_size: t::BATCH_SIZE,
            max_receive_count: t::MAX_RECEIVE_COUNT,
            execution_timeout: Duration::from_secs(t::EXECUTION_TIMEOUT_SECS),
            concurrency: 4,
            durability: Durability::Full,
            execution_retention: durapipe_durable::DEFAULT_RETENTION,
            sdk_transport: SdkTransport::InProcess,
            security: SecurityConfig::default(),
            limits: ConnectionLimits::default(),
            console: true,
            time_scale: 1.0,
        }
    }
}

/// Why the stack could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// The data directory is unusable or already used by another `durapipe up`.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The data directory given.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The database could not be opened.
    #[error("cannot open the database")]
    Database(#[from] durapipe_sqlite::DbError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An invalid setting.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The functions' configuration (built from the stack's settings) was refused.
    #[error("invalid function configuration")]
    FunctionConfig(#[from] durapipe_core::ConfigError),
    /// Creating resources or services failed.
    #[error("cannot start the stack")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StackError {
    /// Keeps the cause as the error's source (the CLI prints the whole chain).
    fn start(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Start(Box::new(e))
    }
}

/// Names and URLs of a running stack, for printing and for clients.
#[derive(Debug, Clone)]
pub struct StackInfo {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://addr`.
    pub endpoint: String,
    /// The resources' names.
    pub names: ResourceNames,
    /// The data-processing queue's URL.
    pub queue_url: String,
    /// The dead-letter queue's URL.
    pub dlq_url: String,
    /// The database file.
    pub database: PathBuf,
    /// Executions resumed from a previous run.
    pub recovered: usize,
    /// The access key id requests must be signed with, if the stack has credentials.
    pub access_key_id: Option<String>,
    /// Listening beyond loopback without credentials (`--insecure-no-auth`).
    pub unauthenticated_network: bool,
    /// The web console's address (`None` with `--no-console`).
    pub console: Option<String>,
    /// `--time-scale`.
    pub time_scale: f64,
}

/// A running stack; [`Stack::shutdown`] stops it cleanly.
#[derive(Debug)]
pub struct Stack {
    info: StackInfo,
    db: Database,
    service: DurableService,
    esm: EventSourceMapping,
    stop_http: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _lock: File,
}

impl Stack {
    /// Starts the stack (see the module docs for the order).
    ///
    /// # Errors
    /// [`StackError`] naming what failed; nothing keeps running after an error.
    pub async fn start(config: StackConfig) -> Result<Self, StackError> {
        validate(&config)?;
        let (allow_hosts, allow_origins) = validate_security(&config)?;
        let lock = lock_data_dir(&config.data_dir)?;
        let database = config.data_dir.join("durapipe.db");
        let db = Database::open(
            &database,
            &DbOptions {
                durability: config.durability,
                ..DbOptions::default()
            },
        )?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StackError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StackError::Listen {
            addr: config.listen,
            source,
        })?;
        let endpoint = format!("http://{addr}");
        let host = addr.to_string();

        let clock: Arc<dyn crate::Clock> = Arc::new(SystemClock);
        let queues = Queues::open(db.clone(), clock.clone(), QueueConfig::default())
            .await
            .map_err(StackError::start)?;
        let tables = Tables::open(db.clone(), clock)
            .await
            .map_err(StackError::start)?;
        let names = ResourceNames::for_env(&config.environment);
        create_queues(&queues, &names.queue, &names.dlq, &config).await?;
        tables
            .ensure_table(TableDefinition::with_string_hash_key(
                &names.table,
                "execution_id",
            ))
            .await
            .map_err(StackError::start)?;

        let durable_config = durapipe_durable::Config {
            execution_timeout: config.execution_timeout,
            retention: config.execution_retention,
            ..durapipe_durable::Config::default()
        };
        // A batch's event is the orchestrator execution's input: keep it within that limit.
        let max_event_bytes = durable_config.limits.max_input_bytes;
        let durable_clock: Arc<dyn durapipe_durable::Clock> = if config.time_scale == 1.0 {
            Arc::new(DurableClock)
        } else {
            Arc::new(
                durapipe_durable::ScaledClock::new(config.time_scale)
                    .ok_or_else(|| StackError::Config(time_scale_error(config.time_scale)))?,
            )
        };
        let service = DurableService::open(db.clone(), durable_clock, durable_config)
            .await
            .map_err(StackError::start)?;
        functions::register(
            &service,
            &names,
            LocalRecordTable::new(tables.clone(), &names.table),
            match config.sdk_transport {
                SdkTransport::InProcess => service.in_process_client(),
                SdkTransport::Loopback => match &config.security.credentials {
                    None => durapipe_durable::lambda_client(&format!("http://{addr}")),
                    Some(credentials) => {
                        signed_lambda_client(&format!("http://{addr}"), credentials)
                    }
                },
            },
        )?;

        let view = Arc::new(crate::console::StackView {
            queues: queues.clone(),
            service: service.clone(),
            db: db.clone(),
            queue: names.queue.clone(),
            dlq: names.dlq.clone(),
            table: names.table.clone(),
            functions: names.functions.clone(),
            time_scale: config.time_scale,
            esm: Arc::default(),
        });
        let mut router = AwsEndpoints::new(queues.clone(), tables, host.clone())
            .router()
            .merge(service.router())
            .route("/health", get(|| async { "ok" }))
            .route(
                "/_durapipe/stats",
                get(stats_handler(db.clone(), service.clone())),
            )
            .merge(crate::console::metrics::router(view.clone()));
        if config.console {
            router = router.merge(crate::console::router(view.clone()));
        }
        let router = crate::guard::protect(
            router,
            GuardConfig {
                addr,
                allow_hosts,
                allow_origins,
                credentials: config.security.credentials.clone(),
                body_timeout: config.limits.body_timeout,
                aws_json_max_bytes: crate::DEFAULT_MAX_REQUEST_BYTES,
            },
        );
        let (stop_http, stopped) = watch::channel(false);
        let server = tokio::spawn(crate::server::serve(
            listener,
            router,
            config.limits,
            stopped,
        ));

        let recovered = service.recover().await.map_err(StackError::start)?;
        let requeued = queues
            .requeue_interrupted(&names.queue)
            .await
            .map_err(StackError::start)?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "messages interrupted by the last stop are visible again"
            );
        }
        let esm = EventSourceMapping::start(
            queues,
            Arc::new(OrchestratorTarget::new(
                service.clone(),
                &names.functions.orchestrator,
                config.execution_timeout,
            )),
            EsmConfig {
                batch_size: config.batch_size,
                batching_window: config.batching_window,
                visibility_timeout: Some(config.visibility_timeout),
                concurrency: config.concurrency,
                invoke_timeout: Some(config.execution_timeout + Duration::from_secs(5)),
                max_event_bytes: Some(max_event_bytes),
                ..EsmConfig::new(&names.queue)
            },
        );
        let _ = view.esm.set(esm.stats_handle());
        let info = StackInfo {
            addr,
            queue_url: queue_url(&host, &names.queue),
            dlq_url: queue_url(&host, &names.dlq),
            endpoint,
            names,
            database,
            recovered,
            access_key_id: config
                .security
                .credentials
                .as_ref()
                .map(|c| c.access_key_id().to_owned()),
            unauthenticated_network: config.security.credentials.is_none()
                && !is_loopback(addr.ip()),
            console: config.console.then(|| format!("http://{addr}/")),
            time_scale: config.time_scale,
        };
        Ok(Self {
            info,
            db,
            service,
            esm,
            stop_http,
            server,
            _lock: lock,
        })
    }

    /// Names and URLs.
    pub fn info(&self) -> &StackInfo {
        &self.info
    }

    /// The durable-execution service (for tools and tests).
    pub fn service(&self) -> &DurableService {
        &self.service
    }

    /// The shared database (for statistics).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Clean shutdown: stop polling and let in-flight batches finish (their executions
    /// checkpoint as they go; whatever is still running resumes at the next start), then stop
    /// the listener.
    pub async fn shutdown(self, grace: Duration) -> EsmStats {
        let stats = tokio::time::timeout(grace, self.esm.shutdown()).await;
        self.service.shutdown(grace).await;
        let _ = self.stop_http.send(true);
        let _ = tokio::time::timeout(grace, self.server).await;
        stats.unwrap_or_default()
    }
}

/// `GET /_durapipe/stats` (non-AWS): counters for benchmarks — database writes and commits
/// (each commit is one fsync of the WAL under full durability), accepted checkpoints, handler
/// invocations, the process's CPU time, its resident set size now and at its peak, the
/// database's size on disk and the executions (and their operations) it holds.
fn stats_handler(
    db: Database,
    service: DurableService,
) -> impl Fn() -> StatsFuture + Clone + Send + 'static {
    move || {
        let (db, service) = (db.clone(), service.clone());
        Box::pin(async move {
            let s = db.stats();
            let (executions, operations) = match service.stored_counts().await {
                Ok((e, o)) => (Some(e), Some(o)),
                Err(_) => (None, None),
            };
            axum::Json(serde_json::json!({
                "db_writes": s.writes,
                "db_commits": s.commits,
                "db_bytes": db_bytes(db.path()),
                "checkpoints": service.checkpoints(),
                "invocations": service.invocations(),
                "executions_stored": executions,
                "operations_stored": operations,
                "cpu_ms": cpu_ms(),
                "rss_kb": status_kb("VmRSS:"),
                "peak_rss_kb": status_kb("VmHWM:"),
            }))
        })
    }
}

type StatsFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = axum::Json<serde_json::Value>> + Send>>;

/// Size of the database file and its WAL, bytes.
pub(crate) fn db_bytes(path: &std::path::Path) -> u64 {
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(std::path::Path::new(&wal))
}

/// CPU time (user + system) this process used so far, in ms, from `/proc/self/stat` (Linux).
pub(crate) fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks * 10)
}

/// A `kB` field of `/proc/self/status` (Linux), e.g. `VmRSS:` or `VmHWM:`, if readable.
pub(crate) fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn validate(config: &StackConfig) -> Result<(), StackError> {
    let env = &config.environment;
    if env.is_empty()
        || env.len() > 20
        || !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(StackError::Config(format!(
            "--environment must be 1-20 letters, digits or hyphens, got {env:?}"
        )));
    }
    if !(1..=10).contains(&config.batch_size) {
        return Err(StackError::Config(format!(
            "--batch-size must be 1-10, got {}",
            config.batch_size
        )));
    }
    if config.visibility_timeout > Duration::from_secs(MAX_VISIBILITY_TIMEOUT_SECS) {
        return Err(StackError::Config(format!(
            "--visibility-timeout must be at most {MAX_VISIBILITY_TIMEOUT_SECS} seconds (12 hours)"
        )));
    }
    if config.batching_window > Duration::from_secs(300) {
        return Err(StackError::Config(
            "--batching-window must be at most 300 seconds".into(),
        ));
    }
    if !(1..=1000).contains(&config.max_receive_count) {
        return Err(StackError::Config(format!(
            "--max-receive-count must be 1-1000, got {}",
            config.max_receive_count
        )));
    }
    if config.execution_timeout.is_zero() || config.execution_timeout > Duration::from_secs(900) {
        return Err(StackError::Config(
            "--execution-timeout must be 1-900 seconds (the event source mapping limit)".into(),
        ));
    }
    if config.concurrency == 0 {
        return Err(StackError::Config(
            "--concurrency must be at least 1".into(),
        ));
    }
    if durapipe_durable::ScaledClock::new(config.time_scale).is_none() {
        return Err(StackError::Config(time_scale_error(config.time_scale)));
    }
    if config.execution_retention < Duration::from_secs(1)
        || config.execution_retention > MAX_EXECUTION_RETENTION
    {
        return Err(StackError::Config(
            "--execution-retention must be 1-7776000 seconds (90 days, AWS's maximum)".into(),
        ));
    }
    Ok(())
}

fn is_loopback(ip: std::net::IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Checks the security settings and the connection limits; returns the `--allow-host` and
/// `--allow-origin` values normalized.
fn validate_security(config: &StackConfig) -> Result<(Vec<String>, Vec<String>), StackError> {
    let security = &config.security;
    if security.credentials.is_none()
        && !security.insecure_no_auth
        && !is_loopback(config.listen.ip())
    {
        return Err(StackError::Config(format!(
            "--listen {} is not a loopback address: anyone on the network could call every \
             endpoint. Give --credentials ACCESS_KEY_ID:SECRET (or DURAPIPE_CREDENTIALS, or \
             --credentials-file) so that requests must be signed, or --insecure-no-auth to \
             accept unsigned requests from the network anyway",
            config.listen
        )));
    }
    let limits = &config.limits;
    if !(1..=MAX_MAX_CONNECTIONS).contains(&limits.max_connections) {
        return Err(StackError::Config(format!(
            "--max-connections must be 1-{MAX_MAX_CONNECTIONS}, got {}",
            limits.max_connections
        )));
    }
    for (flag, value) in [
        ("--header-timeout", limits.header_timeout),
        ("--body-timeout", limits.body_timeout),
    ] {
        if value < Duration::from_secs(1) || value > Duration::from_secs(3600) {
            return Err(StackError::Config(format!("{flag} must be 1-3600 seconds")));
        }
    }
    let hosts = security
        .allow_hosts
        .iter()
        .map(|h| crate::guard::parse_allow_host(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StackError::Config)?;
    let origins = security
        .allow_origins
        .iter()
        .map(|o| crate::guard::parse_allow_origin(o))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StackError::Config)?;
    Ok((hosts, origins))
}

/// A Lambda client that signs with the stack's own credentials (the loopback SDK transport
/// when signatures are required).
fn signed_lambda_client(endpoint: &str, credentials: &Credentials) -> aws_sdk_lambda::Client {
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(crate::REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SdkCredentials::new(
            credentials.access_key_id(),
            credentials.secret(),
            None,
            None,
            "durapipe",
        ))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

fn time_scale_error(scale: f64) -> String {
    let range = durapipe_durable::clock::TIME_SCALE_RANGE;
    format!(
        "--time-scale must be a number from {} to {}, got {scale}",
        range.start(),
        range.end()
    )
}

/// Creates the directory and takes an exclusive lock on `durapipe.lock` in it, so a second
/// stack on the same data fails at once.
fn lock_data_dir(dir: &std::path::Path) -> Result<File, StackError> {
    let fail = |reason: String| StackError::DataDir {
        path: dir.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    let path = dir.join("durapipe.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| fail(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(fail(
            "it is in use by another durapipe (stop it, or pick another --data-dir)".into(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(fail(format!("cannot lock it: {e}"))),
    }
}

async fn create_queues(
    queues: &Queues,
    queue: &str,
    dlq: &str,
    config: &StackConfig,
) -> Result<(), StackError> {
    use std::collections::BTreeMap;
    let retention = template_defaults::RETENTION_SECS.to_string();
    let dlq_attributes = BTreeMap::from([("MessageRetentionPeriod".to_owned(), retention.clone())]);
    let redrive = serde_json::json!({
        "deadLetterTargetArn": queue_arn(dlq),
        "maxReceiveCount": config.max_receive_count,
    })
    .to_string();
    let queue_attributes = BTreeMap::from([
        ("MessageRetentionPeriod".to_owned(), retention),
        (
            "VisibilityTimeout".to_owned(),
            config.visibility_timeout.as_secs().to_string(),
        ),
        ("RedrivePolicy".to_owned(), redrive),
    ]);
    for (name, attributes) in [(dlq, dlq_attributes), (queue, queue_attributes)] {
        let exists = queues.exists(name).await.map_err(StackError::start)?;
        let created = if exists {
            // Flags may differ from the last run: the new values win.
            queues.set_attributes(name, &attributes).await
        } else {
            queues.create_queue(name, &attributes).await
        };
        created.map_err(StackError::start)?;
    }
    Ok(())
}
