//! The SQS AWS JSON 1.0 facade: decodes `AmazonSQS.<Operation>` requests, calls [`Queues`],
//! encodes the answers and errors as SQS does.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::errors::SqsError;
use super::store::{Queues, ReceiveOptions, ReceivedMessage, SendMessage};
use super::{extra, members};
use super::{queue_name_from_url, queue_url};
use crate::wire::{self, WireError};

/// The sender id reported in `SenderId` (the local stack has no IAM principals).
const SENDER_ID: &str = "000000000000";

/// Handles one SQS request (`operation` is the part of `X-Amz-Target` after `AmazonSQS.`);
/// `host` (`host:port`) is used to build queue URLs.
pub async fn handle(queues: &Queues, operation: &str, host: &str, body: &[u8]) -> Response {
    match dispatch(queues, operation, host, body).await {
        Ok(value) => wire::ok(&value),
        Err(Failure::Wire(e)) => e.into_response(),
        Err(Failure::Sqs(e)) => {
            if matches!(e, SqsError::Db(_)) {
                tracing::error!(error = ?e, operation, "SQS request failed");
            }
            e.to_wire().into_response()
        }
    }
}

pub(super) enum Failure {
    Wire(WireError),
    Sqs(SqsError),
}

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        Self::Wire(e)
    }
}

impl From<SqsError> for Failure {
    fn from(e: SqsError) -> Self {
        Self::Sqs(e)
    }
}

type Result<T> = std::result::Result<T, Failure>;

fn required<T>(value: Option<T>, name: &str) -> std::result::Result<T, SqsError> {
    value.ok_or_else(|| SqsError::MissingParameter(name.to_string()))
}

fn queue_of(url: Option<String>) -> std::result::Result<String, SqsError> {
    let url = required(url, "QueueUrl")?;
    queue_name_from_url(&url).ok_or(SqsError::QueueDoesNotExist)
}

/// [`super::MAX_VISIBILITY_TIMEOUT_SECS`] as the request field's type.
const MAX_VISIBILITY: i64 = super::MAX_VISIBILITY_TIMEOUT_SECS as i64;

