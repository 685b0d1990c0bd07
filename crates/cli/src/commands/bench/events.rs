//! `durapipe bench --workload events`: the side-by-side unit of work, without the peer.
//!
//! One unit is a 5-record SQS-style event (4 valid records and 1 invalid one) handed to the
//! orchestrator by a synchronous Lambda `Invoke`; the durable execution runs to its end (each
//! valid record through validate → transform → store) and the invoke answers the batch
//! response, which must name exactly the invalid record. `concurrency` workers run units back
//! to back (closed loop) for `duration` seconds after a warm-up; latency is the invoke's round
//! trip.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};

use super::{counter_delta, percentile, round, stats};

/// Records in one unit; record `seq % RECORDS` of unit `seq` is the invalid one.
const RECORDS: usize = 5;

/// What one run measures.
#[derive(Debug, Clone, Copy)]
pub(super) struct Load {
    pub concurrency: usize,
    pub duration: Duration,
    pub warmup_units: usize,
}

/// The event of unit `seq` of run `tag`, and the message id of its invalid record.
fn event(tag: &str, seq: usize) -> (Value, String) {
    let invalid = seq % RECORDS;
    let records: Vec<Value> = (0..RECORDS)
        .map(|i| {
            let body = if i == invalid {
                json!({"data_source": "", "processing_type": "bench"}).to_string()
            } else {
                json!({"data_source": format!("bench-{tag}-{seq}-{i}.csv"), "processing_type": "bench"})
                    .to_string()
            };
            json!({
                "messageId": format!("{tag}-{seq}-{i}"),
                "receiptHandle": format!("rh-{tag}-{seq}-{i}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "bench",
                    "ApproximateFirstReceiveTimestamp": "0"
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:dev-data-processing-queue",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    (
        json!({ "Records": records }),
        format!("{tag}-{seq}-{invalid}"),
    )
}

/// Runs one unit; its latency.
async fn unit(
    lambda: &aws_sdk_lambda::Client,
    orchestrator: &str,
    tag: &str,
    seq: usize,
) -> anyhow::Result<Duration> {
    let (event, invalid) = event(tag, seq);
    let started = Instant::now();
    let out = lambda
        .invoke()
        .function_name(orchestrator)
        .payload(Blob::new(serde_json::to_vec(&event)?))
        .send()
        .await
        .context("Invoke failed")?;
    let latency = started.elapsed();
    if let Some(error) = out.function_error() {
        bail!("the orchestrator failed: {error}");
    }
    let body: Value = serde_json::from_slice(out.payload().map(Blob::as_ref).unwrap_or(b"{}"))
        .context("the batch response is not JSON")?;
    let failures: Vec<&str> = body["batchItemFailures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if failures != [invalid.as_str()] {
        bail!("batchItemFailures {failures:?}, expected [{invalid:?}]");
    }
    Ok(latency)
}

/// `count` units on `concurrency` workers, as fast as they go; stops starting new units once
/// `deadline` passes. Returns every unit's latency.
async fn phase(
    lambda: &aws_sdk_lambda::Client,
    orchestrator: &str,
    tag: &str,
    concurrency: usize,
    count: usize,
    deadline: Option<Instant>,
) -> anyhow::Result<Vec<Duration>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (lambda, tag, next, failed) =
            (lambda.clone(), tag.to_owned(), next.clone(), failed.clone());
        let orchestrator = orchestrator.to_owned();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let late = deadline.is_some_and(|d| Instant::now() >= d);
                if seq >= count || late || failed.load(Ordering::Relaxed) {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                match unit(&lambda, &orchestrator, &tag, seq).await {
                    Ok(l) => latencies.push(l),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e.context(format!("unit {seq}")));
                    }
                }
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.context("a worker panicked")??);
    }
    Ok(all)
}

/// Measures the events workload against the stack at `endpoint`.
pub(super) async fn measure(load: Load, endpoint: &str) -> anyhow::Result<Value> {
    let config = crate::aws::config(endpoint, None).await?;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let orchestrator = super::names().functions.orchestrator;
    phase(
        &lambda,
        &orchestrator,
        "warm",
        load.concurrency,
        load.warmup_units,
        None,
    )
    .await?;
    let before = stats(endpoint).await?;
    let started = Instant::now();
    let mut latencies: Vec<f64> = phase(
        &lambda,
        &orchestrator,
        "run",
        load.concurrency,
        usize::MAX,
        Some(started + load.duration),
    )
    .await?
    .into_iter()
    .map(|d| d.as_secs_f64() * 1000.0)
    .collect();
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let after = stats(endpoint).await?;
    latencies.sort_by(f64::total_cmp);
    let units = latencies.len();
    let records = (units * RECORDS) as f64;
    let delta = |key: &str| counter_delta(&before, &after, key);
    Ok(json!({
        "workload": "events",
        "concurrency": load.concurrency,
        "units": units,
        "seconds": round(secs),
        "units_per_second": round(units as f64 / secs),
        "records_per_second": round(records / secs),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p90_ms": round(percentile(&latencies, 0.90)),
        "p99_ms": round(percentile(&latencies, 0.99)),
        "max_ms": round(latencies.last().copied().unwrap_or(0.0)),
        "checkpoints_per_record": round(delta("checkpoints") as f64 / records.max(1.0)),
        "invocations_per_unit": round(delta("invocations") as f64 / (units.max(1) as f64)),
        "cpu_ms_per_record": round(delta("cpu_ms") as f64 / records.max(1.0)),
        "fsyncs_per_record": round(delta("db_commits") as f64 / records.max(1.0)),
        "peak_rss_mb": round(after["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0),
    }))
}

/// Prints the summary of [`measure`]'s report.
pub(super) fn print_summary(r: &Value) {
    println!(
        "durapipe bench --workload events: c={} for {} s, {} units of {RECORDS} records
  throughput   {} records/s ({} units/s)
  latency      p50 {} ms, p90 {} ms, p99 {} ms, max {} ms (synchronous Invoke round trip)
  per record   {} checkpoints, {} fsyncs, {} ms of stack CPU; {} invocations per unit
  peak RSS     {} MB (the stack process)",
        r["concurrency"],
        r["seconds"],
        r["units"],
        r["records_per_second"],
        r["units_per_second"],
        r["p50_ms"],
        r["p90_ms"],
        r["p99_ms"],
        r["max_ms"],
        r["checkpoints_per_record"],
        r["fsyncs_per_record"],
        r["cpu_ms_per_record"],
        r["invocations_per_unit"],
        r["peak_rss_mb"],
    );
}
