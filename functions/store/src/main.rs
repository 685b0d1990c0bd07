//! The store Lambda function (work in progress).
fn main() {}