fn seconds(value: i64, parameter: &str, max: i64) -> std::result::Result<Duration, SqsError> {
    if !(0..=max).contains(&value) {
        return Err(SqsError::invalid_value(
            value,
            parameter,
            &format!("Must be >= 0 and <= {max}, if provided."),
        ));
    }
    Ok(Duration::from_secs(u64::try_from(value).unwrap_or(0)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct QueueRequest {
    queue_url: Option<String>,
    queue_name: Option<String>,
    queue_name_prefix: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    attribute_names: Option<Vec<String>>,
    #[serde(rename = "tags")]
    tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner_aws_account_id: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SendRequest {
    queue_url: Option<String>,
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    message_attributes: Option<Value>,
    message_group_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct BatchEntry {
    id: Option<String>,
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    message_attributes: Option<Value>,
    message_group_id: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct BatchRequest {
    queue_url: Option<String>,
    entries: Option<Vec<BatchEntry>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ReceiveRequest {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    wait_time_seconds: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct HandleRequest {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

async fn dispatch(queues: &Queues, operation: &str, host: &str, body: &[u8]) -> Result<Value> {
    let request = wire::object(body)?;
    if !members::check(operation, &request)? {
        return Err(WireError::unknown_operation(&format!("AmazonSQS.{operation}")).into());
    }
    match operation {
        "CreateQueue" => {
            let r: QueueRequest = wire::from_object(request)?;
            let name = required(r.queue_name, "QueueName")?;
            queues
                .create_queue_tagged(
                    &name,
                    &r.attributes.unwrap_or_default(),
                    &r.tags.unwrap_or_default(),
                )
                .await?;
            Ok(json!({ "QueueUrl": queue_url(host, &name) }))
        }
        "GetQueueUrl" => {
            let r: QueueRequest = wire::from_object(request)?;
            let name = required(r.queue_name, "QueueName")?;
            let other_owner = r
                .queue_owner_aws_account_id
                .is_some_and(|owner| owner != crate::ACCOUNT_ID);
            if other_owner || !queues.exists(&name).await? {
                return Err(SqsError::QueueDoesNotExist.into());
            }
            Ok(json!({ "QueueUrl": queue_url(host, &name) }))
        }
        "ListQueues" => {
            let r: QueueRequest = wire::from_object(request)?;
            let names = queues.list_queues(r.queue_name_prefix.as_deref()).await?;
            let page = extra::page(names, r.max_results, r.next_token.as_deref())?;
            let urls: Vec<String> = page.items.iter().map(|n| queue_url(host, n)).collect();
            // SQS omits `QueueUrls` when no queue matches.
            let mut out = if urls.is_empty() {
                json!({})
            } else {
                json!({ "QueueUrls": urls })
            };
            if let Some(token) = page.next_token {
                out["NextToken"] = json!(token);
            }
            Ok(out)
        }
        "DeleteQueue" => {
            let r: QueueRequest = wire::from_object(request)?;
            queues.delete_queue(&queue_of(r.queue_url)?).await?;
            Ok(json!({}))
        }
        "GetQueueAttributes" => {
            let r: QueueRequest = wire::from_object(request)?;
            let queue = queue_of(r.queue_url)?;
            // No names asked for: no attributes returned (as SQS), but the queue must exist.
            let names = r.attribute_names.unwrap_or_default();
            let attrs = queues.get_attributes(&queue, &names).await?;
            Ok(json!({ "Attributes": attrs }))
        }
        "SetQueueAttributes" => {
            let r: QueueRequest = wire::from_object(request)?;
            let queue = queue_of(r.queue_url)?;
            let attrs = required(r.attributes, "Attributes")?;
            queues.set_attributes(&queue, &attrs).await?;
            Ok(json!({}))
        }
        "SendMessage" => send(queues, request).await,
        "SendMessageBatch" => send_batch(queues, request).await,
        "ReceiveMessage" => receive(queues, request).await,
        "DeleteMessage" => {
            let r: HandleRequest = wire::from_object(request)?;
            let queue = queue_of(r.queue_url)?;
            let handle = required(r.receipt_handle, "ReceiptHandle")?;
            queues.delete(&queue, &handle).await?;
            Ok(json!({}))
        }
        "DeleteMessageBatch" => delete_batch(queues, request).await,
        "ChangeMessageVisibility" => {
            let r: HandleRequest = wire::from_object(request)?;
            let queue = queue_of(r.queue_url)?;
            let handle = required(r.receipt_handle, "ReceiptHandle")?;
            let timeout = required(r.visibility_timeout, "VisibilityTimeout")?;
            let timeout = seconds(timeout, "VisibilityTimeout", MAX_VISIBILITY)?;
            queues.change_visibility(&queue, &handle, timeout).await?;
            Ok(json!({}))
        }
        "ChangeMessageVisibilityBatch" => change_visibility_batch(queues, request).await,
        "PurgeQueue" => {
            let r: QueueRequest = wire::from_object(request)?;
            queues.purge(&queue_of(r.queue_url)?).await?;
            Ok(json!({}))
        }
        _ => extra::dispatch(queues, operation, host, request).await,
    }
}

fn send_message_of(
    body: Option<String>,
    delay: Option<i64>,
    attributes: Option<Value>,
    group: Option<String>,
) -> std::result::Result<SendMessage, SqsError> {
    let body = required(body, "MessageBody")?;
    if let Some(g) = &group {
        let valid = (1..=128).contains(&g.len()) && g.chars().all(|c| c.is_ascii_graphic());
        if !valid {
            return Err(SqsError::invalid_value(
                g,
                "MessageGroupId",
                "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
            ));
        }
    }
    let delay_seconds = match delay {
        Some(d) => Some(u32::try_from(seconds(d, "DelaySeconds", 900)?.as_secs()).unwrap_or(0)),
        None => None,
    };
    Ok(SendMessage {
        body,
        delay_seconds,
        message_attributes: attributes,
        message_group_id: group,
    })
}

fn sent_json(sent: &super::SentMessage) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(sent.message_id));
    out.insert("MD5OfMessageBody".into(), json!(sent.md5_of_body));
    if let Some(md5) = &sent.md5_of_message_attributes {
        out.insert("MD5OfMessageAttributes".into(), json!(md5));
    }
    out
}

async fn send(queues: &Queues, request: Map<String, Value>) -> Result<Value> {
    let r: SendRequest = wire::from_object(request)?;
    let queue = queue_of(r.queue_url)?;
    let message = send_message_of(
        r.message_body,
        r.delay_seconds,
        r.message_attributes,
        r.message_group_id,
    )?;
    let sent = queues.send(&queue, message).await?;
    Ok(Value::Object(sent_json(&sent)))
}

/// Checks a batch's entries (count, ids) and returns the ids.
fn batch_ids(entries: &[BatchEntry]) -> std::result::Result<Vec<String>, SqsError> {
    if entries.is_empty() {
        return Err(SqsError::EmptyBatchRequest);
    }
    if entries.len() > 10 {
        return Err(SqsError::TooManyEntriesInBatchRequest(entries.len()));
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(entries.len());
    for entry in entries {
        let id = required(entry.id.clone(), "Id")?;
        let valid = !id.is_empty()
            && id.len() <= 80
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(SqsError::InvalidBatchEntryId);
        }
        if !seen.insert(id.clone()) {
            return Err(SqsError::BatchEntryIdsNotDistinct(id));
        }
        ids.push(id);
    }
    Ok(ids)
}

fn failed_entry(id: &str, e: &SqsError) -> Value {
    json!({
        "Id": id,
        "SenderFault": e.sender_fault(),
        "Code": e.code(),
        "Message": e.to_string(),
    })
}

async fn send_batch(queues: &Queues, request: Map<String, Value>) -> Result<Value> {
    let r: BatchRequest = wire::from_object(request)?;
    let queue = queue_of(r.queue_url)?;
    let entries = required(r.entries, "Entries")?;
    let ids = batch_ids(&entries)?;
    let total: usize = entries
        .iter()
        .map(|e| e.message_body.as_deref().map_or(0, str::len))
        .sum();
    let limit = queues.config().max_message_bytes;
    if total > limit {
        return Err(SqsError::BatchRequestTooLong(limit).into());
    }
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    let mut to_send = Vec::new();
    let mut sent_ids = Vec::new();
    for (id, entry) in ids.into_iter().zip(entries) {
        match send_message_of(
            entry.message_body,
            entry.delay_seconds,
            entry.message_attributes,
            entry.message_group_id,
        ) {
            Ok(m) => {
                to_send.push(m);
                sent_ids.push(id);
            }
            Err(e) => failed.push(failed_entry(&id, &e)),
        }
    }
    if !to_send.is_empty() {
        let results = queues.send_batch(&queue, to_send).await?;
        for (id, result) in sent_ids.iter().zip(results) {
            match result {
                Ok(sent) => {
                    let mut entry = sent_json(&sent);
                    entry.insert("Id".into(), json!(id));
                    successful.push(Value::Object(entry));
                }
                Err(e) => failed.push(failed_entry(id, &e)),
            }
        }
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

async fn delete_batch(queues: &Queues, request: Map<String, Value>) -> Result<Value> {
    let r: BatchRequest = wire::from_object(request)?;
    let queue = queue_of(r.queue_url)?;
    let entries = required(r.entries, "Entries")?;
    let ids = batch_ids(&entries)?;
    let mut handles = Vec::with_capacity(entries.len());
    for entry in entries {
        handles.push(required(entry.receipt_handle, "ReceiptHandle")?);
    }
    let results = queues.delete_batch(&queue, handles).await?;
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for (id, result) in ids.iter().zip(results) {
        match result {
            Ok(()) => successful.push(json!({ "Id": id })),
            Err(e) => failed.push(failed_entry(id, &e)),
        }
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

async fn change_visibility_batch(queues: &Queues, request: Map<String, Value>) -> Result<Value> {
    let r: BatchRequest = wire::from_object(request)?;
    let queue = queue_of(r.queue_url)?;
    let entries = required(r.entries, "Entries")?;
    let ids = batch_ids(&entries)?;
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for (id, entry) in ids.iter().zip(entries) {
        let outcome = async {
            let handle = required(entry.receipt_handle, "ReceiptHandle")?;
            let timeout = seconds(
                entry.visibility_timeout.unwrap_or(0),
                "VisibilityTimeout",
                MAX_VISIBILITY,
            )?;
            queues.change_visibility(&queue, &handle, timeout).await
        }
        .await;
        match outcome {
            Ok(()) => successful.push(json!({ "Id": id })),
            Err(SqsError::QueueDoesNotExist) => return Err(SqsError::QueueDoesNotExist.into()),
            Err(e) => failed.push(failed_entry(id, &e)),
        }
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

async fn receive(queues: &Queues, request: Map<String, Value>) -> Result<Value> {
    let r: ReceiveRequest = wire::from_object(request)?;
    let queue = queue_of(r.queue_url)?;
    let max = r.max_number_of_messages.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(SqsError::invalid_value(
            max,
            "MaxNumberOfMessages",
            "Must be between 1 and 10, if provided.",
        )
        .into());
    }
    let visibility_timeout = match r.visibility_timeout {
        Some(v) => Some(seconds(v, "VisibilityTimeout", MAX_VISIBILITY)?),
        None => None,
    };
    let wait = match r.wait_time_seconds {
        Some(w) => seconds(w, "WaitTimeSeconds", 20)?,
        None => {
            let attrs = queues
                .get_attributes(&queue, &["ReceiveMessageWaitTimeSeconds".to_string()])
                .await?;
            let secs = attrs
                .get("ReceiveMessageWaitTimeSeconds")
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            Duration::from_secs(secs)
        }
    };
    let options = ReceiveOptions {
        max_messages: usize::try_from(max).unwrap_or(1),
        visibility_timeout,
        wait,
    };
    let messages = queues.receive(&queue, &options).await?;
    let mut system: Vec<String> = r.attribute_names.unwrap_or_default();
    system.extend(r.message_system_attribute_names.unwrap_or_default());
    let user = r.message_attribute_names.unwrap_or_default();
    let out: Vec<Value> = messages
        .iter()
        .map(|m| message_json(m, &system, &user))
        .collect();
    // SQS omits `Messages` when there are none (clients loop `while "Messages" in response`).
    if out.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Messages": out }))
}

fn message_json(m: &ReceivedMessage, system: &[String], user: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(m.message_id));
    out.insert("ReceiptHandle".into(), json!(m.receipt_handle));
    out.insert("MD5OfBody".into(), json!(m.md5_of_body));
    out.insert("Body".into(), json!(m.body));
    let all = system.iter().any(|n| n == "All");
    let wanted = |n: &str| all || system.iter().any(|s| s == n);
    let mut attrs = Map::new();
    let pairs = [
        ("SenderId", Some(SENDER_ID.to_string())),
        ("SentTimestamp", Some(m.sent_timestamp_ms.to_string())),
        (
            "ApproximateReceiveCount",
            Some(m.approximate_receive_count.to_string()),
        ),
        (
            "ApproximateFirstReceiveTimestamp",
            Some(m.approximate_first_receive_timestamp_ms.to_string()),
        ),
        ("MessageGroupId", m.message_group_id.clone()),
        (
            "DeadLetterQueueSourceArn",
            m.dead_letter_source.as_deref().map(super::queue_arn),
        ),
        // durapipe's own: why the message failed last (see docs on local divergences).
        ("DurapipeLastError", m.last_error.clone()),
    ];
    for (name, value) in pairs {
        if let Some(value) = value.filter(|_| wanted(name)) {
            attrs.insert(name.into(), json!(value));
        }
    }
    if !attrs.is_empty() {
        out.insert("Attributes".into(), Value::Object(attrs));
    }
    if let Some(all_attrs) = &m.message_attributes {
        let selected: Map<String, Value> = all_attrs
            .iter()
            .filter(|(name, _)| {
                user.iter().any(|u| {
                    u == "All"
                        || u == ".*"
                        || u == *name
                        || u.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !selected.is_empty() {
            if let Ok(md5) = super::md5::of_attributes(&selected) {
                out.insert("MD5OfMessageAttributes".into(), json!(md5));
            }
            out.insert("MessageAttributes".into(), Value::Object(selected));
        }
    }
    Value::Object(out)
}
