//! A web page must not be able to drive the local stack: the "simple" requests any page can send
//! to 127.0.0.1 (text/plain and form POSTs, a foreign `Origin`, `Sec-Fetch-Site: cross-site`)
//! and DNS-rebinding requests (a foreign `Host`) are refused with 403 before any handler runs,
//! against a real `durapipe up` — and the queues, the table and the executions are unchanged
//! afterwards (read through the APIs). The stack's own origin and the AWS CLI keep working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod security_common;

use common::up;
use security_common::{host_of, send, state_of, Answer};
use serde_json::Value;

/// The issue's request: a durable execution over a fake SQS event, as a web page can send it.
const EVIL_EVENT: &str = r#"{"Records":[{"messageId":"m1","body":"{\"data_source\":\"evil.csv\",\"processing_type\":\"standard\"}"}]}"#;
const INVOKE: &str = "/2015-03-31/functions/dev-orchestrator/invocations";

/// (what, path, headers, body) of one request a page could send.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

fn assert_refused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 403, "{what}: {answer:?}");
    assert!(
        answer.header("access-control-allow-origin").is_none(),
        "{what}: a refusal must not carry CORS permission: {answer:?}"
    );
}

#[test]
fn browser_and_rebinding_requests_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), &["--batching-window", "0"]);
    let aws = stack.aws(dir.path());
    let host = host_of(&stack.endpoint).to_owned();
    let port = host.rsplit(':').next().unwrap().to_owned();
    let read_state = || state_of(&stack.endpoint, |args| aws.json(args));
    let before = read_state();
    assert_eq!(before, (0, 0, 0, 0));

    let queue_url = stack.queue_url("dev-data-processing-queue");
    let send_message =
        serde_json::json!({"QueueUrl": queue_url, "MessageBody": common::SEED}).to_string();
    let put_item =
        r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"S":"evil"}}}"#.to_owned();
    let rebinding_host = format!("127.0.0.1.nip.io:{port}");
    let foreign_host = format!("attacker.example:{port}");
    let v6_host = format!("[::1]:{port}");
    let other_local_origin = format!("http://localhost:{}", port.parse::<u16>().unwrap() ^ 1);

    // (what, path, headers, body): every one of them would change the stack if it ran.
    let cases: Vec<Case> = vec![
        (
            "the issue's curl: text/plain, foreign Origin and Host",
            INVOKE,
            vec![
                ("Host", &foreign_host),
                ("Content-Type", "text/plain"),
                ("Origin", "http://evil.example"),
            ],
            EVIL_EVENT,
        ),
        (
            "text/plain POST with a foreign Origin",
            INVOKE,
            vec![
                ("Host", &host),
                ("Content-Type", "text/plain"),
                ("Origin", "http://evil.example"),
            ],
            EVIL_EVENT,
        ),
        (
            "form POST from a page (Origin null, e.g. a sandboxed frame)",
            INVOKE,
            vec![
                ("Host", &host),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", "null"),
            ],
            EVIL_EVENT,
        ),
        (
            "a page on another local port",
            INVOKE,
            vec![
                ("Host", &host),
                ("Content-Type", "text/plain"),
                ("Origin", &other_local_origin),
                ("Sec-Fetch-Site", "same-site"),
            ],
            EVIL_EVENT,
        ),
        (
            "Sec-Fetch-Site: cross-site without Origin",
            INVOKE,
            vec![("Host", &host), ("Sec-Fetch-Site", "cross-site")],
            EVIL_EVENT,
        ),
        (
            "a foreign Host without Origin (DNS rebinding, same-origin to the page)",
            INVOKE,
            vec![("Host", &foreign_host), ("Content-Type", "text/plain")],
            EVIL_EVENT,
        ),
        (
            "a rebinding name for 127.0.0.1",
            INVOKE,
            vec![("Host", &rebinding_host)],
            EVIL_EVENT,
        ),
        (
            "SQS SendMessage as text/plain with a foreign Origin",
            "/",
            vec![
                ("Host", &host),
                ("Content-Type", "text/plain"),
                ("X-Amz-Target", "AmazonSQS.SendMessage"),
                ("Origin", "http://evil.example"),
            ],
            &send_message,
        ),
        (
            "DynamoDB PutItem with a rebinding Host",
            "/",
            vec![
                ("Host", &rebinding_host),
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
            ],
            &put_item,
        ),
        (
            "DynamoDB PutItem from a foreign Origin via the IPv6 loopback name",
            "/",
            vec![
                ("Host", &v6_host),
                ("Content-Type", "text/plain"),
                ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
                ("Origin", "http://evil.example"),
            ],
            &put_item,
        ),
    ];
    for (what, path, headers, body) in &cases {
        let answer = send(&stack.endpoint, "POST", path, headers, body);
        assert_refused(&answer, what);
    }

    // Each API answers in its own error format.
    let lambda = send(
        &stack.endpoint,
        "POST",
        INVOKE,
        &[("Host", &host), ("Origin", "http://evil.example")],
        EVIL_EVENT,
    );
    assert_eq!(
        lambda.header("x-amzn-errortype"),
        Some("AccessDeniedException")
    );
    assert_eq!(lambda.json()["Type"], "User");
    assert!(
        lambda.json()["message"]
            .as_str()
            .unwrap()
            .contains("evil.example"),
        "{lambda:?}"
    );
    let sqs = send(
        &stack.endpoint,
        "POST",
        "/",
        &[
            ("Host", &host),
            ("X-Amz-Target", "AmazonSQS.SendMessage"),
            ("Origin", "http://evil.example"),
        ],
        &send_message,
    );
    assert_eq!(
        sqs.json()["__type"],
        "com.amazon.coral.service#AccessDeniedException"
    );
    assert_eq!(
        sqs.header("x-amzn-query-error"),
        Some("AccessDenied;Sender")
    );
    let ddb = send(
        &stack.endpoint,
        "POST",
        "/",
        &[
            ("Host", &foreign_host),
            ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
        ],
        &put_item,
    );
    assert_eq!(
        ddb.json()["__type"],
        "com.amazon.coral.service#AccessDeniedException"
    );
    assert!(ddb.json()["message"]
        .as_str()
        .unwrap()
        .contains("--allow-host"));

    // A CORS preflight from a foreign page gets no permission either.
    let preflight = send(
        &stack.endpoint,
        "OPTIONS",
        INVOKE,
        &[
            ("Host", &host),
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        "",
    );
    assert_refused(&preflight, "preflight");

    // Reads by a rebinding page are refused too.
    let listed = send(
        &stack.endpoint,
        "GET",
        "/2025-12-01/functions/dev-orchestrator/durable-executions",
        &[("Host", &rebinding_host)],
        "",
    );
    assert_refused(&listed, "a rebinding page listing executions");

    // Nothing ran, nothing was stored (the ESM would have had time to run a sent message).
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(read_state(), before, "a refused request changed the stack");

    // /health stays open to any Host (probes); the stack's own origin, the IPv6 loopback name
    // and plain tools (no Origin) pass.
    let health = send(
        &stack.endpoint,
        "GET",
        "/health",
        &[("Host", &foreign_host)],
        "",
    );
    assert_eq!(health.status, 200, "{health:?}");
    let own = send(
        &stack.endpoint,
        "POST",
        "/",
        &[
            ("Host", &v6_host),
            ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Origin", &format!("http://localhost:{port}")),
        ],
        r#"{"TableName":"dev-processed-data","Item":{"execution_id":{"S":"from-own-page"}}}"#,
    );
    assert_eq!(own.status, 200, "{own:?}");
    let scan = aws.json(&["dynamodb", "scan", "--table-name", "dev-processed-data"]);
    let items: Vec<&Value> = scan["Items"].as_array().unwrap().iter().collect();
    assert_eq!(items.len(), 1, "{scan}");
    assert_eq!(items[0]["execution_id"]["S"], "from-own-page");
}

