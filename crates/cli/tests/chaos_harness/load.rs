//! The sender: `SendMessageBatch` in chunks of 10 through whichever stack is up, paced, with the
//! SDK's own retries off so every attempt is accounted for.
//!
//! An entry listed as `Successful` is *acknowledged* (its message id is recorded). A request whose
//! response never arrived (connection reset by a kill, refused while the stack is down, timeout)
//! is *uncertain*: its messages may or may not exist. Its bodies are recorded as uncertain and the
//! chunk is sent again until acknowledged. An entry listed as `Failed` was not enqueued and is
//! sent again too.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tokio::sync::watch;
use tokio::time::Instant;

/// A stack the sender can talk to.
#[derive(Clone, Debug)]
pub struct Target {
    /// SQS client for this stack's endpoint.
    pub sqs: aws_sdk_sqs::Client,
    /// The data-processing queue's URL on this endpoint.
    pub queue_url: String,
}

/// What the sender observed.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Acknowledged message id → planned index.
    pub acked: BTreeMap<String, usize>,
    /// Planned indexes of every send attempt whose outcome is unknown (one entry per attempt).
    pub uncertain: Vec<usize>,
    /// Requests that failed without a response.
    pub failed_requests: usize,
    /// Entries the service listed as `Failed` (not enqueued; sent again).
    pub rejected_entries: usize,
}

/// SQS client for `endpoint`: local credentials, no SDK retries, bounded time per call.
pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{retry::RetryConfig, timeout::TimeoutConfig};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "chaos", "chaos", None, None, "chaos",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// Sends every planned body once (acknowledged), `lanes` requests at a time, starting chunk `j`
/// no earlier than `j * 10 / rate` seconds after the start. Waits while no stack is up.
pub async fn send_all(
    bodies: Arc<Vec<String>>,
    target: watch::Receiver<Option<Target>>,
    rate_per_sec: f64,
    lanes: usize,
    progress: Arc<AtomicUsize>,
) -> Ledger {
    let chunks: VecDeque<Vec<usize>> = (0..bodies.len())
        .collect::<Vec<_>>()
        .chunks(10)
        .map(<[usize]>::to_vec)
        .collect();
    let shared = Arc::new(Shared {
        pending: Mutex::new(chunks),
        ledger: Mutex::new(Ledger::default()),
        progress,
        started: Mutex::new(0),
        in_flight: Mutex::new(0),
    });
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..lanes.max(1) {
        let (shared, bodies, target) = (shared.clone(), bodies.clone(), target.clone());
        tasks.spawn(lane(shared, bodies, target, start, rate_per_sec));
    }
    while tasks.join_next().await.is_some() {}
    shared
        .ledger
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}

struct Shared {
    pending: Mutex<VecDeque<Vec<usize>>>,
    ledger: Mutex<Ledger>,
    /// Acknowledged messages so far.
    progress: Arc<AtomicUsize>,
    /// Chunks started so far (for pacing).
    started: Mutex<u64>,
    /// Chunks taken but not settled: a lane with nothing pending waits for them (a failed one
    /// comes back).
    in_flight: Mutex<usize>,
}

async fn lane(
    shared: Arc<Shared>,
    bodies: Arc<Vec<String>>,
    mut target: watch::Receiver<Option<Target>>,
    start: Instant,
    rate: f64,
) {
    loop {
        let chunk = {
            let Ok(mut pending) = shared.pending.lock() else {
                return;
            };
            let chunk = pending.pop_front();
            if chunk.is_some() {
                if let Ok(mut n) = shared.in_flight.lock() {
                    *n += 1;
                }
            }
            chunk
        };
        let Some(chunk) = chunk else {
            let busy = shared.in_flight.lock().map(|n| *n > 0).unwrap_or(false);
            if !busy {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let nth = shared
            .started
            .lock()
            .map(|mut s| {
                *s += 1;
                *s - 1
            })
            .unwrap_or(0);
        if rate > 0.0 {
            let due = start + Duration::from_secs_f64(nth as f64 * 10.0 / rate);
            tokio::time::sleep_until(due).await;
        }
        let mut remaining = chunk;
        while !remaining.is_empty() {
            let Ok(current) = target.wait_for(Option::is_some).await.map(|t| t.clone()) else {
                return;
            };
            let Some(current) = current else { continue };
            remaining = send_chunk(&shared, &bodies, &current, remaining).await;
            if !remaining.is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if let Ok(mut n) = shared.in_flight.lock() {
            *n -= 1;
        }
    }
}

/// One `SendMessageBatch`; returns the indexes still to send.
async fn send_chunk(
    shared: &Shared,
    bodies: &[String],
    target: &Target,
    chunk: Vec<usize>,
) -> Vec<usize> {
    let entries: Vec<SendMessageBatchRequestEntry> = chunk
        .iter()
        .enumerate()
        .filter_map(|(slot, &i)| {
            SendMessageBatchRequestEntry::builder()
                .id(slot.to_string())
                .message_body(bodies.get(i)?.clone())
                .build()
                .ok()
        })
        .collect();
    let sent = target
        .sqs
        .send_message_batch()
        .queue_url(&target.queue_url)
        .set_entries(Some(entries))
        .send()
        .await;
    let Ok(mut ledger) = shared.ledger.lock() else {
        return chunk;
    };
    match sent {
        Ok(out) => {
            let mut retry = Vec::new();
            for ok in out.successful() {
                if let Some(&i) = ok.id().parse::<usize>().ok().and_then(|s| chunk.get(s)) {
                    ledger.acked.insert(ok.message_id().to_owned(), i);
                    shared.progress.fetch_add(1, Ordering::Relaxed);
                }
            }
            for failed in out.failed() {
                if let Some(&i) = failed.id().parse::<usize>().ok().and_then(|s| chunk.get(s)) {
                    ledger.rejected_entries += 1;
                    retry.push(i);
                }
            }
            retry
        }
        Err(_) => {
            ledger.failed_requests += 1;
            ledger.uncertain.extend(chunk.iter().copied());
            chunk
        }
    }
}
