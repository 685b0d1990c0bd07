//! The chaos harness: send a planned mix of messages through the SQS endpoint of a real
//! `durapipe up` while stopping it (SIGKILL, or SIGTERM) at random moments and restarting it on
//! the same data directory; then let it settle and check the invariant from the endpoints.
//!
//! Settings come from the environment so a long run needs no code change:
//! `DURAPIPE_CHAOS_N` (messages), `DURAPIPE_CHAOS_K` (stops), `DURAPIPE_CHAOS_SEED`,
//! `DURAPIPE_CHAOS_RATE` (messages per second; default spreads the sends over the stops),
//! `DURAPIPE_CHAOS_KEEP` (keep the data directory and log).
#![allow(dead_code)]

pub mod invariant;
pub mod load;
pub mod plan;
pub mod process;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use invariant::{Endpoints, Verdict};
use load::Target;
use process::{TempDir, Up};

/// How the stack is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGKILL: a crash.
    Kill,
    /// SIGTERM: a clean shutdown, which must exit 0.
    Term,
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// Messages to send (each acknowledged once).
    pub n: usize,
    /// Stops (each followed by a restart on the same data directory).
    pub stops: usize,
    /// How.
    pub stop: Stop,
    /// Each stop comes this long (ms, uniform) after the previous start.
    pub stop_after_ms: (u64, u64),
    /// PRNG seed (printed, so a failing run can be repeated).
    pub seed: u64,
    /// Messages per second the sender aims at.
    pub rate: f64,
    /// `--visibility-timeout`, seconds.
    pub visibility_timeout: u64,
    /// `--durability`.
    pub durability: String,
    /// More `durapipe up` flags (`DURAPIPE_CHAOS_ARGS`, split on whitespace).
    pub extra_args: Vec<String>,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl ChaosConfig {
    /// Defaults `n` and `stops`, overridden by `DURAPIPE_CHAOS_*`.
    pub fn from_env(stop: Stop, n: usize, stops: usize) -> Self {
        let n = env_number("DURAPIPE_CHAOS_N").unwrap_or(n);
        let stops = env_number("DURAPIPE_CHAOS_K").unwrap_or(stops);
        let seed = env_number("DURAPIPE_CHAOS_SEED").unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        let stop_after_ms = (4_000, 12_000);
        let window_s =
            (stops.max(1) as f64) * ((stop_after_ms.0 + stop_after_ms.1) as f64 / 2000.0);
        let rate = env_number("DURAPIPE_CHAOS_RATE").unwrap_or(n as f64 / window_s);
        Self {
            n,
            stops,
            stop,
            stop_after_ms,
            seed,
            rate,
            visibility_timeout: env_number("DURAPIPE_CHAOS_VISIBILITY").unwrap_or(10),
            extra_args: std::env::var("DURAPIPE_CHAOS_ARGS")
                .unwrap_or_else(|_| "--batch-size 10 --concurrency 8".into())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            durability: std::env::var("DURAPIPE_CHAOS_DURABILITY")
                .unwrap_or_else(|_| "full".into()),
        }
    }
}

/// What a run did and found.
#[derive(Debug)]
pub struct Outcome {
    /// The invariant's verdict and counts.
    pub verdict: Verdict,
    /// Messages acknowledged when each stop came.
    pub acked_at_stop: Vec<usize>,
    /// Time to send every message.
    pub sending: Duration,
    /// Time from the last send (and stop) until the queue was empty and nothing RUNNING.
    pub settling: Duration,
    /// The whole run.
    pub total: Duration,
    /// The final SIGTERM's exit status was success.
    pub final_exit_ok: bool,
}

/// Runs one chaos experiment and returns its verdict (infrastructure failures are `Err`).
pub async fn run(config: &ChaosConfig) -> Result<Outcome, String> {
    let started = Instant::now();
    let dir = TempDir::new("chaos")?;
    let data = dir.0.join("data");
    let log = dir.0.join("durapipe.log");
    let args: Vec<String> = [
        "--environment",
        "dev",
        "--visibility-timeout",
        &config.visibility_timeout.to_string(),
        "--batching-window",
        "0",
        "--max-receive-count",
        "2",
        "--durability",
        &config.durability,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(config.extra_args.iter().cloned())
    .collect();
    let boot = Duration::from_secs(60);
    let mut rng = plan::Rng::new(config.seed);
    let planned = Arc::new(plan::plan(config.n, config.seed % 1_000_000));
    let bodies = Arc::new(planned.iter().map(|p| p.body.clone()).collect::<Vec<_>>());

    let mut up = Up::start(&data, &args, &log, boot).await?;
    let (publish, targets) = watch::channel(Some(target(&up.endpoint)));
    let progress = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sender = tokio::spawn(load::send_all(
        bodies,
        targets,
        config.rate,
        4,
        progress.clone(),
    ));

    let mut acked_at_stop = Vec::new();
    for _ in 0..config.stops {
        let wait = rng.between(config.stop_after_ms.0, config.stop_after_ms.1);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        publish.send_replace(None);
        acked_at_stop.push(progress.load(std::sync::atomic::Ordering::Relaxed));
        match config.stop {
            Stop::Kill => up.kill().await?,
            Stop::Term => {
                let status = up.terminate(Duration::from_secs(60)).await?;
                if !status.success() {
                    return Err(format!("SIGTERM: durapipe exited with {status}"));
                }
            }
        }
        up = Up::start(&data, &args, &log, boot).await?;
        publish.send_replace(Some(target(&up.endpoint)));
    }
    let ledger = sender
        .await
        .map_err(|e| format!("the sender task failed: {e}"))?;
    let sending = started.elapsed();

    let endpoints = Endpoints::new(&up.endpoint);
    // A liveness bound, not a speed assertion: generous, because a debug build on 2 busy cores
    // drains the backlog left at the last restart at only ~10-30 messages/s.
    let limit = Duration::from_secs(300) + Duration::from_millis(100 * config.n as u64);
    let settle = endpoints.settle(limit).await;
    let observed = endpoints.observe().await?;
    let mut verdict = invariant::check(&planned, &ledger, &observed);
    let settling = match settle {
        Ok(d) => d,
        Err(e) => {
            verdict.violations.push(e);
            limit
        }
    };
    let final_exit_ok = up
        .terminate(Duration::from_secs(60))
        .await
        .map(|s| s.success())
        .unwrap_or(false);
    if std::env::var_os("DURAPIPE_CHAOS_KEEP").is_some() {
        println!("chaos: data and log kept in {}", dir.0.display());
    }
    Ok(Outcome {
        verdict,
        acked_at_stop,
        sending,
        settling,
        total: started.elapsed(),
        final_exit_ok,
    })
}

fn target(endpoint: &str) -> Target {
    Target {
        sqs: load::sqs_client(endpoint),
        queue_url: format!("{endpoint}/000000000000/dev-data-processing-queue"),
    }
}

/// One line for the log: N, K and the counts.
pub fn summary(config: &ChaosConfig, outcome: &Outcome) -> String {
    format!(
        "chaos ({:?}): N={} K={} seed={} rate={:.0}/s visibility={}s | {} | acknowledged at each stop: {:?} | sending {:.1?}, settling {:.1?}, total {:.1?} | final SIGTERM exit ok: {}",
        config.stop,
        config.n,
        config.stops,
        config.seed,
        config.rate,
        config.visibility_timeout,
        outcome.verdict,
        outcome.acked_at_stop,
        outcome.sending,
        outcome.settling,
        outcome.total,
        outcome.final_exit_ok
    )
}
