//! Shared plumbing of the fuzz targets (see `fuzz_targets/`): the request input format, a
//! paused single-threaded runtime, a throw-away database, and the response oracle.
//!
//! Request input format (`sqs_request`, `dynamodb_request`): the operation name (the part of
//! `X-Amz-Target` after `AmazonSQS.` / `DynamoDB_20120810.`), a newline, then the raw body.
//! Seeds in `corpus/<target>/` are written that way so they stay readable.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::response::Response;
use durapipe_sqlite::{Database, Durability, Options};
use serde_json::Value;

/// Splits a request input into (operation, body): everything before the first `\n` is the
/// operation (lossy UTF-8), the rest the body. No newline: the whole input is the operation.
pub fn split_request(data: &[u8]) -> (String, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (String::from_utf8_lossy(data).into_owned(), &[]),
    }
}

/// A current-thread runtime whose clock is paused: a long poll (`WaitTimeSeconds`) or any other
/// sleep auto-advances instead of costing real time.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

/// A fresh database in a temporary directory (kept alive by the returned guard), with
/// durability off: the fuzzer checks decoding and answers, not fsync.
pub fn temp_database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = Options {
        durability: Durability::Off,
        ..Options::default()
    };
    let db = Database::open(&dir.path().join("fuzz.db"), &options).expect("open database");
    (dir, db)
}

/// The manual clock the stores run on; the targets advance it one second per input so
/// visibility timeouts and delays expire now and then.
pub fn clock() -> Arc<durapipe_local::ManualClock> {
    Arc::new(durapipe_local::ManualClock::new(1_700_000_000_000))
}

/// The oracle for an AWS JSON 1.0 answer: never a 5xx (bad input must be the client's fault,
/// not an internal error), always a JSON object body, and an error carries `__type`.
pub async fn check_response(operation: &str, response: Response) {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("read body");
    let body: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{operation}: {status}: body is not JSON ({e}): {bytes:?}"));
    assert!(body.is_object(), "{operation}: {status}: body {body}");
    assert!(
        !status.is_server_error(),
        "{operation}: internal error on input: {status} {body}"
    );
    if !status.is_success() {
        assert!(
            body.get("__type").and_then(Value::as_str).is_some(),
            "{operation}: {status}: error without __type: {body}"
        );
    }
}

/// A facade's answer to one request.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Response> + 'a>>;

/// An AWS JSON 1.0 facade the request targets drive: one operation's body in, the answer out.
pub trait Facade {
    /// Answers `operation` with `body`.
    fn handle<'a>(&'a self, operation: &'a str, body: &'a [u8]) -> Answer<'a>;
}

/// One store for a whole fuzzing run (opening SQLite per input would dominate), on a paused
/// runtime, a throw-away database and the manual clock.
pub struct World<S> {
    rt: tokio::runtime::Runtime,
    clock: Arc<durapipe_local::ManualClock>,
    store: S,
    _dir: tempfile::TempDir,
}

impl<S: Facade> World<S> {
    /// Opens the store with `open`, then runs the `setup` requests (operation, body), each of
    /// which must succeed, so the fuzzed operations reach real rows.
    pub fn new<F: Future<Output = S>>(
        open: impl FnOnce(Database, Arc<durapipe_local::ManualClock>) -> F,
        setup: &[(&str, &str)],
    ) -> Self {
        let rt = runtime();
        let (dir, db) = temp_database();
        let clock = clock();
        let store = rt.block_on(async {
            let store = open(db, clock.clone()).await;
            for (op, body) in setup {
                let response = store.handle(op, body.as_bytes()).await;
                assert!(
                    response.status().is_success(),
                    "setup {op}: {}",
                    response.status()
                );
            }
            store
        });
        Self {
            rt,
            clock,
            store,
            _dir: dir,
        }
    }

    /// One fuzz input (`Operation\nbody`): the clock moves a second, the facade answers, and
    /// [`check_response`] judges the answer.
    pub fn run(&self, data: &[u8]) {
        let (operation, body) = split_request(data);
        self.clock.advance_ms(1_000);
        self.rt.block_on(async {
            let response = self.store.handle(&operation, body).await;
            check_response(&operation, response).await;
        });
    }
}
