//! The AWS JSON 1.0 wire format shared by the SQS and DynamoDB facades: request decoding and
//! error responses.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use durapipe_sqlite::rusqlite::ErrorCode;
use durapipe_sqlite::DbError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The content type of every AWS JSON 1.0 request and response.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An error as sent on the wire: HTTP status, `__type`, message and, for services with the
/// `awsQueryCompatible` trait (SQS), the `x-amzn-query-error` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The fully qualified error type, e.g. `com.amazonaws.sqs#QueueDoesNotExist`.
    pub error_type: String,
    /// The human-readable message.
    pub message: String,
    /// `Code;Sender|Receiver` for the `x-amzn-query-error` header, if any.
    pub query_error: Option<String>,
}

impl WireError {
    /// A generic `com.amazon.coral.service#<name>` error with status 400.
    pub fn coral(name: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error_type: format!("com.amazon.coral.service#{name}"),
            message: message.into(),
            query_error: None,
        }
    }

    /// Malformed JSON or a value of the wrong type.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::coral("SerializationException", message)
    }

    /// An `X-Amz-Target` naming no operation this endpoint knows.
    pub fn unknown_operation(target: &str) -> Self {
        Self::coral(
            "UnknownOperationException",
            format!("Unknown operation: {target}"),
        )
    }

    /// A request body larger than the configured limit.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error_type: "com.amazon.coral.service#RequestEntityTooLargeException".into(),
            message: format!("Request body is larger than {limit} bytes"),
            query_error: None,
        }
    }
}

impl WireError {
    /// The error's response with `extra` members added to the body (DynamoDB's
    /// `CancellationReasons`, for example).
    pub fn into_response_with(self, extra: Map<String, Value>) -> Response {
        self.respond(extra)
    }

    fn respond(self, extra: Map<String, Value>) -> Response {
        let mut body = serde_json::json!({ "__type": self.error_type, "message": self.message });
        if let Some(obj) = body.as_object_mut() {
            obj.extend(extra);
        }
        let mut response = (self.status, json_body(&body)).into_response();
        set_common_headers(&mut response);
        if let Some(q) = self
            .query_error
            .and_then(|q| HeaderValue::from_str(&q).ok())
        {
            response.headers_mut().insert("x-amzn-query-error", q);
        }
        response
    }
}

impl IntoResponse for WireError {
    fn into_response(self) -> Response {
        self.respond(Map::new())
    }
}

/// The message of a request that failed in the database. It names SQLite's cause (e.g.
/// `database or disk is full`), so a client sees why its write was refused without reading the
/// server's log; a full disk also says what to do.
pub(crate) fn database_failure(e: &DbError) -> String {
    match e {
        DbError::Sqlite(cause) if cause.sqlite_error_code() == Some(ErrorCode::DiskFull) => {
            format!(
                "internal database error: {cause}; free space on the data directory's disk, \
                 then retry"
            )
        }
        DbError::Sqlite(cause) => format!("internal database error: {cause}"),
        other => format!("internal database error: {other}"),
    }
}

/// A successful AWS JSON 1.0 response.
pub fn ok(body: &Value) -> Response {
    let mut response = (StatusCode::OK, json_body(body)).into_response();
    set_common_headers(&mut response);
    response
}

fn json_body(body: &Value) -> String {
    serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string())
}

fn set_common_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
}

/// Parses a request body into `T`, reporting the JSON path that failed.
///
/// # Errors
/// A `SerializationException` [`WireError`] for malformed JSON, a body that is not an object,
/// or a member of the wrong type.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    from_object(object(body)?)
}

/// Parses a request body as a JSON object (an empty body is `{}`).
///
/// # Errors
/// A `SerializationException` [`WireError`] for malformed JSON or a body that is not an object.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, WireError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WireError::serialization(format!("Malformed JSON request body: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(WireError::serialization(
            "The request body must be a JSON object",
        )),
    }
}

/// Deserializes a request object into `T`, reporting the JSON path that failed.
///
/// # Errors
/// A `SerializationException` [`WireError`] for a member of the wrong type.
pub fn from_object<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, WireError> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        WireError::serialization(format!(
            "Cannot deserialize member `{}`: {}",
            e.path(),
            e.inner()
        ))
    })
}

/// The first member of `request` that the stack does not honour: not in `honoured`, not null,
/// and not set to a value that asks for nothing (`is_off`, e.g. `ReturnConsumedCapacity:
/// NONE`). Every operation checks its request with this before acting, so a parameter the
/// stack does not implement is refused by name instead of dropped.
pub fn unsupported_member(
    request: &Map<String, Value>,
    honoured: &[&str],
    is_off: fn(&str, &Value) -> bool,
) -> Option<String> {
    request
        .iter()
        .find(|(name, value)| {
            !value.is_null() && !honoured.contains(&name.as_str()) && !is_off(name, value)
        })
        .map(|(name, _)| name.clone())
}

/// The message refusing a parameter the stack does not implement.
pub fn unsupported_message(operation: &str, member: &str) -> String {
    format!(
        "The parameter {member} of {operation} is not supported by durapipe's local stack; \
         remove it (docs/local-stack.md lists what is supported)"
    )
}
