//! The event source mapping follows Lambda's rules: batch size and batching window, partial
//! batch responses, whole-batch failures (invalid response, function error, timeout), redrive
//! to the dead-letter queue with the last error kept, concurrent batches, graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use durapipe_local::esm::{
    BatchResult, BatchTarget, EsmConfig, EventSourceMapping, ITEM_FAILURE_ERROR,
};
use durapipe_local::sqs::{Queues, SendMessage};
use serde_json::{json, Value};

type Behaviour = Box<dyn Fn(usize, &Value) -> BatchResult + Send + Sync>;

/// A target that records every event and answers with `behaviour(call_index, event)`.
struct Recorder {
    events: Mutex<Vec<Value>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    delay: Duration,
    behaviour: Behaviour,
}

impl Recorder {
    fn new(
        delay: Duration,
        behaviour: impl Fn(usize, &Value) -> BatchResult + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            events: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            delay,
            behaviour: Box::new(behaviour),
        })
    }

    fn bodies(&self) -> Vec<Vec<String>> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| {
                e["Records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["body"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    fn calls(&self) -> usize {
        self.events.lock().unwrap().len()
    }
}

impl BatchTarget for Recorder {
    async fn invoke(&self, event: Value) -> BatchResult {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let index = {
            let mut events = self.events.lock().unwrap();
            events.push(event.clone());
            events.len() - 1
        };
        tokio::time::sleep(self.delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        (self.behaviour)(index, &event)
    }
}

fn ok() -> BatchResult {
    BatchResult::completed(json!({"batchItemFailures": []}))
}

async fn queue(queues: &Queues, name: &str, attributes: &[(&str, &str)]) {
    let attrs: BTreeMap<String, String> = attributes
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    queues.create_queue(name, &attrs).await.unwrap();
}

async fn send(queues: &Queues, name: &str, bodies: &[&str]) {
    let messages = bodies
        .iter()
        .map(|b| SendMessage {
            body: (*b).to_string(),
            ..SendMessage::default()
        })
        .collect();
    for r in queues.send_batch(name, messages).await.unwrap() {
        r.unwrap();
    }
}

fn config(name: &str) -> EsmConfig {
    EsmConfig {
        visibility_timeout: Some(Duration::from_secs(1)),
        concurrency: 1,
        poll_interval: Duration::from_millis(200),
        ..EsmConfig::new(name)
    }
}

async fn wait_until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn empty(queues: &Queues, name: &str) -> bool {
    queues.peek(name, 10).await.unwrap().is_empty()
}

#[tokio::test]
async fn batches_hold_at_most_batch_size_messages() {
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    send(&stack.queues, "q", &["1", "2", "3", "4", "5", "6", "7"]).await;
    let target = Recorder::new(Duration::ZERO, |_, _| ok());
    let esm = EventSourceMapping::start(
        stack.queues.clone(),
        target.clone(),
        EsmConfig {
            batch_size: 5,
            batching_window: Duration::from_millis(500),
            ..config("q")
        },
    );
    wait_until("the queue is drained", async || {
        empty(&stack.queues, "q").await
    })
    .await;
    let stats = esm.shutdown().await;
    let sizes: Vec<usize> = target.bodies().iter().map(Vec::len).collect();
    assert_eq!(sizes, [5, 2]);
    assert_eq!(stats.succeeded, 7);
    let event = &target.events.lock().unwrap()[0];
    let record = &event["Records"][0];
    assert_eq!(record["eventSource"], "aws:sqs");
    assert_eq!(
        record["eventSourceARN"],
        "arn:aws:sqs:us-east-1:000000000000:q"
    );
    assert_eq!(record["attributes"]["ApproximateReceiveCount"], "1");
    assert!(record["receiptHandle"].is_string() && record["md5OfBody"].is_string());
    // The event deserializes as the Lambda runtime's own SQS event type.
    let typed: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(event.clone()).unwrap();
    assert_eq!(typed.records.len(), 5);
    assert_eq!(typed.records[0].body.as_deref(), Some("1"));
    assert_eq!(typed.records[0].event_source.as_deref(), Some("aws:sqs"));
}

#[tokio::test]
async fn the_batching_window_gathers_messages_sent_apart() {
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    let target = Recorder::new(Duration::ZERO, |_, _| ok());
    let esm = EventSourceMapping::start(
        stack.queues.clone(),
        target.clone(),
        EsmConfig {
            batch_size: 5,
            batching_window: Duration::from_secs(3),
            visibility_timeout: Some(Duration::from_secs(30)),
            ..config("q")
        },
    );
    send(&stack.queues, "q", &["a"]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&stack.queues, "q", &["b"]).await;
    wait_until("a batch arrives", async || target.calls() > 0).await;
    esm.shutdown().await;
    assert_eq!(target.bodies(), [["a", "b"]]);
}

#[tokio::test]
async fn only_listed_failures_come_back() {
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    send(&stack.queues, "q", &["good-1", "bad", "good-2"]).await;
    let target = Recorder::new(Duration::ZERO, |_, event| {
        let failures: Vec<Value> = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["body"] == "bad")
            .map(|r| json!({"itemIdentifier": r["messageId"]}))
            .collect();
        BatchResult::completed(json!({ "batchItemFailures": failures }))
    });
    let esm = EventSourceMapping::start(stack.queues.clone(), target.clone(), config("q"));
    wait_until("the failed message is delivered again", async || {
        target.calls() >= 2
    })
    .await;
    esm.shutdown().await;
    let bodies = target.bodies();
    assert_eq!(bodies[0], ["good-1", "bad", "good-2"]);
    assert_eq!(bodies[1], ["bad"]);
    let second = target.events.lock().unwrap()[1].clone();
    assert_eq!(
        second["Records"][0]["attributes"]["ApproximateReceiveCount"],
        "2"
    );
    let left = stack.queues.peek("q", 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, "bad");
    assert_eq!(left[0].last_error.as_deref(), Some(ITEM_FAILURE_ERROR));
}

