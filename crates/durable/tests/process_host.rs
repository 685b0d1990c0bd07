//! Functions hosted as processes, with real child processes: this test binary, run again with
//! only the `bootstrap` test, is the function's Lambda `bootstrap` (it runs `lambda_runtime`
//! against the Runtime API the service serves it). Covers a response, a handler error, an exit
//! mid-invocation (and recovery in a fresh process), SIGKILL, the invocation timeout, output
//! capture, a durable execution, and that no child outlives `shutdown`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use aws_durable_execution_sdk as durable;
use aws_sdk_lambda::primitives::Blob;
use durapipe_durable::{ExecStatus, ProcessFn, ProcessKind, ProcessSpec};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};

/// Set (to `plain` or `durable`) in the child: which handler the bootstrap runs.
const MODE: &str = "DURAPIPE_TEST_BOOTSTRAP";

/// The child's entry point (see the module docs); does nothing when run directly.
#[test]
#[ignore = "the bootstrap of the process-hosted functions; the other tests run it"]
fn bootstrap() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        match mode.as_str() {
            "plain" => lambda_runtime::run(service_fn(plain)).await.unwrap(),
            "durable" => {
                let url = std::env::var("AWS_ENDPOINT_URL_LAMBDA").unwrap();
                let options = durable::Options::builder()
                    .lambda_client(durapipe_durable::lambda_client(&url))
                    .build()
                    .unwrap();
                durable::run_with_options(greet, options).await.unwrap();
            }
            other => panic!("unknown bootstrap mode {other}"),
        }
    });
}

async fn plain(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let pid = std::process::id();
    match event.payload["do"].as_str() {
        Some("echo") => Ok(json!({
            "pid": pid,
            "v": event.payload["v"],
            "requestId": event.context.request_id,
        })),
        Some("error") => Err(Diagnostic {
            error_type: "MyError".into(),
            error_message: "boom".into(),
        }),
        Some("exit") => {
            println!("exiting now");
            std::process::exit(3)
        }
        Some("sleep") => {
            println!("sleeping in {pid}");
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(Value::Null)
        }
        _ => Err(Diagnostic {
            error_type: "BadEvent".into(),
            error_message: format!("unknown event {}", event.payload),
        }),
    }
}

async fn greet(name: String, ctx: durable::DurableContext) -> Result<String, durable::BoxError> {
    let out: String = ctx
        .step(move |_| async move {
            println!("greeting {name}");
            Ok(format!("Hello, {name}!"))
        })
        .await?;
    Ok(out)
}

fn spec(mode: &str, kind: ProcessKind, endpoint: &str) -> ProcessSpec {
    let mut spec = ProcessSpec::new(std::env::current_exe().unwrap(), kind, endpoint);
    spec.args = [
        "bootstrap",
        "--exact",
        "--ignored",
        "--nocapture",
        "--quiet",
    ]
    .map(String::from)
    .to_vec();
    spec.env = vec![(MODE.to_owned(), mode.to_owned())];
    spec
}

