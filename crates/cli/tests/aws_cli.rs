//! The verification steps of the README's "Test the deployed stack", verbatim plus `--endpoint-url`, with the
//! real AWS CLI (awscli 1.x from PyPI) and with boto3, against a real `durapipe up` process —
//! including the durable-execution Lambda APIs and a dead letter read from the DLQ.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{queue_attributes_args, up, wait_until, SEED};
use serde_json::Value;

/// A visibility timeout short enough that an invalid message is dead-lettered within seconds.
const FAST: &[&str] = &[
    "--batching-window",
    "0",
    "--visibility-timeout",
    "1",
    "--max-receive-count",
    "1",
];

#[test]
fn the_seed_scenario_with_the_aws_cli() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), FAST);
    let aws = stack.aws(dir.path());

    // aws sqs get-queue-url → the banner's URL.
    let url = aws.json(&[
        "sqs",
        "get-queue-url",
        "--queue-name",
        "dev-data-processing-queue",
    ])["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, stack.queue_url("dev-data-processing-queue"));
    assert!(
        stack.stdout().contains(&url),
        "the banner names the queue URL"
    );

    // The README: send-message, then scan --query 'Items[*]'.
    let sent = aws.json(&[
        "sqs",
        "send-message",
        "--queue-url",
        &url,
        "--message-body",
        SEED,
    ]);
    let id = sent["MessageId"].as_str().unwrap().to_owned();
    let scan = [
        "dynamodb",
        "scan",
        "--table-name",
        "dev-processed-data",
        "--query",
        "Items[*]",
    ];
    let mut items = Value::Null;
    wait_until(Duration::from_secs(30), "the item in the scan", || {
        items = aws.json(&scan);
        items.as_array().is_some_and(|a| !a.is_empty())
    });
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    let execution_id = format!("dev-esm-{id}");
    assert_eq!(item["execution_id"]["S"], execution_id.as_str());
    assert_eq!(item["data_source"]["S"], "test.csv");
    assert_eq!(item["processing_type"]["S"], "standard");
    assert_eq!(
        item["transformed_data"]["M"]["data_source"]["S"],
        "TEST.CSV"
    );
    assert!(
        item["stored_at"]["S"].as_str().unwrap().ends_with('Z'),
        "{item}"
    );
    let arn = item["durable_execution_arn"]["S"]
        .as_str()
        .unwrap()
        .to_owned();

    // get-item by key.
    let key = format!(r#"{{"execution_id": {{"S": "{execution_id}"}}}}"#);
    let got = aws.json(&[
        "dynamodb",
        "get-item",
        "--table-name",
        "dev-processed-data",
        "--key",
        &key,
        "--consistent-read",
    ]);
    assert_eq!(&got["Item"], item);

    // awscli 1.x knows the durable-execution commands.
    // The item is stored just before the execution ends.
    let mut status = Value::Null;
    wait_until(Duration::from_secs(10), "the execution to succeed", || {
        let listed = aws.json(&[
            "lambda",
            "list-durable-executions-by-function",
            "--function-name",
            "dev-orchestrator",
        ]);
        let executions = listed["DurableExecutions"].as_array().unwrap();
        assert_eq!(executions.len(), 1, "{listed}");
        assert_eq!(executions[0]["DurableExecutionArn"], arn.as_str());
        status = executions[0]["Status"].clone();
        status == "SUCCEEDED"
    });
    let execution = aws.json(&[
        "lambda",
        "get-durable-execution",
        "--durable-execution-arn",
        &arn,
    ]);
    assert_eq!(execution["Status"], "SUCCEEDED");
    assert_eq!(execution["DurableExecutionArn"], arn.as_str());
    let result: Value = serde_json::from_str(execution["Result"].as_str().unwrap()).unwrap();
    assert!(
        result["batchItemFailures"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{result}"
    );
    let history = aws.json(&[
        "lambda",
        "get-durable-execution-history",
        "--durable-execution-arn",
        &arn,
    ]);
    let names: Vec<&str> = history["Events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["Name"].as_str())
        .collect();
    for stage in ["validate", "transform", "store"] {
        assert!(
            names.contains(&format!("{stage}-{id}").as_str()),
            "{names:?}"
        );
    }

    // An invalid body: received once (maxReceiveCount 1), then dead-lettered with its reason.
    let bad = aws.json(&[
        "sqs",
        "send-message",
        "--queue-url",
        &url,
        "--message-body",
        r#"{"processing_type": "standard"}"#,
    ]);
    let bad_id = bad["MessageId"].as_str().unwrap().to_owned();
    let dlq = aws.json(&[
        "sqs",
        "get-queue-url",
        "--queue-name",
        "dev-data-processing-dlq",
    ])["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut message = Value::Null;
    wait_until(
        Duration::from_secs(30),
        "the invalid message in the DLQ",
        || {
            let got = aws.json(&[
                "sqs",
                "receive-message",
                "--queue-url",
                &dlq,
                "--attribute-names",
                "All",
                "--message-attribute-names",
                "All",
                "--visibility-timeout",
                "30",
            ]);
            message = got["Messages"].get(0).cloned().unwrap_or_default();
            !message.is_null()
        },
    );
    assert_eq!(message["MessageId"], bad_id.as_str());
    assert_eq!(message["Body"], r#"{"processing_type": "standard"}"#);
    let last_error = message["Attributes"]["DurapipeLastError"]
        .as_str()
        .unwrap_or_else(|| panic!("no last error on {message}"));
    assert!(
        last_error.contains("ValidationError") && last_error.contains("data_source"),
        "{last_error}"
    );
    aws.json(&[
        "sqs",
        "delete-message",
        "--queue-url",
        &dlq,
        "--receipt-handle",
        message["ReceiptHandle"].as_str().unwrap(),
    ]);
    let empty = aws.json(&["sqs", "receive-message", "--queue-url", &dlq]);
    // (AWS omits `Messages` when there are none; the local stack answers `[]` — both read as empty.)
    assert!(
        empty["Messages"].as_array().is_none_or(Vec::is_empty),
        "{empty}"
    );
    // The main queue is empty, and the only item is still the seed's.
    let attributes = aws.json(&queue_attributes_args(&url));
    assert_eq!(attributes["Attributes"]["ApproximateNumberOfMessages"], "0");
    assert_eq!(aws.json(&scan).as_array().unwrap().len(), 1);

    let (status, _, stderr) = stack.stop("TERM");
    assert!(status.success(), "{status}: {stderr}");
}

const BOTO3_SCRIPT: &str = r#"
import json, os, time, boto3
endpoint = os.environ["DURAPIPE_ENDPOINT"]
sqs = boto3.client("sqs", endpoint_url=endpoint)
ddb = boto3.client("dynamodb", endpoint_url=endpoint)
lam = boto3.client("lambda", endpoint_url=endpoint)

def until(what, fn, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)

url = sqs.get_queue_url(QueueName="dev-data-processing-queue")["QueueUrl"]
assert url == endpoint + "/000000000000/dev-data-processing-queue", url
sent = sqs.send_message(QueueUrl=url, MessageBody='{"data_source": "test.csv", "processing_type": "standard"}')
mid = sent["MessageId"]
items = until("the item", lambda: ddb.scan(TableName="dev-processed-data")["Items"])
assert len(items) == 1, items
item = items[0]
assert item["execution_id"] == {"S": "dev-esm-" + mid}, item
assert item["data_source"] == {"S": "test.csv"}, item
assert item["transformed_data"]["M"]["data_source"] == {"S": "TEST.CSV"}, item
assert item["stored_at"]["S"].endswith("Z"), item
assert ddb.get_item(TableName="dev-processed-data", Key={"execution_id": item["execution_id"]},
                    ConsistentRead=True)["Item"] == item
arn = item["durable_execution_arn"]["S"]
def succeeded():
    listed = lam.list_durable_executions_by_function(FunctionName="dev-orchestrator")["DurableExecutions"]
    assert [e["DurableExecutionArn"] for e in listed] == [arn], listed
    return listed[0]["Status"] == "SUCCEEDED"
until("the execution to succeed", succeeded)
ex = lam.get_durable_execution(DurableExecutionArn=arn)
assert ex["Status"] == "SUCCEEDED", ex
names = [e.get("Name") for e in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]]
for stage in ("validate", "transform", "store"):
    assert stage + "-" + mid in names, names

bad = sqs.send_message(QueueUrl=url, MessageBody='{"data_source": "", "processing_type": "standard"}')["MessageId"]
dlq = sqs.get_queue_url(QueueName="dev-data-processing-dlq")["QueueUrl"]
def dead():
    return sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
                               VisibilityTimeout=30).get("Messages")
msg = until("the dead letter", dead)[0]
assert msg["MessageId"] == bad, msg
err = msg["Attributes"]["DurapipeLastError"]
assert "data_source" in err, err
sqs.delete_message(QueueUrl=dlq, ReceiptHandle=msg["ReceiptHandle"])
assert not sqs.receive_message(QueueUrl=dlq).get("Messages")
print("OK")
"#;

#[test]
fn the_seed_scenario_with_boto3() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), FAST);
    let out = stack
        .aws(dir.path())
        .command(&common::venv_python())
        .args(["-c", BOTO3_SCRIPT])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "boto3 script failed:\n{stdout}\n{stderr}\n{}",
        stack.stderr()
    );
    assert_eq!(stdout.trim(), "OK");
}
