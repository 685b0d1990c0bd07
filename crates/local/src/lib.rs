//! The local stack's AWS emulation: SQS queues, DynamoDB tables and Lambda's SQS event source
//! mapping, persisted in the SQLite database shared with the durable-execution service.
//!
//! Parts:
//! - [`sqs::Queues`]: a durable queue store (standard queues: visibility timeouts, receive
//!   counts, redrive to a dead-letter queue, long polling, delays, retention, tags, message
//!   move tasks).
//! - [`dynamodb::Tables`]: a durable table store (items as `AttributeValue` JSON, conditional
//!   writes, updates, queries and scans with paging, batches, transactions, tags, TTL).
//! - [`AwsEndpoints`]: an axum router for `POST /` speaking AWS JSON 1.0 for both, dispatched
//!   on `X-Amz-Target` (`AmazonSQS.*`, `DynamoDB_20120810.*`), usable by the AWS CLI, boto3
//!   and aws-sdk-rust with `--endpoint-url`.
//! - [`esm::EventSourceMapping`]: Lambda's SQS event source mapping — batches, batching
//!   window, partial batch responses, whole-batch failures, concurrency, graceful stop —
//!   delivering to any [`esm::BatchTarget`].
//!
//! - [`guard`]: the front door of the stack's listener — `Host` and browser (`Origin`) checks
//!   and, with credentials, AWS Signature V4 verification — and [`server`]: the accept loop
//!   with its connection cap and timeouts.
//!
//! Contracts:
//! - Account `000000000000`, region `us-east-1`; request signatures are checked only when the
//!   stack has credentials ([`guard`]), and then on every request but `GET /health`.
//! - Anything acknowledged (a sent message, a put item, a delete) was committed first.
//! - Bad input is answered with the AWS error code for it; nothing here panics on input.
//! - Tables live in the shared database under the `sqs_` and `ddb_` prefixes and are created
//!   with `CREATE TABLE IF NOT EXISTS`, their layouts versioned (`durapipe_sqlite::schema`);
//!   callers own the [`durapipe_sqlite::Database`].
//!
//! Divergences from AWS (deliberate, for one local pipeline) are listed once, in
//! `docs/local-stack.md` ("Divergences from AWS").

pub mod clock;
pub mod console;
pub mod dynamodb;
pub mod esm;
pub mod guard;
mod http;
pub mod server;
pub mod sqs;
pub mod stack;
mod tags;
pub mod wire;

pub use clock::{Clock, ManualClock, SystemClock};
pub use http::{AwsEndpoints, DEFAULT_MAX_REQUEST_BYTES};

/// The local stack's AWS account id.
pub const ACCOUNT_ID: &str = "000000000000";
/// The local stack's AWS region.
pub const REGION: &str = "us-east-1";
