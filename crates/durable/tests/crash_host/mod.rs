//! The crash-recovery host: runs the durable service with a fixed set of test handlers on
//! 127.0.0.1:0 and the database `<data-dir>/db.sqlite`, in a child process the test kills.
//! It writes its endpoint URL to `<data-dir>/url` once serving, and handlers append one line per
//! step-body run to `<data-dir>/log` (so a test can count re-runs across `kill -9`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable::DurableContext;
use durapipe_durable::{durable_fn, lambda_client, plain_fn, Config, DurableService, SystemClock};
use serde_json::{json, Value};

fn log(dir: &Path, line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("log"))
    {
        let _ = writeln!(f, "{line}");
        let _ = f.sync_all();
    }
}

/// Serves until killed.
pub async fn run(dir: PathBuf) -> anyhow::Result<()> {
    let db = durapipe_sqlite::Database::open(&dir.join("db.sqlite"), &Default::default())?;
    let mut config = Config::default();
    config.limits.backoff_base_ms = 100;
    let svc = DurableService::open(db, Arc::new(SystemClock), config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let client = lambda_client(&url);

    // (a) killed in the middle of "slow"
    let d = dir.clone();
    svc.register_durable(
        "crash-step",
        durable_fn(
            move |_: Value, ctx: DurableContext| {
                let (d1, d2) = (d.clone(), d.clone());
                async move {
                    ctx.step(move |_| async move {
                        log(&d1, "first");
                        Ok(1)
                    })
                    .name("first")
                    .await?;
                    let v = ctx
                        .step(move |_| async move {
                            log(&d2, "slow-start");
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            Ok(41)
                        })
                        .name("slow")
                        .await?;
                    Ok(v + 1)
                }
            },
            client.clone(),
        )?,
    );
    // (b) killed during a 3-second wait
    let d = dir.clone();
    svc.register_durable(
        "crash-wait",
        durable_fn(
            move |_: Value, ctx: DurableContext| {
                let (d1, d2) = (d.clone(), d.clone());
                async move {
                    ctx.step(move |_| async move {
                        log(&d1, "before");
                        Ok(())
                    })
                    .name("before")
                    .await?;
                    ctx.wait(Duration::from_secs(3)).name("nap").await?;
                    ctx.step(move |_| async move {
                        log(&d2, "after");
                        Ok(())
                    })
                    .name("after")
                    .await?;
                    Ok("woke")
                }
            },
            client.clone(),
        )?,
    );
    // (c) killed with a callback open
    let d = dir.clone();
    svc.register_durable(
        "crash-callback",
        durable_fn(
            move |_: Value, ctx: DurableContext| {
                let d = d.clone();
                async move {
                    let cb = ctx.create_callback::<Value>().name("approval").await?;
                    log(&d, &format!("cb {}", cb.id()));
                    let v = cb.result().await?;
                    Ok(json!({ "approved": v }))
                }
            },
            client.clone(),
        )?,
    );
    // (d) killed with a chained invoke in flight (the child is in a wait)
    let d = dir.clone();
    svc.register_durable(
        "crash-child",
        durable_fn(
            move |v: Value, ctx: DurableContext| {
                let d = d.clone();
                async move {
                    let n = v["n"].as_i64().unwrap_or(0);
                    ctx.step(move |_| async move {
                        log(&d, "child-step");
                        Ok(())
                    })
                    .name("child-step")
                    .await?;
                    ctx.wait(Duration::from_secs(2)).name("child-nap").await?;
                    Ok(n * 2)
                }
            },
            client.clone(),
        )?,
    );
    let d = dir.clone();
    svc.register_durable(
        "crash-parent",
        durable_fn(
            move |_: Value, ctx: DurableContext| {
                let d = d.clone();
                async move {
                    ctx.step(move |_| async move {
                        log(&d, "parent-first");
                        Ok(())
                    })
                    .name("parent-first")
                    .await?;
                    let r: i64 = ctx
                        .invoke("crash-child", json!({"n": 21}))
                        .name("child")
                        .await?;
                    Ok(r)
                }
            },
            client.clone(),
        )?,
    );
    svc.register_plain("noop", plain_fn(|v: Value| async move { Ok(v) }));

    let resumed = svc.recover().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(resumed, "recovered");
    let router = svc.router();
    let url_tmp = dir.join("url.tmp");
    std::fs::write(&url_tmp, &url)?;
    std::fs::rename(&url_tmp, dir.join("url"))?;
    axum::serve(listener, router).await?;
    Ok(())
}
