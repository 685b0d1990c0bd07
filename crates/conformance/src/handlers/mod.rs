//! One handler per conformance requirement, by suite.
//!
//! Each requirement id (`step/1-1`, the requirement file's suite folder and file stem) maps to an
//! [`Install`] that registers the requirement's durable function under the name it is given, plus
//! any functions it calls (chained-invoke targets), named `"{name}-<suffix>"` so requirements
//! never collide.
//!
//! The `plugin` suite (10-1 … 10-7) has no handlers: SDK 0.1.0 has no plugin (instrumentation
//! hook) API. Nothing in its sources or README mentions plugins (`grep -ri plugin` over the
//! crate finds nothing), and its [`durable::Options`] builder offers only `sdk_config`,
//! `lambda_client`, `checkpoint_delay` and `checkpoint_batching`, so those requirements cannot
//! be expressed on this SDK.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_durable_execution_sdk as durable;

use crate::host::Host;

mod batch;
mod callback;
mod child;
mod invoke;
mod map;
mod parallel;
mod step;
mod wait;
mod wait_for_callback;
mod wait_for_condition;

/// Registers a requirement's function(s) on `host`; the durable entry point is named `name`.
pub type Install = fn(host: &Host, name: &str) -> anyhow::Result<()>;

/// Every requirement that has a handler, by id (`suite/N-M`).
pub fn all() -> Vec<(&'static str, Install)> {
    let mut v = Vec::new();
    v.extend(step::handlers());
    v.extend(wait::handlers());
    v.extend(callback::handlers());
    v.extend(wait_for_callback::handlers());
    v.extend(wait_for_condition::handlers());
    v.extend(child::handlers());
    v.extend(invoke::handlers());
    v.extend(map::handlers());
    v.extend(parallel::handlers());
    v
}

/// A retry strategy that never retries (one attempt in all).
fn no_retry(_err: &durable::StepError, _attempt: u32) -> durable::RetryDecision {
    durable::RetryDecision::Stop
}

/// A retry strategy allowing `max` attempts in all, `delay_s` seconds apart.
fn retry_up_to(
    max: u32,
    delay_s: u64,
) -> impl Fn(&durable::StepError, u32) -> durable::RetryDecision + Send + Sync + 'static {
    move |_err, attempt| {
        if attempt >= max {
            durable::RetryDecision::Stop
        } else {
            durable::RetryDecision::Retry {
                delay: Duration::from_secs(delay_s),
            }
        }
    }
}

/// A callback's time limits, in seconds: the general timeout and the heartbeat timeout.
#[derive(Clone, Copy, Default)]
struct Limits {
    timeout: Option<u64>,
    heartbeat: Option<u64>,
}

impl Limits {
    /// A general timeout of `s` seconds only.
    const fn timeout(s: u64) -> Self {
        Self {
            timeout: Some(s),
            heartbeat: None,
        }
    }

    /// A heartbeat timeout of `s` seconds only.
    const fn heartbeat(s: u64) -> Self {
        Self {
            timeout: None,
            heartbeat: Some(s),
        }
    }

    /// `builder` with these limits set through its `timeout` and `heartbeat` setters (the
    /// create-callback and wait-for-callback builders have the same two).
    fn apply<B>(
        self,
        mut builder: B,
        timeout: fn(B, Duration) -> B,
        heartbeat: fn(B, Duration) -> B,
    ) -> B {
        if let Some(s) = self.timeout {
            builder = timeout(builder, Duration::from_secs(s));
        }
        if let Some(s) = self.heartbeat {
            builder = heartbeat(builder, Duration::from_secs(s));
        }
        builder
    }
}

/// A user error recorded on the wire with `ErrorType` `error_type`.
fn typed_err(error_type: &str, message: &str) -> durable::BoxError {
    Box::new(durable::TypedError::with_type(
        error_type,
        message.to_owned(),
    ))
}

/// A plain user error (the SDK records its fallback `ErrorType`).
fn err(message: &str) -> durable::BoxError {
    message.into()
}

/// The input as a string, or `""` when it is not one.
fn input_str(event: &serde_json::Value) -> String {
    event.as_str().unwrap_or_default().to_owned()
}

/// The message of a failed operation: the reported `ErrorMessage` when it has one.
fn message_of(e: &durable::OperationError) -> String {
    e.wire()
        .and_then(durable::WireError::error_message)
        .map_or_else(|| e.to_string(), str::to_owned)
}

/// Whether [`crash`] ends the process (the `conformance-handler` bootstrap) or panics (in-process
/// hosting, where exiting would end the harness).
static CRASH_EXITS: AtomicBool = AtomicBool::new(false);

/// Makes a handler's crash exit the process with status 1, as a crashing Lambda runtime does: the
/// service sees the runtime exit (`Runtime.ExitError`). For the `conformance-handler` bootstrap.
pub fn crash_exits_the_process() {
    CRASH_EXITS.store(true, Ordering::SeqCst);
}

/// Ends the invocation abruptly, as a crash of the function would: the operation in flight
/// never reports an outcome. Hosted as a process, the process exits (status 1); in-process, the
/// handler panics (`Runtime.HandlerPanic`), the nearest an in-process handler gets to a crash.
#[expect(
    clippy::panic,
    reason = "the requirement is a crash of the function mid-operation"
)]
fn crash(what: &str) -> ! {
    if CRASH_EXITS.load(Ordering::SeqCst) {
        eprintln!("crashing: {what}");
        std::process::exit(1)
    }
    panic!("{what}")
}
