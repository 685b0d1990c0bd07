//! `durapipe dlq list` and `durapipe dlq redrive`, with plain SQS calls (so they work against any
//! SQS): listing receives every message once with a short visibility timeout, prints it, then makes
//! it visible again; redriving sends each message to the main queue and only then deletes it from
//! the DLQ (at least once: a crash in between leaves a copy in both, never in neither).

use anyhow::Context as _;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};

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
    let config = aws::config(&target.endpoint).await?;
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

pub async fn redrive(target: &Target) -> anyhow::Result<()> {
    let config = aws::config(&target.endpoint).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let names = target.names();
    let dlq = aws::queue_url(&sqs, &names.dlq).await?;
    let queue = aws::queue_url(&sqs, &names.queue).await?;
    let mut moved = 0usize;
    for m in receive_all(&sqs, &dlq, LIST_VISIBILITY_SECS).await? {
        let (Some(body), Some(handle)) = (m.body, m.receipt_handle) else {
            continue;
        };
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .context("cannot send a redriven message to the queue")?;
        sqs.delete_message()
            .queue_url(&dlq)
            .receipt_handle(handle)
            .send()
            .await
            .context("cannot delete a redriven message from the DLQ")?;
        moved += 1;
    }
    println!(
        "moved {moved} messages from {} to {}",
        names.dlq, names.queue
    );
    Ok(())
}
