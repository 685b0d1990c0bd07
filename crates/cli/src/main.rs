//! The `durapipe` binary (work in progress).
fn main() {}
