//! SQS's queue-level API through aws-sdk-sqs: tags, ListQueues paging, dead-letter source
//! queues, message move tasks (AWS's DLQ redrive), message groups on standard queues, and an
//! empty receive without `Messages`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use common::{create_queue, raw_post, send_body};
use serde_json::json;

async fn arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone()
}

/// The tags of the queue at `url` (`None` when the reply leaves the member out).
async fn tags(client: &aws_sdk_sqs::Client, url: &str) -> Option<HashMap<String, String>> {
    client
        .list_queue_tags()
        .queue_url(url)
        .send()
        .await
        .unwrap()
        .tags
}

/// Asserts that `result` is an error whose text says `what`.
fn refused<T, E: std::fmt::Debug>(result: Result<T, E>, what: &str) {
    match result {
        Ok(_) => panic!("accepted; want an error saying {what}"),
        Err(err) => assert!(format!("{err:?}").contains(what), "{err:?}"),
    }
}

fn error_code<E: aws_sdk_sqs::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_string()
}

#[tokio::test]
async fn tags_are_set_listed_and_removed() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = client
        .create_queue()
        .queue_name("tagged")
        .tags("team", "data")
        .tags("env", "dev")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let want: HashMap<String, String> = [("team", "data"), ("env", "dev")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(tags(&client, &url).await.unwrap(), want);
    client
        .tag_queue()
        .queue_url(&url)
        .tags("env", "prod")
        .send()
        .await
        .unwrap();
    client
        .untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    assert_eq!(tags(&client, &url).await.unwrap()["env"], "prod");
    client
        .untag_queue()
        .queue_url(&url)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    assert!(
        tags(&client, &url).await.is_none(),
        "no tags: the member is left out"
    );
    refused(
        client
            .tag_queue()
            .queue_url(&url)
            .tags("aws:reserved", "x")
            .send()
            .await,
        "aws:",
    );
    let mut too_many = client.tag_queue().queue_url(&url);
    for i in 0..51 {
        too_many = too_many.tags(format!("k{i}"), "v");
    }
    assert!(too_many.send().await.is_err(), "51 tags are refused");
    assert!(
        tags(&client, &url).await.is_none(),
        "a refused TagQueue adds nothing"
    );
    let err = client
        .list_queue_tags()
        .queue_url(format!("{}/000000000000/nope", stack.endpoint))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err.into_service_error()),
        "AWS.SimpleQueueService.NonExistentQueue"
    );
}

#[tokio::test]
async fn list_queues_pages_with_max_results() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    for i in 0..7 {
        create_queue(&client, &format!("q-{i}")).await;
    }
    create_queue(&client, "other").await;
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = client
            .list_queues()
            .queue_name_prefix("q-")
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        let urls = out.queue_urls().to_vec();
        assert!(urls.len() <= 3);
        seen.extend(urls);
        token = out.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    assert!(seen.iter().all(|u| u.contains("/q-")));
    // The SDK's paginator walks the same pages.
    let all: Vec<String> = client
        .list_queues()
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 8);
    let none = client
        .list_queues()
        .queue_name_prefix("zzz")
        .send()
        .await
        .unwrap();
    assert!(none.queue_urls.is_none(), "no match: QueueUrls is left out");
    refused(
        client.list_queues().max_results(0).send().await,
        "MaxResults",
    );
    refused(
        client
            .list_queues()
            .max_results(1)
            .next_token("!!not-a-token!!")
            .send()
            .await,
        "NextToken",
    );
}

#[tokio::test]
async fn an_empty_receive_has_no_messages_member() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "empty").await;
    let body = json!({ "QueueUrl": url }).to_string();
    let r = raw_post(
        stack.addr,
        Some("AmazonSQS.ReceiveMessage"),
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({}));
    send_body(&client, &url, "x").await;
    let r = raw_post(
        stack.addr,
        Some("AmazonSQS.ReceiveMessage"),
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.json()["Messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn message_groups_are_kept_on_standard_queues() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "fair").await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("tenant a")
        .message_group_id("tenant-a")
        .send()
        .await
        .unwrap();
    let got = client
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    assert_eq!(
        m.attributes().unwrap()[&MessageSystemAttributeName::MessageGroupId],
        "tenant-a"
    );
    refused(
        client
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("has space")
            .send()
            .await,
        "MessageGroupId",
    );
    refused(
        client
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .message_deduplication_id("d")
            .send()
            .await,
        "MessageDeduplicationId",
    );
}

/// A queue whose messages go to `dlq` after one receive.
async fn with_dlq(client: &aws_sdk_sqs::Client, queue: &str, dlq_arn: &str) -> String {
    client
        .create_queue()
        .queue_name(queue)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}).to_string(),
        )
        .attributes(QueueAttributeName::VisibilityTimeout, "0")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// Receives each message of `url` twice so that all of them are dead-lettered.
