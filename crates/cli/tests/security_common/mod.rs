//! Helpers of the security tests: raw HTTP/1.1 requests with any `Host` and headers (as a
//! browser or an attacker would send them), and the stack's state read through its APIs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::time::Duration;

use serde_json::Value;

use crate::common::queue_attributes_args;

/// An answer: status, lower-cased headers, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends `method path` to `endpoint` with exactly `headers` (give `Host` yourself) and `body`.
pub fn send(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {out:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// `host:port` of an endpoint.
pub fn host_of(endpoint: &str) -> &str {
    endpoint.trim_start_matches("http://")
}

/// What the stack holds, read through its own APIs with `aws` (the AWS CLI, signing as the
/// stack needs): (messages of the queue, messages of the DLQ, table items, executions).
pub fn state_of(stack_endpoint: &str, aws: impl Fn(&[&str]) -> Value) -> (u64, u64, usize, usize) {
    let depth = |name: &str| {
        let url = format!("{stack_endpoint}/000000000000/{name}");
        let out = aws(&queue_attributes_args(&url));
        let get = |n: &str| -> u64 { out["Attributes"][n].as_str().unwrap().parse().unwrap() };
        get("ApproximateNumberOfMessages") + get("ApproximateNumberOfMessagesNotVisible")
    };
    let items = aws(&["dynamodb", "scan", "--table-name", "dev-processed-data"])["Items"]
        .as_array()
        .unwrap()
        .len();
    let executions = aws(&[
        "lambda",
        "list-durable-executions-by-function",
        "--function-name",
        "dev-orchestrator",
    ])["DurableExecutions"]
        .as_array()
        .map_or(0, Vec::len);
    (
        depth("dev-data-processing-queue"),
        depth("dev-data-processing-dlq"),
        items,
        executions,
    )
}