#[test]
fn allow_host_and_allow_origin_extend_the_accepted_sets() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &[
            "--allow-host",
            "Box.Lan",
            "--allow-origin",
            "http://localhost:3000",
        ],
    );
    let port = host_of(&stack.endpoint)
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let list = |headers: &[(&str, &str)]| {
        send(
            &stack.endpoint,
            "GET",
            "/2025-12-01/functions/dev-orchestrator/durable-executions",
            headers,
            "",
        )
        .status
    };
    let box_host = format!("box.lan:{port}");
    assert_eq!(list(&[("Host", &box_host)]), 200);
    assert_eq!(
        list(&[("Host", &box_host), ("Origin", "http://localhost:3000")]),
        200
    );
    // A page served by the stack under the allowed name is same-origin.
    assert_eq!(
        list(&[
            ("Host", &box_host),
            ("Origin", &format!("http://box.lan:{port}"))
        ]),
        200
    );
    assert_eq!(list(&[("Host", &format!("other.lan:{port}"))]), 403);
    assert_eq!(
        list(&[("Host", &box_host), ("Origin", "http://localhost:3001")]),
        403
    );
}

#[test]
fn bad_allow_values_stop_the_start_with_a_message_naming_the_flag() {
    for (flag, value) in [
        ("--allow-origin", "localhost:3000"),
        ("--allow-host", "http://x"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(common::BIN)
            .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args([flag, value])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

/// The same refusals on a stack listening on the IPv6 loopback address, reached as `[::1]`.
#[test]
fn a_stack_on_the_ipv6_loopback_refuses_foreign_origins_and_hosts() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(common::BIN)
        .args(["up", "--listen", "[::1]:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--batching-window", "0"])
        .env_remove("DURAPIPE_CREDENTIALS")
        .env_remove("DURAPIPE_CREDENTIALS_FILE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let endpoint = loop {
        let line = lines.next().expect("durapipe up exited early").unwrap();
        if let Some(e) = common::banner_endpoint(&line) {
            break e;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    assert!(endpoint.starts_with("http://[::1]:"), "{endpoint}");
    let host = host_of(&endpoint).to_owned();
    let port = host.rsplit(':').next().unwrap().to_owned();
    let list = "/2025-12-01/functions/dev-orchestrator/durable-executions";
    let executions = |answer: &Answer| answer.json()["DurableExecutions"].as_array().map(Vec::len);

    for (what, headers) in [
        (
            "the issue's curl",
            vec![
                ("Host", format!("attacker.example:{port}")),
                ("Content-Type", "text/plain".to_owned()),
                ("Origin", "http://evil.example".to_owned()),
            ],
        ),
        (
            "a foreign Origin",
            vec![
                ("Host", host.clone()),
                ("Origin", "http://evil.example".to_owned()),
            ],
        ),
        (
            "a cross-site fetch",
            vec![
                ("Host", host.clone()),
                ("Sec-Fetch-Site", "cross-site".to_owned()),
            ],
        ),
        (
            "a rebinding Host",
            vec![("Host", format!("localhost.attacker.example:{port}"))],
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_refused(&send(&endpoint, "POST", INVOKE, &headers, EVIL_EVENT), what);
    }
    // The stack's own IPv6 origin passes, and nothing ran before.
    let own = send(
        &endpoint,
        "GET",
        list,
        &[("Host", &host), ("Origin", &format!("http://[::1]:{port}"))],
        "",
    );
    assert_eq!(own.status, 200, "{own:?}");
    assert_eq!(executions(&own), Some(0), "{own:?}");
    let _ = child.kill();
    let _ = child.wait();
}
