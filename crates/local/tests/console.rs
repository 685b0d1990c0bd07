//! The web console in a real browser (headless Debian chromium through chromedriver): the
//! seed message's timeline, a dead letter and its redrive, callback buttons, hostile values
//! shown as text, and a 3,000-operation execution's page within a stated bound. Every test
//! saves screenshots of the pages it visits (see `browser/mod.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod common;

use std::time::{Duration, Instant};

use aws_durable_execution_sdk as durable;
use durable::DurableContext;
use durapipe_durable::{durable_fn, ExecStatus};
use fantoccini::Locator;
use serde_json::{json, Value};

use browser::{browser, execution_url, Browser};
use common::whole_stack as stack;

const SEED: &str = r#"{"data_source": "test.csv", "processing_type": "standard"}"#;

/// Types `body` into the dead-letter page's send form and sends it; returns the message id.
async fn send_from_console(b: &Browser, endpoint: &str, body: &str) -> String {
    b.open(&format!("{endpoint}/#/dead-letters"), "dead-letters")
        .await;
    let text = b.client.find(Locator::Id("send-body")).await.unwrap();
    text.clear().await.unwrap();
    text.send_keys(body).await.unwrap();
    b.click(Locator::Id("send-button")).await;
    let id = b
        .until(
            "the send form reports a message id",
            Duration::from_secs(10),
            "return document.getElementById('send-result').dataset.messageId",
        )
        .await;
    id.as_str().unwrap().to_owned()
}

/// The timeline's bars as `{id, name, type, status, parent, start}` objects.
async fn bars(b: &Browser) -> Vec<Value> {
    let v = b
        .js(
            "return [...document.querySelectorAll('#timeline [data-operation-id]')].map(e => ({
            id: e.dataset.operationId, name: e.dataset.operationName,
            type: e.dataset.operationType, status: e.dataset.status,
            parent: e.dataset.parentId, start: Number(e.dataset.startMs)}))",
        )
        .await;
    v.as_array().unwrap().clone()
}

/// Opens the executions list and, from it, the first execution's page.
async fn open_first_execution(b: &Browser, endpoint: &str) {
    b.open(&format!("{endpoint}/#/executions"), "executions")
        .await;
    b.click(Locator::Css("#executions tbody tr[data-arn] a"))
        .await;
    b.ready("execution").await;
}

/// Waits until the overview's card `card` shows `value`.
async fn card_shows(b: &Browser, card: &str, value: &str, within: Duration) {
    let script = format!(
        "const c = document.querySelector('[data-card=\"{card}\"] .value');
         return c && c.textContent === '{value}'"
    );
    b.until(
        &format!("the overview's {card} card shows {value}"),
        within,
        &script,
    )
    .await;
}

/// Waits until the execution page shows an open callback.
async fn callback_shown(b: &Browser) {
    b.until(
        "an open callback is shown",
        Duration::from_secs(20),
        "return document.querySelector('#callbacks [data-callback-id]') !== null",
    )
    .await;
}

