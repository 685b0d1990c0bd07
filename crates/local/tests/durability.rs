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
