//! The orchestrator function refuses to start on missing or malformed configuration: it exits with a
//! non-zero status and an error naming the variable, without panicking.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// Runs the binary with exactly `vars` as its environment; returns (success, stderr).
fn start(vars: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn outside_a_lambda_runtime_it_exits_with_an_error() {
    let (success, stderr) = start(VALID);
    assert!(!success);
    assert!(
        stderr.contains("not running under a Lambda runtime"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
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
    for &(vars, variable) in cases {
        let (success, stderr) = start(vars);
        assert!(!success, "{vars:?} should not start");
        assert!(
            stderr.contains(variable),
            "{vars:?}: stderr does not name {variable}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{vars:?}: {stderr}");
    }
}

const VALID: &[(&str, &str)] = &[
    ("ENVIRONMENT", "dev"),
    ("VALIDATION_FUNCTION_ARN", "dev-validate"),
    ("TRANSFORMATION_FUNCTION_ARN", "dev-transform"),
    ("STORAGE_FUNCTION_ARN", "dev-store"),
];
