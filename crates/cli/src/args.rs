//! Command-line arguments (clap). Names and defaults here are an interface: tests, scripts and
//! the README rely on them.

use clap::{Args, Parser, Subcommand};
use durapipe_local::guard::Credentials;
use durapipe_local::stack::template_defaults as template;
use durapipe_local::stack::ResourceNames;

/// Default address of a local stack.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4577";

/// durapipe: a durable SQS → Lambda → DynamoDB pipeline, on AWS or on one machine.
#[derive(Debug, Parser)]
#[command(name = "durapipe", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local stack in the foreground: SQS, Lambda (durable execution) and DynamoDB
    /// endpoints on one port, the four functions in-process, state in one SQLite file.
    Up(UpArgs),
    /// Benchmark the full pipeline: start a fresh stack, send N messages, measure.
    Bench(BenchArgs),
    /// Send one message body, or every line of a JSONL file, to the data-processing queue.
    Send(SendArgs),
    /// Print every item of the processed-data table as JSON.
    Scan(Target),
    /// List the orchestrator's durable executions.
    Executions(ExecutionsArgs),
    /// Print the operation history of one durable execution.
    History(HistoryArgs),
    /// Inspect or redrive the dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Stop a running durable execution (StopDurableExecution).
    Stop(StopArgs),
    /// Complete, fail or heartbeat a durable execution's callback.
    #[command(subcommand)]
    Callback(CallbackCommand),
}

/// `durapipe up`. Defaults equal `template.yaml`'s values.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:4577")]
    pub listen: std::net::SocketAddr,
    /// Directory holding the database (created if missing; one stack at a time).
    #[arg(long, default_value = ".durapipe")]
    pub data_dir: std::path::PathBuf,
    /// Environment prefix of every resource name.
    #[arg(long, default_value = template::ENVIRONMENT)]
    pub environment: String,
    /// The queue's visibility timeout, seconds.
    #[arg(long, default_value_t = template::VISIBILITY_TIMEOUT_SECS)]
    pub visibility_timeout: u64,
    /// The event source mapping's batching window, seconds.
    #[arg(long, default_value_t = template::BATCHING_WINDOW_SECS)]
    pub batching_window: u64,
    /// Most messages per batch (1-10).
    #[arg(long, default_value_t = template::BATCH_SIZE)]
    pub batch_size: usize,
    /// Receives before a message moves to the dead-letter queue.
    #[arg(long, default_value_t = template::MAX_RECEIVE_COUNT)]
    pub max_receive_count: u32,
    /// The orchestrator's execution timeout, seconds (at most 900).
    #[arg(long, default_value_t = template::EXECUTION_TIMEOUT_SECS)]
    pub execution_timeout: u64,
    /// Batches processed at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Commit durability: full (power-loss safe), normal (crash safe) or off.
    #[arg(long, default_value = "full", value_parser = parse_durability)]
    pub durability: durapipe_sqlite::Durability,
    /// Seconds a finished execution is kept before it is deleted (1 s to 90 days; AWS's
    /// RetentionPeriodInDays). Default: 7 days.
    #[arg(long, default_value_t = 604_800)]
    pub execution_retention: u64,
    /// How the durable SDK reaches the service: in-process (no socket) or loopback (TCP to
    /// this stack's own listener, for benchmarks).
    #[arg(long, default_value = "in-process", value_parser = parse_sdk_transport)]
    pub sdk_transport: durapipe_local::stack::SdkTransport,
    /// Log format: text (readable) or json (one CloudWatch-style object per line).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// After start-up, send the original pattern's test message and print the stored item.
    #[arg(long)]
    pub demo: bool,
    /// Require every request (but GET /health) to be signed with these credentials.
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Accept unsigned requests on a non-loopback --listen address (anyone who can reach it
    /// can then call every endpoint).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Another host name accepted in the Host header (besides localhost, loopback addresses and
    /// the listen address); repeatable.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Another web origin (`scheme://host[:port]`) whose browser requests are accepted (besides
    /// the stack's own pages); repeatable.
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Most connections open at once (more wait until one closes).
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers; also closes keep-alive
    /// connections idle that long.
    #[arg(long, default_value_t = 15)]
    pub header_timeout: u64,
    /// Seconds a client may take to send a request's body.
    #[arg(long, default_value_t = 60)]
    pub body_timeout: u64,
    /// Do not serve the web console at / (the AWS endpoints and /metrics stay).
    #[arg(long)]
    pub no_console: bool,
    /// Run durable time N times faster than the wall clock (1-1000000): waits, retry delays,
    /// callback and execution timeouts. SQS visibility and batching stay on the wall clock.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
}

