//! `durapipe bench`: the full pipeline under load, measured from the outside.
//!
//! Starts `durapipe up` (this same binary) as a child process on a fresh data directory with
//! default durability, sends N messages through its SQS endpoint with C concurrent senders
//! (optionally capped at R messages per second), waits until the queue is drained, reads every
//! stored item back through the DynamoDB endpoint, and reports: end-to-end throughput (first send
//! to last `stored_at`), per-message latency from send to `stored_at` (p50/p90/p99), checkpoints
//! per second, database commits (each one fsync of the WAL under full durability) and writes, and
//! the stack's peak RSS (from its `/_durapipe/stats`).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::sync::Mutex;

use durapipe_local::stack::{template_defaults, ResourceNames};

use crate::args::{BenchArgs, Workload};
use crate::aws;

mod events;
mod sample;

/// Longest the bench waits for the stack to drain after the last send.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1800);

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.messages == 0 || args.concurrency == 0 {
        bail!("--messages and --concurrency must be at least 1");
    }
    if args.sample_every == 0 {
        bail!("--sample-every must be at least 1 second");
    }
    if args.workload == Workload::Events {
        events_load(&args)?;
    }
    let dir = tempfile::Builder::new()
        .prefix("durapipe-bench-")
        .tempdir()
        .context("cannot create a temporary data directory")?;
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--batching-window", &args.batching_window.to_string()])
        .args(["--batch-size", &args.batch_size.to_string()])
        .args(["--concurrency", &args.stack_concurrency.to_string()])
        .args(["--visibility-timeout", "900"])
        .args([
            "--execution-retention",
            &args.execution_retention.to_string(),
        ])
        .args(["--sdk-transport", &args.sdk_transport])
        .env("DURAPIPE_LOG", "warn")
        // The bench's stack is its own, on loopback, open: the user's credentials are not its.
        .env_remove("DURAPIPE_CREDENTIALS")
        .env_remove("DURAPIPE_CREDENTIALS_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start `durapipe up`")?;
    let stdout = child
        .stdout
        .take()
        .context("no stdout from `durapipe up`")?;
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = loop {
        let line = lines
            .next_line()
            .await?
            .context("`durapipe up` exited before it was ready")?;
        if let Some(url) = line
            .split(" on ")
            .nth(1)
            .filter(|_| line.starts_with("durapipe is up"))
        {
            break url.trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let result = match args.workload {
        Workload::Sqs => measure(&args, &endpoint).await,
        Workload::Events => events::measure(events_load(&args)?, &endpoint).await,
    };
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let report = result?;
    if args.json {
        println!("{report}");
    } else if args.workload == Workload::Events {
        events::print_summary(&report);
    } else {
        print_summary(&report);
    }
    Ok(())
}

/// The resources of the stack `bench` starts (the default environment).
fn names() -> ResourceNames {
    ResourceNames::for_env(template_defaults::ENVIRONMENT)
}

/// The events workload's load, from the flags (checked before the stack starts).
fn events_load(args: &BenchArgs) -> anyhow::Result<events::Load> {
    if args.duration == 0 {
        bail!("--duration must be at least 1 second");
    }
    Ok(events::Load {
        concurrency: args.concurrency,
        duration: Duration::from_secs(args.duration),
        warmup_units: args.warmup.unwrap_or(20 * args.concurrency),
    })
}

async fn measure(args: &BenchArgs, endpoint: &str) -> anyhow::Result<Value> {
    let config = aws::config(endpoint, None).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let url = aws::queue_url(&sqs, &names().queue).await?;
    let before = stats(endpoint).await?;
    let sent: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let backlog = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop_sampling = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = tokio::spawn(sample::run(
        sample::Sampler {
            sqs: sqs.clone(),
            url: url.clone(),
            endpoint: endpoint.to_owned(),
            every: Duration::from_secs(args.sample_every),
            out: args.samples.clone(),
            backlog: backlog.clone(),
            acked: next.clone(),
            total: args.messages,
            stop: stop_sampling.clone(),
        },
        started,
    ));
    let first_send_ms = now_ms();
    let mut senders = Vec::new();
    for _ in 0..args.concurrency {
        let (sqs, url, sent, next) = (sqs.clone(), url.clone(), sent.clone(), next.clone());
        let (total, rate, max_backlog) = (args.messages, args.rate, args.max_backlog);
        let backlog = backlog.clone();
        senders.push(tokio::spawn(async move {
            loop {
                let start = next.fetch_add(10, std::sync::atomic::Ordering::Relaxed);
                if start >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                let end = (start + 10).min(total);
                if let Some(rate) = rate {
                    // Pace the load: message `start` is due at start / rate seconds.
                    let due = started + Duration::from_secs_f64(start as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                if let Some(max) = max_backlog {
                    // The sampler refreshes the queue depth; wait while it is over the limit.
                    while backlog.load(std::sync::atomic::Ordering::Relaxed) > max {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                let entries = (start..end)
                    .map(|i| {
                        SendMessageBatchRequestEntry::builder()
                            .id(format!("m{i}"))
                            .message_body(format!(
                                r#"{{"data_source": "bench-{i}.csv", "processing_type": "bench"}}"#
                            ))
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let t = now_ms();
                let out = sqs
                    .send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .context("SendMessageBatch failed")?;
                if !out.failed.is_empty() {
                    bail!("{} messages were rejected", out.failed.len());
                }
                let mut map = sent.lock().await;
                for ok in out.successful {
                    map.insert(ok.message_id, t);
                }
            }
        }));
    }
    for s in senders {
        s.await??;
    }
    let send_secs = started.elapsed().as_secs_f64();
    drain(&sqs, &url).await?;
    let after = stats(endpoint).await?;
    stop_sampling.store(true, std::sync::atomic::Ordering::Relaxed);
    let samples = sampler.await.context("the sampler failed")??;
    let stored = stored_times(&ddb).await?;
    let sent = sent.lock().await;
    let mut latencies: Vec<f64> = Vec::with_capacity(sent.len());
    let mut last_stored = first_send_ms;
    for (id, sent_at) in sent.iter() {
        let stored_at = stored
            .get(id)
            .with_context(|| format!("message {id} was acknowledged but never stored"))?;
        latencies.push((stored_at - sent_at).max(0.0));
        last_stored = last_stored.max(*stored_at);
    }
    latencies.sort_by(f64::total_cmp);
    let wall_secs = ((last_stored - first_send_ms) / 1000.0).max(0.001);
    let delta = |key: &str| counter_delta(&before, &after, key);
    Ok(json!({
        "messages": sent.len(),
        "concurrency": args.concurrency,
        "rate": args.rate,
        "batching_window_s": args.batching_window,
        "batch_size": args.batch_size,
        "send_seconds": round(send_secs),
        "seconds": round(wall_secs),
        "messages_per_second": round(sent.len() as f64 / wall_secs),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p90_ms": round(percentile(&latencies, 0.90)),
        "p99_ms": round(percentile(&latencies, 0.99)),
        "max_ms": round(latencies.last().copied().unwrap_or(0.0)),
        "checkpoints": delta("checkpoints"),
        "checkpoints_per_second": round(delta("checkpoints") as f64 / wall_secs),
        "checkpoints_per_message": round(delta("checkpoints") as f64 / sent.len().max(1) as f64),
        "invocations": delta("invocations"),
        "invocations_per_message": round(delta("invocations") as f64 / sent.len().max(1) as f64),
        "cpu_ms_per_message": round(delta("cpu_ms") as f64 / sent.len().max(1) as f64),
        "db_commits": delta("db_commits"),
        "db_writes": delta("db_writes"),
        "fsyncs": delta("db_commits"),
        "peak_rss_mb": round(after["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0),
        "rss_mb_at_end": round(after["rss_kb"].as_f64().unwrap_or(0.0) / 1024.0),
        "db_mb_at_end": round(after["db_bytes"].as_f64().unwrap_or(0.0) / 1e6),
        "executions_stored_at_end": after["executions_stored"],
        "samples": samples,
    }))
}

fn print_summary(r: &Value) {
    println!(
        "durapipe bench: {} messages in {} s (sending took {} s)
  throughput   {} messages/s (first send to last stored item)
  latency      p50 {} ms, p90 {} ms, p99 {} ms, max {} ms (send to stored_at)
  checkpoints  {} ({} per second, {} per message)
  invocations  {} ({} per message); stack CPU {} ms per message
  database     {} commits (= WAL fsyncs) for {} writes
  peak RSS     {} MB (the stack process)",
        r["messages"],
        r["seconds"],
        r["send_seconds"],
        r["messages_per_second"],
        r["p50_ms"],
        r["p90_ms"],
        r["p99_ms"],
        r["max_ms"],
        r["checkpoints"],
        r["checkpoints_per_second"],
        r["checkpoints_per_message"],
        r["invocations"],
        r["invocations_per_message"],
        r["cpu_ms_per_message"],
        r["db_commits"],
        r["db_writes"],
        r["peak_rss_mb"],
    );
}

/// How much the stats counter `key` grew between two `/_durapipe/stats` reads.
fn counter_delta(before: &Value, after: &Value, key: &str) -> u64 {
    after[key]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(before[key].as_u64().unwrap_or(0))
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Waits until the queue holds no visible and no in-flight messages.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while sample::depth(sqs, url).await? != (0, 0) {
        if Instant::now() > deadline {
            bail!("the queue did not drain within {DRAIN_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// `stored_at` (epoch ms) of every item, by message id.
async fn stored_times(ddb: &aws_sdk_dynamodb::Client) -> anyhow::Result<HashMap<String, f64>> {
    let mut out = HashMap::new();
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(names().table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .context("Scan failed")?;
        for item in page.items.unwrap_or_default() {
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            if let (Some(id), Some(at)) = (text("message_id"), text("stored_at")) {
                let t = time::OffsetDateTime::parse(
                    &at,
                    &time::format_description::well_known::Rfc3339,
                )
                .with_context(|| format!("stored_at {at:?} is not RFC 3339"))?;
                out.insert(id, t.unix_timestamp_nanos() as f64 / 1e6);
            }
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(out),
        }
    }
}

/// `GET /_durapipe/stats` with a minimal HTTP/1.1 client (loopback only).
pub(crate) async fn stats(endpoint: &str) -> anyhow::Result<Value> {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .with_context(|| format!("cannot connect to {host}"))?;
    stream
        .write_all(
            format!("GET /_durapipe/stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .context("malformed stats response")?;
    serde_json::from_str(body).context("stats are not JSON")
}
