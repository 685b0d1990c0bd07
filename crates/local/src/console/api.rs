//! The console's own endpoints, for what no AWS API answers: the stack's names and time scale,
//! a page of an execution's operations (for the timeline), the dead letters with their last
//! errors without receiving them, and redriving one or all of them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::StackView;
use crate::sqs::queue_url;
use crate::wire::{self, WireError};

/// The header every console write must carry (a cross-site form or simple request cannot set
/// a custom header; a cross-site `fetch` with one needs a preflight, which is never granted).
pub const CONSOLE_HEADER: &str = "x-durapipe-console";
/// Most operations on one timeline page.
const MAX_OPERATIONS: usize = 500;
/// Most dead letters listed at once.
const MAX_DEAD_LETTERS: usize = 100;

fn invalid(message: impl Into<String>) -> WireError {
    WireError::coral("ValidationException", message)
}

fn failed(e: impl std::fmt::Display) -> WireError {
    with_status(
        WireError::coral("InternalFailure", e.to_string()),
        StatusCode::INTERNAL_SERVER_ERROR,
    )
}

fn with_status(mut error: WireError, status: StatusCode) -> WireError {
    error.status = status;
    error
}

fn respond(result: Result<Response, WireError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Refuses a query parameter the endpoint does not know, by name.
fn only(params: &HashMap<String, String>, known: &[&str]) -> Result<(), WireError> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!(
            "unknown query parameter {k:?} (expected {})",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

fn number(params: &HashMap<String, String>, key: &str, default: usize) -> Result<usize, WireError> {
    params.get(key).map_or(Ok(default), |v| {
        v.parse()
            .map_err(|_| invalid(format!("{key} must be a non-negative integer, got {v:?}")))
    })
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_owned()
}

/// `GET /_durapipe/console/config`: resource names and URLs, the time scale.
pub(super) async fn config(State(view): State<Arc<StackView>>, headers: HeaderMap) -> Response {
    let host = host(&headers);
    wire::ok(&json!({
        "Queue": view.queue,
        "QueueUrl": queue_url(&host, &view.queue),
        "DeadLetterQueue": view.dlq,
        "DeadLetterQueueUrl": queue_url(&host, &view.dlq),
        "Table": view.table,
        "Functions": {
            "Orchestrator": view.functions.orchestrator,
            "Validate": view.functions.validate,
            "Transform": view.functions.transform,
            "Store": view.functions.store,
        },
        "TimeScale": view.time_scale,
    }))
}

/// `GET /_durapipe/console/operations?DurableExecutionArn=&Offset=&MaxItems=`: operations in
/// creation order with their nesting `Depth`.
pub(super) async fn operations(
    State(view): State<Arc<StackView>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let run = async {
        only(&params, &["DurableExecutionArn", "Offset", "MaxItems"])?;
        let arn = params
            .get("DurableExecutionArn")
            .ok_or_else(|| invalid("DurableExecutionArn is required"))?;
        let offset = number(&params, "Offset", 0)?;
        let limit = number(&params, "MaxItems", 200)?;
        if !(1..=MAX_OPERATIONS).contains(&limit) {
            return Err(invalid(format!(
                "MaxItems must be 1-{MAX_OPERATIONS}, got {limit}"
            )));
        }
        let page = view
            .service
            .operations_page(arn, offset, limit)
            .await
            .map_err(|e| {
                with_status(
                    WireError::coral(e.kind().code(), e.message().to_owned()),
                    StatusCode::from_u16(e.kind().status()).unwrap_or(StatusCode::BAD_REQUEST),
                )
            })?;
        let mut body = json!({ "Operations": page.operations, "Total": page.total });
        if page.more {
            body["NextOffset"] = json!(offset + limit);
        }
        Ok::<_, WireError>(wire::ok(&body))
    };
    respond(run.await)
}

/// `GET /_durapipe/console/dead-letters?MaxItems=`: the dead-letter queue's first messages in
/// send order, with their last error, without receiving them; and the queue's counts.
pub(super) async fn dead_letters(
    State(view): State<Arc<StackView>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let run = async {
        only(&params, &["MaxItems"])?;
        let limit = number(&params, "MaxItems", 50)?;
        if !(1..=MAX_DEAD_LETTERS).contains(&limit) {
            return Err(invalid(format!(
                "MaxItems must be 1-{MAX_DEAD_LETTERS}, got {limit}"
            )));
        }
        let counts = view.queues.counts(&view.dlq).await.map_err(failed)?;
        let messages = view.queues.peek(&view.dlq, limit).await.map_err(failed)?;
        let messages: Vec<Value> = messages
            .into_iter()
            .map(|m| {
                json!({
                    "MessageId": m.message_id,
                    "Body": m.body,
                    "SentTimestamp": m.sent_timestamp_ms,
                    "ReceiveCount": m.receive_count,
                    "LastError": m.last_error,
                })
            })
            .collect();
        Ok::<_, WireError>(wire::ok(&json!({
            "Queue": view.dlq,
            "Total": counts.visible + counts.not_visible + counts.delayed,
            "Messages": messages,
        })))
    };
    respond(run.await)
}

/// Same-origin and custom-header check of a console write.
fn check_console_write(headers: &HeaderMap) -> Result<(), WireError> {
    let forbidden = |why: &str| {
        with_status(
            WireError::coral("AccessDeniedException", why),
            StatusCode::FORBIDDEN,
        )
    };
    if headers.get(CONSOLE_HEADER).and_then(|v| v.to_str().ok()) != Some("1") {
        return Err(forbidden(
            "console writes need the header x-durapipe-console: 1",
        ));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(forbidden(
            "console writes need Content-Type: application/json",
        ));
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(forbidden(
                "console writes must come from the console's own origin",
            ));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let own = format!("http://{}", host(headers));
        if origin != own {
            return Err(forbidden(
                "console writes must come from the console's own origin",
            ));
        }
    }
    Ok(())
}

/// `POST /_durapipe/console/dead-letters/redrive` with `{"MessageId": "..."}` (one) or `{}`
/// (all): moves dead letters back to the data-processing queue, visible at once.
pub(super) async fn redrive(
    State(view): State<Arc<StackView>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = async {
        check_console_write(&headers)?;
        let request: Value = serde_json::from_slice(&body)
            .map_err(|e| WireError::serialization(format!("body is not JSON: {e}")))?;
        let Value::Object(fields) = request else {
            return Err(invalid("body must be a JSON object"));
        };
        if let Some(k) = fields.keys().find(|k| k.as_str() != "MessageId") {
            return Err(invalid(format!("unknown field {k:?} (expected MessageId)")));
        }
        let moved = match fields.get("MessageId") {
            None => view
                .queues
                .move_messages(&view.dlq, &view.queue)
                .await
                .map_err(failed)?,
            Some(Value::String(id)) => {
                let moved = view
                    .queues
                    .move_message(&view.dlq, &view.queue, id)
                    .await
                    .map_err(failed)?;
                if !moved {
                    return Err(with_status(
                        WireError::coral(
                            "ResourceNotFoundException",
                            format!("no message {id:?} in {}", view.dlq),
                        ),
                        StatusCode::NOT_FOUND,
                    ));
                }
                1
            }
            Some(_) => return Err(invalid("MessageId must be a string")),
        };
        Ok::<_, WireError>(wire::ok(&json!({ "Moved": moved, "Queue": view.queue })))
    };
    respond(run.await)
}
