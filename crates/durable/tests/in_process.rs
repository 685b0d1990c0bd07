//! The SDK reaches the service through the in-process `HttpClient` (no TCP listener at all):
//! checkpoints, state reads and the external APIs work as over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::DurableContext;
use durapipe_durable::{durable_fn, DurableService, ExecStatus, SystemClock};
use durapipe_sqlite::{Database, Options};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_run_without_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("db.sqlite"), &Options::default()).unwrap();
    let svc = DurableService::open(db, Arc::new(SystemClock), common::fast_config())
        .await
        .unwrap();
    let client = svc.in_process_client();
    svc.register_durable(
        "f",
        durable_fn(
            |v: Value, ctx: DurableContext| async move {
                let n = v["n"].as_i64().unwrap_or(0);
                let d = ctx
                    .step(move |_| async move { Ok(n * 2) })
                    .name("double")
                    .await?;
                ctx.wait(Duration::from_secs(1)).name("pause").await?;
                Ok(d + 1)
            },
            client.clone(),
        )
        .unwrap(),
    );
    let arn = svc.start("f", &json!({"n": 20})).await.unwrap();
    let o = svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(o.result.as_deref(), Some("41"));
    let got = client
        .get_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.result(), Some("41"));
    let err = client
        .checkpoint_durable_execution()
        .durable_execution_arn(&arn)
        .checkpoint_token("stale")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_invalid_parameter_value_exception());
}
