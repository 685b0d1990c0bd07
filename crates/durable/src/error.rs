//! The service's API error: an AWS error code (kind), an HTTP status and a message, rendered on the
//! wire exactly as `aws-sdk-lambda` parses it (`docs/wire-contract.md` §10).

use std::fmt;
use std::sync::Arc;

use serde_json::json;

/// The AWS error codes the service returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400 `InvalidParameterValueException` (also the stale checkpoint token).
    InvalidParameterValue,
    /// 404 `ResourceNotFoundException`.
    ResourceNotFound,
    /// 400 `CallbackTimeoutException`.
    CallbackTimeout,
    /// 409 `DurableExecutionAlreadyStartedException`.
    DurableExecutionAlreadyStarted,
    /// 413 `RequestTooLargeException` (Invoke payload over the limit).
    RequestTooLarge,
    /// 400 `InvalidRequestContentException` (an Invoke payload that is not JSON).
    InvalidRequestContent,
    /// 429 `TooManyRequestsException` (the service is shutting down).
    TooManyRequests,
    /// 500 `ServiceException` (storage failure and other internal errors).
    Service,
}

impl ErrorKind {
    /// The `x-amzn-errortype` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidParameterValue => "InvalidParameterValueException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::CallbackTimeout => "CallbackTimeoutException",
            Self::DurableExecutionAlreadyStarted => "DurableExecutionAlreadyStartedException",
            Self::RequestTooLarge => "RequestTooLargeException",
            Self::InvalidRequestContent => "InvalidRequestContentException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::Service => "ServiceException",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidParameterValue | Self::CallbackTimeout | Self::InvalidRequestContent => {
                400
            }
            Self::ResourceNotFound => 404,
            Self::DurableExecutionAlreadyStarted => 409,
            Self::RequestTooLarge => 413,
            Self::TooManyRequests => 429,
            Self::Service => 500,
        }
    }

    /// The message key of the error shape in the Lambda model (`message` or `Message`).
    pub fn message_key(self) -> &'static str {
        match self {
            Self::InvalidParameterValue
            | Self::TooManyRequests
            | Self::RequestTooLarge
            | Self::InvalidRequestContent => "message",
            _ => "Message",
        }
    }

    /// `Type` in the body: `Service` for 5xx, else `User`.
    pub fn fault(self) -> &'static str {
        if self.status() >= 500 {
            "Service"
        } else {
            "User"
        }
    }
}

/// AWS's message for a stale or invalid checkpoint token (lower case, as AWS sends it; SDK 0.1.0
/// looks for "Invalid Checkpoint Token" and so fails the execution instead of retrying the
/// invocation, as it does on AWS: docs/conformance.md).
pub const STALE_TOKEN_MESSAGE: &str = "Invalid checkpoint token";

/// An error returned by the service's API (HTTP or Rust). Equality compares the code and the
/// message; a storage failure keeps its cause as [`std::error::Error::source`].
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: ErrorKind,
    message: String,
    /// The storage failure behind a `ServiceException`; its own text is already in `message`,
    /// so `source()` continues with its cause.
    storage: Option<Arc<durapipe_sqlite::DbError>>,
}

impl PartialEq for ApiError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.storage.as_deref().and_then(std::error::Error::source)
    }
}

impl ApiError {
    /// An error of `kind` with `message` and no storage cause.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            storage: None,
        }
    }

    /// 400 `InvalidParameterValueException`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameterValue, message)
    }

    /// 404 `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message)
    }

    /// 500 `ServiceException`.
    pub fn service(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Service, message)
    }

    /// The stale / invalid checkpoint token error.
    pub fn stale_token() -> Self {
        Self::invalid(STALE_TOKEN_MESSAGE)
    }

    /// The JSON body of the wire error.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({ "Type": self.kind.fault() });
        body[self.kind.message_key()] = json!(self.message);
        body
    }

    /// The error code.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (the reply's `message` member).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<durapipe_sqlite::DbError> for ApiError {
    fn from(e: durapipe_sqlite::DbError) -> Self {
        let mut error = Self::service(format!("storage error: {e}"));
        error.storage = Some(Arc::new(e));
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_follow_the_model() {
        assert_eq!(
            ApiError::stale_token().body(),
            json!({"Type":"User","message":"Invalid checkpoint token"})
        );
        assert_eq!(
            ApiError::not_found("x").body(),
            json!({"Type":"User","Message":"x"})
        );
        assert_eq!(
            ApiError::service("x").body(),
            json!({"Type":"Service","Message":"x"})
        );
    }
}
