//! The validate Lambda function (work in progress).
fn main() {}
