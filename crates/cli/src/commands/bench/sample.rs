//! The bench's sampler: every few seconds, the queue's depth (which also paces the senders under
//! `--max-backlog`) and the stack's own counters, optionally appended to a CSV file — the RSS
//! curve of a soak.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_sqs::types::QueueAttributeName;

/// The CSV header; one row per sample.
pub const HEADER: &str = "elapsed_s,sent,waiting,in_flight,rss_mb,peak_rss_mb,db_mb,\
                          executions_stored,operations_stored,checkpoints,db_commits,cpu_s";

/// What the sampler watches and where it writes.
pub struct Sampler {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
    pub endpoint: String,
    pub every: Duration,
    pub out: Option<PathBuf>,
    /// Updated with the queue's visible messages at every sample.
    pub backlog: Arc<AtomicU64>,
    /// Messages claimed by the senders so far (may run past `total`).
    pub acked: Arc<AtomicUsize>,
    pub total: usize,
    /// Set when the run is over: the sampler writes a last row and returns.
    pub stop: Arc<AtomicBool>,
}

/// Samples until `stop` is set; returns how many rows were written.
pub async fn run(s: Sampler, started: Instant) -> anyhow::Result<u64> {
    let mut file = match &s.out {
        Some(path) => {
            let mut f = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            writeln!(f, "{HEADER}")?;
            Some(f)
        }
        None => None,
    };
    let mut rows = 0;
    // Depth is polled often (it paces the senders); the stack's counters once per `every`.
    let mut next_row = Instant::now();
    loop {
        let last = s.stop.load(Ordering::Relaxed);
        let (waiting, in_flight) = depth(&s.sqs, &s.url).await.unwrap_or((0, 0));
        s.backlog.store(waiting, Ordering::Relaxed);
        if last || Instant::now() >= next_row {
            next_row += s.every;
            if let Some(f) = file.as_mut() {
                let st = super::stats(&s.endpoint).await?;
                let num = |k: &str| st[k].as_f64().unwrap_or(0.0);
                writeln!(
                    f,
                    "{:.1},{},{},{},{:.1},{:.1},{:.1},{},{},{},{},{:.1}",
                    started.elapsed().as_secs_f64(),
                    s.acked.load(Ordering::Relaxed).min(s.total),
                    waiting,
                    in_flight,
                    num("rss_kb") / 1024.0,
                    num("peak_rss_kb") / 1024.0,
                    num("db_bytes") / 1e6,
                    num("executions_stored"),
                    num("operations_stored"),
                    num("checkpoints"),
                    num("db_commits"),
                    num("cpu_ms") / 1000.0,
                )?;
                f.flush()?;
                rows += 1;
            }
        }
        if last {
            return Ok(rows);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Visible and in-flight messages of the queue.
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<(u64, u64)> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .context("GetQueueAttributes failed")?;
    let attrs = out.attributes.unwrap_or_default();
    let count = |name: QueueAttributeName| {
        attrs
            .get(&name)
            .and_then(|v| v.parse::<u64>().ok())
            .with_context(|| format!("GetQueueAttributes did not return {name}"))
    };
    Ok((
        count(QueueAttributeName::ApproximateNumberOfMessages)?,
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
    ))
}