/// Invokes `function` synchronously: (FunctionError, payload).
async fn invoke(h: &common::Harness, function: &str, event: Value) -> (Option<String>, Value) {
    let out = h
        .client
        .invoke()
        .function_name(function)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .unwrap();
    let payload = out
        .payload()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    (
        out.function_error().map(str::to_owned),
        serde_json::from_slice(&payload).unwrap(),
    )
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn logged(f: &ProcessFn, text: &str) -> bool {
    f.logs().iter().any(|l| l.text.contains(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_errors_and_exits() {
    let h = common::harness().await;
    let f = h
        .svc
        .register_process("p", spec("plain", ProcessKind::Plain, &h.url));

    // (a) a response; the request id and the event reach the handler.
    let (error, first) = invoke(&h, "p", json!({"do": "echo", "v": 7})).await;
    assert_eq!(error, None);
    assert_eq!(first["v"], 7);
    assert!(!first["requestId"].as_str().unwrap().is_empty());
    let pid = u32::try_from(first["pid"].as_u64().unwrap()).unwrap();

    // (b) a handler error keeps its type and message; the warm sandbox is reused.
    let (error, body) = invoke(&h, "p", json!({"do": "error"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(
        body,
        json!({"errorType": "MyError", "errorMessage": "boom"})
    );
    let (_, again) = invoke(&h, "p", json!({"do": "echo"})).await;
    assert_eq!(again["pid"].as_u64(), Some(u64::from(pid)));
    assert_eq!(f.pids(), [pid]);

    // (c) an exit mid-invocation is Runtime.ExitError; the next invocation gets a new process.
    let (error, body) = invoke(&h, "p", json!({"do": "exit"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Runtime.ExitError");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.starts_with("RequestId: "), "{message}");
    assert!(
        message.ends_with("Error: Runtime exited with error: exit status 3"),
        "{message}"
    );
    assert!(!alive(pid));
    assert!(logged(&f, "exiting now"), "{:?}", f.logs());
    let (error, fresh) = invoke(&h, "p", json!({"do": "echo"})).await;
    assert_eq!(error, None);
    assert_ne!(fresh["pid"].as_u64(), Some(u64::from(pid)));

    // (d) SIGKILL from outside is Runtime.ExitError naming the signal.
    let call = {
        let client = h.client.clone();
        tokio::spawn(async move {
            client
                .invoke()
                .function_name("p")
                .payload(Blob::new(json!({"do": "sleep"}).to_string()))
                .send()
                .await
                .unwrap()
        })
    };
    until("the handler to sleep", || logged(&f, "sleeping in")).await;
    let line = f
        .logs()
        .into_iter()
        .find(|l| l.text.contains("sleeping in"))
        .unwrap();
    let victim: u32 = line.text.rsplit(' ').next().unwrap().parse().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = call.await.unwrap();
    let body: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "Runtime.ExitError");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.ends_with("Runtime exited with error: signal: 9 (SIGKILL)"),
        "{message}"
    );

    // No child outlives shutdown.
    let (error, _) = invoke(&h, "p", json!({"do": "echo"})).await;
    assert_eq!(error, None);
    let pids = f.pids();
    assert!(!pids.is_empty());
    h.svc.shutdown(Duration::from_millis(100)).await;
    assert!(f.pids().is_empty());
    for pid in pids {
        assert!(!alive(pid), "sandbox {pid} survived the shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_kills_the_sandbox() {
    let mut config = common::fast_config();
    config.invocation_timeout = Duration::from_secs(2);
    let h = common::harness_with(config).await;
    let f = h
        .svc
        .register_process("p", spec("plain", ProcessKind::Plain, &h.url));
    let (error, body) = invoke(&h, "p", json!({"do": "sleep"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    let line = f
        .logs()
        .into_iter()
        .find(|l| l.text.contains("sleeping in"))
        .unwrap();
    let pid: u32 = line.text.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(!alive(pid), "the timed-out sandbox {pid} is still running");
    assert!(f.pids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_function_checkpoints_from_its_process() {
    let h = common::harness().await;
    let f = h
        .svc
        .register_process("d", spec("durable", ProcessKind::Durable, &h.url));
    let (_, outcome) = h.run("d", json!("Ada")).await;
    assert_eq!(outcome.status, ExecStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result.as_deref(), Some("\"Hello, Ada!\""));
    assert!(logged(&f, "greeting Ada"), "{:?}", f.logs());
    h.svc.shutdown(Duration::from_millis(100)).await;
    assert!(f.pids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_executable_is_an_invalid_entrypoint() {
    let h = common::harness().await;
    let spec = ProcessSpec::new("/nonexistent/bootstrap", ProcessKind::Plain, &h.url);
    h.svc.register_process("p", spec);
    let (error, body) = invoke(&h, "p", json!({})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Runtime.InvalidEntrypoint");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("/nonexistent/bootstrap"), "{message}");
}
