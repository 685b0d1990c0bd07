//! AWS SDK clients pointed at a stack's endpoint, signing with the stack's credentials when it
//! has some (else with placeholder ones: an open loopback stack accepts any).

use anyhow::{bail, Context as _};
use aws_config::{BehaviorVersion, Region};
use durapipe_local::guard::Credentials;

/// Loads the shared SDK configuration for `endpoint`, after checking that it is an http(s) URL.
pub async fn config(
    endpoint: &str,
    credentials: Option<&Credentials>,
) -> anyhow::Result<aws_config::SdkConfig> {
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        bail!("--endpoint must be an http:// or https:// URL, got {endpoint:?}");
    }
    let (key, secret) = credentials.map_or(("durapipe", "durapipe"), |c| {
        (c.access_key_id(), c.secret())
    });
    let creds = aws_sdk_sqs::config::Credentials::new(key, secret, None, None, "durapipe");
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

/// The shared SDK configuration for a client subcommand's `--endpoint` and credentials.
pub async fn target_config(target: &crate::args::Target) -> anyhow::Result<aws_config::SdkConfig> {
    config(&target.endpoint, target.credentials()?.as_ref()).await
}
