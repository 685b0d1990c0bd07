//! `durapipe up`: runs the local stack in the foreground until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context as _;
use durapipe_local::guard::Credentials;
use durapipe_local::server::ConnectionLimits;
use durapipe_local::stack::{SecurityConfig, Stack, StackConfig, StackInfo};

use crate::args::UpArgs;
use crate::aws;

/// How long shutdown waits for in-flight batches before leaving them to the next start.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The original pattern's test message.
const SEED_MESSAGE: &str = r#"{"data_source": "test.csv", "processing_type": "standard"}"#;

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    crate::logging::init(&args.log_format);
    let credentials = args.credentials.load()?;
    let config = StackConfig {
        listen: args.listen,
        data_dir: args.data_dir,
        environment: args.environment,
        visibility_timeout: Duration::from_secs(args.visibility_timeout),
        batching_window: Duration::from_secs(args.batching_window),
        batch_size: args.batch_size,
        max_receive_count: args.max_receive_count,
        execution_timeout: Duration::from_secs(args.execution_timeout),
        concurrency: args.concurrency,
        durability: args.durability,
        execution_retention: Duration::from_secs(args.execution_retention),
        sdk_transport: args.sdk_transport,
        security: SecurityConfig {
            credentials: credentials.clone(),
            allow_hosts: args.allow_host,
            allow_origins: args.allow_origin,
            insecure_no_auth: args.insecure_no_auth,
        },
        limits: ConnectionLimits {
            max_connections: args.max_connections,
            header_timeout: Duration::from_secs(args.header_timeout),
            body_timeout: Duration::from_secs(args.body_timeout),
        },
        console: !args.no_console,
        time_scale: args.time_scale,
    };
    let stack = Stack::start(config).await?;
    print_banner(stack.info());
    if args.demo {
        if let Err(e) = demo(stack.info(), credentials.as_ref()).await {
            // Stop cleanly (in-flight work checkpoints) before reporting the failure.
            stack.shutdown(SHUTDOWN_GRACE).await;
            return Err(e);
        }
    }
    wait_for_signal().await?;
    tracing::info!("shutting down: no new batches; in-flight work checkpoints");
    let stats = stack.shutdown(SHUTDOWN_GRACE).await;
    tracing::info!(
        batches = stats.batches,
        succeeded = stats.succeeded,
        failed = stats.failed,
        "stopped"
    );
    Ok(())
}

fn print_banner(info: &StackInfo) {
    let e = &info.endpoint;
    println!(
        "durapipe is up: SQS, Lambda (durable execution) and DynamoDB on {e}
  database   {db}{recovered}
  queue      {queue_url}
  dlq        {dlq_url}
  table      {table}
  functions  {o}, {v}, {t}, {s}
  console    {console}
  metrics    {e}/metrics{scale}
{security}
Try it (AWS CLI, {which_credentials}):
  aws --endpoint-url {e} sqs send-message --queue-url {queue_url} \\
      --message-body '{{\"data_source\": \"test.csv\", \"processing_type\": \"standard\"}}'
  aws --endpoint-url {e} dynamodb scan --table-name {table} --query 'Items[*]'
  aws --endpoint-url {e} lambda list-durable-executions-by-function --function-name {o}
or the CLI: durapipe send '<json>' | scan | executions | history <arn> [--timeline] | stop <arn>
            | callback succeed|fail|heartbeat <id> | dlq list | dlq redrive

Ctrl-C stops it cleanly.",
        db = info.database.display(),
        security = security_lines(info),
        which_credentials = if info.access_key_id.is_some() {
            "with the stack's credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
        } else {
            "any credentials"
        },
        recovered = if info.recovered > 0 {
            format!(" (resumed {} running executions)", info.recovered)
        } else {
            String::new()
        },
        queue_url = info.queue_url,
        dlq_url = info.dlq_url,
        table = info.names.table,
        console = info.console.as_deref().unwrap_or("off (--no-console)"),
        scale = if info.time_scale == 1.0 {
            String::new()
        } else {
            format!(
                "\n  time       durable waits, retries and timeouts run {}x faster (--time-scale)",
                info.time_scale
            )
        },
        o = info.names.functions.orchestrator,
        v = info.names.functions.validate,
        t = info.names.functions.transform,
        s = info.names.functions.store,
    );
}

/// The banner's lines on who may call the stack (the access key id only, never the secret).
fn security_lines(info: &StackInfo) -> String {
    match (&info.access_key_id, info.unauthenticated_network) {
        (Some(key), _) => format!(
            "  security   requests must be signed (AWS Signature V4) with access key id {key}\n"
        ),
        (None, true) => format!(
            "  WARNING    --insecure-no-auth: {} accepts unsigned requests from the network; \
             anyone who can reach it can read and change every queue, table and execution\n",
            info.addr
        ),
        (None, false) => String::new(),
    }
}

/// Sends the seed message through the SQS endpoint and prints the stored item from the
/// DynamoDB endpoint — the original pattern's test, end to end.
async fn demo(info: &StackInfo, credentials: Option<&Credentials>) -> anyhow::Result<()> {
    let config = aws::config(&info.endpoint, credentials).await?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let sent = sqs
        .send_message()
        .queue_url(&info.queue_url)
        .message_body(SEED_MESSAGE)
        .send()
        .await
        .context("demo: SendMessage failed")?;
    let id = sent.message_id.unwrap_or_default();
    println!("\ndemo: sent {SEED_MESSAGE} as message {id}; waiting for the batching window...");
    let key = info.names.execution_id(&id).as_str().to_owned();
    for _ in 0..600 {
        let out = ddb
            .get_item()
            .table_name(&info.names.table)
            .key(
                "execution_id",
                aws_sdk_dynamodb::types::AttributeValue::S(key.clone()),
            )
            .consistent_read(true)
            .send()
            .await
            .context("demo: GetItem failed")?;
        if let Some(item) = out.item {
            let json = durapipe_aws::convert::from_attribute_map(&item)
                .context("demo: the stored item is not JSON-representable")?;
            println!(
                "demo: stored item:\n{}",
                serde_json::to_string_pretty(&serde_json::Value::Object(json))?
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("demo: no item for {key} after 60 s; see `durapipe executions`")
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}
