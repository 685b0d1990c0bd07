//! The axum router for `POST /`, dispatching on `X-Amz-Target` to SQS or DynamoDB.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::dynamodb::{self, Tables};
use crate::sqs::{self, Queues};
use crate::wire::WireError;

/// The default request body limit: SQS's 1 MiB message plus JSON escaping and envelope.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// What the AWS-compatible endpoints serve.
#[derive(Debug, Clone)]
pub struct AwsEndpoints {
    /// The queue store behind `AmazonSQS.*`.
    pub queues: Queues,
    /// The table store behind `DynamoDB_20120810.*`.
    pub tables: Tables,
    /// Requests with a larger body are refused with HTTP 413.
    pub max_request_bytes: usize,
    /// `host:port` for queue URLs when a request has no `Host` header.
    pub default_host: String,
}

impl AwsEndpoints {
    /// Endpoints over `queues` and `tables` with the default body limit.
    pub fn new(queues: Queues, tables: Tables, default_host: impl Into<String>) -> Self {
        Self {
            queues,
            tables,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            default_host: default_host.into(),
        }
    }

    /// A router serving `POST /` for SQS and DynamoDB; merge it with the Lambda router.
    pub fn router(self) -> Router {
        Router::new()
            .route("/", post(dispatch))
            .with_state(Arc::new(self))
    }
}

async fn dispatch(State(endpoints): State<Arc<AwsEndpoints>>, request: Request) -> Response {
    let headers = request.headers().clone();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&endpoints.default_host)
        .to_string();
    let limit = endpoints.max_request_bytes;
    let body: Body = request.into_body();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return WireError::too_large(limit).into_response();
    };
    if let Some(op) = target.strip_prefix("AmazonSQS.") {
        sqs::handle(&endpoints.queues, op, &host, &bytes).await
    } else if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
        dynamodb::handle(&endpoints.tables, op, &bytes).await
    } else if target.is_empty() && sqs::query_protocol::is_query_request(&headers, &bytes) {
        sqs::query_protocol::refusal()
    } else if target.is_empty() {
        WireError::unknown_operation("(missing X-Amz-Target header)").into_response()
    } else {
        WireError::unknown_operation(&target).into_response()
    }
}
