//! The `aws_sdk_lambda::Client` the SDK (or any caller) uses to reach the service.

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};

/// A Lambda client for the service at `endpoint_url` (e.g. `http://127.0.0.1:9014`), with
/// static dummy credentials and region `us-east-1` (signatures are not checked).
pub fn lambda_client(endpoint_url: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint_url)
        .credentials_provider(Credentials::new("local", "local", None, None, "durapipe"))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}
