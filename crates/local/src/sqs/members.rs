//! Which members of each SQS operation's request the stack honours. Any other member is
//! refused by name (see [`crate::wire::unsupported_member`]) instead of dropped.

use serde_json::{Map, Value};

use super::errors::SqsError;
use crate::wire;

/// The operations the stack serves and, for each, the request members it honours.
pub const OPERATIONS: &[(&str, &[&str])] = &[
    ("CreateQueue", &["QueueName", "Attributes", "tags"]),
    ("GetQueueUrl", &["QueueName", "QueueOwnerAWSAccountId"]),
    (
        "ListQueues",
        &["QueueNamePrefix", "NextToken", "MaxResults"],
    ),
    ("DeleteQueue", &["QueueUrl"]),
    ("GetQueueAttributes", &["QueueUrl", "AttributeNames"]),
    ("SetQueueAttributes", &["QueueUrl", "Attributes"]),
    ("PurgeQueue", &["QueueUrl"]),
    (
        "SendMessage",
        &[
            "QueueUrl",
            "MessageBody",
            "DelaySeconds",
            "MessageAttributes",
            "MessageGroupId",
        ],
    ),
    ("SendMessageBatch", &["QueueUrl", "Entries"]),
    (
        "ReceiveMessage",
        &[
            "QueueUrl",
            "AttributeNames",
            "MessageSystemAttributeNames",
            "MessageAttributeNames",
            "MaxNumberOfMessages",
            "VisibilityTimeout",
            "WaitTimeSeconds",
        ],
    ),
    ("DeleteMessage", &["QueueUrl", "ReceiptHandle"]),
    ("DeleteMessageBatch", &["QueueUrl", "Entries"]),
    (
        "ChangeMessageVisibility",
        &["QueueUrl", "ReceiptHandle", "VisibilityTimeout"],
    ),
    ("ChangeMessageVisibilityBatch", &["QueueUrl", "Entries"]),
    ("TagQueue", &["QueueUrl", "Tags"]),
    ("UntagQueue", &["QueueUrl", "TagKeys"]),
    ("ListQueueTags", &["QueueUrl"]),
    (
        "ListDeadLetterSourceQueues",
        &["QueueUrl", "NextToken", "MaxResults"],
    ),
    (
        "StartMessageMoveTask",
        &[
            "SourceArn",
            "DestinationArn",
            "MaxNumberOfMessagesPerSecond",
        ],
    ),
    ("ListMessageMoveTasks", &["SourceArn", "MaxResults"]),
    ("CancelMessageMoveTask", &["TaskHandle"]),
];

/// The members each entry of a batch operation's `Entries` may have.
pub const ENTRY_MEMBERS: &[(&str, &[&str])] = &[
    (
        "SendMessageBatch",
        &[
            "Id",
            "MessageBody",
            "DelaySeconds",
            "MessageAttributes",
            "MessageGroupId",
        ],
    ),
    ("DeleteMessageBatch", &["Id", "ReceiptHandle"]),
    (
        "ChangeMessageVisibilityBatch",
        &["Id", "ReceiptHandle", "VisibilityTimeout"],
    ),
];

fn nothing_is_off(_: &str, _: &Value) -> bool {
    false
}

/// Checks `request` of `operation`: `Ok(false)` when the stack does not serve the operation,
/// an `UnsupportedOperation` error naming the first member it does not honour (in a batch
/// entry too), `Ok(true)` otherwise.
pub(super) fn check(operation: &str, request: &Map<String, Value>) -> Result<bool, SqsError> {
    let Some((_, honoured)) = OPERATIONS.iter().find(|(name, _)| *name == operation) else {
        return Ok(false);
    };
    if let Some(member) = wire::unsupported_member(request, honoured, nothing_is_off) {
        return Err(SqsError::UnsupportedOperation(wire::unsupported_message(
            operation, &member,
        )));
    }
    let entry_members = ENTRY_MEMBERS.iter().find(|(name, _)| *name == operation);
    if let (Some((_, honoured)), Some(Value::Array(entries))) =
        (entry_members, request.get("Entries"))
    {
        for entry in entries.iter().filter_map(Value::as_object) {
            if let Some(member) = wire::unsupported_member(entry, honoured, nothing_is_off) {
                return Err(SqsError::UnsupportedOperation(wire::unsupported_message(
                    operation,
                    &format!("Entries.{member}"),
                )));
            }
        }
    }
    Ok(true)
}
