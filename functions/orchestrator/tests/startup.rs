//! The orchestrator function refuses to start on missing or malformed configuration: it exits with a
//! non-zero status and an error naming the variable, without panicking.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests-common/startup.rs"]
mod common;

const BINARY: &str = env!("CARGO_BIN_EXE_orchestrator");

#[test]
fn outside_a_lambda_runtime_it_exits_with_an_error() {
    common::refuses_outside_a_lambda_runtime(BINARY, VALID);
}

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "ENVIRONMENT"),
        (
            &[
                ("ENVIRONMENT", "dev"),
                ("TRANSFORMATION_FUNCTION_ARN", "dev-transform"),
                ("STORAGE_FUNCTION_ARN", "dev-store"),
            ],
            "VALIDATION_FUNCTION_ARN",
        ),
        (
            &[
                ("ENVIRONMENT", "dev"),
                ("VALIDATION_FUNCTION_ARN", "dev-validate"),
                ("STORAGE_FUNCTION_ARN", "dev-store"),
            ],
            "TRANSFORMATION_FUNCTION_ARN",
        ),
        (
            &[
                ("ENVIRONMENT", "dev"),
                ("VALIDATION_FUNCTION_ARN", "dev-validate"),
                ("TRANSFORMATION_FUNCTION_ARN", "dev-transform"),
                ("STORAGE_FUNCTION_ARN", "arn:aws:s3:::not-a-function"),
            ],
            "STORAGE_FUNCTION_ARN",
        ),
    ];
    common::refuses_bad_configuration(BINARY, cases);
}

const VALID: &[(&str, &str)] = &[
    ("ENVIRONMENT", "dev"),
    ("VALIDATION_FUNCTION_ARN", "dev-validate"),
    ("TRANSFORMATION_FUNCTION_ARN", "dev-transform"),
    ("STORAGE_FUNCTION_ARN", "dev-store"),
];