/// `--credentials` / `--credentials-file` (or their environment variables).
#[derive(Clone, Args)]
pub struct CredentialArgs {
    /// AWS credentials ACCESS_KEY_ID:SECRET (prefer the environment variable or a file: a
    /// command line is visible to other users of the machine).
    #[arg(
        long,
        env = "DURAPIPE_CREDENTIALS",
        hide_env_values = true,
        value_name = "ACCESS_KEY_ID:SECRET"
    )]
    pub credentials: Option<String>,
    /// A file holding ACCESS_KEY_ID:SECRET.
    #[arg(long, env = "DURAPIPE_CREDENTIALS_FILE", value_name = "PATH")]
    pub credentials_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for CredentialArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialArgs")
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .field("credentials_file", &self.credentials_file)
            .finish()
    }
}

impl CredentialArgs {
    /// The credentials given, if any. Errors never quote the secret.
    pub fn load(&self) -> anyhow::Result<Option<Credentials>> {
        let text = match (&self.credentials, &self.credentials_file) {
            (Some(_), Some(_)) => anyhow::bail!(
                "give --credentials (DURAPIPE_CREDENTIALS) or --credentials-file \
                 (DURAPIPE_CREDENTIALS_FILE), not both"
            ),
            (Some(text), None) => text.clone(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("--credentials-file {}: cannot read it: {e}", path.display())
            })?,
            (None, None) => return Ok(None),
        };
        let from = if self.credentials.is_some() {
            "--credentials".to_owned()
        } else {
            format!("--credentials-file {}", self.credentials_file_name())
        };
        Credentials::parse(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{from}: {e}"))
    }

    fn credentials_file_name(&self) -> String {
        self.credentials_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

/// What `durapipe bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Messages through the SQS queue, the event source mapping and the whole pipeline.
    Sqs,
    /// 5-record events handed to the orchestrator by synchronous Lambda Invokes, closed loop
    /// (the unit of work of the side-by-side benchmark against restate).
    Events,
}

/// `durapipe bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure: sqs (messages through the queue) or events (synchronous invokes of the
    /// orchestrator with 5-record events, `--concurrency` at a time, for `--duration` seconds).
    #[arg(long, value_enum, default_value_t = Workload::Sqs)]
    pub workload: Workload,
    /// events: seconds of measured load after the warm-up.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// events: warm-up units before measuring (default 20 per concurrent worker).
    #[arg(long)]
    pub warmup: Option<usize>,
    /// sqs: messages to send.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Concurrent senders (sqs: each sends batches of ten; events: closed-loop invokers).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Cap the load at this many messages per second (default: as fast as possible).
    #[arg(long)]
    pub rate: Option<f64>,
    /// The stack's batching window, seconds (0 for lowest latency).
    #[arg(long, default_value_t = 0)]
    pub batching_window: u64,
    /// The stack's batch size (1-10).
    #[arg(long, default_value_t = 10)]
    pub batch_size: usize,
    /// Batches the stack processes at once.
    #[arg(long, default_value_t = 16)]
    pub stack_concurrency: usize,
    /// The stack's `--execution-retention`, seconds (a soak keeps the database bounded with a
    /// short one).
    #[arg(long, default_value_t = 604_800)]
    pub execution_retention: u64,
    /// The stack's `--sdk-transport` (in-process or loopback).
    #[arg(long, default_value = "in-process", value_parser = ["in-process", "loopback"])]
    pub sdk_transport: String,
    /// Senders pause while more than this many messages wait in the queue (a long run then
    /// measures the pipeline, not a growing backlog). Default: no limit.
    #[arg(long)]
    pub max_backlog: Option<u64>,
    /// Write a sample of the stack every `--sample-every` seconds to this CSV file: elapsed
    /// time, messages sent, messages waiting, the stack's RSS, database size, executions.
    #[arg(long)]
    pub samples: Option<std::path::PathBuf>,
    /// Seconds between two samples.
    #[arg(long, default_value_t = 5)]
    pub sample_every: u64,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
}

