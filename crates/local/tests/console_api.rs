//! The console's HTTP surface without a browser: the page and its assets, the console's own
//! endpoints (parameters refused by name, the write's CSRF defence), `/metrics` in Prometheus'
//! text format with the documented names, `--no-console` and `--time-scale`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use aws_durable_execution_sdk::DurableContext;
use durapipe_durable::{durable_fn, ExecStatus};
use durapipe_local::stack::{Stack, StackConfig, StackError};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::whole_stack;

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request over a fresh connection.
async fn request(
    stack: &Stack,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let addr = stack.info().addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(text.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8(out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    // Bodies here are small and sent whole; strip chunked framing if any.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut rest = body;
        let mut plain = String::new();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            plain.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        plain
    } else {
        body.to_owned()
    };
    Reply {
        status,
        head: head.to_owned(),
        body,
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");
const CONSOLE: (&str, &str) = ("x-durapipe-console", "1");
const REDRIVE: &str = "/_durapipe/console/dead-letters/redrive";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_embedded_and_served_with_a_strict_policy() {
    let (stack, _dir) = whole_stack(|_| {}).await;
    let page = request(&stack, "GET", "/", &[], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>durapipe console</title>"));
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let script = request(&stack, "GET", "/console/console.js", &[], "").await;
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    for sink in [
        ".innerHTML",
        ".outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(
            !script.body.contains(sink),
            "the console must not use {sink}"
        );
    }
    assert_eq!(
        request(&stack, "GET", "/console/console.css", &[], "")
            .await
            .status,
        200
    );
    assert_eq!(
        request(&stack, "GET", "/console/other.js", &[], "")
            .await
            .status,
        404
    );
    // The AWS endpoints on the same path still answer.
    let queues = request(
        &stack,
        "POST",
        "/",
        &[
            ("x-amz-target", "AmazonSQS.ListQueues"),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        "{}",
    )
    .await;
    assert_eq!(queues.status, 200, "{}", queues.body);
    let config = request(&stack, "GET", "/_durapipe/console/config", &[], "")
        .await
        .json();
    assert_eq!(config["Queue"], "dev-data-processing-queue");
    assert_eq!(config["TimeScale"], 1.0);
    assert_eq!(
        stack.info().console.as_deref(),
        Some(format!("http://{}/", stack.info().addr).as_str())
    );
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_writes_need_the_console_header_json_and_the_own_origin() {
    let (stack, _dir) = whole_stack(|_| {}).await;
    let own = format!("http://{}", stack.info().addr);
    let refused = [
        (vec![JSON], "header"),
        (vec![CONSOLE], "Content-Type"),
        (
            vec![CONSOLE, ("content-type", "text/plain")],
            "Content-Type",
        ),
        (
            vec![CONSOLE, JSON, ("origin", "http://evil.example")],
            "origin",
        ),
        (
            vec![CONSOLE, JSON, ("sec-fetch-site", "cross-site")],
            "origin",
        ),
    ];
    for (headers, why) in refused {
        let r = request(&stack, "POST", REDRIVE, &headers, "{}").await;
        assert_eq!(r.status, 403, "{headers:?}: {}", r.body);
        assert!(
            r.body.contains("AccessDenied") && r.body.contains(why),
            "{}",
            r.body
        );
    }
    let ok = request(
        &stack,
        "POST",
        REDRIVE,
        &[
            CONSOLE,
            JSON,
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
        "{}",
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["Moved"], 0);
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_endpoints_refuse_what_they_do_not_know_by_name() {
    let (stack, _dir) = whole_stack(|_| {}).await;
    let cases = [
        (
            "/_durapipe/console/operations?DurableExecutionArn=x&Foo=1",
            400,
            "Foo",
        ),
        (
            "/_durapipe/console/operations",
            400,
            "DurableExecutionArn is required",
        ),
        (
            "/_durapipe/console/operations?DurableExecutionArn=x&MaxItems=0",
            400,
            "MaxItems",
        ),
        (
            "/_durapipe/console/operations?DurableExecutionArn=x&Offset=-1",
            400,
            "Offset",
        ),
        (
            "/_durapipe/console/operations?DurableExecutionArn=nope",
            404,
            "not found",
        ),
        (
            "/_durapipe/console/dead-letters?MaxItems=101",
            400,
            "MaxItems",
        ),
        ("/_durapipe/console/dead-letters?Bar=1", 400, "Bar"),
    ];
    for (path, status, says) in cases {
        let r = request(&stack, "GET", path, &[], "").await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(r.body.contains(says), "{path}: {}", r.body);
    }
    for (body, status, says) in [
        (r#"{"Queue": "x"}"#, 400, "Queue"),
        (r#"{"MessageId": 7}"#, 400, "MessageId must be a string"),
        (r#"{"MessageId": "none"}"#, 404, "none"),
        ("[]", 400, "JSON object"),
        ("{", 400, "not JSON"),
    ] {
        let r = request(&stack, "POST", REDRIVE, &[CONSOLE, JSON], body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    stack.shutdown(Duration::from_secs(5)).await;
}

/// The metric names docs/local-stack.md lists.
const DOCUMENTED: [&str; 16] = [
    "durapipe_queue_messages",
    "durapipe_dlq_messages",
    "durapipe_executions",
    "durapipe_invocations_total",
    "durapipe_checkpoints_total",
    "durapipe_checkpoint_latency_seconds_bucket",
    "durapipe_db_commit_seconds_bucket",
    "durapipe_db_commit_seconds_count",
    "durapipe_db_commits_total",
    "durapipe_db_writes_total",
    "durapipe_db_size_bytes",
    "durapipe_messages_processed_total",
    "durapipe_messages_failed_total",
    "durapipe_batches_total",
    "durapipe_time_scale",
    "process_resident_memory_bytes",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_with_the_documented_names() {
    let (stack, _dir) = whole_stack(|_| {}).await;
    // A delayed message stays delayed: a stable gauge to read.
    let send = json!({
        "QueueUrl": stack.info().queue_url, "MessageBody": "{}", "DelaySeconds": 900
    });
    let sent = request(
        &stack,
        "POST",
        "/",
        &[
            ("x-amz-target", "AmazonSQS.SendMessage"),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        &send.to_string(),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let r = request(&stack, "GET", "/metrics", &[], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let mut names = Vec::new();
    for line in r.body.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(
                rest.starts_with("HELP ") || rest.starts_with("TYPE "),
                "{line}"
            );
            continue;
        }
        names.push(sample_name(line));
    }
    for name in DOCUMENTED {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing:\n{}",
            r.body
        );
    }
    let q = "dev-data-processing-queue";
    for (state, n) in [("visible", 0), ("in_flight", 0), ("delayed", 1)] {
        let line = format!("durapipe_queue_messages{{queue=\"{q}\",state=\"{state}\"}} {n}");
        assert!(r.body.lines().any(|l| l == line), "no {line}:\n{}", r.body);
    }
    assert!(r
        .body
        .contains("durapipe_dlq_messages{queue=\"dev-data-processing-dlq\"} 0"));
    assert!(r.body.contains("durapipe_executions{status=\"RUNNING\"} 0"));
    // Histograms are cumulative and end with +Inf = count.
    let buckets: Vec<u64> = r
        .body
        .lines()
        .filter(|l| l.starts_with("durapipe_db_commit_seconds_bucket"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    let count: u64 = r
        .body
        .lines()
        .find_map(|l| l.strip_prefix("durapipe_db_commit_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(count > 0, "the stack committed at start-up");
    assert_eq!(buckets.last(), Some(&count));
    stack.shutdown(Duration::from_secs(5)).await;
}

/// Checks one sample line's shape (`name{labels} value`) and returns the name.
fn sample_name(line: &str) -> String {
    let (series, value) = line.rsplit_once(' ').unwrap();
    assert!(value.parse::<f64>().is_ok(), "bad value in {line}");
    let name = series.split('{').next().unwrap();
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "bad name in {line}"
    );
    if let Some(labels) = series.strip_prefix(name) {
        assert!(
            labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
            "{line}"
        );
    }
    name.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_turns_off_the_page_but_not_the_metrics() {
    let (stack, _dir) = whole_stack(|c| c.console = false).await;
    assert_ne!(request(&stack, "GET", "/", &[], "").await.status, 200);
    assert_eq!(
        request(&stack, "GET", "/console/console.js", &[], "")
            .await
            .status,
        404
    );
    assert_eq!(
        request(&stack, "GET", "/_durapipe/console/config", &[], "")
            .await
            .status,
        404
    );
    assert_eq!(
        request(&stack, "GET", "/metrics", &[], "").await.status,
        200
    );
    assert_eq!(stack.info().console, None);
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_scale_runs_a_long_durable_wait_in_a_moment() {
    for bad in [0.5, f64::INFINITY, 2_000_000.0] {
        let dir = tempfile::tempdir().unwrap();
        let err = Stack::start(StackConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            time_scale: bad,
            ..StackConfig::default()
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, StackError::Config(m) if m.contains("--time-scale")),
            "{err}"
        );
    }
    let (stack, _dir) = whole_stack(|c| c.time_scale = 1000.0).await;
    let service = stack.service().clone();
    service.register_durable(
        "dev-sleepy",
        durable_fn(
            |_: Value, ctx: DurableContext| async move {
                // Within the 900 s execution timeout, which runs on the same scaled clock.
                ctx.wait(Duration::from_secs(800)).name("800 s").await?;
                Ok(1)
            },
            service.in_process_client(),
        )
        .unwrap(),
    );
    let real = Instant::now();
    let arn = service.start("dev-sleepy", &json!({})).await.unwrap();
    let outcome = service.wait(&arn, Duration::from_secs(60)).await.unwrap();
    let took = real.elapsed();
    assert_eq!(outcome.status, ExecStatus::Succeeded, "{outcome:?}");
    // 800 s at 1000x is 0.8 s; allow for a slow machine, nowhere near 800 s.
    assert!(
        took >= Duration::from_millis(750) && took < Duration::from_secs(30),
        "{took:?}"
    );
    let config = request(&stack, "GET", "/_durapipe/console/config", &[], "")
        .await
        .json();
    assert_eq!(config["TimeScale"], 1000.0);
    let metrics = request(&stack, "GET", "/metrics", &[], "").await.body;
    assert!(
        metrics.lines().any(|l| l == "durapipe_time_scale 1000"),
        "{metrics}"
    );
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_are_paged_in_creation_order_with_their_depth() {
    let (stack, _dir) = whole_stack(|_| {}).await;
    let service = stack.service().clone();
    service.register_durable(
        "dev-nested",
        durable_fn(
            |_: Value, ctx: DurableContext| async move {
                let inner = ctx
                    .run_in_child_context(|child| async move {
                        let a = child.step(|_| async { Ok(1) }).name("a").await?;
                        let b = child.step(|_| async { Ok(2) }).name("b").await?;
                        Ok(a + b)
                    })
                    .name("outer")
                    .await?;
                let c = ctx.step(|_| async { Ok(3) }).name("c").await?;
                Ok(inner + c)
            },
            service.in_process_client(),
        )
        .unwrap(),
    );
    let arn = service.start("dev-nested", &json!({})).await.unwrap();
    let o = service.wait(&arn, Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    let encoded: String = arn
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let page = |offset: usize| {
        let path = format!(
            "/_durapipe/console/operations?DurableExecutionArn={encoded}&Offset={offset}&MaxItems=2"
        );
        let stack = &stack;
        async move { request(stack, "GET", &path, &[], "").await.json() }
    };
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let p = page(offset).await;
        assert_eq!(p["Total"], 5, "{p}");
        let ops = p["Operations"].as_array().unwrap();
        assert!(ops.len() <= 2);
        for op in ops {
            let name = if op["Type"] == "EXECUTION" {
                "(execution)"
            } else {
                op["Name"].as_str().unwrap()
            };
            seen.push((
                name.to_owned(),
                op["Type"].as_str().unwrap().to_owned(),
                op["Depth"].as_u64().unwrap(),
            ));
        }
        match p["NextOffset"].as_u64() {
            Some(next) => offset = usize::try_from(next).unwrap(),
            None => break,
        }
    }
    // "b" is on the second page, its parent "outer" on the first: its depth is still 2.
    let expected = [
        ("(execution)", "EXECUTION", 0),
        ("outer", "CONTEXT", 1),
        ("a", "STEP", 2),
        ("b", "STEP", 2),
        ("c", "STEP", 1),
    ];
    let seen: Vec<(&str, &str, u64)> = seen
        .iter()
        .map(|(n, t, d)| (n.as_str(), t.as_str(), *d))
        .collect();
    assert_eq!(seen, expected);
    stack.shutdown(Duration::from_secs(5)).await;
}