async fn dead_letter_all(client: &aws_sdk_sqs::Client, url: &str) {
    for _ in 0..3 {
        client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
    }
}

async fn depth(client: &aws_sdk_sqs::Client, url: &str) -> usize {
    let attrs = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    attrs[&QueueAttributeName::ApproximateNumberOfMessages]
        .parse()
        .unwrap()
}

async fn wait_task_done(
    client: &aws_sdk_sqs::Client,
    source_arn: &str,
) -> aws_sdk_sqs::types::ListMessageMoveTasksResultEntry {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = client
            .list_message_move_tasks()
            .source_arn(source_arn)
            .send()
            .await
            .unwrap();
        let task = out.results()[0].clone();
        if task.status() != Some("RUNNING") {
            return task;
        }
        assert!(Instant::now() < deadline, "the task never ended: {task:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn move_tasks_redrive_dead_letters_to_their_source_queues() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let dlq = create_queue(&client, "dlq").await;
    let dlq_arn = arn(&client, &dlq).await;
    let a = with_dlq(&client, "a", &dlq_arn).await;
    let b = with_dlq(&client, "b", &dlq_arn).await;
    create_queue(&client, "unrelated").await;
    let sources = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();
    assert_eq!(sources.queue_urls(), [a.clone(), b.clone()]);
    let paged = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(paged.queue_urls(), std::slice::from_ref(&a));
    assert!(paged.next_token.is_some());

    for (url, n) in [(&a, 3), (&b, 2)] {
        for i in 0..n {
            send_body(&client, url, format!("m{i}")).await;
        }
        dead_letter_all(&client, url).await;
    }
    assert_eq!(depth(&client, &dlq).await, 5);
    let got = client
        .receive_message()
        .queue_url(&dlq)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::DeadLetterQueueSourceArn)
        .send()
        .await
        .unwrap();
    let source = &got.messages()[0].attributes().unwrap()
        [&MessageSystemAttributeName::DeadLetterQueueSourceArn];
    assert!(source.ends_with(":a"), "{source}");

    // No destination: each message goes back to the queue it was dead-lettered from.
    let handle = client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .unwrap()
        .task_handle
        .unwrap();
    let task = wait_task_done(&client, &dlq_arn).await;
    assert_eq!(task.status(), Some("COMPLETED"), "{task:?}");
    assert_eq!(task.approximate_number_of_messages_moved, 5);
    assert_eq!(task.approximate_number_of_messages_to_move, Some(5));
    assert!(
        task.task_handle.is_none(),
        "only running tasks show a handle"
    );
    assert_eq!((depth(&client, &a).await, depth(&client, &b).await), (3, 2));
    assert_eq!(depth(&client, &dlq).await, 0);
    let err = client
        .cancel_message_move_task()
        .task_handle(handle)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err.into_service_error()),
        "ResourceNotFoundException"
    );

    // Not a dead-letter queue: refused.
    let unrelated_arn = dlq_arn.replace(":dlq", ":unrelated");
    refused(
        client
            .start_message_move_task()
            .source_arn(&unrelated_arn)
            .send()
            .await,
        "Dead Letter Queue",
    );
    refused(
        client
            .start_message_move_task()
            .source_arn(&dlq_arn)
            .max_number_of_messages_per_second(501)
            .send()
            .await,
        "MaxNumberOfMessagesPerSecond",
    );
}

/// Dead letters waiting for a move task: a dead-letter queue, its source queue and a target
/// queue (URLs and ARNs).
struct Parked {
    dlq: String,
    dlq_arn: String,
    source: String,
    target: String,
    target_arn: String,
}

