//! Durability is proven with crashes: the service runs in a child process and is killed with
//! SIGKILL mid-step, during a wait, with a callback open and with a chained invoke in flight;
//! restarted on the same data directory, every execution completes with the right result, no
//! completed step runs again, and the wait fires at its stored due time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod crash_host;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{ExecutionStatus, InvocationType};
use serde_json::{json, Value};

/// The host process; SIGKILLed and reaped when dropped (also when a test fails).
struct Host(Child);

impl Host {
    fn kill(&mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where the host process keeps its database, URL and log.
const HOST_DIR: &str = "DURAPIPE_CRASH_HOST_DIR";

/// The host process's entry: this test binary, run again with only this test and [`HOST_DIR`]
/// set (see [`spawn_host`]).
#[test]
#[ignore = "the host process of executions_survive_sigkill, which runs it"]
fn crash_host() {
    let dir = std::env::var_os(HOST_DIR).expect("DURAPIPE_CRASH_HOST_DIR");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(crash_host::run(dir.into())).unwrap();
}

fn spawn_host(dir: &Path) -> (Host, String) {
    let _ = std::fs::remove_file(dir.join("url"));
    let host = Host(
        Command::new(std::env::current_exe().unwrap())
            .args(["crash_host", "--exact", "--ignored", "--nocapture"])
            .env(HOST_DIR, dir)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(url) = std::fs::read_to_string(dir.join("url")) {
            return (host, url);
        }
        assert!(Instant::now() < deadline, "host did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn count(dir: &Path, line: &str) -> usize {
    log_lines(dir).iter().filter(|l| *l == line).count()
}

async fn wait_for_log(dir: &Path, pred: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pred(&log_lines(dir)) {
        assert!(
            Instant::now() < deadline,
            "log never matched: {:?}",
            log_lines(dir)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start(client: &aws_sdk_lambda::Client, function: &str) -> String {
    let out = client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(b"{}".to_vec()))
        .send()
        .await
        .unwrap();
    out.durable_execution_arn().unwrap().to_owned()
}

async fn wait_done(client: &aws_sdk_lambda::Client, arn: &str) -> (ExecutionStatus, Option<Value>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = client
            .get_durable_execution()
            .durable_execution_arn(arn)
            .send()
            .await
            .unwrap();
        if got.status() != &ExecutionStatus::Running {
            let result = got.result().map(|r| serde_json::from_str(r).unwrap());
            return (got.status().clone(), result);
        }
        assert!(Instant::now() < deadline, "{arn} still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mut host, url) = spawn_host(d);
    let client = durapipe_durable::lambda_client(&url);

    let step_arn = start(&client, "crash-step").await;
    let wait_arn = start(&client, "crash-wait").await;
    let cb_arn = start(&client, "crash-callback").await;
    let parent_arn = start(&client, "crash-parent").await;
    wait_for_log(d, |l| {
        l.iter().any(|x| x == "slow-start")
            && l.iter().any(|x| x == "before")
            && l.iter().any(|x| x.starts_with("cb "))
            && l.iter().any(|x| x == "child-step")
    })
    .await;
    // make sure the wait's START is committed before the kill
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = client
            .get_durable_execution_history()
            .durable_execution_arn(&wait_arn)
            .send()
            .await
            .unwrap();
        if h.events()
            .iter()
            .any(|e| e.event_type().map(|t| t.as_str()) == Some("WaitStarted"))
        {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.kill();
    let killed_at = Instant::now();
    assert!(
        !log_lines(d).iter().any(|l| l == "after"),
        "the wait finished before the kill"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (mut host, url) = spawn_host(d);
    let client = durapipe_durable::lambda_client(&url);
    let cb_line = log_lines(d)
        .into_iter()
        .find(|l| l.starts_with("cb "))
        .unwrap();
    let cb_id = cb_line.trim_start_matches("cb ").to_owned();
    client
        .send_durable_execution_callback_success()
        .callback_id(&cb_id)
        .result(Blob::new(br#""ok""#.to_vec()))
        .send()
        .await
        .unwrap();

    assert_eq!(
        wait_done(&client, &step_arn).await,
        (ExecutionStatus::Succeeded, Some(json!(42)))
    );
    assert_eq!(
        wait_done(&client, &wait_arn).await,
        (ExecutionStatus::Succeeded, Some(json!("woke")))
    );
    assert_eq!(
        wait_done(&client, &cb_arn).await,
        (ExecutionStatus::Succeeded, Some(json!({"approved": "ok"})))
    );
    assert_eq!(
        wait_done(&client, &parent_arn).await,
        (ExecutionStatus::Succeeded, Some(json!(42)))
    );
    assert!(killed_at.elapsed() < Duration::from_secs(20));

    // completed steps never ran again; the interrupted one re-ran
    assert_eq!(count(d, "first"), 1);
    assert_eq!(count(d, "before"), 1);
    assert_eq!(count(d, "after"), 1);
    assert_eq!(count(d, "parent-first"), 1);
    assert_eq!(count(d, "child-step"), 1);
    assert_eq!(count(d, "slow-start"), 2);

    // the wait fired at its stored due time (3 s after it started), not 3 s after the restart
    let h = client
        .get_durable_execution_history()
        .durable_execution_arn(&wait_arn)
        .send()
        .await
        .unwrap();
    let ts = |t: &str| {
        h.events()
            .iter()
            .find(|e| e.event_type().map(|x| x.as_str()) == Some(t))
            .unwrap()
            .event_timestamp()
            .unwrap()
            .as_secs_f64()
    };
    let slept = ts("WaitSucceeded") - ts("WaitStarted");
    assert!((3.0..3.9).contains(&slept), "wait took {slept} s");
    host.kill();
}
