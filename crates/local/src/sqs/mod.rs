//! The SQS emulation: a durable queue store ([`Queues`]) and its AWS JSON 1.0 facade.

mod api;
mod attributes;
mod errors;
mod extra;
pub mod md5;
pub mod members;
mod messages;
mod move_tasks;
pub mod query_protocol;
mod store;
mod tags;

pub use api::handle;
pub use attributes::RedrivePolicy;
pub use errors::SqsError;
pub use move_tasks::MoveTask;
pub use store::{
    QueueCounts, Queues, ReceiveOptions, ReceivedMessage, SendMessage, SentMessage, StoredMessage,
};

use crate::{ACCOUNT_ID, REGION};

/// SQS's longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY_TIMEOUT_SECS: u64 = 43_200;

/// Limits of the queue store.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Largest message (body plus attributes) a queue accepts, and the default and maximum of
    /// its `MaximumMessageSize` attribute. AWS's current limit is 1 MiB (1,048,576 bytes).
    pub max_message_bytes: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 1_048_576,
        }
    }
}

/// The ARN of a local queue: `arn:aws:sqs:us-east-1:000000000000:<name>`.
pub fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}")
}

/// The queue URL for `name` as served at `host` (`host:port`).
pub fn queue_url(host: &str, name: &str) -> String {
    format!("http://{host}/{ACCOUNT_ID}/{name}")
}

/// The queue name in an SQS ARN (any region/account is accepted, as the stack has one of each).
pub fn queue_name_from_arn(arn: &str) -> Option<String> {
    let mut parts = arn.split(':');
    let (Some("arn"), Some(_), Some("sqs")) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let name = parts.nth(2)?;
    valid_queue_name(name).then(|| name.to_string())
}

/// The queue name in a queue URL (`http://host:port/000000000000/<name>`), or a bare name.
pub fn queue_name_from_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let name = path.trim_end_matches('/').rsplit('/').next()?;
    valid_queue_name(name).then(|| name.to_string())
}

/// Whether `name` is a valid standard queue name: 1–80 letters, digits, `-` and `_`.
pub fn valid_queue_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_out_of_urls_and_arns() {
        assert_eq!(
            queue_name_from_url("http://127.0.0.1:4566/000000000000/dev-q").as_deref(),
            Some("dev-q")
        );
        assert_eq!(
            queue_name_from_url("http://h/000000000000/").as_deref(),
            Some("000000000000")
        );
        assert_eq!(queue_name_from_url("http://h/a/b c"), None);
        assert_eq!(
            queue_name_from_arn("arn:aws:sqs:us-east-1:000000000000:dlq").as_deref(),
            Some("dlq")
        );
        assert_eq!(queue_name_from_arn("arn:aws:sns:us-east-1:0:dlq"), None);
        assert_eq!(queue_name_from_arn("nonsense"), None);
    }
}
