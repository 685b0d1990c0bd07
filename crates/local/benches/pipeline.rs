//! Micro-benchmark of one whole orchestrator execution on the local durable-execution service:
//! the real `durapipe_workflow::orchestrate` with `sdk_options`, hosted by
//! `DurableService` through its in-process client, and the three stage functions as plain
//! functions (store writes to the local DynamoDB table over SQLite), wired by the
//! stack's own `register_functions`. One SQS event of 10 valid records, measured
//! from `service.start` to `service.wait`: every invocation, replay, checkpoint and commit.
//!
//! It lives here, not in `crates/durable/benches`, so that the durable service keeps no
//! dependency (not even a dev one) on the pipeline's crates.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use durapipe_durable::{DurableService, ExecStatus};
use durapipe_local::dynamodb::{TableDefinition, Tables};
use durapipe_local::stack::{register_functions, LocalRecordTable, ResourceNames};
use durapipe_sqlite::{Database, Durability, Options as DbOptions};
use serde_json::{json, Value};

const ENVIRONMENT: &str = "dev";
const RECORDS: usize = 10;

/// A service on a fresh database in `dir`, with the pipeline's four functions registered.
fn names() -> ResourceNames {
    ResourceNames::for_env(ENVIRONMENT)
}

async fn service(dir: &std::path::Path, durability: Durability) -> DurableService {
    let db = Database::open(
        &dir.join("durapipe.db"),
        &DbOptions {
            durability,
            ..DbOptions::default()
        },
    )
    .unwrap();
    let tables = Tables::open(db.clone(), Arc::new(durapipe_local::SystemClock))
        .await
        .unwrap();
    tables
        .ensure_table(TableDefinition::with_string_hash_key(
            &names().table,
            "execution_id",
        ))
        .await
        .unwrap();
    let service = DurableService::open(
        db,
        Arc::new(durapipe_durable::SystemClock),
        durapipe_durable::Config::default(),
    )
    .await
    .unwrap();

    register_functions(
        &service,
        &names(),
        LocalRecordTable::new(tables, &names().table),
        service.in_process_client(),
    )
    .unwrap();
    assert_eq!(service.recover().await.unwrap(), 0);
    service
}

/// The SQS event Lambda's event source mapping delivers for `n` valid messages.
fn sqs_event(batch: u64, n: usize) -> Value {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "messageId": format!("00000000-0000-4000-8000-{batch:06}{i:06}"),
                "receiptHandle": format!("handle-{batch}-{i}"),
                "body": r#"{"data_source": "x.csv", "processing_type": "standard"}"#,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "000000000000",
                    "ApproximateFirstReceiveTimestamp": "1700000000001"
                },
                "messageAttributes": {},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": durapipe_local::sqs::queue_arn(&names().queue),
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Runs one execution to its end; returns its ARN.
async fn run_one(service: &DurableService, batch: u64) -> String {
    let arn = service
        .start(&names().functions.orchestrator, &sqs_event(batch, RECORDS))
        .await
        .unwrap();
    let outcome = service.wait(&arn, Duration::from_secs(60)).await.unwrap();
    assert_eq!(outcome.status, ExecStatus::Succeeded, "{outcome:?}");
    let result: Value = serde_json::from_str(outcome.result.as_deref().unwrap()).unwrap();
    assert_eq!(result["batchItemFailures"], json!([]), "{result}");
    arn
}

fn pipeline_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("orchestrator_execution");
    group.sample_size(20);
    for (label, durability) in [
        ("durability_off", Durability::Off),
        ("durability_full", Durability::Full),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let service = rt.block_on(service(dir.path(), durability));
        // Shape of one execution, for the report.
        let before = service.checkpoints();
        let arn = rt.block_on(run_one(&service, 0));
        let ops = rt.block_on(service.operations(&arn)).unwrap().len();
        eprintln!(
            "{label}: one execution of {RECORDS} records = {ops} operations, {} checkpoints",
            service.checkpoints() - before
        );
        let mut batch = 1;
        group.bench_function(format!("{RECORDS}_records/{label}"), |b| {
            b.iter(|| {
                batch += 1;
                rt.block_on(run_one(&service, batch))
            });
        });
        rt.block_on(service.shutdown(Duration::from_secs(5)));
    }
    group.finish();
}

criterion_group!(benches, pipeline_benches);
criterion_main!(benches);
