//! The transform Lambda function (work in progress).
fn main() {}
