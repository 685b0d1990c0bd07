//! The orchestrator Lambda function (work in progress).
fn main() {}
