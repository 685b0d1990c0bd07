//! The real AWS CLI and boto3 work against the endpoints with `--endpoint-url`, including their
//! MD5 checks and error-code parsing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use durapipe_local::dynamodb::TableDefinition;
use serde_json::Value;

struct Cli<'a> {
    program: &'a Path,
    endpoint: &'a str,
    home: &'a Path,
}

impl Cli<'_> {
    fn command(&self, program: &Path) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.home.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.home.join("credentials"))
            .env("AWS_PAGER", "")
            .env("DURAPIPE_ENDPOINT", self.endpoint)
            .kill_on_drop(true);
        cmd
    }

    /// Runs `aws <args> --endpoint-url <endpoint> --output json`; returns (success, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self
            .command(self.program)
            .args(args)
            .args(["--endpoint-url", self.endpoint, "--output", "json"])
            .output()
            .await
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    async fn json(&self, args: &[&str]) -> Value {
        let (ok, stdout, stderr) = self.run(args).await;
        assert!(ok, "aws {args:?} failed: {stderr}");
        if stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws {args:?}: {e}: {stdout}"))
    }
}

async fn provisioned() -> common::Stack {
    let stack = common::stack().await;
    for name in ["dev-data-processing-queue", "dev-data-processing-dlq"] {
        stack
            .queues
            .create_queue(name, &Default::default())
            .await
            .unwrap();
    }
    stack
        .tables
        .ensure_table(TableDefinition::with_string_hash_key(
            "dev-processed-data",
            "execution_id",
        ))
        .await
        .unwrap();
    stack
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_sends_receives_deletes_puts_gets_and_scans() {
    let program = common::aws_cli();
    let stack = provisioned().await;
    let cli = Cli {
        program: &program,
        endpoint: &stack.endpoint,
        home: stack.dir.path(),
    };
    let url = cli
        .json(&[
            "sqs",
            "get-queue-url",
            "--queue-name",
            "dev-data-processing-queue",
        ])
        .await["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.ends_with("/000000000000/dev-data-processing-queue"));
    let body = r#"{"data_source": "test.csv", "processing_type": "standard"}"#;
    let sent = cli
        .json(&[
            "sqs",
            "send-message",
            "--queue-url",
            &url,
            "--message-body",
            body,
        ])
        .await;
    assert!(sent["MessageId"].is_string());
    let got = cli
        .json(&[
            "sqs",
            "receive-message",
            "--queue-url",
            &url,
            "--attribute-names",
            "All",
            "--message-attribute-names",
            "All",
            "--max-number-of-messages",
            "10",
        ])
        .await;
    let message = &got["Messages"][0];
    assert_eq!(message["Body"], body);
    assert_eq!(message["MessageId"], sent["MessageId"]);
    assert_eq!(message["Attributes"]["ApproximateReceiveCount"], "1");
    cli.json(&[
        "sqs",
        "delete-message",
        "--queue-url",
        &url,
        "--receipt-handle",
        message["ReceiptHandle"].as_str().unwrap(),
    ])
    .await;
    assert!(stack
        .queues
        .peek("dev-data-processing-queue", 10)
        .await
        .unwrap()
        .is_empty());

    let item = r#"{"execution_id": {"S": "dev-esm-1"}, "data_source": {"S": "test.csv"},
                   "transformed_data": {"M": {"data_source": {"S": "TEST.CSV"}}}}"#;
    let put = [
        "dynamodb",
        "put-item",
        "--table-name",
        "dev-processed-data",
        "--item",
        item,
        "--condition-expression",
        "attribute_not_exists(execution_id)",
    ];
    cli.json(&put).await;
    let (ok, _, stderr) = cli.run(&put).await;
    assert!(
        !ok && stderr.contains("ConditionalCheckFailedException"),
        "{stderr}"
    );
    let got = cli
        .json(&[
            "dynamodb",
            "get-item",
            "--table-name",
            "dev-processed-data",
            "--key",
            r#"{"execution_id": {"S": "dev-esm-1"}}"#,
        ])
        .await;
    assert_eq!(
        got["Item"]["transformed_data"]["M"]["data_source"]["S"],
        "TEST.CSV"
    );
    let items = cli
        .json(&[
            "dynamodb",
            "scan",
            "--table-name",
            "dev-processed-data",
            "--query",
            "Items[*]",
        ])
        .await;
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["data_source"]["S"], "test.csv");

    let (ok, _, stderr) = cli
        .run(&["sqs", "get-queue-url", "--queue-name", "no-such-queue"])
        .await;
    assert!(!ok && stderr.contains("NonExistentQueue"), "{stderr}");
}

const BOTO3_SCRIPT: &str = r#"
import os, boto3
endpoint = os.environ["DURAPIPE_ENDPOINT"]
sqs = boto3.client("sqs", endpoint_url=endpoint)
ddb = boto3.client("dynamodb", endpoint_url=endpoint)
url = sqs.get_queue_url(QueueName="dev-data-processing-queue")["QueueUrl"]
sent = sqs.send_message(QueueUrl=url, MessageBody='{"data_source": "b.csv", "processing_type": "standard"}',
    MessageAttributes={"origin": {"DataType": "String", "StringValue": "boto3"},
                       "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two"}])
assert len(batch["Successful"]) == 2, batch
got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
    MessageSystemAttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
assert len(got) == 3, got
first = [m for m in got if m["MessageId"] == sent["MessageId"]][0]
assert first["MessageAttributes"]["origin"]["StringValue"] == "boto3", first
sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
assert attrs["ApproximateNumberOfMessages"] == "0", attrs
ddb.put_item(TableName="dev-processed-data", Item={"execution_id": {"S": "dev-esm-2"}, "n": {"N": "7"}},
    ConditionExpression="attribute_not_exists(execution_id)")
try:
    ddb.put_item(TableName="dev-processed-data", Item={"execution_id": {"S": "dev-esm-2"}},
        ConditionExpression="attribute_not_exists(execution_id)")
    raise SystemExit("conditional put should have failed")
except ddb.exceptions.ConditionalCheckFailedException:
    pass
try:
    sqs.get_queue_url(QueueName="missing")
    raise SystemExit("get_queue_url should have failed")
except sqs.exceptions.QueueDoesNotExist:
    pass
assert ddb.get_item(TableName="dev-processed-data", Key={"execution_id": {"S": "dev-esm-2"}})["Item"]["n"] == {"N": "7"}
assert ddb.scan(TableName="dev-processed-data")["Count"] == 1
print("OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_works_against_the_endpoints() {
    let program = common::aws_cli();
    let python = common::venv_python();
    let stack = provisioned().await;
    let cli = Cli {
        program: &program,
        endpoint: &stack.endpoint,
        home: stack.dir.path(),
    };
    let out = cli
        .command(&python)
        .args(["-c", BOTO3_SCRIPT])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "boto3 script failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.trim(), "OK");
}
