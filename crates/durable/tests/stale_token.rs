//! What SDK 0.1.0 does with a stale-token rejection, by wording. AWS rejects a stale checkpoint
//! token with `InvalidParameterValueException` "Invalid checkpoint token"; SDK 0.1.0 looks for
//! the prefix "Invalid Checkpoint Token", case-sensitively (aws-durable-execution-sdk-rust#66).
//! A proxy in front of the service rejects the first checkpoint of an execution with one wording
//! or the other; the execution's fate shows how the SDK classified it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use durapipe_durable::{durable_fn, lambda_client, DurableService, ExecStatus, SystemClock};
use durapipe_sqlite::{Database, Options};
use serde_json::{json, Value};

struct Inject {
    message: &'static str,
    done: AtomicBool,
}

async fn reject_first_checkpoint(
    State(inject): State<Arc<Inject>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == http::Method::POST
        && request.uri().path().ends_with("/checkpoint")
        && !inject.done.swap(true, Ordering::SeqCst)
    {
        let body = json!({ "Type": "User", "message": inject.message }).to_string();
        return (
            http::StatusCode::BAD_REQUEST,
            [
                ("x-amzn-errortype", "InvalidParameterValueException"),
                ("content-type", "application/json"),
            ],
            body,
        )
            .into_response();
    }
    next.run(request).await
}

/// Runs a one-step execution whose first checkpoint is rejected with `message`; returns its
/// status and the number of invocations.
async fn run_with_rejection(message: &'static str) -> (ExecStatus, u64, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("db.sqlite"), &Options::default()).unwrap();
    let svc = DurableService::open(db, Arc::new(SystemClock), common::fast_config())
        .await
        .unwrap();
    let inject = Arc::new(Inject {
        message,
        done: AtomicBool::new(false),
    });
    let app = svc.router().layer(axum::middleware::from_fn_with_state(
        inject,
        reject_first_checkpoint,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let f = durable_fn(
        |_: Value, ctx: durable::DurableContext| async move {
            let v: i64 = ctx.step(|_| async move { Ok(21 * 2) }).await?;
            Ok(v)
        },
        lambda_client(&url),
    )
    .unwrap();
    svc.register_durable("f", f);
    let arn = svc.start("f", &json!({})).await.unwrap();
    let outcome = svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
    let message = outcome.error.and_then(|e| e.error_message);
    (outcome.status, svc.invocations(), message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capitalised_wording_is_an_invocation_failure_the_service_retries() {
    let (status, invocations, _) = run_with_rejection("Invalid Checkpoint Token").await;
    assert_eq!(status, ExecStatus::Succeeded);
    assert_eq!(invocations, 2, "one failed invocation, then a fresh one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awss_lower_case_wording_fails_the_execution_on_sdk_0_1_0() {
    let (status, invocations, message) = run_with_rejection("Invalid checkpoint token").await;
    assert_eq!(status, ExecStatus::Failed, "{message:?}");
    assert_eq!(invocations, 1);
    assert!(
        message
            .as_deref()
            .unwrap_or_default()
            .contains("Invalid checkpoint token"),
        "{message:?}"
    );
}
