//! What was acknowledged survives: queues, messages (with their receive state) and items are
//! there after reopening the database, and after the writing process is killed with SIGKILL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use durapipe_local::dynamodb::TableDefinition;
use durapipe_local::sqs::{ReceiveOptions, SendMessage};
use durapipe_local::SystemClock;

const CHILD_DB: &str = "DURAPIPE_LOCAL_CHILD_DB";

#[tokio::test]
async fn state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.db");
    let hidden_id;
    {
        let (_db, queues, tables) = common::open_stores(&path, Arc::new(SystemClock)).await;
        queues.create_queue("q", &Default::default()).await.unwrap();
        for body in ["a", "b"] {
            let message = SendMessage {
                body: body.into(),
                ..SendMessage::default()
            };
            queues.send("q", message).await.unwrap();
        }
        let got = queues
            .receive(
                "q",
                &ReceiveOptions {
                    max_messages: 1,
                    visibility_timeout: Some(Duration::from_secs(600)),
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        hidden_id = got[0].message_id.clone();
        tables
            .ensure_table(TableDefinition::with_string_hash_key("t-items", "id"))
            .await
            .unwrap();
        let item = serde_json::json!({"id": {"S": "k"}, "v": {"N": "1"}});
        tables
            .put("t-items", item.as_object().unwrap().clone(), None)
            .await
            .unwrap();
    }
    let (_db, queues, tables) = common::open_stores(&path, Arc::new(SystemClock)).await;
    assert_eq!(queues.list_queues(None).await.unwrap(), ["q"]);
    let counts = queues.counts("q").await.unwrap();
    assert_eq!((counts.visible, counts.not_visible), (1, 1));
    let stored = queues.peek("q", 10).await.unwrap();
    let hidden = stored.iter().find(|m| m.message_id == hidden_id).unwrap();
    assert_eq!(hidden.receive_count, 1);
    let key = serde_json::json!({"id": {"S": "k"}});
    let item = tables
        .get("t-items", key.as_object().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item["v"]["N"], "1");
}

/// Not a test on its own: the child process of `acknowledged_sends_survive_kill_9`.
#[test]
#[ignore = "run by acknowledged_sends_survive_kill_9 as a child process"]
fn child_sender() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let (_db, queues, _tables) =
            common::open_stores(std::path::Path::new(&path), Arc::new(SystemClock)).await;
        queues.create_queue("q", &Default::default()).await.unwrap();
        for i in 0..100_000 {
            let message = SendMessage {
                body: format!("message {i}"),
                ..SendMessage::default()
            };
            let sent = queues.send("q", message).await.unwrap();
            println!("ACK {}", sent.message_id);
        }
    });
}

#[tokio::test]
async fn acknowledged_sends_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sender",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DB, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acked = tokio::task::spawn_blocking(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.push(id.to_string());
                if acked.len() >= 200 {
                    break;
                }
            }
        }
        acked
    })
    .await
    .unwrap();
    // SIGKILL, mid-stream: no chance to flush or close anything.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(acked.len(), 200, "the child stopped early");

    let (_db, queues, _tables) = common::open_stores(&path, Arc::new(SystemClock)).await;
    let stored: std::collections::HashSet<String> = queues
        .peek("q", 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    for id in &acked {
        assert!(stored.contains(id), "acknowledged message {id} was lost");
    }
}

/// A database written by an earlier release after `durapipe up --demo` stored its message: the
/// file under `tests/fixtures/`, the demo's execution and the item it stored.
struct Release {
    file: &'static str,
    execution: &'static str,
    item: &'static str,
}

/// The first release (before schema versions were recorded; `dx` 1 keeps the input inside the
/// metadata JSON).
const RELEASE_1: Release = Release {
    file: "release-1.db",
    execution: "arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator:$LATEST/durable-execution/3b673c07-417e-4b8a-97a4-754cda1550c9/6aea8f4f3ef04d36b3ec6b5ef8b88170",
    item: "dev-esm-daaa2f13-3c98-40ab-abdb-e24405d12b65",
};

/// The release of 2026-12-03 (`dx` 2: operations and events keyed by the execution's ARN).
const RELEASE_2: Release = Release {
    file: "release-2.db",
    execution: "arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator:$LATEST/durable-execution/cb1e3502-a09e-4f48-be8e-8ded9390b1c6/c86f11b7cad54f6eb94dff366c75679e",
    item: "dev-esm-d1a9be9b-3a13-4866-ae4f-31a8a1565020",
};

/// A data directory holding a copy of a release's database.
fn release_dir(release: &Release) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(release.file);
    std::fs::copy(fixture, dir.path().join("durapipe.db")).unwrap();
    dir
}

async fn start_stack(
    dir: &std::path::Path,
) -> Result<durapipe_local::stack::Stack, durapipe_local::stack::StackError> {
    durapipe_local::stack::Stack::start(durapipe_local::stack::StackConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        durability: durapipe_sqlite::Durability::Normal,
        ..durapipe_local::stack::StackConfig::default()
    })
    .await
}

