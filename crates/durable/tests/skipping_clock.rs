//! The service on a `SkippingClock`: an hour of waits and a minute of retry backoff pass in well
//! under a second of wall time, in order, and the execution timeout is not skipped past while the
//! handler runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_durable_execution_sdk as durable;
use durapipe_durable::{
    durable_fn, lambda_client, Clock, Config, DurableService, ExecStatus, SkippingClock,
};
use durapipe_sqlite::{Database, Options};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_and_retries_cost_no_wall_time_and_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("db.sqlite"), &Options::default()).unwrap();
    let clock = SkippingClock::new();
    let config = Config {
        execution_timeout: Duration::from_secs(2 * 3600),
        ..common::fast_config()
    };
    let svc = DurableService::open(db, Arc::new(clock.clone()), config)
        .await
        .unwrap();
    let url = common::serve(&svc).await;
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    let f = durable_fn(
        move |_: Value, ctx: durable::DurableContext| {
            let attempts = seen.clone();
            async move {
                ctx.wait(Duration::from_secs(3600)).name("hour").await?;
                // Fails twice: the SDK's default strategy backs off (5 s, then 10 s, jittered).
                let n: u32 = ctx
                    .step(move |_| {
                        let attempts = attempts.clone();
                        async move {
                            let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                            if n < 3 {
                                return Err("not yet".into());
                            }
                            Ok(n)
                        }
                    })
                    .name("flaky")
                    .await?;
                ctx.wait(Duration::from_secs(60)).name("minute").await?;
                Ok(n)
            }
        },
        lambda_client(&url),
    )
    .unwrap();
    svc.register_durable("f", f);
    let wall = Instant::now();
    let start = clock.now_ms();
    let arn = svc.start("f", &json!({})).await.unwrap();
    let outcome = svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
    assert_eq!(outcome.status, ExecStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result.as_deref(), Some("3"));
    assert!(
        wall.elapsed() < Duration::from_secs(10),
        "{:?}",
        wall.elapsed()
    );
    assert!(
        clock.now_ms() - start >= 3_660_000,
        "the waits were skipped"
    );
    let ops = svc.operations(&arn).await.unwrap();
    let ends: Vec<(String, f64)> = ops
        .iter()
        .filter(|o| o["Type"] == "WAIT")
        .map(|o| {
            (
                o["Name"].as_str().unwrap().to_owned(),
                o["EndTimestamp"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ends.len(), 2);
    let hour = ends.iter().find(|(n, _)| n == "hour").unwrap().1;
    let minute = ends.iter().find(|(n, _)| n == "minute").unwrap().1;
    assert!(hour * 1000.0 >= (start + 3_600_000) as f64);
    assert!(
        minute - hour >= 60.0,
        "hour ended {hour}, minute ended {minute}"
    );
    assert!(clock.skipped().1 >= 2);
}
