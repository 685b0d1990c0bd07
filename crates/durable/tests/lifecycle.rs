//! Service lifecycle: time is injected (a one-hour wait completes when a manual clock advances,
//! without sleeping), graceful shutdown lets in-flight invocations finish and stops starting
//! new ones, and a new service on the same database resumes what was left RUNNING.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::DurableContext;
use durapipe_durable::{durable_fn, lambda_client, DurableService, ExecStatus, ManualClock};
use durapipe_sqlite::{Database, Options};
use serde_json::{json, Value};

async fn serve(svc: &DurableService) -> aws_sdk_lambda::Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = svc.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    lambda_client(&url)
}

fn config() -> durapipe_durable::Config {
    durapipe_durable::Config {
        execution_timeout: Duration::from_secs(86_400),
        ..common::fast_config()
    }
}

async fn hour_wait(_: Value, ctx: DurableContext) -> Result<&'static str, durable::BoxError> {
    ctx.wait(Duration::from_secs(3600)).name("hour").await?;
    Ok("done")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_clock_shutdown_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let clock = ManualClock::new(1_700_000_000_000);
    let db = Database::open(&path, &Options::default()).unwrap();
    let svc = DurableService::open(db, Arc::new(clock.clone()), config())
        .await
        .unwrap();
    let client = serve(&svc).await;
    svc.register_durable("hour", durable_fn(hour_wait, client).unwrap());

    let arn = svc.start("hour", &json!({})).await.unwrap();
    common::wait_op_started(&svc, &arn, Duration::from_secs(10)).await;
    clock.advance(Duration::from_secs(3599));
    let o = svc.wait(&arn, Duration::from_millis(300)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Running, "fired early");
    clock.advance(Duration::from_secs(1));
    let o = svc.wait(&arn, Duration::from_secs(10)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded);
    assert_eq!(o.result.as_deref(), Some("\"done\""));

    // shutdown: a started execution is left RUNNING (no invocation starts after shutdown) ...
    svc.shutdown(Duration::from_secs(5)).await;
    assert!(svc.is_stopping());
    assert_eq!(svc.in_flight(), 0);
    let arn2 = svc.start("hour", &json!({"second": true})).await.unwrap();
    assert_eq!(
        svc.outcome(&arn2).await.unwrap().status,
        ExecStatus::Running
    );

    // ... and a new service on the same database resumes it
    let db = Database::open(&path, &Options::default()).unwrap();
    let svc2 = DurableService::open(db, Arc::new(clock.clone()), config())
        .await
        .unwrap();
    let client2 = serve(&svc2).await;
    svc2.register_durable("hour", durable_fn(hour_wait, client2).unwrap());
    assert_eq!(svc2.recover().await.unwrap(), 1);
    // advance only once the resumed invocation has checkpointed its WAIT START
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !svc2
        .operations(&arn2)
        .await
        .unwrap()
        .iter()
        .any(|o| o["Type"] == "WAIT")
    {
        assert!(std::time::Instant::now() < deadline, "never resumed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    clock.advance(Duration::from_secs(3600));
    let o = svc2.wait(&arn2, Duration::from_secs(10)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
}
