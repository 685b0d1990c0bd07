//! The Lambda Runtime API one sandbox polls (`AWS_LAMBDA_RUNTIME_API`): the subset a runtime
//! needs to take invocations and report their outcomes. Everything the child sends is input:
//! request ids are checked against the invocation in flight, bodies are capped at Lambda's
//! 6 MB, and unknown routes get a 404 naming the route.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::sandbox::Channel;
use super::{Failure, MAX_PAYLOAD_BYTES};

const PREFIX: &str = "/2018-06-01/runtime";
/// Longest error type and message kept from an error post.
const MAX_ERROR_FIELD: usize = 64 * 1024;

#[derive(Clone)]
struct Api {
    channel: Arc<Channel>,
    kill: Arc<Notify>,
}

/// The routes of one sandbox.
pub(crate) fn router(channel: Arc<Channel>, kill: Arc<Notify>) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/invocation/next"), get(next))
        .route(
            &format!("{PREFIX}/invocation/{{id}}/response"),
            post(response),
        )
        .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
        .route(&format!("{PREFIX}/init/error"), post(init_error))
        .fallback(unknown)
        .with_state(Api { channel, kill })
}

fn reply(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = json!({ "errorType": error_type, "errorMessage": message });
    (status, axum::Json(body)).into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({ "status": "OK" }))).into_response()
}

async fn unknown(method: Method, uri: Uri) -> Response {
    reply(
        StatusCode::NOT_FOUND,
        "UnknownRoute",
        &format!("the Runtime API has no route {method} {}", uri.path()),
    )
}

/// `GET /invocation/next`: waits for the next invocation.
async fn next(State(api): State<Api>) -> Response {
    if let Ok(mut s) = api.channel.state.lock() {
        if let Some((id, _)) = &s.current {
            let msg = format!("the runtime asked for the next invocation before answering {id}");
            return reply(StatusCode::BAD_REQUEST, "InvalidStateTransition", &msg);
        }
        s.asked = true;
    }
    let mut outbox = api.channel.outbox.lock().await;
    let Some(job) = outbox.recv().await else {
        return reply(
            StatusCode::GONE,
            "SandboxStopped",
            "the sandbox is stopping",
        );
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", &job.request_id);
    put("lambda-runtime-deadline-ms", &job.deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        &api.channel.function_arn,
    );
    put("lambda-runtime-trace-id", &job.trace_id);
    put("content-type", "application/json");
    match api.channel.state.lock() {
        Ok(mut s) => s.current = Some((job.request_id, job.reply)),
        Err(_) => {
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "the sandbox state is poisoned",
            )
        }
    }
    (StatusCode::OK, headers, job.body).into_response()
}

/// Reads a body of at most [`MAX_PAYLOAD_BYTES`].
async fn read(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_PAYLOAD_BYTES)
        .await
        .map_err(|_| {
            reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("the body is larger than {MAX_PAYLOAD_BYTES} bytes or was cut off"),
            )
        })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn answer(api: &Api, id: &str, result: Result<Bytes, Failure>) -> Response {
    if !valid_id(id) {
        return reply(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            &format!("{id:?} is not a request id"),
        );
    }
    match api.channel.answer(id, result) {
        Ok(()) => accepted(),
        Err(msg) => reply(StatusCode::BAD_REQUEST, "InvalidRequestID", &msg),
    }
}

/// `POST /invocation/{id}/response`.
async fn response(State(api): State<Api>, Path(id): Path<String>, body: Body) -> Response {
    match read(body).await {
        Ok(bytes) => answer(&api, &id, Ok(bytes)),
        Err(too_large) => {
            let failure = Failure::Invalid {
                error_type: "Function.ResponseSizeTooLarge".into(),
                message: format!(
                    "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
                ),
            };
            let _ = answer(&api, &id, Err(failure));
            too_large
        }
    }
}

fn clip(s: &str) -> String {
    let mut end = s.len().min(MAX_ERROR_FIELD);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}

/// The `errorType` and `errorMessage` of an error post: the JSON body's fields, the
/// `Lambda-Runtime-Function-Error-Type` header when the body has no type, the raw body as the
/// message when it is not JSON.
fn posted_error(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty());
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(clip)
    };
    let error_type = field("errorType")
        .filter(|t| !t.is_empty())
        .or_else(|| header_type.map(clip))
        .unwrap_or_else(|| "Runtime.Unknown".into());
    let message = match (&parsed, field("errorMessage")) {
        (_, Some(m)) => m,
        (Some(_), None) => String::new(),
        (None, None) => clip(&String::from_utf8_lossy(body)),
    };
    (error_type, message)
}

/// `POST /invocation/{id}/error`.
async fn error(
    State(api): State<Api>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read(body).await {
        Ok(b) => b,
        Err(too_large) => return too_large,
    };
    let (error_type, error_message) = posted_error(&headers, &bytes);
    answer(
        &api,
        &id,
        Err(Failure::Handler {
            error_type,
            error_message,
        }),
    )
}

/// `POST /init/error`: the runtime could not start; the sandbox is stopped.
async fn init_error(State(api): State<Api>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read(body).await {
        Ok(b) => b,
        Err(too_large) => return too_large,
    };
    let posted = posted_error(&headers, &bytes);
    if let Ok(mut s) = api.channel.state.lock() {
        if s.asked {
            let msg = "the runtime already finished its init (it asked for an invocation)";
            return reply(StatusCode::FORBIDDEN, "InvalidStateTransition", msg);
        }
        s.init_error = Some(posted);
    }
    api.kill.notify_one();
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_posts_take_the_body_then_the_header_then_the_raw_text() {
        let mut headers = HeaderMap::new();
        let body = br#"{"errorType":"MyError","errorMessage":"boom"}"#;
        assert_eq!(
            posted_error(&headers, body),
            ("MyError".into(), "boom".into())
        );
        headers.insert(
            "lambda-runtime-function-error-type",
            HeaderValue::from_static("HeaderType"),
        );
        assert_eq!(
            posted_error(&headers, br#"{"errorMessage":"m"}"#),
            ("HeaderType".into(), "m".into())
        );
        assert_eq!(
            posted_error(&headers, b"not json"),
            ("HeaderType".into(), "not json".into())
        );
        assert_eq!(
            posted_error(&HeaderMap::new(), b""),
            ("Runtime.Unknown".into(), String::new())
        );
    }

    #[test]
    fn request_ids_are_checked() {
        assert!(valid_id("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
        assert!(!valid_id(""));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(&"a".repeat(129)));
    }
}
