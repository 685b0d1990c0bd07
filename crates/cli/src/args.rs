//! Command-line arguments (clap). Names and defaults here are an interface: tests, scripts and
//! the README rely on them.

use clap::{Args, Parser, Subcommand};

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
}

/// Which stack and environment a client subcommand talks to.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Endpoint of the running stack (AWS-compatible; the same URL works for the AWS CLI).
    #[arg(long, env = "DURAPIPE_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Environment prefix of the resource names (`{environment}-data-processing-queue`, ...).
    #[arg(long, default_value = "dev")]
    pub environment: String,
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
    /// The stack.
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
    /// The stack.
    #[command(flatten)]
    pub target: Target,
}

/// `durapipe history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The durable execution's ARN (from `durapipe executions`).
    pub arn: String,
    /// The stack.
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
    /// The data-processing queue's name.
    pub fn queue_name(&self) -> String {
        format!("{}-data-processing-queue", self.environment)
    }

    /// The dead-letter queue's name.
    pub fn dlq_name(&self) -> String {
        format!("{}-data-processing-dlq", self.environment)
    }

    /// The processed-data table's name.
    pub fn table_name(&self) -> String {
        format!("{}-processed-data", self.environment)
    }

    /// The orchestrator function's name.
    pub fn orchestrator_name(&self) -> String {
        format!("{}-orchestrator", self.environment)
    }
}
