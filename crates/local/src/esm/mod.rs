//! Lambda's SQS event source mapping, locally: poll batches from a queue, hand each to a
//! [`BatchTarget`], then delete or return its messages by the partial batch response rules.
//!
//! Per worker (there are [`EsmConfig::concurrency`] of them, so as many batches run at once):
//! 1. receive up to [`EsmConfig::batch_size`] messages, waiting at most
//!    [`EsmConfig::batching_window`] after the first one for the batch to fill; the received
//!    messages are hidden for the visibility timeout and their receive count goes up. A message
//!    that would make the event larger than [`EsmConfig::max_event_bytes`] is held for the
//!    worker's next batch (as Lambda caps a batch at its invocation payload limit);
//! 2. invoke the target with the AWS SQS event (`{"Records": [...]}`), at most
//!    [`EsmConfig::invoke_timeout`];
//! 3. apply [`evaluate`]: delete the messages that succeeded; the others keep their
//!    visibility timeout (they come back when it ends) and get the failure recorded as their
//!    last error. The queue's redrive policy moves a message received more than
//!    `maxReceiveCount` times to the dead-letter queue on its next receive.
//!
//! [`EventSourceMapping::shutdown`] stops polling and waits for in-flight batches to finish.

mod event;
mod response;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument as _;

pub use event::sqs_event;
pub use response::{evaluate, BatchResult, Disposition};

use crate::sqs::{Queues, ReceiveOptions, ReceivedMessage, SqsError};

/// The last error recorded on a message its function listed in `batchItemFailures`.
pub const ITEM_FAILURE_ERROR: &str =
    "BatchItemFailure: the function reported this message in batchItemFailures";

/// Where batches go: the lead wires this to "start an orchestrator execution and await it".
pub trait BatchTarget: Send + Sync + 'static {
    /// Processes one SQS event and reports the function's outcome.
    fn invoke(&self, event: Value) -> impl Future<Output = BatchResult> + Send;
}

/// Settings of an event source mapping.
#[derive(Debug, Clone)]
pub struct EsmConfig {
    /// The queue to poll.
    pub queue: String,
    /// Most messages per batch (≥ 1; AWS allows up to 10 without a batching window).
    pub batch_size: usize,
    /// How long to wait, after a batch's first message, for it to fill
    /// (`MaximumBatchingWindowInSeconds`).
    pub batching_window: Duration,
    /// How long received messages stay hidden; the queue's `VisibilityTimeout` if `None`.
    pub visibility_timeout: Option<Duration>,
    /// Batches in flight at once (pollers).
    pub concurrency: usize,
    /// The longest a target may run; a longer run counts as [`BatchResult::TimedOut`].
    pub invoke_timeout: Option<Duration>,
    /// The longest single long poll; bounds how long [`EventSourceMapping::shutdown`] waits
    /// for an idle poller.
    pub poll_interval: Duration,
    /// The largest event (`{"Records": [...]}` as JSON text) handed to the target, in bytes, or
    /// `None` for no limit. Messages that would make a batch larger are held (still in flight)
    /// and start the worker's next batch; a single message larger than this is delivered alone.
    pub max_event_bytes: Option<usize>,
}

impl EsmConfig {
    /// A mapping of `queue` with AWS's defaults (batch size 10, no batching window) and two
    /// concurrent batches.
    pub fn new(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            batch_size: 10,
            batching_window: Duration::ZERO,
            visibility_timeout: None,
            concurrency: 2,
            invoke_timeout: None,
            poll_interval: Duration::from_secs(1),
            max_event_bytes: None,
        }
    }
}

/// Counters of a running mapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EsmStats {
    /// Batches handed to the target.
    pub batches: u64,
    /// Messages deleted after success.
    pub succeeded: u64,
    /// Messages returned to the queue after a failure.
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
}

/// Reads a running mapping's counters; cheap to clone.
#[derive(Debug, Clone)]
pub struct EsmStatsHandle(Arc<Counters>);

impl EsmStatsHandle {
    /// Counters so far.
    pub fn stats(&self) -> EsmStats {
        EsmStats {
            batches: self.0.batches.load(Ordering::Relaxed),
            succeeded: self.0.succeeded.load(Ordering::Relaxed),
            failed: self.0.failed.load(Ordering::Relaxed),
        }
    }
}