impl Parked {
    /// Creates the queues `[dlq, source, target]` of `names` and sends `n` messages
    /// (`"{body}{i}"`) to the dead-letter queue.
    async fn new(client: &aws_sdk_sqs::Client, names: [&str; 3], n: usize, body: &str) -> Self {
        let [dlq_name, source_name, target_name] = names;
        let dlq = create_queue(client, dlq_name).await;
        let dlq_arn = arn(client, &dlq).await;
        let source = with_dlq(client, source_name, &dlq_arn).await;
        let target = create_queue(client, target_name).await;
        let target_arn = arn(client, &target).await;
        for i in 0..n {
            send_body(client, &dlq, format!("{body}{i}")).await;
        }
        Self {
            dlq,
            dlq_arn,
            source,
            target,
            target_arn,
        }
    }

    /// Starts a move task from the dead-letter queue to the target at `rate` messages a
    /// second.
    async fn start_move(
        &self,
        client: &aws_sdk_sqs::Client,
        rate: i32,
    ) -> aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskOutput {
        client
            .start_message_move_task()
            .source_arn(&self.dlq_arn)
            .destination_arn(&self.target_arn)
            .max_number_of_messages_per_second(rate)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_rated_move_task_can_be_cancelled() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let parked = Parked::new(&client, ["slow-dlq", "slow", "target"], 6, "parked ").await;
    let handle = parked.start_move(&client, 2).await.task_handle.unwrap();
    let Parked {
        dlq,
        dlq_arn,
        source: main,
        target,
        target_arn,
    } = parked;
    // One round (2 messages) a second: after the first round the task is still running.
    let deadline = Instant::now() + Duration::from_secs(5);
    let running = loop {
        let out = client
            .list_message_move_tasks()
            .source_arn(&dlq_arn)
            .send()
            .await
            .unwrap();
        if out.results()[0].approximate_number_of_messages_moved == 2 {
            break out;
        }
        assert!(Instant::now() < deadline, "the first round never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let task = &running.results()[0];
    assert_eq!(task.status(), Some("RUNNING"));
    assert_eq!(task.task_handle(), Some(handle.as_str()));
    assert_eq!(task.max_number_of_messages_per_second(), Some(2));
    refused(
        client
            .start_message_move_task()
            .source_arn(&dlq_arn)
            .destination_arn(&target_arn)
            .send()
            .await,
        "already running",
    );
    let cancelled = client
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.approximate_number_of_messages_moved, 2);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let task = wait_task_done(&client, &dlq_arn).await;
    assert_eq!(task.status(), Some("CANCELLED"));
    assert_eq!(
        (depth(&client, &target).await, depth(&client, &dlq).await),
        (2, 4)
    );
    assert_eq!(depth(&client, &main).await, 0);
}

#[tokio::test]
async fn the_query_protocol_is_refused_with_the_sdks_to_use() {
    let stack = common::stack().await;
    let body = b"Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq&MessageBody=hi";
    let r = raw_post(stack.addr, None, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/xml"));
    assert!(r.body.contains("<Code>InvalidAction</Code>"), "{}", r.body);
    assert!(
        r.body.contains("AWS JSON 1.0") && r.body.contains("1.34.90"),
        "{}",
        r.body
    );
    // A JSON request without a target is still an unknown operation, not a query call.
    let r = raw_post(stack.addr, None, b"{}").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("UnknownOperationException"), "{}", r.body);
}

#[tokio::test]
async fn a_task_running_when_the_stack_stops_is_failed_at_the_next_open() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let parked = Parked::new(
        &client,
        ["restart-dlq", "restart", "restart-target"],
        5,
        "m",
    )
    .await;
    parked.start_move(&client, 1).await;
    let Parked {
        dlq,
        dlq_arn,
        target,
        ..
    } = parked;
    // Opening the store again is what a restart does.
    durapipe_local::sqs::Queues::open(
        stack.db.clone(),
        std::sync::Arc::new(durapipe_local::SystemClock),
        durapipe_local::sqs::QueueConfig::default(),
    )
    .await
    .unwrap();
    let task = wait_task_done(&client, &dlq_arn).await;
    assert_eq!(task.status(), Some("FAILED"), "{task:?}");
    assert!(
        task.failure_reason()
            .unwrap_or_default()
            .contains("stack stopped"),
        "{task:?}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let moved = depth(&client, &target).await;
    assert!(
        moved <= 1,
        "the runner stops once its task is failed: {moved} moved"
    );
    assert_eq!(moved + depth(&client, &dlq).await, 5, "no message is lost");
}
