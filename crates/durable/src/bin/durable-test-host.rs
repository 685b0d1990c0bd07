//! Test host (placeholder).
fn main() {}
