//! Retention keeps the service bounded: on the injected clock, a finished execution older than
//! `Config::retention` is deleted (rows and all: `GetDurableExecution` answers
//! `ResourceNotFoundException`), a running one and a recently finished one stay; and no
//! in-memory slot outlives the executions in use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use durable::DurableContext;
use durapipe_durable::{
    durable_fn, lambda_client, DurableService, ExecStatus, ManualClock, StartOptions,
};
use durapipe_sqlite::rusqlite::params;
use durapipe_sqlite::{Database, DbError, Options};
use serde_json::{json, Value};

const DAY: Duration = Duration::from_secs(86_400);

async fn quick(_: Value, ctx: DurableContext) -> Result<String, durable::BoxError> {
    let n: u32 = ctx.step(|_| async { Ok(7u32) }).name("seven").await?;
    Ok(format!("n={n}"))
}

async fn long_wait(_: Value, ctx: DurableContext) -> Result<&'static str, durable::BoxError> {
    ctx.wait(Duration::from_secs(20 * 86_400))
        .name("twenty-days")
        .await?;
    Ok("woke")
}

struct Stack {
    svc: DurableService,
    client: aws_sdk_lambda::Client,
    db: Database,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("db.sqlite"), &Options::default()).unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let config = durapipe_durable::Config {
        execution_timeout: Duration::from_secs(60),
        invocation_timeout: Duration::from_secs(10),
        ..durapipe_durable::Config::default()
    };
    assert_eq!(config.retention, 7 * DAY, "the default retention");
    let svc = DurableService::open(db.clone(), Arc::new(clock.clone()), config)
        .await
        .unwrap();
    let url = common::serve(&svc).await;
    let client = lambda_client(&url);
    svc.register_durable("quick", durable_fn(quick, client.clone()).unwrap());
    svc.register_durable("long", durable_fn(long_wait, client.clone()).unwrap());
    Stack {
        svc,
        client,
        db,
        clock,
        _dir: dir,
    }
}

/// Rows of `arn` in (dx_executions, dx_operations, dx_events); asserts that no table holds
/// rows of an execution that is gone.
async fn rows(db: &Database, arn: &str) -> (i64, i64, i64) {
    let arn = arn.to_owned();
    db.read(move |c| {
        let count = |table: &str, key: &str| {
            c.query_row(
                &format!(
                    "SELECT COUNT(*) FROM {table}
                     WHERE {key} IN (SELECT id FROM dx_executions WHERE arn = ?1)"
                ),
                params![arn],
                |r| r.get::<_, i64>(0),
            )
        };
        let orphans: i64 = c.query_row(
            "SELECT (SELECT COUNT(*) FROM dx_operations WHERE exec_id NOT IN (SELECT id FROM dx_executions))
                  + (SELECT COUNT(*) FROM dx_events WHERE exec_id NOT IN (SELECT id FROM dx_executions))
                  + (SELECT COUNT(*) FROM dx_inputs WHERE id NOT IN (SELECT id FROM dx_executions))",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(orphans, 0, "rows left behind by a deleted execution");
        let executions = count("dx_executions", "id")?;
        assert_eq!(count("dx_inputs", "id")?, executions, "one input per execution");
        Ok::<_, DbError>((
            executions,
            count("dx_operations", "exec_id")?,
            count("dx_events", "exec_id")?,
        ))
    })
    .await
    .unwrap()
}

async fn get_status(client: &aws_sdk_lambda::Client, arn: &str) -> Result<String, String> {
    match client
        .get_durable_execution()
        .durable_execution_arn(arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.status().as_str().to_owned()),
        Err(e) => Err(e
            .as_service_error()
            .and_then(ProvideErrorMetadata::code)
            .unwrap_or("no service error")
            .to_owned()),
    }
}

async fn finish(s: &Stack, function: &str, name: &str) -> String {
    let arn = s
        .svc
        .start_with(
            function,
            "{}".into(),
            StartOptions {
                name: Some(name.into()),
                ..StartOptions::default()
            },
        )
        .await
        .unwrap();
    let o = s.svc.wait(&arn, Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{name}: {o:?}");
    arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_executions_older_than_retention_are_deleted_by_the_clock_driven_sweep() {
    let s = stack().await;
    let old = finish(&s, "quick", "old").await;
    let (executions, operations, events) = rows(&s.db, &old).await;
    assert!(executions == 1 && operations >= 2 && events >= 2, "stored");

    // A running execution: waits 20 days, with a 30-day execution timeout.
    let running = s
        .svc
        .start_with(
            "long",
            "{}".into(),
            StartOptions {
                name: Some("running".into()),
                timeout: Some(30 * DAY),
                ..StartOptions::default()
            },
        )
        .await
        .unwrap();
    common::wait_op_started(&s.svc, &running, Duration::from_secs(20)).await;

    // Nothing is old enough yet.
    assert_eq!(s.svc.sweep_retention().await.unwrap(), 0);
    s.clock.advance(6 * DAY);
    assert_eq!(s.svc.sweep_retention().await.unwrap(), 0, "6 days < 7");
    assert_eq!(
        get_status(&s.client, &old).await.as_deref(),
        Ok("SUCCEEDED")
    );

    // 8 days after its end: the periodic sweep (woken by the clock) deletes it.
    s.clock.advance(2 * DAY);
    let recent = finish(&s, "quick", "recent").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rows(&s.db, &old).await != (0, 0, 0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep never deleted the old execution: {:?}",
            rows(&s.db, &old).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        get_status(&s.client, &old).await,
        Err("ResourceNotFoundException".to_owned())
    );

    // The running one and the recent one stay, also through an explicit sweep.
    assert_eq!(s.svc.sweep_retention().await.unwrap(), 0);
    assert_eq!(
        get_status(&s.client, &running).await.as_deref(),
        Ok("RUNNING")
    );
    assert_eq!(
        get_status(&s.client, &recent).await.as_deref(),
        Ok("SUCCEEDED")
    );
    assert_eq!(rows(&s.db, &recent).await.0, 1);

    // The name of a deleted execution is free again (AWS: unique within the retention).
    let again = finish(&s, "quick", "old").await;
    assert_ne!(again, old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_in_memory_slot_outlives_its_finished_execution() {
    let s = stack().await;
    for i in 0..20 {
        finish(&s, "quick", &format!("e{i}")).await;
        let arn = s.svc.start("quick", &json!({ "i": i })).await.unwrap();
        s.svc.outcome(&arn).await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if s.svc.cached_executions() == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} slots left after 40 finished executions",
            s.svc.cached_executions()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