/// A running event source mapping.
#[derive(Debug)]
pub struct EventSourceMapping {
    stop: watch::Sender<bool>,
    workers: JoinSet<()>,
    counters: Arc<Counters>,
}

impl EventSourceMapping {
    /// Starts polling `config.queue` and delivering batches to `target`.
    pub fn start<T: BatchTarget>(queues: Queues, target: Arc<T>, config: EsmConfig) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let mut config = config;
        config.batch_size = config.batch_size.max(1);
        config.poll_interval = config
            .poll_interval
            .clamp(Duration::from_millis(10), Duration::from_secs(20));
        let config = Arc::new(config);
        let mut workers = JoinSet::new();
        for worker in 0..config.concurrency.max(1) {
            let poller = Poller {
                worker,
                queues: queues.clone(),
                target: target.clone(),
                config: config.clone(),
                stop: stop_rx.clone(),
                counters: counters.clone(),
                held: Vec::new(),
            };
            workers.spawn(poller.run());
        }
        tracing::info!(queue = %config.queue, concurrency = config.concurrency, batch_size = config.batch_size, "event source mapping started");
        Self {
            stop,
            workers,
            counters,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> EsmStats {
        self.stats_handle().stats()
    }

    /// A handle that reads the counters while the mapping runs (for metrics).
    pub fn stats_handle(&self) -> EsmStatsHandle {
        EsmStatsHandle(self.counters.clone())
    }

    /// Stops polling and waits until every in-flight batch has been invoked and settled.
    pub async fn shutdown(mut self) -> EsmStats {
        let _ = self.stop.send(true);
        while let Some(joined) = self.workers.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "event source mapping worker ended abnormally");
            }
        }
        self.stats()
    }
}

struct Poller<T> {
    worker: usize,
    queues: Queues,
    target: Arc<T>,
    config: Arc<EsmConfig>,
    stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
    /// Received messages that did not fit into the last batch ([`EsmConfig::max_event_bytes`]);
    /// they start the next one. Left in flight at shutdown, the next start requeues them.
    held: Vec<ReceivedMessage>,
}

impl<T: BatchTarget> Poller<T> {
    async fn run(mut self) {
        while !*self.stop.borrow() {
            match self.collect().await {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => self.process(batch).await,
                Err(e) => {
                    tracing::warn!(worker = self.worker, queue = %self.config.queue, error = %e, "event source mapping cannot poll");
                    let _ =
                        tokio::time::timeout(self.config.poll_interval, self.stop.changed()).await;
                }
            }
        }
    }

    /// Receives one batch: full, or the batching window closed, or nothing within one poll.
    async fn collect(&mut self) -> Result<Vec<ReceivedMessage>, SqsError> {
        let config = self.config.clone();
        let mut batch: Vec<ReceivedMessage> = std::mem::take(&mut self.held);
        let mut window_end: Option<Instant> =
            (!batch.is_empty()).then(|| Instant::now() + config.batching_window);
        loop {
            let wait = match window_end {
                None => config.poll_interval,
                Some(end) => end
                    .saturating_duration_since(Instant::now())
                    .min(config.poll_interval),
            };
            let options = ReceiveOptions {
                max_messages: (config.batch_size - batch.len()).min(10),
                visibility_timeout: config.visibility_timeout,
                wait,
            };
            let got = match self.queues.receive(&config.queue, &options).await {
                Ok(got) => got,
                // What was received already is in flight: deliver it rather than drop it.
                Err(_) if !batch.is_empty() => return Ok(batch),
                Err(e) => return Err(e),
            };
            if !got.is_empty() && window_end.is_none() {
                window_end = Some(Instant::now() + config.batching_window);
            }
            for message in got {
                // A message that came back while the window was open (visibility timeout
                // shorter than the window) is the same message: keep only its newest receipt.
                match batch
                    .iter_mut()
                    .find(|m| m.message_id == message.message_id)
                {
                    Some(earlier) => *earlier = message,
                    None => batch.push(message),
                }
            }
            if self.hold_what_does_not_fit(&mut batch) {
                return Ok(batch);
            }
            let window_closed = window_end.is_some_and(|end| Instant::now() >= end);
            if batch.len() >= config.batch_size
                || window_closed
                || batch.is_empty()
                || *self.stop.borrow()
            {
                return Ok(batch);
            }
        }
    }

