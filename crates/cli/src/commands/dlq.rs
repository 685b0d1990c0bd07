//! `durapipe dlq list` and `durapipe dlq redrive`, with plain SQS calls (so they work against any
//! SQS): listing receives every message once with a short visibility timeout, prints it, then makes
//! it visible again; redriving starts a message move task (SQS's DLQ redrive API) from the DLQ to
//! the main queue and waits for it to complete.

use anyhow::Context as _;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};

use crate::args::Target;
use crate::aws;

/// How long a listed message stays hidden while the listing runs.
const LIST_VISIBILITY_SECS: i32 = 30;
/// The local stack reports a dead letter's last error in this (non-AWS) system attribute.
pub const LAST_ERROR_ATTRIBUTE: &str = "DurapipeLastError";

async fn receive_all(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    visibility: i32,
) -> anyhow::Result<Vec<Message>> {
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .context("ReceiveMessage on the DLQ failed")?;
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return Ok(all);
        }
        all.extend(batch);
    }
}

pub async fn list(target: &Target) -> anyhow::Result<()> {
    let config = aws::target_config(target).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = aws::queue_url(&sqs, &target.names().dlq).await?;
    let messages = receive_all(&sqs, &url, LIST_VISIBILITY_SECS).await?;
    for m in &messages {
        let error = m
            .attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::from(LAST_ERROR_ATTRIBUTE)))
            .cloned()
            .unwrap_or_else(|| "-".to_owned());
        let receives = m
            .attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .cloned()
            .unwrap_or_default();
        println!(
            "{}\treceives={}\terror={}\tbody={}",
            m.message_id.as_deref().unwrap_or("-"),
            receives,
            error,
            m.body.as_deref().unwrap_or("")
        );
    }
    for m in &messages {
        if let Some(handle) = &m.receipt_handle {
            sqs.change_message_visibility()
                .queue_url(&url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .context("cannot make a listed message visible again")?;
        }
    }
    println!("{} dead-letter messages", messages.len());
    Ok(())
}

/// How often `redrive` polls its move task.
const MOVE_TASK_POLL: std::time::Duration = std::time::Duration::from_millis(100);

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .with_context(|| format!("GetQueueAttributes on {url} failed"))?;
    out.attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .with_context(|| format!("GetQueueAttributes returned no QueueArn for {url}"))
}

/// Moves the DLQ's messages back to the main queue with SQS's message move task (the same
/// mechanism as `aws sqs start-message-move-task`), waiting until the task ends.
pub async fn redrive(target: &Target) -> anyhow::Result<()> {
    let config = aws::target_config(target).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let names = target.names();
    let dlq = queue_arn(&sqs, &aws::queue_url(&sqs, &names.dlq).await?).await?;
    let queue = queue_arn(&sqs, &aws::queue_url(&sqs, &names.queue).await?).await?;
    let handle = sqs
        .start_message_move_task()
        .source_arn(&dlq)
        .destination_arn(&queue)
        .send()
        .await
        .context("StartMessageMoveTask on the DLQ failed")?
        .task_handle
        .context("StartMessageMoveTask returned no TaskHandle")?;
    let moved = loop {
        let tasks = sqs
            .list_message_move_tasks()
            .source_arn(&dlq)
            .max_results(10)
            .send()
            .await
            .context("ListMessageMoveTasks on the DLQ failed")?
            .results
            .unwrap_or_default();
        // A running task reports its handle; a finished one is the newest without one.
        let task = tasks
            .iter()
            .find(|t| t.task_handle.as_deref() == Some(handle.as_str()))
            .or_else(|| tasks.first())
            .context("ListMessageMoveTasks does not list the redrive task")?;
        match task.status.as_deref() {
            Some("RUNNING" | "CANCELLING") => tokio::time::sleep(MOVE_TASK_POLL).await,
            Some("COMPLETED") => break task.approximate_number_of_messages_moved,
            other => anyhow::bail!(
                "the redrive task ended {}: {}",
                other.unwrap_or("without a status"),
                task.failure_reason.as_deref().unwrap_or("no reason given")
            ),
        }
    };
    println!(
        "moved {moved} messages from {} to {}",
        names.dlq, names.queue
    );
    Ok(())
}
