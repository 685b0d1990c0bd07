//! The SQS operations around queues rather than messages: tags, dead-letter source queues,
//! message move tasks, and the paging they share with `ListQueues`.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::errors::SqsError;
use super::move_tasks::MoveTask;
use super::store::Queues;
use super::{queue_arn, queue_name_from_arn, queue_name_from_url, queue_url};
use crate::wire::{self, WireError};

type Result<T> = std::result::Result<T, super::api::Failure>;

/// One page of names.
pub(super) struct Page {
    /// The names on this page.
    pub items: Vec<String>,
    /// The token for the next page, when there is one.
    pub next_token: Option<String>,
}

/// Pages sorted `names` as SQS's list operations do: without `MaxResults`, up to 1000 and no
/// token; with it (1–1000), that many and a `NextToken` when more remain.
///
/// # Errors
/// `InvalidParameterValue` for `MaxResults` out of range or a token this stack did not issue.
pub(super) fn page(
    names: Vec<String>,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> std::result::Result<Page, SqsError> {
    if let Some(m) = max_results.filter(|m| !(1..=1000).contains(m)) {
        return Err(SqsError::invalid_value(
            m,
            "MaxResults",
            "Must be between 1 and 1000, if provided.",
        ));
    }
    let after = match next_token.filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    SqsError::invalid_value(token, "NextToken", "Invalid or expired next token.")
                })?,
        ),
    };
    let limit = usize::try_from(max_results.unwrap_or(1000)).unwrap_or(1000);
    let mut rest: Vec<String> = names
        .into_iter()
        .filter(|n| after.as_ref().is_none_or(|a| n > a))
        .collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next_token = match (more, max_results, rest.last()) {
        (true, Some(_), Some(last)) => {
            Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last))
        }
        _ => None,
    };
    Ok(Page {
        items: rest,
        next_token,
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    queue_url: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    tag_keys: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct MoveRequest {
    source_arn: Option<String>,
    destination_arn: Option<String>,
    max_number_of_messages_per_second: Option<i64>,
    max_results: Option<i64>,
    task_handle: Option<String>,
}

fn queue_of(url: Option<String>) -> std::result::Result<String, SqsError> {
    let url = url.ok_or_else(|| SqsError::MissingParameter("QueueUrl".into()))?;
    queue_name_from_url(&url).ok_or(SqsError::QueueDoesNotExist)
}

fn arn_of(arn: Option<String>, parameter: &str) -> std::result::Result<String, SqsError> {
    let arn = arn.ok_or_else(|| SqsError::MissingParameter(parameter.into()))?;
    queue_name_from_arn(&arn)
        .ok_or_else(|| SqsError::invalid_value(&arn, parameter, "It is not a queue ARN."))
}

fn task_json(t: &MoveTask) -> Value {
    let mut out = Map::new();
    if t.status == "RUNNING" {
        out.insert("TaskHandle".into(), json!(t.handle));
    }
    out.insert("Status".into(), json!(t.status));
    out.insert("SourceArn".into(), json!(queue_arn(&t.source)));
    if let Some(d) = &t.destination {
        out.insert("DestinationArn".into(), json!(queue_arn(d)));
    }
    if let Some(r) = t.rate {
        out.insert("MaxNumberOfMessagesPerSecond".into(), json!(r));
    }
    out.insert("ApproximateNumberOfMessagesMoved".into(), json!(t.moved));
    out.insert("ApproximateNumberOfMessagesToMove".into(), json!(t.to_move));
    if let Some(f) = &t.failure {
        out.insert("FailureReason".into(), json!(f));
    }
    out.insert("StartedTimestamp".into(), json!(t.started_ms));
    Value::Object(out)
}

/// The operations of this module; anything else is an unknown operation.
pub(super) async fn dispatch(
    queues: &Queues,
    operation: &str,
    host: &str,
    request: Map<String, Value>,
) -> Result<Value> {
    match operation {
        "TagQueue" => {
            let r: TagRequest = wire::from_object(request)?;
            let queue = queue_of(r.queue_url)?;
            let tags = r
                .tags
                .ok_or_else(|| SqsError::MissingParameter("Tags".into()))?;
            queues.tag_queue(&queue, tags).await?;
            Ok(json!({}))
        }
        "UntagQueue" => {
            let r: TagRequest = wire::from_object(request)?;
            let queue = queue_of(r.queue_url)?;
            let keys = r
                .tag_keys
                .ok_or_else(|| SqsError::MissingParameter("TagKeys".into()))?;
            queues.untag_queue(&queue, keys).await?;
            Ok(json!({}))
        }
        "ListQueueTags" => {
            let r: TagRequest = wire::from_object(request)?;
            let tags = queues.queue_tags(&queue_of(r.queue_url)?).await?;
            // SQS omits `Tags` when the queue has none.
            if tags.is_empty() {
                return Ok(json!({}));
            }
            Ok(json!({ "Tags": tags }))
        }
        "ListDeadLetterSourceQueues" => {
            let r: TagRequest = wire::from_object(request)?;
            let sources = queues.dead_letter_sources(&queue_of(r.queue_url)?).await?;
            let page = page(sources, r.max_results, r.next_token.as_deref())?;
            let urls: Vec<String> = page.items.iter().map(|n| queue_url(host, n)).collect();
            let mut out = json!({ "queueUrls": urls });
            if let Some(token) = page.next_token {
                out["NextToken"] = json!(token);
            }
            Ok(out)
        }
        "StartMessageMoveTask" => {
            let r: MoveRequest = wire::from_object(request)?;
            let source = arn_of(r.source_arn, "SourceArn")?;
            let destination = match r.destination_arn {
                Some(arn) => Some(arn_of(Some(arn), "DestinationArn")?),
                None => None,
            };
            let handle = queues
                .start_move_task(
                    &source,
                    destination.as_deref(),
                    r.max_number_of_messages_per_second,
                )
                .await?;
            Ok(json!({ "TaskHandle": handle }))
        }
        "ListMessageMoveTasks" => {
            let r: MoveRequest = wire::from_object(request)?;
            let source = arn_of(r.source_arn, "SourceArn")?;
            let max = r.max_results.unwrap_or(1);
            if !(1..=10).contains(&max) {
                return Err(SqsError::invalid_value(
                    max,
                    "MaxResults",
                    "Must be between 1 and 10, if provided.",
                )
                .into());
            }
            let tasks = queues
                .move_tasks(&source, usize::try_from(max).unwrap_or(1))
                .await?;
            let results: Vec<Value> = tasks.iter().map(task_json).collect();
            Ok(json!({ "Results": results }))
        }
        "CancelMessageMoveTask" => {
            let r: MoveRequest = wire::from_object(request)?;
            let handle = r
                .task_handle
                .ok_or_else(|| SqsError::MissingParameter("TaskHandle".into()))?;
            let task = queues.cancel_move_task(&handle).await?;
            Ok(json!({ "ApproximateNumberOfMessagesMoved": task.moved }))
        }
        other => Err(WireError::unknown_operation(&format!("AmazonSQS.{other}")).into()),
    }
}
