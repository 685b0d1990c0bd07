//! The local durable-execution service: the part of AWS Lambda that checkpoints, replays and
//! drives durable functions, for one machine, with its state in SQLite.
//!
//! The official `aws-durable-execution-sdk` runs on it unchanged: handlers are hosted in-process
//! through `durable::wrap` ([`durable_fn`]) with an `aws_sdk_lambda::Client` whose endpoint is
//! this service ([`lambda_client`]), and the service speaks the Lambda wire contract
//! (`docs/wire-contract.md`) on the routes of [`DurableService::router`].
//!
//! Contracts:
//! - The core (`core::apply`) is a pure state machine; the shell persists its changes and
//!   **acknowledges a checkpoint only after the commit** (group commit of `durapipe-sqlite`).
//! - At most one invocation per execution is in flight; every invocation gets a fresh checkpoint
//!   token chain, and a stale token is rejected with `Invalid checkpoint token` (AWS's wording).
//! - No lock or transaction is held while a handler runs; a handler that panics, errors or
//!   overruns its timeout is an invocation failure, retried with bounded backoff.
//! - Every execution survives `kill -9`: [`DurableService::recover`] re-invokes running
//!   executions from their checkpoints and re-arms timers from their stored due times.
//! - Tables live in the caller's database, prefixed `dx_`.

mod client;
pub mod clock;
// `core`, `model` and `state` are public for the fuzz targets and the benches only: not part of
// the crate's API (the harness `core::testing` needs the `testing` feature).
#[doc(hidden)]
pub mod core;
pub mod error;
mod functions;
mod http;
mod inspect;
#[doc(hidden)]
pub mod model;
pub mod process;
mod retention;
mod runner;
mod scheduler;
mod service;
mod skipping_clock;
mod slots;
#[doc(hidden)]
pub mod state;
mod store;

pub use client::lambda_client;
pub use clock::{BoxFuture, Busy, Clock, ManualClock, ScaledClock, SystemClock};
pub use core::Outcome;
pub use error::{ApiError, ErrorKind};
pub use functions::{durable_fn, function_name_of, plain_fn, DurableFn, FunctionError, PlainFn};
pub use http::MAX_BODY_BYTES;
pub use inspect::{OperationsPage, MAX_OPERATIONS_PAGE};
pub use model::{ErrorObject, ExecStatus};
pub use process::{LogLine, ProcessFn, ProcessKind, ProcessSpec, Stream};
pub use retention::DEFAULT_RETENTION;
pub use service::{Config, DurableService, StartOptions};
pub use skipping_clock::{SkippingClock, Watcher};
pub use state::Limits;
