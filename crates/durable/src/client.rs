//! The `aws_sdk_lambda::Client` the SDK (or any caller) uses to reach the service: over HTTP
//! ([`lambda_client`]) or in-process, straight into the service's router without TCP
//! ([`DurableService::in_process_client`]).

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region, StalledStreamProtectionConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use crate::service::DurableService;

fn config(endpoint_url: &str) -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint_url)
        .credentials_provider(Credentials::new("local", "local", None, None, "durapipe"))
}

/// A Lambda client for the service at `endpoint_url` (e.g. `http://127.0.0.1:9014`), with
/// static dummy credentials and region `us-east-1` (signatures are not checked).
pub fn lambda_client(endpoint_url: &str) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(config(endpoint_url).build())
}

/// An `HttpClient` that hands each request to the service's axum router in-process.
#[derive(Clone)]
struct InProcess {
    router: axum::Router,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

fn connector_error(e: impl std::error::Error + Send + Sync + 'static) -> ConnectorError {
    ConnectorError::other(Box::new(e), None)
}

impl HttpConnector for InProcess {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let router = self.router.clone();
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(connector_error)?;
            let (parts, body) = request.into_parts();
            let bytes = body.bytes().map(<[u8]>::to_vec).unwrap_or_default();
            let request = http::Request::from_parts(parts, axum::body::Body::from(bytes));
            let response = match tower::ServiceExt::oneshot(router, request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(connector_error)?;
            HttpResponse::try_from(http::Response::from_parts(parts, SdkBody::from(bytes)))
                .map_err(connector_error)
        })
    }
}

impl HttpClient for InProcess {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl DurableService {
    /// A Lambda client that calls this service in-process (no TCP): hand it to `durable_fn`.
    ///
    /// It is lean: the call never leaves the process and the service's router is reached
    /// directly (not through the stack's guarded front door), so requests are not signed (no
    /// credentials, the SDK's no-auth scheme) and the stalled-stream guard is off (the body is
    /// in memory). Retries stay on: a storage error (a full disk) is answered 500 and retried.
    pub fn in_process_client(&self) -> aws_sdk_lambda::Client {
        let client = InProcess {
            router: self.router(),
        };
        aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url("http://durable.local")
                .allow_no_auth()
                .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
                .http_client(client)
                .build(),
        )
    }
}