fn parse_sdk_transport(text: &str) -> Result<durapipe_local::stack::SdkTransport, String> {
    durapipe_local::stack::SdkTransport::parse(text)
        .ok_or_else(|| format!("expected in-process or loopback, got {text:?}"))
}

fn parse_durability(text: &str) -> Result<durapipe_sqlite::Durability, String> {
    durapipe_sqlite::Durability::parse(text)
        .ok_or_else(|| format!("expected full, normal or off, got {text:?}"))
}

/// Which stack and environment a client subcommand talks to.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Endpoint of the running stack (AWS-compatible; the same URL works for the AWS CLI).
    #[arg(long, env = "DURAPIPE_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Environment prefix of the resource names (`{environment}-data-processing-queue`, ...).
    #[arg(long, default_value = template::ENVIRONMENT)]
    pub environment: String,
    /// The stack's credentials, if it requires signed requests (else AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY from the environment, if both are set).
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// `durapipe send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The message body (JSON), e.g. '{"data_source": "test.csv", "processing_type": "standard"}'.
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    pub body: Option<String>,
    /// A JSONL file: one message body per non-empty line; shows a progress bar.
    #[arg(long, short)]
    pub file: Option<std::path::PathBuf>,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe executions`.
#[derive(Debug, Args)]
pub struct ExecutionsArgs {
    /// Only executions in this status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED).
    #[arg(long)]
    pub status: Option<String>,
    /// At most this many executions (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The durable execution's ARN (from `durapipe executions`).
    pub arn: String,
    /// Draw the operations as a timeline (one bar per operation, nested) instead of listing
    /// the events.
    #[arg(long)]
    pub timeline: bool,
    /// Columns of the timeline's bars.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u16).range(10..=400))]
    pub width: u16,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The durable execution's ARN.
    pub arn: String,
    /// The error type recorded on the stopped execution.
    #[arg(long)]
    pub error_type: Option<String>,
    /// The error message recorded on the stopped execution.
    #[arg(long)]
    pub error_message: Option<String>,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe callback ...`.
#[derive(Debug, Subcommand)]
pub enum CallbackCommand {
    /// Complete the callback with a result (JSON; none if omitted).
    Succeed(CallbackSucceedArgs),
    /// Fail the callback with an error.
    Fail(CallbackFailArgs),
    /// Tell the execution the callback is still being worked on (resets its heartbeat timeout).
    Heartbeat(CallbackIdArgs),
}

/// `durapipe callback succeed`.
#[derive(Debug, Args)]
pub struct CallbackSucceedArgs {
    /// The callback id (from the execution's history or the console).
    pub callback_id: String,
    /// The result, JSON.
    pub payload: Option<String>,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe callback fail`.
#[derive(Debug, Args)]
pub struct CallbackFailArgs {
    /// The callback id.
    pub callback_id: String,
    /// The error message.
    pub message: Option<String>,
    /// The error type.
    #[arg(long, default_value = "CallbackFailed")]
    pub error_type: String,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe callback heartbeat`.
#[derive(Debug, Args)]
pub struct CallbackIdArgs {
    /// The callback id.
    pub callback_id: String,
    /// Which stack to talk to (endpoint, environment, credentials).
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe dlq ...`.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List the messages in the dead-letter queue (they stay there).
    List(Target),
    /// Move every dead-letter message back to the data-processing queue.
    Redrive(Target),
}

impl Target {
    /// The credentials to sign with: `--credentials`/`--credentials-file` (or their variables),
    /// else the standard AWS variables, else none (any key works on an open loopback stack).
    pub fn credentials(&self) -> anyhow::Result<Option<Credentials>> {
        if let Some(c) = self.credentials.load()? {
            return Ok(Some(c));
        }
        match (
            std::env::var("AWS_ACCESS_KEY_ID"),
            std::env::var("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Ok(key), Ok(secret)) => Credentials::parse(&format!("{key}:{secret}"))
                .map(Some)
                .map_err(|e| anyhow::anyhow!("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: {e}")),
            _ => Ok(None),
        }
    }

    /// The names of the pipeline's resources in this target's environment.
    pub fn names(&self) -> ResourceNames {
        ResourceNames::for_env(&self.environment)
    }
}