/// Waits until the execution page's heading shows `status`.
async fn execution_shows(b: &Browser, status: &str) {
    let script = format!(
        "const s = document.querySelector('#execution-head [data-status]'); \
         return s && s.dataset.status === '{status}'"
    );
    b.until(
        &format!("the execution page shows {status}"),
        Duration::from_secs(20),
        &script,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_message_timeline_shows_three_stage_invokes_in_order() {
    let (stack, _dir) = stack(|_| {}).await;
    let endpoint = stack.info().endpoint.clone();
    let b = browser().await;
    let id = send_from_console(&b, &endpoint, SEED).await;

    // The execution appears in the list and succeeds.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        b.open(&format!("{endpoint}/#/executions"), "executions")
            .await;
        let status = b
            .js(
                "const r = document.querySelector('#executions tbody tr[data-arn]');
                 return r ? r.querySelector('[data-status]').dataset.status : null",
            )
            .await;
        if status == json!("SUCCEEDED") {
            break;
        }
        if Instant::now() > deadline {
            let arn = b
                .js("return document.querySelector('#executions tbody tr[data-arn]').dataset.arn")
                .await;
            let ops = stack
                .service()
                .operations(arn.as_str().unwrap())
                .await
                .unwrap();
            panic!("execution status {status}: {ops:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    b.screenshot("executions").await;
    // The filters: no FAILED execution; the SUCCEEDED one, and none started after it.
    let rows = "return document.querySelectorAll('#executions tbody tr[data-arn]').length";
    for (filter, shown) in [
        ("status=FAILED", 0),
        ("status=SUCCEEDED", 1),
        ("after=2999-01-01T00:00", 0),
    ] {
        b.open(&format!("{endpoint}/#/executions?{filter}"), "executions")
            .await;
        assert_eq!(b.js(rows).await, json!(shown), "{filter}");
    }
    open_first_execution(&b, &endpoint).await;
    b.wait_css("#timeline .tl-bar", Duration::from_secs(10))
        .await;
    let bars = bars(&b).await;
    let invokes: Vec<&Value> = bars
        .iter()
        .filter(|x| x["type"] == "CHAINED_INVOKE")
        .collect();
    let mut ordered = invokes.clone();
    ordered.sort_by(|a, c| {
        a["start"]
            .as_f64()
            .partial_cmp(&c["start"].as_f64())
            .unwrap()
    });
    let names: Vec<&str> = ordered
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            format!("validate-{id}"),
            format!("transform-{id}"),
            format!("store-{id}")
        ],
        "{bars:#?}"
    );
    assert!(
        invokes.iter().all(|x| x["status"] == "SUCCEEDED"),
        "{invokes:#?}"
    );
    // Each invoke sits below the map over the batch's records.
    let map = bars
        .iter()
        .find(|x| x["name"] == "records")
        .unwrap_or_else(|| panic!("no map bar: {bars:#?}"));
    for invoke in &invokes {
        let mut parent = invoke["parent"].as_str().unwrap().to_owned();
        let mut hops = 0;
        while parent != map["id"].as_str().unwrap() {
            let up = bars
                .iter()
                .find(|x| x["id"] == parent.as_str())
                .unwrap_or_else(|| panic!("{invoke} is not below the map"));
            parent = up["parent"].as_str().unwrap().to_owned();
            hops += 1;
            assert!(hops < 10);
        }
    }
    // Durations on hover: every bar has a title naming its duration.
    let titles = b
        .js("return [...document.querySelectorAll('#timeline .tl-bar')].every(e => /took \\d/.test(e.title))")
        .await;
    assert_eq!(titles, json!(true));
    b.screenshot("timeline").await;

    // The stored item is in the table page and opens.
    b.open(&format!("{endpoint}/#/table"), "table").await;
    b.click(Locator::Css("#items tbody a")).await;
    b.ready("item").await;
    let item = b
        .js("return document.getElementById('item').innerText")
        .await;
    assert!(item.as_str().unwrap().contains("test.csv"), "{item}");
    b.screenshot("item").await;

    // The overview counts it and charts live samples without a reload.
    b.open(&format!("{endpoint}/#/overview"), "overview").await;
    card_shows(&b, "exec-SUCCEEDED", "1", Duration::from_secs(10)).await;
    card_shows(&b, "processed", "1", Duration::from_secs(10)).await;
    // More traffic while the page is open: the counters move without a reload.
    let queue_url = stack.info().queue_url.clone();
    for i in 0..40 {
        let body = json!({ "QueueUrl": queue_url, "MessageBody": json!({
            "data_source": format!("file-{i}.csv"), "processing_type": "standard" }).to_string() });
        post(&endpoint, "AmazonSQS.SendMessage", &body.to_string()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    card_shows(&b, "processed", "41", Duration::from_secs(30)).await;
    b.screenshot("overview").await;
    b.close().await;
    stack.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_shows_its_validation_error_and_redrive_requeues_it() {
    let (stack, _dir) = stack(|c| {
        c.visibility_timeout = Duration::from_secs(1);
        c.max_receive_count = 1;
    })
    .await;
    let endpoint = stack.info().endpoint.clone();
    let b = browser().await;
    let id = send_from_console(&b, &endpoint, r#"{"processing_type": "standard"}"#).await;
    let row = format!("#dead-letters tr[data-message-id=\"{id}\"] .last-error");
    // The page refreshes itself: no reload.
    let error = b.wait_css(&row, Duration::from_secs(60)).await;
    let text = error.text().await.unwrap();
    assert!(
        text.contains("ValidationError") && text.contains("data_source"),
        "{text}"
    );
    b.screenshot("dead-letters").await;
    let failed_before = failed_attempts(&endpoint).await;

    b.click(Locator::Css(&format!(
        "#dead-letters tr[data-message-id=\"{id}\"] .redrive-one"
    )))
    .await;
    b.until(
        "the redrive is confirmed",
        Duration::from_secs(10),
        "const t = document.getElementById('toast'); return !t.hidden && t.textContent.startsWith('Moved 1 message to')",
    )
    .await;
    // Back on the queue, the pipeline receives it again: a new failed attempt, then the DLQ.
    let deadline = Instant::now() + Duration::from_secs(60);
    while failed_attempts(&endpoint).await <= failed_before {
        assert!(
            Instant::now() < deadline,
            "the redriven message was not received again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.wait_css(&row, Duration::from_secs(60)).await;
    // "Redrive all" moves it once more.
    b.js("document.getElementById('toast').hidden = true; return null")
        .await;
    b.click(Locator::Id("redrive-all")).await;
    b.until(
        "redrive all is confirmed",
        Duration::from_secs(10),
        "const t = document.getElementById('toast'); return !t.hidden && t.textContent === 'Moved 1 message to dev-data-processing-queue.'",
    )
    .await;
    b.close().await;
    stack.shutdown(Duration::from_secs(5)).await;
}

/// `durapipe_messages_failed_total` from `/metrics`, through a plain HTTP/1.1 request.
async fn failed_attempts(endpoint: &str) -> u64 {
    let text = get(endpoint, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("durapipe_messages_failed_total "))
        .unwrap_or_else(|| panic!("no failed counter in {text}"))
        .trim()
        .parse()
        .unwrap()
}

/// A raw AWS JSON request to the stack; returns the response body.
async fn post(endpoint: &str, target: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-Amz-Target: {target}\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

async fn get(endpoint: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

fn register_callback_fn(stack: &durapipe_local::stack::Stack, name: &str) {
    let service = stack.service();
    service.register_durable(
        name,
        durable_fn(
            |_: Value, ctx: DurableContext| async move {
                let cb = ctx
                    .create_callback::<Value>()
                    .name("approval")
                    .timeout(Duration::from_secs(600))
                    .await?;
                let v = cb.result().await?;
                Ok(json!({ "approved": v }))
            },
            service.in_process_client(),
        )
        .unwrap(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_buttons_complete_a_waiting_execution() {
    // Durable time ten times faster: the console shows the scale (the callbacks' 600 s
    // timeout is then 60 s of real time, longer than the test).
    let (stack, _dir) = stack(|c| c.time_scale = 10.0).await;
    let endpoint = stack.info().endpoint.clone();
    register_callback_fn(&stack, "dev-approval");
    let service = stack.service().clone();
    let b = browser().await;

    // Heartbeat, then succeed.
    let arn = service.start("dev-approval", &json!({})).await.unwrap();
    b.open(&execution_url(&endpoint, &arn), "execution").await;
    let scale = b
        .js("const s = document.getElementById('time-scale'); return s.hidden ? null : s.textContent")
        .await;
    assert_eq!(scale, json!("time ×10"));
    let callback = "#callbacks [data-callback-id]";
    callback_shown(&b).await;
    b.screenshot("callback").await;
    b.click(Locator::Css(&format!("{callback} [data-action=heartbeat]")))
        .await;
    b.until(
        "the heartbeat is confirmed",
        Duration::from_secs(10),
        "return document.getElementById('toast').textContent === 'Callback heartbeat sent.'",
    )
    .await;
    assert_eq!(
        service.outcome(&arn).await.unwrap().status,
        ExecStatus::Running
    );
    b.click(Locator::Css(&format!("{callback} [data-action=succeed]")))
        .await;
    execution_shows(&b, "SUCCEEDED").await;
    let outcome = service.outcome(&arn).await.unwrap();
    assert_eq!(outcome.status, ExecStatus::Succeeded);
    let result: Value = serde_json::from_str(outcome.result.as_deref().unwrap()).unwrap();
    assert_eq!(result, json!({ "approved": { "approved": true } }));

    // Fail.
    let arn = service
        .start("dev-approval", &json!({"n": 2}))
        .await
        .unwrap();
    b.open(&execution_url(&endpoint, &arn), "execution").await;
    callback_shown(&b).await;
    b.click(Locator::Css(&format!("{callback} [data-action=fail]")))
        .await;
    execution_shows(&b, "FAILED").await;
    assert_eq!(
        service.outcome(&arn).await.unwrap().status,
        ExecStatus::Failed
    );
    b.close().await;
    stack.shutdown(Duration::from_secs(5)).await;
}

const HOSTILE: &str = r#"<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_render_as_text_and_no_script_runs() {
    let (stack, _dir) = stack(|c| {
        c.visibility_timeout = Duration::from_secs(1);
        c.max_receive_count = 1;
    })
    .await;
    let endpoint = stack.info().endpoint.clone();
    let service = stack.service().clone();
    service.register_durable(
        "dev-hostile",
        durable_fn(
            |_: Value, _: DurableContext| async move { Err::<Value, _>(HOSTILE.into()) },
            service.in_process_client(),
        )
        .unwrap(),
    );
    let b = browser().await;
    let no_injection = "return document.querySelectorAll('#app img, #app script').length === 0 \
                        && window.__pwned === undefined";

    // A message body, in the dead-letter list.
    let id = send_from_console(&b, &endpoint, HOSTILE).await;
    let body = b
        .wait_css(
            &format!("#dead-letters tr[data-message-id=\"{id}\"] pre.body"),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(body.text().await.unwrap(), HOSTILE);
    assert_eq!(b.js(no_injection).await, json!(true));
    b.screenshot("hostile-dead-letters").await;

    // The same body as an execution's input.
    open_first_execution(&b, &endpoint).await;
    let input = b
        .js("return document.querySelector('#execution-data pre').textContent")
        .await;
    // Pretty-printed JSON: the body appears JSON-escaped, but as text, not markup.
    let json_body = format!("\"body\": {}", serde_json::to_string(HOSTILE).unwrap());
    assert!(input.as_str().unwrap().contains(&json_body), "{input}");
    assert_eq!(b.js(no_injection).await, json!(true));

    // An error message.
    let arn = service.start("dev-hostile", &json!({})).await.unwrap();
    service.wait(&arn, Duration::from_secs(30)).await.unwrap();
    b.open(&execution_url(&endpoint, &arn), "execution").await;
    let error = b
        .wait_css("#execution-error", Duration::from_secs(10))
        .await;
    let text = error.text().await.unwrap();
    assert!(
        text.contains(&serde_json::to_string(HOSTILE).unwrap()),
        "{text}"
    );
    assert_eq!(b.js(no_injection).await, json!(true));
    b.screenshot("hostile-error").await;
    b.close().await;
    stack.shutdown(Duration::from_secs(5)).await;
}

/// Steps in the big execution: with the EXECUTION operation, 3,000 operations.
const STEPS: usize = 2_999;
/// The bound: the page of a 3,000-operation execution renders within this.
const PAGE_BOUND: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_3000_operation_execution_page_loads_within_the_bound() {
    let (stack, _dir) = stack(|c| c.durability = durapipe_sqlite::Durability::Off).await;
    let endpoint = stack.info().endpoint.clone();
    let service = stack.service().clone();
    service.register_durable(
        "dev-many",
        durable_fn(
            |_: Value, ctx: DurableContext| async move {
                let mut sum = 0usize;
                for i in 0..STEPS {
                    sum += ctx
                        .step(move |_| async move { Ok(i) })
                        .name(format!("step-{i}"))
                        .await?;
                }
                Ok(sum)
            },
            service.in_process_client(),
        )
        .unwrap(),
    );
    let arn = service.start("dev-many", &json!({})).await.unwrap();
    let outcome = service.wait(&arn, Duration::from_secs(300)).await.unwrap();
    assert_eq!(outcome.status, ExecStatus::Succeeded, "{outcome:?}");
    let b = browser().await;
    // Warm the browser (first page load compiles the script), then measure a fresh load.
    b.open(&format!("{endpoint}/#/overview"), "overview").await;
    let started = Instant::now();
    b.open(&execution_url(&endpoint, &arn), "execution").await;
    let took = started.elapsed();
    eprintln!("the 3,000-operation execution's page rendered in {took:?}");
    assert!(
        took < PAGE_BOUND,
        "the page took {took:?} (bound {PAGE_BOUND:?})"
    );
    let shown = b
        .js("return document.querySelectorAll('#timeline .tl-bar').length")
        .await;
    assert_eq!(shown, json!(200), "one page of operations, not all of them");
    let heading = b
        .js("return document.querySelector('#timeline h3').textContent")
        .await;
    assert_eq!(heading, json!("Timeline — operations 1–200 of 3000"));
    b.screenshot("large-execution").await;
    // The next page follows on.
    b.click(Locator::Id("ops-next")).await;
    b.until(
        "the second page of operations",
        Duration::from_secs(5),
        "const h = document.querySelector('#timeline h3'); return h && h.textContent === 'Timeline — operations 201–400 of 3000'",
    )
    .await;
    let first = b
        .js("return document.querySelector('#timeline .tl-bar').dataset.operationName")
        .await;
    assert_eq!(first, json!("step-199"));
    b.close().await;
    stack.shutdown(Duration::from_secs(5)).await;
}
