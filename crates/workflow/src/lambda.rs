//! Helpers the Lambda binaries share: tracing set-up and reading configuration from the process
//! environment.

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