async fn whole_batch_fails_then_succeeds(
    first: BatchResult,
    invoke_timeout: Option<Duration>,
    delay: Duration,
) {
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    send(&stack.queues, "q", &["a", "b"]).await;
    let first = Mutex::new(Some(first));
    let target = Recorder::new(delay, move |index, _| {
        if index == 0 {
            first.lock().unwrap().take().unwrap()
        } else {
            BatchResult::completed(Value::Null)
        }
    });
    let esm = EventSourceMapping::start(
        stack.queues.clone(),
        target.clone(),
        EsmConfig {
            invoke_timeout,
            ..config("q")
        },
    );
    wait_until("the batch is delivered again and deleted", async || {
        target.calls() >= 2 && empty(&stack.queues, "q").await
    })
    .await;
    let stats = esm.shutdown().await;
    let bodies = target.bodies();
    assert_eq!(bodies[0], ["a", "b"]);
    assert_eq!(bodies[1], ["a", "b"], "the whole batch came back");
    assert_eq!(stats.failed, 2);
    assert_eq!(stats.succeeded, 2);
}

#[tokio::test]
async fn an_unknown_item_identifier_fails_the_whole_batch() {
    let bad =
        BatchResult::completed(json!({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}));
    whole_batch_fails_then_succeeds(bad, None, Duration::ZERO).await;
}

#[tokio::test]
async fn an_invalid_batch_response_fails_the_whole_batch() {
    let bad = BatchResult::completed(json!({"batchItemFailures": [{"itemId": "x"}]}));
    whole_batch_fails_then_succeeds(bad, None, Duration::ZERO).await;
}

#[tokio::test]
async fn a_failed_execution_fails_the_whole_batch() {
    let failed = BatchResult::Failed {
        error_type: "States.Runtime".into(),
        message: "boom".into(),
    };
    whole_batch_fails_then_succeeds(failed, None, Duration::ZERO).await;
}

#[tokio::test]
async fn a_timed_out_execution_fails_the_whole_batch() {
    whole_batch_fails_then_succeeds(BatchResult::TimedOut, None, Duration::ZERO).await;
}

#[tokio::test]
async fn the_invoke_timeout_fails_the_whole_batch() {
    // The target always outlives the 100 ms limit, so the message is never deleted.
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    send(&stack.queues, "q", &["a"]).await;
    let target = Recorder::new(Duration::from_millis(400), |_, _| ok());
    let esm = EventSourceMapping::start(
        stack.queues.clone(),
        target.clone(),
        EsmConfig {
            invoke_timeout: Some(Duration::from_millis(100)),
            ..config("q")
        },
    );
    wait_until("the message is delivered twice", async || {
        target.calls() >= 2
    })
    .await;
    esm.shutdown().await;
    let left = stack.queues.peek("q", 10).await.unwrap();
    assert_eq!(left.len(), 1, "timed-out batches are never deleted");
    assert!(left[0]
        .last_error
        .as_deref()
        .unwrap()
        .starts_with("TimedOut"));
}

#[tokio::test]
async fn messages_failing_too_often_reach_the_dead_letter_queue_with_their_error() {
    let stack = common::stack().await;
    queue(&stack.queues, "dlq", &[]).await;
    let policy =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2}"#;
    queue(&stack.queues, "q", &[("RedrivePolicy", policy)]).await;
    send(&stack.queues, "q", &["poison"]).await;
    let target = Recorder::new(Duration::ZERO, |_, _| BatchResult::Failed {
        error_type: "Boom".into(),
        message: "always".into(),
    });
    let esm = EventSourceMapping::start(stack.queues.clone(), target.clone(), config("q"));
    wait_until("the message is dead-lettered", async || {
        !empty(&stack.queues, "dlq").await
    })
    .await;
    esm.shutdown().await;
    assert_eq!(target.calls(), 2, "delivered maxReceiveCount times");
    let dead = stack.queues.peek("dlq", 10).await.unwrap();
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].last_error.as_deref(), Some("Boom: always"));
    let first_id = target.events.lock().unwrap()[0]["Records"][0]["messageId"].clone();
    assert_eq!(json!(dead[0].message_id), first_id);
    assert!(empty(&stack.queues, "q").await);
}

#[tokio::test]
async fn several_batches_run_concurrently() {
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    send(&stack.queues, "q", &["1", "2", "3", "4", "5", "6"]).await;
    let target = Recorder::new(Duration::from_millis(600), |_, _| ok());
    let esm = EventSourceMapping::start(
        stack.queues.clone(),
        target.clone(),
        EsmConfig {
            batch_size: 1,
            concurrency: 3,
            visibility_timeout: Some(Duration::from_secs(30)),
            ..config("q")
        },
    );
    wait_until("the queue is drained", async || {
        empty(&stack.queues, "q").await
    })
    .await;
    esm.shutdown().await;
    assert_eq!(target.calls(), 6);
    assert!(target.max_in_flight.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn shutdown_lets_in_flight_batches_finish() {
    let stack = common::stack().await;
    queue(&stack.queues, "q", &[]).await;
    send(&stack.queues, "q", &["a"]).await;
    let target = Recorder::new(Duration::from_millis(500), |_, _| ok());
    let esm = EventSourceMapping::start(stack.queues.clone(), target.clone(), config("q"));
    wait_until("the batch is in flight", async || target.calls() == 1).await;
    let stats = esm.shutdown().await;
    assert_eq!(stats.succeeded, 1);
    assert!(
        empty(&stack.queues, "q").await,
        "the in-flight batch was settled"
    );
}
