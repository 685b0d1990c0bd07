//! The SQS endpoint speaks AWS JSON 1.0 to aws-sdk-sqs: queues, messages, visibility, batches,
//! long polling, attributes and redrive behave as SQS does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use common::{create_queue, send_body};
use durapipe_local::sqs::md5;

#[tokio::test]
async fn queues_are_created_found_and_listed() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "dev-data-processing-queue").await;
    assert_eq!(
        url,
        format!(
            "http://{}/000000000000/dev-data-processing-queue",
            stack.addr
        )
    );
    // Creating again with the same attributes is idempotent.
    assert_eq!(
        create_queue(&client, "dev-data-processing-queue").await,
        url
    );
    create_queue(&client, "dev-data-processing-dlq").await;
    let got = client
        .get_queue_url()
        .queue_name("dev-data-processing-dlq")
        .send()
        .await
        .unwrap();
    assert!(got
        .queue_url()
        .unwrap()
        .ends_with("/000000000000/dev-data-processing-dlq"));
    let listed = client
        .list_queues()
        .queue_name_prefix("dev-data")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.queue_urls().len(), 2);
    let err = client
        .get_queue_url()
        .queue_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_does_not_exist());
}

#[tokio::test]
async fn messages_are_sent_received_and_deleted() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "q").await;
    let body = r#"{"data_source": "test.csv", "processing_type": "standard"}"#;
    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body(body)
        .message_attributes(
            "origin",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("test")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_body(),
        Some(md5::of_body(body).as_str())
    );
    assert!(sent.md5_of_message_attributes().is_some());

    let received = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .visibility_timeout(30)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.body(), Some(body));
    assert_eq!(m.md5_of_body(), sent.md5_of_message_body());
    assert_eq!(
        m.md5_of_message_attributes(),
        sent.md5_of_message_attributes()
    );
    let attrs = m.attributes().unwrap();
    assert_eq!(
        attrs
            .get(&MessageSystemAttributeName::ApproximateReceiveCount)
            .map(String::as_str),
        Some("1")
    );
    assert!(attrs.contains_key(&MessageSystemAttributeName::SentTimestamp));
    assert!(attrs.contains_key(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp));
    assert_eq!(
        m.message_attributes().unwrap()["origin"].string_value(),
        Some("test")
    );

    // Hidden while in flight.
    let again = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(again.messages().is_empty());
    let counts = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let counts = counts.attributes().unwrap();
    assert_eq!(
        counts[&QueueAttributeName::ApproximateNumberOfMessages],
        "0"
    );
    assert_eq!(
        counts[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1"
    );
    assert_eq!(counts[&QueueAttributeName::VisibilityTimeout], "30");

    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    // Deleting again with the same (now stale) handle is accepted, as SQS does.
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stack.queues.counts("q").await.unwrap().not_visible, 0);
    let bogus = client
        .delete_message()
        .queue_url(&url)
        .receipt_handle("garbage")
        .send()
        .await
        .unwrap_err();
    assert!(bogus.into_service_error().is_receipt_handle_is_invalid());
}

#[tokio::test]
async fn visibility_timeout_returns_messages_and_counts_receives() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "vis").await;
    send_body(&client, &url, "x").await;
    let first = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(1)
        .send()
        .await
        .unwrap();
    let first = &first.messages()[0];
    // Long polling waits for the message to come back.
    let second = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(5)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .unwrap();
    let second = &second.messages()[0];
    assert_eq!(second.message_id(), first.message_id());
    assert_ne!(second.receipt_handle(), first.receipt_handle());
    assert_eq!(
        second.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    // The stale handle no longer deletes it.
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(first.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stack.queues.counts("vis").await.unwrap().not_visible, 1);
    // Making it visible at once.
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(second.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    assert_eq!(stack.queues.counts("vis").await.unwrap().visible, 1);
}

#[tokio::test]
async fn long_polling_wakes_on_send() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "lp").await;
    let sender = {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            send_body(&client, &url, "late").await;
        })
    };
    let started = Instant::now();
    let got = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(10)
        .send()
        .await
        .unwrap();
    sender.await.unwrap();
    assert_eq!(got.messages()[0].body(), Some("late"));
    // It returned because of the send, not because the 10 s wait ran out.
    assert!(started.elapsed() < Duration::from_secs(9));
    // An empty long poll returns empty.
    let empty = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert!(empty.messages().is_empty());
}

#[tokio::test]
async fn batches_send_and_delete_up_to_ten() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "batch").await;
    let entries: Vec<_> = (0..10)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body(format!("body {i}"))
                .build()
                .unwrap()
        })
        .collect();
    let sent = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.successful().len(), 10);
    assert!(sent.failed().is_empty());
    let got = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 10);
    let deletes: Vec<_> = got
        .messages()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .build()
                .unwrap()
        })
        .collect();
    let deleted = client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(deletes))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.successful().len(), 10);
    assert_eq!(
        stack.queues.counts("batch").await.unwrap(),
        Default::default()
    );

    let too_many: Vec<_> = (0..11)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body("b")
                .build()
                .unwrap()
        })
        .collect();
    let err = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(too_many))
        .send()
        .await
        .unwrap_err();
    assert!(err
        .into_service_error()
        .is_too_many_entries_in_batch_request());
}

#[tokio::test]
async fn redrive_moves_messages_to_the_dead_letter_queue() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    create_queue(&client, "dlq").await;
    let url = client
        .create_queue()
        .queue_name("main")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"2"}"#,
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let sent = send_body(&client, &url, "poison").await;
    for _ in 0..2 {
        let got = client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        assert_eq!(got.messages().len(), 1);
        stack
            .queues
            .release_with_error(
                "main",
                got.messages()[0].receipt_handle().unwrap(),
                "Boom: failed",
                None,
            )
            .await
            .unwrap();
    }
    // The third receive finds it over the limit and moves it.
    let got = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(got.messages().is_empty());
    let dead = stack.queues.peek("dlq", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(Some(dead[0].message_id.as_str()), sent.message_id());
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].last_error.as_deref(), Some("Boom: failed"));
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .unwrap();
    assert!(
        attrs.attributes().unwrap()[&QueueAttributeName::RedrivePolicy]
            .contains("\"maxReceiveCount\":2")
    );
    // Redrive back.
    assert_eq!(stack.queues.move_messages("dlq", "main").await.unwrap(), 1);
    client.purge_queue().queue_url(&url).send().await.unwrap();
    assert_eq!(
        stack.queues.counts("main").await.unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn messages_come_oldest_visible_first() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "order").await;
    for body in ["a", "b", "c"] {
        send_body(&client, &url, body).await;
    }
    let first = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(30)
        .send()
        .await
        .unwrap();
    let first = &first.messages()[0];
    assert_eq!(first.body(), Some("a"), "new messages come in send order");
    // `a` becomes visible again after `b` and `c` were: it now comes after them.
    tokio::time::sleep(Duration::from_millis(5)).await;
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(first.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let all = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let bodies: Vec<_> = all.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["b", "c", "a"]);
}

#[tokio::test]
async fn a_receive_with_no_visibility_timeout_returns_each_message_once() {
    let stack = common::stack().await;
    let client = common::sqs_client(&stack.endpoint);
    let url = create_queue(&client, "zero").await;
    for body in ["a", "b"] {
        send_body(&client, &url, body).await;
    }
    let got = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let bodies: Vec<_> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["a", "b"]);
    // Both stay visible: the next receive sees them again.
    assert_eq!(stack.queues.counts("zero").await.unwrap().visible, 2);
}
