//! The stack's front door, run before any handler: the `Host` check (DNS rebinding), the
//! browser check (`Origin` / `Sec-Fetch-Site`, cross-site request forgery), the body read (with
//! a size limit and a deadline) and, with credentials, AWS Signature V4 verification.
//! `GET /health` skips all of it (it reveals nothing; probes need it).
//!
//! Each refusal is answered in the wire format of the API the request was for
//! ([`Protocol`]) and logged at `warn` with its code, never with a secret.

mod credentials;
mod host;
mod origin;
mod refusal;
mod sigv4;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;

pub use credentials::{Credentials, CredentialsError};
pub use host::{host_allowed, parse_allow_host};
pub use origin::{
    allowed_origins, check as check_origin, parse_allow_origin, stack_origins, BrowserHeaders,
};
pub use refusal::{Protocol, Refusal};
pub use sigv4::{verify, AuthError, SignedRequest};

/// What the guard enforces.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// The bound listen address (its port makes the stack's own origins).
    pub addr: SocketAddr,
    /// `--allow-host` names (lower-case).
    pub allow_hosts: Vec<String>,
    /// `--allow-origin` values (lower-case).
    pub allow_origins: Vec<String>,
    /// With `Some`, every request needs a valid signature for these credentials.
    pub credentials: Option<Credentials>,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// The SQS and DynamoDB endpoints' body limit.
    pub aws_json_max_bytes: usize,
}

#[derive(Debug)]
struct Guard {
    config: GuardConfig,
    origins: Vec<String>,
}

/// `router` behind the guard: add every route (and the fallback) first, then call this.
pub fn protect(router: Router, config: GuardConfig) -> Router {
    let origins = allowed_origins(config.addr, &config.allow_origins);
    let guard = Arc::new(Guard { config, origins });
    router.layer(from_fn_with_state(guard, run))
}

async fn run(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/health" && matches!(*request.method(), Method::GET | Method::HEAD)
    {
        return next.run(request).await;
    }
    let protocol = Protocol::of(request.uri().path(), request.headers());
    match admit(&guard, request, protocol).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => {
            tracing::warn!(
                code = refusal.code(),
                reason = %refusal.message(),
                "request refused before any handler ran"
            );
            refusal.into_response(protocol)
        }
    }
}

/// Runs every check; returns the request with its body read, or why it is refused.
async fn admit(guard: &Guard, request: Request, protocol: Protocol) -> Result<Request, Refusal> {
    let config = &guard.config;
    let headers = request.headers();
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let host = text("host");
    if let Some(host) = host {
        if !host_allowed(host, config.addr, &config.allow_hosts) {
            return Err(Refusal::Forbidden(format!(
                "Host {host:?} is not accepted: use localhost, a loopback address or the listen \
                 address, or start the stack with --allow-host NAME"
            )));
        }
    }
    origin::check(
        origin::BrowserHeaders {
            origin: text("origin"),
            fetch_site: text("sec-fetch-site"),
            host,
        },
        &guard.origins,
    )
    .map_err(Refusal::Forbidden)?;

    let limit = match protocol {
        Protocol::Lambda => durapipe_durable::MAX_BODY_BYTES,
        Protocol::Sqs | Protocol::DynamoDb => config.aws_json_max_bytes,
        Protocol::Other => config
            .aws_json_max_bytes
            .max(durapipe_durable::MAX_BODY_BYTES),
    };
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Refusal::TooLarge(limit));
    }
    let bytes =
        match tokio::time::timeout(config.body_timeout, axum::body::to_bytes(body, limit)).await {
            Err(_) => return Err(Refusal::BodyTimeout(config.body_timeout.as_secs())),
            Ok(Err(_)) => return Err(Refusal::TooLarge(limit)),
            Ok(Ok(bytes)) => bytes,
        };
    if let Some(credentials) = &config.credentials {
        verify(
            &SignedRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query(),
                headers: &parts.headers,
                body: &bytes,
            },
            credentials,
            SystemTime::now(),
        )
        .map_err(Refusal::Auth)?;
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