    /// Moves the last messages of `batch` to [`Poller::held`] while its event is larger than
    /// [`EsmConfig::max_event_bytes`] (keeping at least one); true if any was moved, i.e. the
    /// batch is as full as it can get.
    fn hold_what_does_not_fit(&mut self, batch: &mut Vec<ReceivedMessage>) -> bool {
        let Some(limit) = self.config.max_event_bytes else {
            return false;
        };
        while batch.len() > 1 && sqs_event(&self.config.queue, batch).to_string().len() > limit {
            if let Some(last) = batch.pop() {
                self.held.insert(0, last);
            }
        }
        !self.held.is_empty()
    }

    /// Processes one batch inside a span carrying the invocation's `requestId` (as Lambda logs
    /// it), so every line logged for the batch can be told apart.
    async fn process(&self, batch: Vec<ReceivedMessage>) {
        let span = tracing::info_span!(
            "batch",
            requestId = %uuid::Uuid::new_v4(),
            worker = self.worker,
        );
        self.process_batch(batch).instrument(span).await;
    }

    async fn process_batch(&self, batch: Vec<ReceivedMessage>) {
        let queue = &self.config.queue;
        let event = sqs_event(queue, &batch);
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        tracing::info!(queue = %queue, messages = batch.len(), "invoking batch");
        let invocation = self.target.invoke(event);
        let result = match self.config.invoke_timeout {
            Some(limit) => tokio::time::timeout(limit, invocation)
                .await
                .unwrap_or(BatchResult::TimedOut),
            None => invocation.await,
        };
        let ids: Vec<&str> = batch.iter().map(|m| m.message_id.as_str()).collect();
        let disposition = evaluate(&result, &ids);
        let item_errors = match &result {
            BatchResult::Completed { item_errors, .. } => Some(item_errors),
            _ => None,
        };
        let (succeeded, failed): (Vec<&ReceivedMessage>, Vec<(&ReceivedMessage, &str)>) =
            match &disposition {
                Disposition::AllSucceeded => (batch.iter().collect(), Vec::new()),
                Disposition::Partial(ids) => {
                    let (bad, good): (Vec<_>, Vec<_>) =
                        batch.iter().partition(|m| ids.contains(&m.message_id));
                    (
                        good,
                        bad.into_iter()
                            .map(|m| {
                                let reason = item_errors
                                    .and_then(|e| e.get(&m.message_id))
                                    .map_or(ITEM_FAILURE_ERROR, String::as_str);
                                (m, reason)
                            })
                            .collect(),
                    )
                }
                Disposition::AllFailed(reason) => {
                    tracing::warn!(queue = %queue, reason = %reason, "batch failed");
                    (
                        Vec::new(),
                        batch.iter().map(|m| (m, reason.as_str())).collect(),
                    )
                }
            };
        if !succeeded.is_empty() {
            let handles = succeeded.iter().map(|m| m.receipt_handle.clone()).collect();
            match self.queues.delete_batch(queue, handles).await {
                Ok(results) => {
                    for (m, r) in succeeded.iter().zip(results) {
                        if let Err(e) = r {
                            tracing::warn!(message_id = %m.message_id, error = %e, "cannot delete a processed message");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(queue = %queue, error = %e, "cannot delete processed messages")
                }
            }
        }
        for (m, error) in &failed {
            if let Err(e) = self
                .queues
                .release_with_error(queue, &m.receipt_handle, error, None)
                .await
            {
                tracing::warn!(message_id = %m.message_id, error = %e, "cannot record a message's failure");
            }
        }
        self.counters
            .succeeded
            .fetch_add(succeeded.len() as u64, Ordering::Relaxed);
        self.counters
            .failed
            .fetch_add(failed.len() as u64, Ordering::Relaxed);
    }
}
