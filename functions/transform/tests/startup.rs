//! The transform function refuses to start on missing or malformed configuration: it exits with a
//! non-zero status and an error naming the variable, without panicking.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests-common/startup.rs"]
mod common;

const BINARY: &str = env!("CARGO_BIN_EXE_transform");

#[test]
fn outside_a_lambda_runtime_it_exits_with_an_error() {
    common::refuses_outside_a_lambda_runtime(BINARY, VALID);
}

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "ENVIRONMENT"),
        (&[("ENVIRONMENT", "")], "ENVIRONMENT"),
    ];
    common::refuses_bad_configuration(BINARY, cases);
}

const VALID: &[(&str, &str)] = &[("ENVIRONMENT", "dev")];
