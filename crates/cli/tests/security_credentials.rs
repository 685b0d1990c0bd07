//! `durapipe up --credentials K:S`: every request must carry a valid AWS Signature V4. The real
//! AWS CLI and boto3 with the right key work for SQS, DynamoDB, Lambda Invoke and the
//! durable-execution APIs (and a boto3 presigned URL); the durapipe CLI's own subcommands sign
//! too. A wrong secret, an unknown key id, an expired date, a tampered body and an unsigned
//! request are refused with AWS's error codes and change nothing. The secret never appears in
//! the banner or the logs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod security_common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{aws_cli, up, venv_python, wait_until, Up, SEED};
use security_common::{send, state_of};
use serde_json::Value;

const KEY: &str = "AKIDDURAPIPETEST";
const SECRET: &str = "s3cr3t/Vv9+Example:Secret";

/// `durapipe up --credentials KEY:SECRET` with data in `dir/data`, no batching window, and
/// `extra` arguments.
fn up_signed(dir: &Path, extra: &[&str]) -> Up {
    let credentials = format!("{KEY}:{SECRET}");
    let mut args = vec!["--credentials", &credentials, "--batching-window", "0"];
    args.extend_from_slice(extra);
    up(&dir.join("data"), &args)
}

/// The AWS CLI with `key`/`secret` (or unsigned): (success, stdout, stderr).
fn aws(stack: &Up, home: &Path, key: &str, secret: &str, args: &[&str]) -> (bool, String, String) {
    let out = stack
        .aws(home)
        .command(&aws_cli())
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(args)
        .args(["--endpoint-url", &stack.endpoint, "--output", "json"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn aws_ok(stack: &Up, home: &Path, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = aws(stack, home, KEY, SECRET, args);
    assert!(ok, "aws {args:?} failed: {stderr}");
    if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap()
    }
}

/// The AWS CLI's refusal: asserts failure and that stderr names `code`.
fn assert_refused(result: (bool, String, String), code: &str, what: &str) {
    let (ok, stdout, stderr) = result;
    assert!(!ok, "{what}: accepted: {stdout}");
    assert!(
        stderr.contains(&format!("({code})")),
        "{what}: expected {code}: {stderr}"
    );
    assert!(
        !stderr.contains(SECRET),
        "{what}: the secret is in the error"
    );
}

/// Runs a boto3 script with the venv's Python; its last stdout line is JSON.
fn boto3(stack: &Up, home: &Path, script: &str) -> Value {
    let out = stack
        .aws(home)
        .command(&venv_python())
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("ENDPOINT", &stack.endpoint)
        .env("QUEUE_URL", stack.queue_url("dev-data-processing-queue"))
        .args(["-c", script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "boto3 script failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

/// boto3: the right key works (SQS, DynamoDB, Lambda, a presigned URL); an expired date, a
/// tampered body and a tampered presigned URL fail with the codes AWS uses.
const BOTO3_SCRIPT: &str = r#"
import datetime, json, os, urllib.error, urllib.request
import boto3, botocore.auth
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, queue_url = os.environ["ENDPOINT"], os.environ["QUEUE_URL"]
cfg = Config(retries={"max_attempts": 1})
sqs = boto3.client("sqs", endpoint_url=endpoint, config=cfg)
ddb = boto3.client("dynamodb", endpoint_url=endpoint, config=cfg)
lam = boto3.client("lambda", endpoint_url=endpoint, config=cfg)
out = {}

def code(call):
    try:
        call()
        return "accepted"
    except ClientError as e:
        return e.response["Error"]["Code"]

out["ok_queue_url"] = sqs.get_queue_url(QueueName="dev-data-processing-dlq")["QueueUrl"]
out["ok_tables"] = ddb.list_tables()["TableNames"]
out["ok_executions"] = len(lam.list_durable_executions_by_function(FunctionName="dev-orchestrator")["DurableExecutions"])

# A presigned GET of a durable-execution API, fetched without any AWS header.
url = lam.generate_presigned_url("list_durable_executions_by_function",
                                 Params={"FunctionName": "dev-orchestrator"}, ExpiresIn=60)
out["presigned_status"] = urllib.request.urlopen(url).status
tampered = url.replace("dev-orchestrator", "dev-validate")
try:
    urllib.request.urlopen(tampered)
    out["tampered_presigned"] = "accepted"
except urllib.error.HTTPError as e:
    out["tampered_presigned"] = [e.code, e.headers.get("x-amzn-errortype")]

# A tampered body: change the message after signing.
def tamper(request, **kwargs):
    request.body = request.body.replace(b"harmless", b"EVILEVIL")
sqs.meta.events.register("before-send.sqs.SendMessage", tamper)
out["tampered_body_sqs"] = code(lambda: sqs.send_message(QueueUrl=queue_url, MessageBody="harmless"))
sqs.meta.events.unregister("before-send.sqs.SendMessage", tamper)
ddb.meta.events.register("before-send.dynamodb.PutItem", tamper)
out["tampered_body_ddb"] = code(lambda: ddb.put_item(TableName="dev-processed-data",
                                                    Item={"execution_id": {"S": "harmless"}}))

# An expired date: sign as if it were 20 minutes ago (botocore signs with awscrt when it is
# installed, else in Python: shift both clocks).
import botocore.compat
real_now = botocore.compat.get_current_datetime
late = lambda *a, **k: real_now(*a, **k) - datetime.timedelta(minutes=20)
signers = [botocore.auth]
try:
    import botocore.crt.auth
    signers.append(botocore.crt.auth)
except ImportError:
    pass
for module in signers:
    module.get_current_datetime = late
out["expired_sqs"] = code(lambda: sqs.send_message(QueueUrl=queue_url, MessageBody="late"))
out["expired_ddb"] = code(lambda: ddb.put_item(TableName="dev-processed-data",
                                               Item={"execution_id": {"S": "late"}}))
out["expired_lambda"] = code(lambda: lam.invoke(FunctionName="dev-orchestrator", Payload=b'{"Records":[]}'))
for module in signers:
    module.get_current_datetime = real_now
print(json.dumps(out))
"#;

#[test]
fn signed_clients_work_and_bad_signatures_are_refused_with_aws_codes() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = format!("{KEY}:{SECRET}");
    let stack = up_signed(dir.path(), &["--log-format", "json"]);
    let home = dir.path();
    let banner = stack.stdout();
    assert!(
        banner.contains(KEY),
        "the banner names the key id:\n{banner}"
    );

    // The right key: SQS, DynamoDB, Lambda Invoke, the durable-execution APIs.
    let sent = aws_ok(
        &stack,
        home,
        &[
            "sqs",
            "send-message",
            "--queue-url",
            &stack.queue_url("dev-data-processing-queue"),
            "--message-body",
            SEED,
        ],
    );
    let id = sent["MessageId"].as_str().unwrap().to_owned();
    let mut items = Vec::new();
    wait_until(Duration::from_secs(30), "the item in the table", || {
        items = aws_ok(
            &stack,
            home,
            &["dynamodb", "scan", "--table-name", "dev-processed-data"],
        )["Items"]
            .as_array()
            .unwrap()
            .clone();
        !items.is_empty()
    });
    assert_eq!(items[0]["execution_id"]["S"], format!("dev-esm-{id}"));
    let payload = dir.path().join("event.json");
    std::fs::write(
        &payload,
        r#"{"Records":[{"messageId":"direct","body":"{\"data_source\":\"direct.csv\",\"processing_type\":\"standard\"}"}]}"#,
    )
    .unwrap();
    let response = dir.path().join("response.json");
    aws_ok(
        &stack,
        home,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "dev-orchestrator",
            "--payload",
            &format!("file://{}", payload.display()),
            response.to_str().unwrap(),
        ],
    );
    let answer: Value = serde_json::from_slice(&std::fs::read(&response).unwrap()).unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        serde_json::json!([]),
        "{answer}"
    );
    let listed = aws_ok(
        &stack,
        home,
        &[
            "lambda",
            "list-durable-executions-by-function",
            "--function-name",
            "dev-orchestrator",
        ],
    );
    let executions = listed["DurableExecutions"].as_array().unwrap();
    assert_eq!(executions.len(), 2, "{listed}");
    let arn = executions[0]["DurableExecutionArn"].as_str().unwrap();
    let history = aws_ok(
        &stack,
        home,
        &[
            "lambda",
            "get-durable-execution-history",
            "--durable-execution-arn",
            arn,
        ],
    );
    assert!(
        !history["Events"].as_array().unwrap().is_empty(),
        "{history}"
    );

    // The durapipe CLI signs with --credentials (and DURAPIPE_CREDENTIALS, and a file).
    let cli = |args: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = Command::new(common::BIN);
        cmd.args(args)
            .args(["--endpoint", &stack.endpoint])
            .env_remove("DURAPIPE_ENDPOINT")
            .env_remove("DURAPIPE_CREDENTIALS")
            .env_remove("DURAPIPE_CREDENTIALS_FILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let file = dir.path().join("durapipe-credentials");
    std::fs::write(&file, format!("{credentials}\n")).unwrap();
    let scan = cli(&["scan", "--credentials", &credentials], None);
    assert!(
        scan.status.success(),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );
    assert!(String::from_utf8_lossy(&scan.stdout).contains("DIRECT.CSV"));
    for (args, env) in [
        (
            vec!["executions"],
            Some(("DURAPIPE_CREDENTIALS", credentials.as_str())),
        ),
        (
            vec!["history", arn],
            Some(("DURAPIPE_CREDENTIALS_FILE", file.to_str().unwrap())),
        ),
        (
            vec!["dlq", "list", "--credentials-file", file.to_str().unwrap()],
            None,
        ),
        (
            vec![
                "send",
                r#"{"data_source": "cli.csv", "processing_type": "standard"}"#,
            ],
            Some(("DURAPIPE_CREDENTIALS", credentials.as_str())),
        ),
    ] {
        let out = cli(&args, env);
        assert!(
            out.status.success(),
            "durapipe {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    wait_until(
        Duration::from_secs(30),
        "the CLI's message processed",
        || {
            String::from_utf8_lossy(&cli(&["scan", "--credentials", &credentials], None).stdout)
                .contains("CLI.CSV")
        },
    );
    // Without credentials the CLI is refused, and says so.
    let unsigned = cli(&["scan"], None);
    assert!(!unsigned.status.success());
    let wrong = cli(&["scan", "--credentials", &format!("{KEY}:wrong")], None);
    assert!(!wrong.status.success());

    let read_state = || state_of(&stack.endpoint, |args| aws_ok(&stack, home, args));
    let before = read_state();
    assert_eq!(before.2, 3, "three items stored so far");

    // Wrong secret, unknown key id, unsigned: refused with AWS's codes per protocol, through the
    // real AWS CLI.
    let q = stack.queue_url("dev-data-processing-queue");
    let sqs_send = [
        "sqs",
        "send-message",
        "--queue-url",
        q.as_str(),
        "--message-body",
        SEED,
    ];
    let ddb_put = [
        "dynamodb",
        "put-item",
        "--table-name",
        "dev-processed-data",
        "--item",
        r#"{"execution_id": {"S": "evil"}}"#,
    ];
    let invoke = [
        "lambda",
        "invoke",
        "--function-name",
        "dev-orchestrator",
        "--payload",
        r#"{"Records":[]}"#,
        response.to_str().unwrap(),
    ];
    let list = [
        "lambda",
        "list-durable-executions-by-function",
        "--function-name",
        "dev-orchestrator",
    ];
    let cases: [(&[&str], &str, &str, &str); 4] = [
        (
            &sqs_send,
            "SignatureDoesNotMatch",
            "InvalidClientTokenId",
            "MissingAuthenticationToken",
        ),
        (
            &ddb_put,
            "InvalidSignatureException",
            "UnrecognizedClientException",
            "MissingAuthenticationTokenException",
        ),
        (
            &invoke,
            "InvalidSignatureException",
            "UnrecognizedClientException",
            "MissingAuthenticationTokenException",
        ),
        (
            &list,
            "InvalidSignatureException",
            "UnrecognizedClientException",
            "MissingAuthenticationTokenException",
        ),
    ];
    for (args, wrong_secret, unknown_key, unsigned) in cases {
        let what = args[..2].join(" ");
        assert_refused(
            aws(&stack, home, KEY, "not-the-secret", args),
            wrong_secret,
            &what,
        );
        assert_refused(
            aws(&stack, home, "AKIDUNKNOWN", SECRET, args),
            unknown_key,
            &what,
        );
        let mut no_sign = args.to_vec();
        no_sign.push("--no-sign-request");
        assert_refused(aws(&stack, home, KEY, SECRET, &no_sign), unsigned, &what);
    }

    // boto3: presigned URL, tampered body, expired date.
    let out = boto3(&stack, home, BOTO3_SCRIPT);
    assert_eq!(
        out["ok_queue_url"],
        stack.queue_url("dev-data-processing-dlq")
    );
    assert_eq!(out["ok_executions"], 3, "{out}");
    assert_eq!(out["presigned_status"], 200, "{out}");
    assert_eq!(
        out["tampered_presigned"],
        serde_json::json!([403, "InvalidSignatureException"]),
        "{out}"
    );
    assert_eq!(out["tampered_body_sqs"], "SignatureDoesNotMatch", "{out}");
    assert_eq!(
        out["tampered_body_ddb"], "InvalidSignatureException",
        "{out}"
    );
    assert_eq!(out["expired_sqs"], "SignatureDoesNotMatch", "{out}");
    assert_eq!(out["expired_ddb"], "InvalidSignatureException", "{out}");
    assert_eq!(out["expired_lambda"], "InvalidSignatureException", "{out}");

    // A malformed Authorization header: IncompleteSignature.
    let host = security_common::host_of(&stack.endpoint).to_owned();
    let malformed = send(
        &stack.endpoint,
        "POST",
        "/",
        &[
            ("Host", &host),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("X-Amz-Date", "20240101T000000Z"),
            (
                "Authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential={KEY}/20240101/us-east-1/dynamodb/aws4_request"
                ),
            ),
        ],
        "{}",
    );
    assert_eq!(malformed.status, 400, "{malformed:?}");
    assert_eq!(
        malformed.json()["__type"],
        "com.amazon.coral.service#IncompleteSignatureException"
    );
    // /health stays open.
    assert_eq!(
        send(&stack.endpoint, "GET", "/health", &[("Host", &host)], "").status,
        200
    );

    // Nothing the refused requests asked for happened.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(read_state(), before, "a refused request changed the stack");

    let (status, stdout, stderr) = stack.stop("TERM");
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("InvalidSignatureException"),
        "refusals are logged:\n{stderr}"
    );
    for (name, text) in [("stdout", &stdout), ("logs", &stderr)] {
        assert!(!text.contains(SECRET), "the secret is in the {name}");
        assert!(
            !text.contains("s3cr3t"),
            "part of the secret is in the {name}"
        );
    }
}

/// With `--sdk-transport loopback` the orchestrator's SDK calls the stack over TCP like any
/// client, so it must sign with the stack's credentials: a message still goes all the way.
#[test]
fn the_loopback_sdk_transport_signs_with_the_stack_s_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = format!("{KEY}:{SECRET}");
    let stack = up_signed(dir.path(), &["--sdk-transport", "loopback"]);
    let cli = |args: &[&str]| {
        Command::new(common::BIN)
            .args(args)
            .args(["--endpoint", &stack.endpoint, "--credentials", &credentials])
            .env_remove("DURAPIPE_ENDPOINT")
            .output()
            .unwrap()
    };
    let sent = cli(&["send", SEED]);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    wait_until(Duration::from_secs(30), "the item stored", || {
        String::from_utf8_lossy(&cli(&["scan"]).stdout).contains("TEST.CSV")
    });
    let executions = String::from_utf8_lossy(&cli(&["executions"]).stdout).into_owned();
    assert!(executions.contains("SUCCEEDED"), "{executions}");
}
