//! A refused request, answered in the wire format of the API it was meant for: AWS JSON 1.0
//! (`__type`, `message`; SQS adds its query-compatible code in `x-amzn-query-error`) or Lambda's
//! REST-JSON (`x-amzn-errortype`, `{"Type": "User", "message": ...}`).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use durapipe_durable::{ApiError, ErrorKind};

use super::sigv4::AuthError;
use crate::wire::WireError;

/// Which API a request is for, from its path and `X-Amz-Target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `AmazonSQS.*` (AWS JSON 1.0, query-compatible error codes).
    Sqs,
    /// `DynamoDB_20120810.*` (AWS JSON 1.0).
    DynamoDb,
    /// `/2015-03-31/...` and `/2025-12-01/...` (REST-JSON).
    Lambda,
    /// Anything else (answered as AWS JSON 1.0).
    Other,
}

impl Protocol {
    /// The API of a request.
    pub fn of(path: &str, headers: &HeaderMap) -> Self {
        if path.starts_with("/2015-03-31/") || path.starts_with("/2025-12-01/") {
            return Self::Lambda;
        }
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if target.starts_with("AmazonSQS.") {
            Self::Sqs
        } else if target.starts_with("DynamoDB_20120810.") {
            Self::DynamoDb
        } else {
            Self::Other
        }
    }
}

/// Why a request was refused before any handler ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A foreign `Host` or `Origin` (browser protection).
    Forbidden(String),
    /// A missing or bad signature.
    Auth(AuthError),
    /// A body over the API's limit.
    TooLarge(usize),
    /// The body did not arrive in time.
    BodyTimeout(u64),
}

impl Refusal {
    /// `(JSON error code, SQS query code, status for DynamoDB, status for SQS and Lambda)`.
    fn codes(&self) -> (&'static str, &'static str, StatusCode, StatusCode) {
        use StatusCode as S;
        match self {
            Self::Forbidden(_) => (
                "AccessDeniedException",
                "AccessDenied",
                S::FORBIDDEN,
                S::FORBIDDEN,
            ),
            Self::Auth(AuthError::Missing) => (
                "MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
                S::BAD_REQUEST,
                S::FORBIDDEN,
            ),
            Self::Auth(AuthError::Incomplete(_)) => (
                "IncompleteSignatureException",
                "IncompleteSignature",
                S::BAD_REQUEST,
                S::BAD_REQUEST,
            ),
            Self::Auth(AuthError::UnknownKey) => (
                "UnrecognizedClientException",
                "InvalidClientTokenId",
                S::BAD_REQUEST,
                S::FORBIDDEN,
            ),
            Self::Auth(AuthError::Invalid(_)) => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                S::BAD_REQUEST,
                S::FORBIDDEN,
            ),
            Self::TooLarge(_) => (
                "RequestEntityTooLargeException",
                "RequestTooLarge",
                S::PAYLOAD_TOO_LARGE,
                S::PAYLOAD_TOO_LARGE,
            ),
            Self::BodyTimeout(_) => (
                "RequestTimeoutException",
                "RequestTimeout",
                S::REQUEST_TIMEOUT,
                S::REQUEST_TIMEOUT,
            ),
        }
    }

    /// The message sent to the client (never a secret or an expected signature).
    pub fn message(&self) -> String {
        match self {
            Self::Forbidden(m) => m.clone(),
            Self::Auth(AuthError::Missing) => "Request is missing Authentication Token: this \
                stack requires AWS Signature Version 4 with its --credentials"
                .into(),
            Self::Auth(AuthError::UnknownKey) => {
                "The security token included in the request is invalid.".into()
            }
            Self::Auth(AuthError::Incomplete(m) | AuthError::Invalid(m)) => m.clone(),
            Self::TooLarge(limit) => format!("Request body is larger than {limit} bytes"),
            Self::BodyTimeout(secs) => {
                format!("The request body did not arrive within {secs} seconds")
            }
        }
    }

    /// The JSON error code (for logs).
    pub fn code(&self) -> &'static str {
        self.codes().0
    }

    /// The response for `protocol`.
    pub fn into_response(self, protocol: Protocol) -> Response {
        let (code, query_code, ddb_status, status) = self.codes();
        let message = self.message();
        match (protocol, &self) {
            (Protocol::Lambda, Self::TooLarge(limit)) => lambda_error(&ApiError::new(
                ErrorKind::RequestTooLarge,
                format!("Request must be smaller than {limit} bytes"),
            )),
            (Protocol::Lambda, _) => {
                let body = serde_json::json!({ "Type": "User", "message": message });
                let mut response = (
                    status,
                    [(http::header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert("x-amzn-errortype", HeaderValue::from_static(code));
                if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
                    response.headers_mut().insert("x-amzn-requestid", id);
                }
                response
            }
            (_, Self::TooLarge(limit)) => WireError::too_large(*limit).into_response(),
            (Protocol::Sqs, _) => WireError {
                status,
                error_type: format!("com.amazon.coral.service#{code}"),
                message,
                query_error: Some(format!("{query_code};Sender")),
            }
            .into_response(),
            (Protocol::DynamoDb | Protocol::Other, _) => WireError {
                status: if protocol == Protocol::DynamoDb {
                    ddb_status
                } else {
                    status
                },
                error_type: format!("com.amazon.coral.service#{code}"),
                message,
                query_error: None,
            }
            .into_response(),
        }
    }
}

/// A Lambda service error as the service itself renders it.
fn lambda_error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.kind().status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        e.body().to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static(e.kind().code()),
    );
    response
}
