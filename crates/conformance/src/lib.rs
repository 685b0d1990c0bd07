//! AWS's durable-execution conformance requirements, run against the local durable service.
//!
//! - [`handlers`]: one durable handler per requirement id (`suite/N-M`), written from the
//!   requirement's words on `aws-durable-execution-sdk =0.1.0`.
//! - [`host`]: how a handler is put on the service (the same `durable::wrap` hosting the stack
//!   uses).

pub mod handlers;
pub mod host;
