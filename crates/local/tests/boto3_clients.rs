//! Real clients against the whole stack (`Stack::start`): boto3 as application code uses it
//! (DynamoDB's `Table.batch_writer()`, `Table.query`, `update_item`, transactions, paginators
//! and waiters; SQS tags and empty receives; Lambda's function reads and waiters), see
//! `support/boto3_clients.py`, and the AWS CLI for the same operations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use durapipe_local::stack::{Stack, StackConfig};
use serde_json::Value;

async fn start(dir: &std::path::Path) -> Stack {
    Stack::start(StackConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        durability: durapipe_sqlite::Durability::Normal,
        batching_window: Duration::from_secs(0),
        ..StackConfig::default()
    })
    .await
    .unwrap()
}

fn aws(endpoint: &str, home: &std::path::Path, args: &[&str]) -> (bool, Value, String) {
    let out = std::process::Command::new(common::aws_cli())
        .args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_PAGER", "")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_application_code_works_against_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path()).await;
    let endpoint = stack.info().endpoint.clone();
    let out = common::support_script("boto3_clients.py")
        .args([&endpoint, "dev"])
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "boto3 script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_reads_functions_queries_and_updates() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path()).await;
    let endpoint = stack.info().endpoint.clone();
    let home = dir.path();
    let run = |args: &[&str]| {
        let (ok, json, stderr) = aws(&endpoint, home, args);
        assert!(ok, "aws {args:?}: {stderr}");
        json
    };
    let f = run(&[
        "lambda",
        "get-function",
        "--function-name",
        "dev-orchestrator",
    ]);
    assert_eq!(f["Configuration"]["State"], "Active");
    assert!(f["Configuration"]["DurableConfig"]["ExecutionTimeout"].is_u64());
    let listed = run(&["lambda", "list-functions"]);
    assert_eq!(listed["Functions"].as_array().unwrap().len(), 4);

    let table = stack.info().names.table.clone();
    run(&[
        "dynamodb",
        "put-item",
        "--table-name",
        &table,
        "--item",
        r#"{"execution_id": {"S": "e-1"}, "n": {"N": "1"}}"#,
    ]);
    let updated = run(&[
        "dynamodb",
        "update-item",
        "--table-name",
        &table,
        "--key",
        r#"{"execution_id": {"S": "e-1"}}"#,
        "--update-expression",
        "SET n = n + :one, #s = :s",
        "--expression-attribute-names",
        r##"{"#s": "status"}"##,
        "--expression-attribute-values",
        r#"{":one": {"N": "1"}, ":s": {"S": "done"}}"#,
        "--return-values",
        "ALL_NEW",
    ]);
    assert_eq!(updated["Attributes"]["n"]["N"], "2");
    assert_eq!(updated["Attributes"]["status"]["S"], "done");
    let queried = run(&[
        "dynamodb",
        "query",
        "--table-name",
        &table,
        "--key-condition-expression",
        "execution_id = :e",
        "--expression-attribute-values",
        r#"{":e": {"S": "e-1"}}"#,
    ]);
    assert_eq!(queried["Count"], 1);
    let (ok, _, stderr) = aws(
        &endpoint,
        home,
        &[
            "dynamodb",
            "scan",
            "--table-name",
            &table,
            "--index-name",
            "by-status",
        ],
    );
    assert!(
        !ok && stderr.contains("IndexName") && stderr.contains("not supported by durapipe"),
        "{stderr}"
    );
    let (ok, _, stderr) = aws(
        &endpoint,
        home,
        &[
            "lambda",
            "list-durable-executions-by-function",
            "--function-name",
            "nope",
        ],
    );
    assert!(
        !ok && stderr.contains("ResourceNotFoundException"),
        "{stderr}"
    );
    stack.shutdown(Duration::from_secs(5)).await;
}

/// Every member of every Lambda operation the stack serves is honoured or refused by name
/// (botocore's model, read at run time; see `support/lambda_members.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lambda_member_is_honoured_or_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path()).await;
    let endpoint = stack.info().endpoint.clone();
    let out = common::support_script("lambda_members.py")
        .args([&endpoint, "dev"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["checked"].as_u64().unwrap() >= 25, "{report}");
    assert_eq!(report["failures"], serde_json::json!([]), "{report}");
    stack.shutdown(Duration::from_secs(5)).await;
}
