//! Raw reads of the Lambda REST API: the suite matches the JSON of
//! `GetDurableExecutionHistory` as the service sent it, so it is read over plain HTTP here (the
//! typed `aws-sdk-lambda` read is done too, to prove the same response parses).

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value as Json;

/// Everything but the unreserved characters is encoded (ARNs carry `:` and `/`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A plain HTTP client for one endpoint.
#[derive(Debug, Clone)]
pub struct RawClient {
    base: String,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl RawClient {
    /// A client for `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `GetDurableExecutionHistory` with `IncludeExecutionData=true`, one page (as the suite
    /// reads it): the `Events` array.
    ///
    /// # Errors
    /// Transport errors, a non-2xx status (with its body), or a body without `Events`.
    pub async fn history(&self, arn: &str) -> anyhow::Result<Vec<Json>> {
        let path = format!(
            "/2025-12-01/durable-executions/{}/history?IncludeExecutionData=true",
            utf8_percent_encode(arn, SEGMENT)
        );
        let body = self.get_json(&path).await?;
        match body.get("Events") {
            Some(Json::Array(events)) => Ok(events.clone()),
            _ => bail!("GetDurableExecutionHistory answered without Events: {body}"),
        }
    }

    async fn get_json(&self, path_and_query: &str) -> anyhow::Result<Json> {
        let uri: hyper::Uri = format!("{}{path_and_query}", self.base)
            .parse()
            .with_context(|| format!("bad URI for {path_and_query}"))?;
        let response = self
            .client
            .get(uri)
            .await
            .with_context(|| format!("GET {path_and_query}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading the response body")?
            .to_bytes();
        if !status.is_success() {
            bail!(
                "GET {path_and_query}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        serde_json::from_slice(&body).with_context(|| format!("GET {path_and_query}: not JSON"))
    }
}
