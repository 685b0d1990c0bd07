//! Shared by the four functions' `tests/startup.rs`: run a function's binary with exactly the given
//! environment and check how it refuses to start.

use std::process::Command;

/// Runs `binary` with exactly `vars` as its environment; returns (success, stderr).
pub fn start(binary: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(binary)
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// With a valid configuration but no Lambda runtime, the binary exits with an error, no panic.
pub fn refuses_outside_a_lambda_runtime(binary: &str, valid: &[(&str, &str)]) {
    let (success, stderr) = start(binary, valid);
    assert!(!success);
    assert!(
        stderr.contains("not running under a Lambda runtime"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Each bad environment stops start-up with an error naming its variable, no panic.
pub fn refuses_bad_configuration(binary: &str, cases: &[(&[(&str, &str)], &str)]) {
    for &(vars, variable) in cases {
        let (success, stderr) = start(binary, vars);
        assert!(!success, "{vars:?} should not start");
        assert!(
            stderr.contains(variable),
            "{vars:?}: stderr does not name {variable}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{vars:?}: {stderr}");
    }
}
