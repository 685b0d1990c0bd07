//! Queue attributes: names, defaults, validation and the redrive policy.

use std::collections::BTreeMap;

use serde_json::Value;

use super::errors::SqsError;
use super::{queue_name_from_arn, QueueConfig};

/// Queue attributes this stack stores and reports, with their defaults (`None`: no default,
/// reported only when set).
pub(crate) const SETTABLE: &[(&str, Option<&str>)] = &[
    ("DelaySeconds", Some("0")),
    ("MaximumMessageSize", None), // default: the configured limit
    ("MessageRetentionPeriod", Some("345600")),
    ("ReceiveMessageWaitTimeSeconds", Some("0")),
    ("VisibilityTimeout", Some("30")),
    ("RedrivePolicy", None),
    ("RedriveAllowPolicy", None),
    ("Policy", None),
    ("KmsMasterKeyId", None),
    ("KmsDataKeyReusePeriodSeconds", None),
    ("SqsManagedSseEnabled", Some("false")),
];

/// Attributes computed on request.
pub(crate) const COMPUTED: &[&str] = &[
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
];

/// The redrive policy of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    /// The dead-letter queue's name.
    pub dead_letter_queue: String,
    /// Receives after which the next receive moves the message to the dead-letter queue.
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// The policy as SQS reports it (a JSON string).
    pub fn to_attribute(&self) -> String {
        serde_json::json!({
            "deadLetterTargetArn": super::queue_arn(&self.dead_letter_queue),
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }

    /// Parses the `RedrivePolicy` attribute value.
    ///
    /// # Errors
    /// `InvalidParameterValue` when it is not the JSON SQS expects.
    pub fn parse(text: &str) -> Result<Self, SqsError> {
        let bad = |reason: &str| SqsError::invalid_value(text, "RedrivePolicy", reason);
        let value: Value = serde_json::from_str(text).map_err(|_| bad("Invalid JSON"))?;
        let arn = value
            .get("deadLetterTargetArn")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
            })?;
        let dead_letter_queue = queue_name_from_arn(arn)
            .ok_or_else(|| bad("Invalid value for deadLetterTargetArn."))?;
        let count = match value.get("maxReceiveCount") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
        })?;
        if !(1..=1000).contains(&count) {
            return Err(bad("Value for maxReceiveCount must be between 1 and 1000."));
        }
        Ok(Self {
            dead_letter_queue,
            max_receive_count: u32::try_from(count).unwrap_or(1000),
        })
    }
}

/// Validates and normalizes attributes given to `CreateQueue`/`SetQueueAttributes`.
///
/// # Errors
/// `InvalidAttributeName` for an unknown name, `InvalidAttributeValue` /
/// `InvalidParameterValue` for a bad value, `UnsupportedOperation` for FIFO queues.
pub(crate) fn normalize(
    given: &BTreeMap<String, String>,
    config: &QueueConfig,
) -> Result<BTreeMap<String, String>, SqsError> {
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let value = value.trim();
        let range = |lo: u64, hi: u64| -> Result<String, SqsError> {
            match value.parse::<u64>() {
                Ok(v) if (lo..=hi).contains(&v) => Ok(v.to_string()),
                _ => Err(SqsError::InvalidAttributeValue(name.clone())),
            }
        };
        let normalized = match name.as_str() {
            "DelaySeconds" => range(0, 900)?,
            "MaximumMessageSize" => range(1024, config.max_message_bytes as u64)?,
            "MessageRetentionPeriod" => range(60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => range(0, 20)?,
            "VisibilityTimeout" => range(0, super::MAX_VISIBILITY_TIMEOUT_SECS)?,
            "KmsDataKeyReusePeriodSeconds" => range(60, 86_400)?,
            "RedrivePolicy" => {
                if value.is_empty() {
                    String::new()
                } else {
                    RedrivePolicy::parse(value)?.to_attribute()
                }
            }
            "SqsManagedSseEnabled" => match value {
                "true" | "false" => value.to_string(),
                _ => return Err(SqsError::InvalidAttributeValue(name.clone())),
            },
            "RedriveAllowPolicy" | "Policy" | "KmsMasterKeyId" => value.to_string(),
            "FifoQueue" => {
                if value == "true" {
                    return Err(SqsError::UnsupportedOperation(
                        "FIFO queues are not supported by the durapipe local stack.".into(),
                    ));
                }
                continue;
            }
            "ContentBasedDeduplication" | "DeduplicationScope" | "FifoThroughputLimit" => {
                return Err(SqsError::UnsupportedOperation(format!(
                    "{name} is only valid for FIFO queues, which the durapipe local stack does not support."
                )))
            }
            _ => return Err(SqsError::InvalidAttributeName(name.clone())),
        };
        out.insert(name.clone(), normalized);
    }
    Ok(out)
}

/// The value of a stored attribute, or its default.
pub(crate) fn effective(
    stored: &BTreeMap<String, String>,
    name: &str,
    config: &QueueConfig,
) -> Option<String> {
    if let Some(v) = stored.get(name).filter(|v| !v.is_empty()) {
        return Some(v.clone());
    }
    if name == "MaximumMessageSize" {
        return Some(config.max_message_bytes.to_string());
    }
    SETTABLE
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, d)| d.map(str::to_string))
}

/// A numeric attribute's effective value.
pub(crate) fn number(stored: &BTreeMap<String, String>, name: &str, config: &QueueConfig) -> i64 {
    effective(stored, name, config)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
}
