//! The Lambda HTTP API (REST-JSON): `/2025-12-01/...` durable-execution APIs and
//! `POST /2015-03-31/functions/{name}/invocations`. Paths are split on `/` **before**
//! percent-decoding (ARNs arrive with `/` encoded as `%2F`). Errors carry `x-amzn-errortype`.

mod api;
mod functions;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use axum::routing::any;
use axum::Router;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::error::{ApiError, ErrorKind};
use crate::service::DurableService;

/// Largest request body accepted (bytes).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

impl DurableService {
    /// The axum router of the Lambda routes (no `/` and no fallback: merge it into a larger one).
    pub fn router(&self) -> Router {
        let durable = self.clone();
        let invoke = self.clone();
        let listing = self.clone();
        let list = any(move |m: Method, u: Uri, h: HeaderMap, b: Body| {
            let svc = listing.clone();
            async move { handle(svc, m, u, h, b, Api::Invoke).await }
        });
        Router::new()
            .route(
                "/2025-12-01/{*rest}",
                any(move |m: Method, u: Uri, h: HeaderMap, b: Body| {
                    let svc = durable.clone();
                    async move { handle(svc, m, u, h, b, Api::Durable).await }
                }),
            )
            .route(
                "/2015-03-31/functions/{*rest}",
                any(move |m: Method, u: Uri, h: HeaderMap, b: Body| {
                    let svc = invoke.clone();
                    async move { handle(svc, m, u, h, b, Api::Invoke).await }
                }),
            )
            .route("/2015-03-31/functions", list.clone())
            .route("/2015-03-31/functions/", list)
    }
}

#[derive(Clone, Copy)]
enum Api {
    Durable,
    Invoke,
}

/// A parsed request.
pub(crate) struct Request {
    pub method: Method,
    /// Decoded path segments after the version prefix.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query_all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::invalid(format!("Request body is not valid JSON: {e}")))
    }
}

/// Splits a raw path on `/`, then percent-decodes each segment.
pub(crate) fn split_path(raw: &str) -> Result<Vec<String>, ApiError> {
    raw.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| ApiError::invalid("Path is not valid UTF-8."))
        })
        .collect()
}

/// Parses a query string (`+` is a space, values percent-decoded).
pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode_str(&s).decode_utf8_lossy().into_owned()
    };
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

async fn handle(
    svc: DurableService,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    api: Api,
) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let result = async {
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorKind::RequestTooLarge,
                    format!("Request must be smaller than {MAX_BODY_BYTES} bytes"),
                )
            })?;
        let mut segments = split_path(uri.path())?;
        // drop the version prefix ("2025-12-01" or "2015-03-31")
        if !segments.is_empty() {
            segments.remove(0);
        }
        let req = Request {
            method,
            segments,
            query: parse_query(uri.query()),
            headers,
            body,
        };
        match api {
            Api::Durable => api::durable(&svc, req).await,
            Api::Invoke => api::invoke(&svc, req).await,
        }
    }
    .await;
    let mut response = match result {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The AWS error wire format: status, `x-amzn-errortype`, `{"Type", "message"|"Message"}`.
pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    let kind = e.kind();
    if kind.status() >= 500 {
        let cause = std::error::Error::source(e).map(ToString::to_string);
        tracing::error!(error = %e, cause, "service error");
    }
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = json_response(status, &e.body());
    r.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(kind.code()));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_segments_keep_encoded_slashes_inside_the_arn() {
        let segs = split_path(
            "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Ak%3A%24LATEST%2Fdurable-execution%2Fn%2F1/checkpoint",
        )
        .unwrap();
        assert_eq!(
            segs,
            vec![
                "2025-12-01",
                "durable-executions",
                "arn:aws:lambda:us-east-1:1:function:k:$LATEST/durable-execution/n/1",
                "checkpoint"
            ]
        );
        assert!(split_path("/a/%FF%FE").is_err());
    }

    #[test]
    fn query_values_are_decoded_and_repeatable() {
        let q = parse_query(Some(
            "Statuses=RUNNING&Statuses=FAILED&StartedAfter=2023-11-14T22%3A13%3A20Z&x",
        ));
        assert_eq!(q.len(), 4);
        assert_eq!(q[2].1, "2023-11-14T22:13:20Z");
    }
}
