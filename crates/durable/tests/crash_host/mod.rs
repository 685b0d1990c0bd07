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

/// A step named `name` that logs its name (one line a run) and returns `value`.
async fn logged_step<T>(
    ctx: &DurableContext,
    dir: &Path,
    name: &'static str,
    value: T,
) -> Result<T, durable::OperationError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let dir = dir.to_path_buf();
    ctx.step(move |_| async move {
        log(&dir, name);
        Ok(value)
    })
    .name(name)
    .await
}

/// Registers the test handlers on `svc`, each given the data dir (for [`log`]).
struct Registrar<'a> {
    svc: &'a DurableService,
    client: &'a aws_sdk_lambda::Client,
    dir: &'a Path,
}

impl Registrar<'_> {
    /// Registers the durable function `name` running `body` with the data dir, the input and
    /// the context.
    fn durable<E, O, F, Fut>(&self, name: &str, body: F) -> anyhow::Result<()>
    where
        F: Fn(PathBuf, E, DurableContext) -> Fut + Send + Sync + 'static,
        E: for<'de> serde::Deserialize<'de> + Send + 'static,
        Fut: std::future::Future<Output = Result<O, durable::BoxError>> + Send + 'static,
        O: serde::Serialize + Send + 'static,
    {
        let dir = self.dir.to_path_buf();
        let handler = move |input: E, ctx: DurableContext| body(dir.clone(), input, ctx);
        self.svc
            .register_durable(name, durable_fn(handler, self.client.clone())?);
        Ok(())
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

    let register = Registrar {
        svc: &svc,
        client: &client,
        dir: &dir,
    };
    // (a) killed in the middle of "slow"
    register.durable("crash-step", |d, _: Value, ctx| async move {
        logged_step(&ctx, &d, "first", 1).await?;
        let v = ctx
            .step(move |_| async move {
                log(&d, "slow-start");
                tokio::time::sleep(Duration::from_secs(3)).await;
                Ok(41)
            })
            .name("slow")
            .await?;
        Ok(v + 1)
    })?;
    // (b) killed during a 3-second wait
    register.durable("crash-wait", |d, _: Value, ctx| async move {
        logged_step(&ctx, &d, "before", ()).await?;
        ctx.wait(Duration::from_secs(3)).name("nap").await?;
        logged_step(&ctx, &d, "after", ()).await?;
        Ok("woke")
    })?;
    // (c) killed with a callback open
    register.durable("crash-callback", |d, _: Value, ctx| async move {
        let cb = ctx.create_callback::<Value>().name("approval").await?;
        log(&d, &format!("cb {}", cb.id()));
        let v = cb.result().await?;
        Ok(json!({ "approved": v }))
    })?;
    // (d) killed with a chained invoke in flight (the child is in a wait)
    register.durable("crash-child", |d, v: Value, ctx| async move {
        let n = v["n"].as_i64().unwrap_or(0);
        logged_step(&ctx, &d, "child-step", ()).await?;
        ctx.wait(Duration::from_secs(2)).name("child-nap").await?;
        Ok(n * 2)
    })?;
    register.durable("crash-parent", |d, _: Value, ctx| async move {
        logged_step(&ctx, &d, "parent-first", ()).await?;
        let r: i64 = ctx
            .invoke("crash-child", json!({"n": 21}))
            .name("child")
            .await?;
        Ok(r)
    })?;
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
