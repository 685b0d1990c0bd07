//! AWS's durable-execution conformance requirements, run against the local durable service.
//!
//! - [`handlers`]: one durable handler per requirement id (`suite/N-M`), written from the
//!   requirement's words on `aws-durable-execution-sdk =0.1.0`.
//! - [`host`]: how a handler is put on the service in-process (the same `durable::wrap` hosting
//!   the stack uses) or collected for the `conformance-handler` bootstrap, which runs a
//!   requirement's function as a process speaking the Lambda Runtime API (the default hosting,
//!   [`stack::Hosting`]); [`logs`]: `ExpectedLogs` against those processes' output.
//! - [`requirement`]: a requirement file; [`variables`], [`matcher`], [`pyvalue`]: the suite's
//!   placeholder and matching rules; [`runner`]: one requirement against a [`stack`] of its own
//!   (service on a skipping clock, served over HTTP); [`suite`]: all of them; [`report`]: the
//!   expected-pass and not-applicable lists and the summary.

pub mod handlers;
pub mod host;
pub mod http;
pub mod logs;
pub mod matcher;
pub mod pyvalue;
pub mod report;
pub mod requirement;
pub mod runner;
pub mod stack;
pub mod suite;
pub mod variables;
