//! One handler per conformance requirement, by suite.
//!
//! Each requirement id (`step/1-1`, the requirement file's suite folder and file stem) maps to an
//! [`Install`] that registers the requirement's durable function under the name it is given, plus
//! any functions it calls (chained-invoke targets), named `"{name}-<suffix>"` so requirements
//! never collide.

use crate::host::Host;

mod step;

/// Registers a requirement's function(s) on `host`; the durable entry point is named `name`.
pub type Install = fn(host: &Host, name: &str) -> anyhow::Result<()>;

/// Every requirement that has a handler, by id (`suite/N-M`).
pub fn all() -> Vec<(&'static str, Install)> {
    let mut v = Vec::new();
    v.extend(step::handlers());
    v
}
