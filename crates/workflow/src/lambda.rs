//! Helpers the Lambda binaries share: tracing set-up, reading configuration from the process
//! environment, and checking that the Lambda runtime's own variables are there.

/// Reads an environment variable for `*Config::from_lookup`. A value that is not valid UTF-8 is
/// passed on lossily, so validation reports it as malformed (naming the variable) rather than
/// as missing.
#[must_use]
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Installs the tracing subscriber: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON` (the template's
/// log format), plain text otherwise; the level comes from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`
/// (default `info`). Does nothing if a subscriber is already installed.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let level = process_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| process_env("RUST_LOG"))
        .unwrap_or_else(|| "info".to_owned())
        .to_lowercase();
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = process_env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Variables the Lambda runtime sets, which `lambda_runtime` reads (and panics without).
pub const LAMBDA_RUNTIME_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// The process is not running under a Lambda runtime (a variable the runtime sets is missing or
/// malformed). Checked before `lambda_runtime::run`, which would panic instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not running under a Lambda runtime: {variable} is missing or malformed")]
#[non_exhaustive]
pub struct NotInLambda {
    /// The variable at fault.
    pub variable: &'static str,
}

/// Checks that the Lambda runtime's variables are present (and the memory size is a number).
///
/// # Errors
/// [`NotInLambda`] naming the first variable at fault.
pub fn check_lambda_runtime(lookup: impl Fn(&str) -> Option<String>) -> Result<(), NotInLambda> {
    for variable in LAMBDA_RUNTIME_VARIABLES {
        let ok = match lookup(variable) {
            None => false,
            Some(value) if variable == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => {
                value.parse::<i32>().is_ok()
            }
            Some(value) => !value.is_empty(),
        };
        if !ok {
            return Err(NotInLambda { variable });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_runtime_variables_are_checked() {
        let full = |name: &str| match name {
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("128".to_owned()),
            _ => Some("x".to_owned()),
        };
        assert_eq!(check_lambda_runtime(full), Ok(()));
        assert_eq!(
            check_lambda_runtime(|_| None).unwrap_err().variable,
            "AWS_LAMBDA_RUNTIME_API"
        );
        let bad_memory = |name: &str| match name {
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("lots".to_owned()),
            _ => Some("x".to_owned()),
        };
        assert_eq!(
            check_lambda_runtime(bad_memory).unwrap_err().variable,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
        );
    }
}
