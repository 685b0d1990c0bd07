//! `durapipe send`: one body, or a JSONL file in batches of ten with a progress bar.

use std::io::BufRead as _;

use anyhow::{bail, Context as _};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::SendArgs;
use crate::aws;

/// SQS's most entries per SendMessageBatch.
const BATCH: usize = 10;

pub async fn run(args: SendArgs) -> anyhow::Result<()> {
    let config = aws::target_config(&args.target).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = aws::queue_url(&sqs, &args.target.names().queue).await?;
    match (&args.body, &args.file) {
        (Some(body), _) => {
            let out = sqs
                .send_message()
                .queue_url(&url)
                .message_body(body)
                .send()
                .await
                .context("SendMessage failed")?;
            println!("{}", out.message_id.unwrap_or_default());
            Ok(())
        }
        (None, Some(path)) => send_file(&sqs, &url, path).await,
        (None, None) => bail!("give a message body or --file"),
    }
}

async fn send_file(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bodies = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("{}: line {} is not UTF-8", path.display(), index + 1))?;
        if !line.trim().is_empty() {
            bodies.push(line);
        }
    }
    let bar = ProgressBar::new(bodies.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0usize;
    for chunk in bodies.chunks(BATCH) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = sqs
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .context("SendMessageBatch failed")?;
        for f in out.failed {
            failed += 1;
            bar.println(format!(
                "rejected: {} ({})",
                f.message.unwrap_or_default(),
                f.code
            ));
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish();
    println!(
        "sent {} of {} messages",
        bodies.len() - failed,
        bodies.len()
    );
    if failed > 0 {
        bail!("{failed} messages were rejected");
    }
    Ok(())
}
