//! Bad input never hurts a running stack: a corpus of malformed requests to every endpoint (SQS,
//! DynamoDB, Lambda invoke, checkpoint, state, callbacks) each gets a 4xx AWS-style error
//! (`x-amzn-errortype` or `__type`), `/health` answers after each, and the items and messages
//! stored before are unchanged after.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "chaos_harness/process.rs"]
mod process;
#[path = "bad_input_corpus/raw.rs"]
mod raw;

use std::time::Duration;

use process::{TempDir, Up};

const Q: &str = "/000000000000/dev-data-processing-queue";

struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn case(
    name: &str,
    method: &'static str,
    path: &str,
    headers: &[(&'static str, &str)],
    body: impl Into<Vec<u8>>,
) -> Case {
    Case {
        name: name.to_owned(),
        method,
        path: path.to_owned(),
        headers: headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        body: body.into(),
    }
}

fn json_target(target: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", target),
    ]
}

fn deep(n: usize) -> Vec<u8> {
    "[".repeat(n).into_bytes()
}

fn ten_mb() -> Vec<u8> {
    let mut body = br#"{"QueueUrl":"x","MessageBody":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    body.extend(br#""}"#);
    body
}

/// The corpus; `arn` is a finished execution of the orchestrator, `endpoint` the stack's URL.
fn corpus(arn: &str, endpoint: &str) -> Vec<Case> {
    let queue_url = format!("{endpoint}{Q}");
    let mut cases = Vec::new();
    // --- SQS
    let send = json_target("AmazonSQS.SendMessage");
    cases.extend([
        case("sqs truncated json", "POST", "/", &send, format!(r#"{{"QueueUrl":"{queue_url}","MessageBo"#)),
        case("sqs wrong types", "POST", "/", &send, r#"{"QueueUrl":5,"MessageBody":[]}"#),
        case("sqs deep nesting", "POST", "/", &send, deep(100_000)),
        case("sqs 10 MB", "POST", "/", &send, ten_mb()),
        case("sqs invalid utf-8", "POST", "/", &send, b"{\"QueueUrl\":\"\xff\xfe\",\"MessageBody\":\"\xc3\x28\"}".to_vec()),
        case("sqs lone surrogate", "POST", "/", &send, format!(r#"{{"QueueUrl":"{queue_url}","MessageBody":"\ud800"}}"#)),
        case("sqs unknown operation", "POST", "/", &json_target("AmazonSQS.FrobnicateQueue"), "{}"),
        case("sqs missing target", "POST", "/", &[("Content-Type", "application/x-amz-json-1.0")], "{}"),
        case("sqs unknown queue", "POST", "/", &send, format!(r#"{{"QueueUrl":"{endpoint}/000000000000/nope","MessageBody":"x"}}"#)),
        case("sqs queue url %2F", "POST", "/", &send, format!(r#"{{"QueueUrl":"{queue_url}%2F..%2Fdev-data-processing-dlq","MessageBody":"x"}}"#)),
        case("sqs queue url %00", "POST", "/", &send, format!(r#"{{"QueueUrl":"{queue_url}%00","MessageBody":"x"}}"#)),
        case("sqs queue url NUL", "POST", "/", &send, format!(r#"{{"QueueUrl":"{queue_url}\u0000","MessageBody":"x"}}"#)),
        case("sqs overlong queue url", "POST", "/", &send, format!(r#"{{"QueueUrl":"{queue_url}{}","MessageBody":"x"}}"#, "q".repeat(100_000))),
        case("sqs empty body", "POST", "/", &send, ""),
        case("sqs duplicate batch ids", "POST", "/", &json_target("AmazonSQS.SendMessageBatch"),
            format!(r#"{{"QueueUrl":"{queue_url}","Entries":[{{"Id":"a","MessageBody":"x"}},{{"Id":"a","MessageBody":"y"}}]}}"#)),
        case("sqs delete with a forged receipt handle", "POST", "/", &json_target("AmazonSQS.ChangeMessageVisibility"),
            format!(r#"{{"QueueUrl":"{queue_url}","ReceiptHandle":"%%%","VisibilityTimeout":1}}"#)),
        case("sqs negative visibility", "POST", "/", &json_target("AmazonSQS.ReceiveMessage"),
            format!(r#"{{"QueueUrl":"{queue_url}","VisibilityTimeout":-1}}"#)),
        case("sqs huge max messages", "POST", "/", &json_target("AmazonSQS.ReceiveMessage"),
            format!(r#"{{"QueueUrl":"{queue_url}","MaxNumberOfMessages":18446744073709551616}}"#)),
        case("sqs purge via unknown queue", "POST", "/", &json_target("AmazonSQS.PurgeQueue"), r#"{"QueueUrl":"http://x/000000000000/%252F"}"#),
    ]);
    // --- DynamoDB
    let put = json_target("DynamoDB_20120810.PutItem");
    let mut nested = String::from(
        r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"S":"corpus-deep"},"d":"#,
    );
    nested.push_str(&r#"{"M":{"a":"#.repeat(10_000));
    cases.extend([
        case("ddb truncated json", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":{"execu"#),
        case("ddb wrong types", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":"x"}"#),
        case("ddb attribute of two types", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"S":"corpus-x","N":"1"}}}"#),
        case("ddb bad number", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"S":"corpus-x"},"n":{"N":"1e999999"}}}"#),
        case("ddb key of the wrong type", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"N":"1"}}}"#),
        case("ddb missing key", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":{"other":{"S":"v"}}}"#),
        case("ddb deep nesting", "POST", "/", &put, nested),
        case("ddb deep brackets", "POST", "/", &put, deep(100_000)),
        case("ddb 10 MB", "POST", "/", &put, ten_mb()),
        case("ddb invalid utf-8", "POST", "/", &put, b"{\"TableName\":\"dev-processed-data\",\"Item\":{\"execution_id\":{\"S\":\"\xff\"}}}".to_vec()),
        case("ddb unknown operation", "POST", "/", &json_target("DynamoDB_20120810.Frobnicate"), "{}"),
        case("ddb unknown table", "POST", "/", &json_target("DynamoDB_20120810.Scan"), r#"{"TableName":"nope-nope"}"#),
        case("ddb table %2F", "POST", "/", &json_target("DynamoDB_20120810.Scan"), r#"{"TableName":"dev-processed-data%2F"}"#),
        case("ddb bad start key", "POST", "/", &json_target("DynamoDB_20120810.Scan"), r#"{"TableName":"dev-processed-data","ExclusiveStartKey":{"nope":{"S":"x"}}}"#),
        case("ddb negative limit", "POST", "/", &json_target("DynamoDB_20120810.Scan"), r#"{"TableName":"dev-processed-data","Limit":-5}"#),
        case("ddb bad condition", "POST", "/", &put, r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"S":"corpus-x"}},"ConditionExpression":"attribute_not_exists((("}"#),
        case("ddb delete with a bad key", "POST", "/", &json_target("DynamoDB_20120810.DeleteItem"), r#"{"TableName":"dev-processed-data","Key":{"execution_id":{"S":""}}}"#),
    ]);
    // --- Lambda invoke
    let invoke = |name: &str| format!("/2015-03-31/functions/{name}/invocations");
    let json = [("Content-Type", "application/json")];
    let long = "f".repeat(10_000);
    cases.extend([
        case(
            "invoke unknown function",
            "POST",
            &invoke("nope"),
            &json,
            "{}",
        ),
        case(
            "invoke name %2F",
            "POST",
            &invoke("dev-validate%2F..%2Fdev-store"),
            &json,
            "{}",
        ),
        case(
            "invoke name %252F",
            "POST",
            &invoke("dev-validate%252Fx"),
            &json,
            "{}",
        ),
        case(
            "invoke name %00",
            "POST",
            &invoke("dev-validate%00"),
            &json,
            "{}",
        ),
        case(
            "invoke name invalid utf-8",
            "POST",
            &invoke("dev-%FF%FE"),
            &json,
            "{}",
        ),
        case("invoke overlong name", "POST", &invoke(&long), &json, "{}"),
        case(
            "invoke overlong arn",
            "POST",
            &invoke(&raw::encode(&format!(
                "arn:aws:lambda:us-east-1:000000000000:function:{long}"
            ))),
            &json,
            "{}",
        ),
        case(
            "invoke 10 MB",
            "POST",
            &invoke("dev-validate"),
            &json,
            ten_mb(),
        ),
        case(
            "invoke truncated json",
            "POST",
            &invoke("dev-validate"),
            &json,
            r#"{"data_source": "x"#,
        ),
        case(
            "invoke invalid utf-8",
            "POST",
            &invoke("dev-validate"),
            &json,
            b"\xff\xfe\xfd".to_vec(),
        ),
        case(
            "invoke deep nesting",
            "POST",
            &invoke("dev-orchestrator"),
            &json,
            deep(100_000),
        ),
        case(
            "invoke bad invocation type",
            "POST",
            &invoke("dev-validate"),
            &[("X-Amz-Invocation-Type", "Sometimes")],
            "{}",
        ),
        case(
            "invoke wrong method",
            "GET",
            &invoke("dev-validate"),
            &[],
            "",
        ),
    ]);
    // --- checkpoint / state
    let enc = raw::encode(arn);
    let checkpoint = |a: &str| format!("/2025-12-01/durable-executions/{a}/checkpoint");
    let stale = raw::base64url(b"1:stale-invocation");
    let stale_body = format!(r#"{{"CheckpointToken":"{stale}","Updates":[]}}"#);
    let client_token = format!(
        r#"{{"CheckpointToken":"{stale}","ClientToken":"corpus-client-token","Updates":[{{"Id":"x","Type":"STEP","Action":"START"}}]}}"#
    );
    cases.extend([
        case("checkpoint truncated json", "POST", &checkpoint(&enc), &json, r#"{"CheckpointToken":"ab"#),
        case("checkpoint wrong types", "POST", &checkpoint(&enc), &json, r#"{"CheckpointToken":5,"Updates":"x"}"#),
        case("checkpoint wrong update types", "POST", &checkpoint(&enc), &json, format!(r#"{{"CheckpointToken":"{stale}","Updates":[{{"Id":7,"Type":"NOPE"}}]}}"#)),
        case("checkpoint deep nesting", "POST", &checkpoint(&enc), &json, deep(100_000)),
        case("checkpoint 10 MB", "POST", &checkpoint(&enc), &json, ten_mb()),
        case("checkpoint invalid utf-8", "POST", &checkpoint(&enc), &json, b"{\"CheckpointToken\":\"\xff\"}".to_vec()),
        case("checkpoint garbage token", "POST", &checkpoint(&enc), &json, r#"{"CheckpointToken":"!!!"}"#),
        case("checkpoint stale token", "POST", &checkpoint(&enc), &json, stale_body.clone()),
        case("checkpoint replayed stale token", "POST", &checkpoint(&enc), &json, stale_body),
        case("checkpoint client token", "POST", &checkpoint(&enc), &json, client_token.clone()),
        case("checkpoint duplicate client token", "POST", &checkpoint(&enc), &json, client_token),
        case("checkpoint unknown arn", "POST", &checkpoint(&raw::encode("arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator:$LATEST/durable-execution/x/y")), &json, "{\"CheckpointToken\":\"x\"}"),
        case("checkpoint arn unencoded %2F", "POST", &checkpoint(&arn.replace('/', "%2F").replace(':', "%3A")), &json, "{\"CheckpointToken\":\"x\"}"),
        case("checkpoint arn double-encoded %252F", "POST", &checkpoint(&enc.replace("%2F", "%252F")), &json, "{\"CheckpointToken\":\"x\"}"),
        case("checkpoint arn raw slashes", "POST", &checkpoint(arn), &json, "{\"CheckpointToken\":\"x\"}"),
        case("checkpoint arn %00", "POST", &checkpoint(&format!("{enc}%00")), &json, "{\"CheckpointToken\":\"x\"}"),
        case("checkpoint arn invalid utf-8", "POST", &checkpoint("%C3%28"), &json, "{\"CheckpointToken\":\"x\"}"),
        case("checkpoint overlong arn", "POST", &checkpoint(&format!("{enc}{long}")), &json, "{\"CheckpointToken\":\"x\"}"),
        case("state without token", "GET", &format!("/2025-12-01/durable-executions/{enc}/state"), &[], ""),
        case("state stale token", "GET", &format!("/2025-12-01/durable-executions/{enc}/state?CheckpointToken={stale}"), &[], ""),
        case("state garbage token", "GET", &format!("/2025-12-01/durable-executions/{enc}/state?CheckpointToken=%FF%00"), &[], ""),
        case("state bad max items", "GET", &format!("/2025-12-01/durable-executions/{enc}/state?CheckpointToken={stale}&MaxItems=-1"), &[], ""),
        case("history bad marker", "GET", &format!("/2025-12-01/durable-executions/{enc}/history?Marker=abc"), &[], ""),
        case("list bad status", "GET", "/2025-12-01/functions/dev-orchestrator/durable-executions?Statuses=SLEEPING", &[], ""),
        case("list bad time", "GET", "/2025-12-01/functions/dev-orchestrator/durable-executions?StartedAfter=yesterday", &[], ""),
        case("stop unknown arn", "POST", "/2025-12-01/durable-executions/nope/stop", &json, "{}"),
        case("unknown durable resource", "GET", "/2025-12-01/frobnicators", &[], ""),
    ]);
    // --- callbacks
    let callback =
        |id: &str, action: &str| format!("/2025-12-01/durable-execution-callbacks/{id}/{action}");
    let forged = raw::base64url(format!("{arn}\nno-such-operation").as_bytes());
    let foreign = raw::base64url(
        b"arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST/durable-execution/x/y\nop",
    );
    cases.extend([
        case(
            "callback garbage id",
            "POST",
            &callback("%%%", "succeed"),
            &json,
            "{}",
        ),
        case(
            "callback forged id",
            "POST",
            &callback(&forged, "succeed"),
            &json,
            "{}",
        ),
        case(
            "callback forged id replayed",
            "POST",
            &callback(&forged, "succeed"),
            &json,
            "{}",
        ),
        case(
            "callback unknown execution",
            "POST",
            &callback(&foreign, "heartbeat"),
            &json,
            "",
        ),
        case(
            "callback unknown action",
            "POST",
            &callback(&forged, "explode"),
            &json,
            "{}",
        ),
        case(
            "callback fail with a bad error object",
            "POST",
            &callback(&forged, "fail"),
            &json,
            r#"{"ErrorMessage":5"#,
        ),
        case(
            "callback invalid utf-8",
            "POST",
            &callback(&forged, "succeed"),
            &json,
            b"\xff\xfe".to_vec(),
        ),
        case(
            "callback 10 MB",
            "POST",
            &callback(&forged, "succeed"),
            &json,
            ten_mb(),
        ),
        case(
            "callback id %00",
            "POST",
            &callback("%00", "succeed"),
            &json,
            "{}",
        ),
    ]);
    cases
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let creds = aws_sdk_sqs::config::Credentials::new("t", "t", None, None, "t");
    let sqs = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .build();
    aws_sdk_sqs::Client::from_conf(sqs)
}

/// Every item as JSON (read through the raw endpoint; `Value` maps compare order-free),
/// sorted by key.
async fn items(addr: std::net::SocketAddr) -> Vec<serde_json::Value> {
    let r = raw::request(
        addr,
        "POST",
        "/",
        &json_target("DynamoDB_20120810.Scan"),
        br#"{"TableName":"dev-processed-data"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "Scan failed: {r:?}");
    let out: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(out.get("LastEvaluatedKey").is_none(), "more than one page");
    let mut items = out["Items"].as_array().cloned().unwrap_or_default();
    items.sort_by_key(|i| {
        i["execution_id"]["S"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    items
}

async fn queue_count(c: &aws_sdk_sqs::Client, url: &str) -> [String; 2] {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = c
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::All)
        .send()
        .await
        .unwrap();
    let a = out.attributes.unwrap_or_default();
    [
        a.get(&A::ApproximateNumberOfMessages)
            .cloned()
            .unwrap_or_default(),
        a.get(&A::ApproximateNumberOfMessagesNotVisible)
            .cloned()
            .unwrap_or_default(),
    ]
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_bad_input_with_an_aws_error_and_keeps_its_data() {
    let dir = TempDir::new("bad-input").unwrap();
    let args: Vec<String> = [
        "--batching-window",
        "0",
        "--visibility-timeout",
        "1",
        "--max-receive-count",
        "1",
    ]
    .map(str::to_owned)
    .to_vec();
    let up = Up::start(
        &dir.0.join("data"),
        &args,
        &dir.0.join("log"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let endpoint = up.endpoint.clone();
    let addr: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let c = sqs_client(&endpoint);
    let queue_url = format!("{endpoint}{Q}");
    let dlq_url = format!("{endpoint}/000000000000/dev-data-processing-dlq");

    // Data stored first: three items (through the pipeline) and two dead letters.
    let invalid = [
        "not json at all",
        r#"{"data_source":"","processing_type":"x"}"#,
    ];
    for i in 0..3 {
        let body = format!(r#"{{"data_source":"corpus-{i}.csv","processing_type":"standard"}}"#);
        c.send_message()
            .queue_url(&queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    for body in invalid {
        c.send_message()
            .queue_url(&queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    wait_for("3 items and 2 dead letters", async || {
        items(addr).await.len() == 3
            && queue_count(&c, &dlq_url).await == ["2".to_owned(), "0".to_owned()]
            && queue_count(&c, &queue_url).await == ["0".to_owned(), "0".to_owned()]
    })
    .await;
    let before = items(addr).await;
    let listed = raw::request(
        addr,
        "GET",
        "/2025-12-01/functions/dev-orchestrator/durable-executions",
        &[],
        b"",
    )
    .await;
    let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let arn = listed["DurableExecutions"][0]["DurableExecutionArn"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut failures = Vec::new();
    let cases = corpus(&arn, &endpoint);
    let count = cases.len();
    for case in cases {
        let headers: Vec<(&str, &str)> =
            case.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = raw::request(addr, case.method, &case.path, &headers, &case.body).await;
        let aws_style =
            (400..500).contains(&r.status) && r.error_type().is_some_and(|t| !t.is_empty());
        if !aws_style {
            failures.push(format!(
                "{}: status {} type {:?} body {}",
                case.name,
                r.status,
                r.error_type(),
                r.body.chars().take(300).collect::<String>()
            ));
        }
        let health = raw::request(addr, "GET", "/health", &[], b"").await;
        assert_eq!(
            health.status, 200,
            "/health after {:?}: the stack went down",
            case.name
        );
    }

    // A durable execution name used twice with a different input is refused (idempotency).
    let invoke = "/2015-03-31/functions/dev-orchestrator/invocations";
    let named = [
        ("X-Amz-Durable-Execution-Name", "corpus-once"),
        ("X-Amz-Invocation-Type", "Event"),
    ];
    let first = raw::request(addr, "POST", invoke, &named, br#"{"Records":[]}"#).await;
    assert_eq!(first.status, 202, "{first:?}");
    let again = raw::request(addr, "POST", invoke, &named, br#"{"Records":[{}]}"#).await;
    if !((400..500).contains(&again.status) && again.error_type().is_some()) {
        failures.push(format!("duplicate execution name: {again:?}"));
    }

    assert!(
        failures.is_empty(),
        "{} of {count} bad requests were not answered with a 4xx AWS error:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(items(addr).await, before, "the stored items changed");
    assert_eq!(
        queue_count(&c, &queue_url).await,
        ["0".to_owned(), "0".to_owned()],
        "the corpus enqueued something"
    );
    let dead = c
        .receive_message()
        .queue_url(&dlq_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let mut bodies: Vec<String> = dead
        .messages()
        .iter()
        .filter_map(|m| m.body.clone())
        .collect();
    bodies.sort();
    let mut expected = invalid.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(bodies, expected, "the dead letters changed");
    println!("bad input: {count} malformed requests, all 4xx AWS errors; 3 items and 2 dead letters unchanged");
    let status = up.terminate(Duration::from_secs(30)).await.unwrap();
    assert!(
        status.success(),
        "durapipe exited with {status} after the corpus"
    );
}