fn schema_versions(db: &std::path::Path) -> Vec<(String, u32)> {
    let conn = durapipe_sqlite::rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT component, version FROM schema_versions ORDER BY component")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn a_database_written_by_the_first_release_opens_and_is_versioned() {
    opens_and_is_migrated(&RELEASE_1).await;
}

#[tokio::test]
async fn a_database_keyed_by_arn_opens_and_is_migrated() {
    opens_and_is_migrated(&RELEASE_2).await;
}

/// Operations and history events of `execution`, counted in the layout keyed by the ARN
/// (versions 1 and 2) or by the integer id (version 3).
fn stored_rows(db: &std::path::Path, execution: &str, keyed_by_arn: bool) -> (i64, i64) {
    let conn = durapipe_sqlite::rusqlite::Connection::open(db).unwrap();
    let filter = if keyed_by_arn {
        "arn = ?1"
    } else {
        "exec_id = (SELECT id FROM dx_executions WHERE arn = ?1)"
    };
    let count = |table: &str| -> i64 {
        conn.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE {filter}"),
            [execution],
            |r| r.get(0),
        )
        .unwrap()
    };
    (count("dx_operations"), count("dx_events"))
}

/// Opens an earlier release's database: its execution, input, history, item and queues read
/// back, every operation and event is kept, and each component is at its current version.
async fn opens_and_is_migrated(release: &Release) {
    let dir = release_dir(release);
    let db = dir.path().join("durapipe.db");
    let (operations, events) = stored_rows(&db, release.execution, true);
    assert!(
        operations > 0 && events > 0,
        "{operations} ops, {events} events"
    );
    let stack = start_stack(dir.path()).await.unwrap();
    let outcome = stack.service().outcome(release.execution).await.unwrap();
    assert_eq!(outcome.status, durapipe_durable::ExecStatus::Succeeded);
    let client = durapipe_durable::lambda_client(&stack.info().endpoint);
    let described = client
        .get_durable_execution()
        .durable_execution_arn(release.execution)
        .send()
        .await
        .unwrap();
    let input = described.input_payload().unwrap_or_default();
    assert!(
        input.contains(release.item.trim_start_matches("dev-esm-")),
        "input of the {} execution: {input}",
        release.file
    );
    let history = client
        .get_durable_execution_history()
        .durable_execution_arn(release.execution)
        .max_items(1000)
        .send()
        .await
        .unwrap();
    let kinds: Vec<String> = history
        .events()
        .iter()
        .filter_map(|e| e.event_type().map(|t| t.as_str().to_owned()))
        .collect();
    assert_eq!(
        kinds.len() as i64,
        events,
        "history of {}: {kinds:?}",
        release.file
    );
    assert_eq!(kinds.first().map(String::as_str), Some("ExecutionStarted"));
    assert_eq!(kinds.last().map(String::as_str), Some("ExecutionSucceeded"));
    let table = &stack.info().names.table;
    let tables =
        durapipe_local::dynamodb::Tables::open(stack.database().clone(), Arc::new(SystemClock))
            .await
            .unwrap();
    let mut key = durapipe_local::dynamodb::Item::new();
    key.insert(
        "execution_id".into(),
        serde_json::json!({ "S": release.item }),
    );
    let item = tables
        .get(table, &key)
        .await
        .unwrap()
        .expect("the stored item");
    assert_eq!(
        item["transformed_data"]["M"]["data_source"]["S"],
        "TEST.CSV"
    );
    stack.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        stored_rows(&db, release.execution, false),
        (operations, events),
        "operations and events of {} after the upgrade",
        release.file
    );
    assert_eq!(
        schema_versions(&db),
        [
            ("ddb".to_owned(), 1),
            // Version 3 keys operations and events by an integer id: migrated.
            ("dx".to_owned(), 3),
            // Version 2 added message groups and the dead-letter source: migrated.
            ("sqs".to_owned(), 2)
        ]
    );
    let conn = durapipe_sqlite::rusqlite::Connection::open(&db).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('sqs_messages')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for column in ["message_group_id", "dead_letter_source"] {
        assert!(
            columns.iter().any(|c| c == column),
            "{column} in {columns:?}"
        );
    }
}

#[tokio::test]
async fn a_database_from_a_newer_release_is_refused_with_a_clear_message() {
    let dir = release_dir(&RELEASE_1);
    let db = dir.path().join("durapipe.db");
    let stack = start_stack(dir.path()).await.unwrap();
    stack.shutdown(Duration::from_secs(5)).await;
    let conn = durapipe_sqlite::rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE schema_versions SET version = 3 WHERE component = 'sqs'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = start_stack(dir.path()).await.unwrap_err();
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain = format!("{chain}: {cause}");
        source = cause.source();
    }
    assert!(
        chain.contains(
            "the database was written by a newer durapipe (sqs: schema version 3, this build knows up to 2)"
        ),
        "{chain}"
    );
}
