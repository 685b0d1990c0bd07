//! AWS SDK clients pointed at a stack's endpoint (local credentials; signatures are not checked
//! by the local stack, and real AWS needs the user's own configuration instead).

use anyhow::{bail, Context as _};
use aws_config::{BehaviorVersion, Region};

/// Loads the shared SDK configuration for `endpoint`, after checking that it is an http(s) URL.
pub async fn config(endpoint: &str) -> anyhow::Result<aws_config::SdkConfig> {
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        bail!("--endpoint must be an http:// or https:// URL, got {endpoint:?}");
    }
    let creds = aws_sdk_sqs::config::Credentials::new("durapipe", "durapipe", None, None, "local");
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .load()
        .await)
}

/// The URL of queue `name`.
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    let out = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .with_context(|| format!("cannot find queue {name} (is the stack running?)"))?;
    out.queue_url
        .with_context(|| format!("GetQueueUrl returned no URL for {name}"))
}
