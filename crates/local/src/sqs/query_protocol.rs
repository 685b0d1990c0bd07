//! SQS's older query protocol (form-encoded `Action=SendMessage&...` posts answered in XML),
//! which SDKs released before SQS moved to AWS JSON 1.0 still send. The stack does not serve
//! it: such a request is answered with a query-protocol XML error that says which SDKs to use.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The SDK releases that speak SQS's JSON protocol, named in the refusal.
pub const JSON_PROTOCOL_SDKS: &str = "boto3/botocore 1.34.90 or later (AWS CLI v1 1.32.90 or \
     later, AWS CLI v2), aws-sdk-go-v2 service/sqs v1.28.0 or later, aws-sdk-rust's \
     aws-sdk-sqs (any release), or another AWS SDK released since SQS's AWS JSON protocol \
     (AWS's \"Amazon SQS AWS JSON protocol FAQs\" list the version per language)";

/// Whether a request without `X-Amz-Target` is an SQS query-protocol call: a form body with an
/// `Action` parameter.
pub fn is_query_request(headers: &HeaderMap, body: &[u8]) -> bool {
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let action = body.starts_with(b"Action=") || body.windows(8).any(|w| w == b"&Action=");
    form || action
}

/// The refusal: HTTP 400 with the query protocol's XML error body (`InvalidAction`), so an old
/// SDK shows the message instead of failing to parse the answer.
pub fn refusal() -> Response {
    let request_id = uuid::Uuid::new_v4();
    let message = format!(
        "durapipe's local SQS speaks only the AWS JSON 1.0 protocol (POST / with X-Amz-Target: \
         AmazonSQS.*); the query protocol (form-encoded Action=...) is not served. Use {JSON_PROTOCOL_SDKS}."
    );
    let body = format!(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">\
         <Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{}</Message><Detail/></Error>\
         <RequestId>{request_id}</RequestId></ErrorResponse>",
        xml_escape(&message)
    );
    let mut response = (StatusCode::BAD_REQUEST, body).into_response();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
