//! Shared test harness: a stack on a temp database served on 127.0.0.1:0, SDK clients, a raw
//! HTTP client and the AWS CLI's location.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use durapipe_local::dynamodb::Tables;
use durapipe_local::sqs::{QueueConfig, Queues};
use durapipe_local::{AwsEndpoints, Clock, SystemClock};
use durapipe_sqlite::{Database, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running stack.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub db: Database,
    pub queues: Queues,
    pub tables: Tables,
    pub addr: SocketAddr,
    pub endpoint: String,
}

pub async fn open_stores(path: &Path, clock: Arc<dyn Clock>) -> (Database, Queues, Tables) {
    let db = Database::open(path, &Options::default()).unwrap();
    let queues = Queues::open(db.clone(), clock.clone(), QueueConfig::default())
        .await
        .unwrap();
    let tables = Tables::open(db.clone(), clock).await.unwrap();
    (db, queues, tables)
}

pub async fn stack() -> Stack {
    stack_with(|e| e).await
}

pub async fn stack_with(configure: impl FnOnce(AwsEndpoints) -> AwsEndpoints) -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let (db, queues, tables) =
        open_stores(&dir.path().join("stack.db"), Arc::new(SystemClock)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let endpoints = configure(AwsEndpoints::new(
        queues.clone(),
        tables.clone(),
        addr.to_string(),
    ));
    let router = endpoints.router();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Stack {
        dir,
        db,
        queues,
        tables,
        addr,
        endpoint: format!("http://{addr}"),
    }
}

pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// Creates the SQS queue `name` (default attributes); returns its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// Sends one message `body` to the queue at `url`.
pub async fn send_body(
    client: &aws_sdk_sqs::Client,
    url: &str,
    body: impl Into<String>,
) -> aws_sdk_sqs::operation::send_message::SendMessageOutput {
    client
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .unwrap()
}

pub fn ddb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A raw response: status, lower-cased headers, body.
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends one `POST /` with the given target (if any) and body over a fresh connection.
pub async fn raw_post(addr: SocketAddr, target: Option<&str>, body: &[u8]) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(t) = target {
        head.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (413) before reading everything; ignore a reset while writing.
    let _ = stream.write_all(body).await;
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The AWS CLI: `$DURAPIPE_AWS_CLI`, else `$HOME/.cache/durapipe/venv/bin/aws`; fails the test
/// with a clear message when it is missing.
pub fn aws_cli() -> PathBuf {
    let path = std::env::var_os("DURAPIPE_AWS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/durapipe/venv/bin/aws")
        });
    assert!(
        path.is_file(),
        "the AWS CLI is missing at {} — install it (scripts set up $HOME/.cache/durapipe/venv) or set DURAPIPE_AWS_CLI",
        path.display()
    );
    path
}

/// The venv's Python (next to the AWS CLI), for boto3.
pub fn venv_python() -> PathBuf {
    let cli = aws_cli();
    let python = cli.with_file_name("python");
    assert!(
        python.is_file(),
        "python with boto3 is missing at {}",
        python.display()
    );
    python
}

/// The venv's Python running `tests/support/<script>` (arguments follow).
pub fn support_script(script: &str) -> tokio::process::Command {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(script);
    let mut command = tokio::process::Command::new(venv_python());
    command.arg(path);
    command
}

/// A whole local stack (`durapipe_local::stack`) on 127.0.0.1:0 over a temp data dir: no
/// batching window, normal durability; `configure` changes the rest. The dir lives as long
/// as the returned guard.
pub async fn whole_stack(
    configure: impl FnOnce(&mut durapipe_local::stack::StackConfig),
) -> (durapipe_local::stack::Stack, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = durapipe_local::stack::StackConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        batching_window: std::time::Duration::ZERO,
        durability: durapipe_sqlite::Durability::Normal,
        ..durapipe_local::stack::StackConfig::default()
    };
    configure(&mut config);
    (
        durapipe_local::stack::Stack::start(config).await.unwrap(),
        dir,
    )
}
