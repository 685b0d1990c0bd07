//! The stage handlers, driven with real event JSON as the orchestrator sends it: validate →
//! transform → store produce the documented shapes and the stored item of DESIGN.md; bad input
//! is an `InvalidEvent` naming the JSON path; failures carry their stable error type.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use durapipe_core::{
    FixedClock, PutOutcome, RecordTable, StoreConfig, StoredItem, TableError, TableErrorKind,
};
use durapipe_workflow::{store_handler, transform_handler, validate_handler, StageError};
use serde_json::{json, Value};
use time::macros::datetime;

/// An in-memory table honouring the port's contract (conditional put), or failing on demand.
#[derive(Default)]
struct MemoryTable {
    items: Mutex<BTreeMap<String, StoredItem>>,
    fail_with: Option<TableErrorKind>,
}

impl RecordTable for MemoryTable {
    async fn put_if_absent(&self, item: &StoredItem) -> Result<PutOutcome, TableError> {
        if let Some(kind) = self.fail_with {
            return Err(TableError::from_kind(kind));
        }
        let mut items = self.items.lock().unwrap();
        if items.contains_key(&item.execution_id) {
            return Ok(PutOutcome::Duplicate);
        }
        items.insert(item.execution_id.clone(), item.clone());
        Ok(PutOutcome::Inserted)
    }

    async fn get(&self, execution_id: &str) -> Result<Option<StoredItem>, TableError> {
        Ok(self.items.lock().unwrap().get(execution_id).cloned())
    }
}

fn store_config() -> StoreConfig {
    StoreConfig::from_lookup(|name| match name {
        "ENVIRONMENT" => Some("dev".into()),
        "PROCESSED_DATA_TABLE" => Some("dev-processed-data".into()),
        _ => None,
    })
    .unwrap()
}

const CLOCK: FixedClock = FixedClock(datetime!(2024-05-01 12:00:00.250 UTC));
const ARN: &str =
    "arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator:1/durable-execution/e/r";

/// The events the orchestrator sends for one message, run through the three handlers.
async fn run_pipeline(
    message_id: &str,
    body: &str,
    table: &MemoryTable,
) -> Result<Value, StageError> {
    let validated = validate_handler(json!({"message_id": message_id, "body": body})).await?;
    let validated = serde_json::to_value(validated).unwrap();
    let transformed = transform_handler(
        json!({
            "message_id": message_id,
            "execution_id": format!("dev-esm-{message_id}"),
            "message": validated["message"],
        }),
        &CLOCK,
    )
    .await?;
    let stored = store_handler(
        json!({
            "message_id": message_id,
            "durable_execution_arn": ARN,
            "message": validated["message"],
            "transformed": transformed,
        }),
        table,
        &store_config(),
        &CLOCK,
    )
    .await?;
    Ok(serde_json::to_value(stored).unwrap())
}

#[tokio::test]
async fn validate_returns_the_message_with_extra_fields() {
    let out = validate_handler(json!({
        "message_id": "m-1",
        "body": r#"{"data_source": "test.csv", "processing_type": "standard", "owner": {"id": 7}}"#,
    }))
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({
            "message_id": "m-1",
            "message": {"data_source": "test.csv", "processing_type": "standard", "owner": {"id": 7}},
        })
    );
}

#[tokio::test]
async fn validate_rejects_invalid_bodies_naming_the_field() {
    let cases = [
        ("not json", "body"),
        ("[1,2]", "body"),
        (r#"{"processing_type":"standard"}"#, "data_source"),
        (
            r#"{"data_source":"   ","processing_type":"standard"}"#,
            "data_source",
        ),
        (
            r#"{"data_source":"a.csv","processing_type":"no spaces"}"#,
            "processing_type",
        ),
    ];
    for (body, field) in cases {
        let err = validate_handler(json!({"message_id": "m", "body": body}))
            .await
            .unwrap_err();
        assert_eq!(err.error_type().as_str(), "ValidationError", "{body}");
        assert!(!err.is_transient());
        assert!(
            err.to_string().contains(&format!("`{field}`")),
            "{body}: {err}"
        );
        let diagnostic = lambda_runtime::Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "ValidationError");
    }
}

#[tokio::test]
async fn malformed_stage_inputs_name_the_json_path() {
    let validate_cases = [
        (json!(null), "."),
        (json!("body"), "."),
        (json!({"message_id": "m"}), "."),
        (json!({"message_id": "m", "body": 5}), "body"),
        (json!({"message_id": ["m"], "body": "{}"}), "message_id"),
        (
            json!({"message_id": "m", "body": "{}", "extra": 1}),
            "extra",
        ),
    ];
    for (event, path) in validate_cases {
        let err = validate_handler(event.clone()).await.unwrap_err();
        match &err {
            StageError::InvalidEvent {
                path: got, stage, ..
            } => {
                assert_eq!(got, path, "{event}");
                assert_eq!(*stage, "validate");
            }
            other => panic!("{event}: {other}"),
        }
        assert_eq!(err.error_type().as_str(), "InvalidEvent");
    }

    let err = transform_handler(
        json!({
            "message_id": "m",
            "execution_id": "dev-esm-m",
            "message": {"data_source": "", "processing_type": "standard"},
        }),
        &CLOCK,
    )
    .await
    .unwrap_err();
    let StageError::InvalidEvent { path, source, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(path, "message");
    assert!(
        source.to_string().contains("`data_source` is blank"),
        "{source}"
    );

    let table = MemoryTable::default();
    let err = store_handler(
        json!({"message_id": "m", "durable_execution_arn": ARN, "message": {}, "transformed": {}}),
        &table,
        &store_config(),
        &CLOCK,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StageError::InvalidEvent { path, .. } if path == "message"),
        "{err}"
    );
}

#[tokio::test]
async fn transform_output_has_the_documented_shape() {
    let out = transform_handler(
        json!({
            "message_id": "m-1",
            "execution_id": "dev-esm-m-1",
            "message": {"data_source": "straße.csv", "processing_type": "standard", "x": 1},
        }),
        &CLOCK,
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({
            "data_source": "STRASSE.CSV",
            "processing_type": "standard",
            "processed_at": "2024-05-01T12:00:00.250Z",
            "execution_id": "dev-esm-m-1",
            "transformation_applied": "uppercase_data_source",
        })
    );
}

#[tokio::test]
async fn the_pipeline_stores_the_design_item_once() {
    let table = MemoryTable::default();
    let body = r#"{"data_source": "straße.csv", "processing_type": "standard", "extra": [1, {"k": null}]}"#;
    let out = run_pipeline("m-1", body, &table).await.unwrap();
    assert_eq!(
        out,
        json!({"execution_id": "dev-esm-m-1", "outcome": "inserted"})
    );

    let item = table.get("dev-esm-m-1").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&item).unwrap(),
        json!({
            "execution_id": "dev-esm-m-1",
            "message_id": "m-1",
            "data_source": "straße.csv",
            "processing_type": "standard",
            "original_data": serde_json::from_str::<Value>(body).unwrap(),
            "transformed_data": {
                "data_source": "STRASSE.CSV",
                "processing_type": "standard",
                "processed_at": "2024-05-01T12:00:00.250Z",
                "execution_id": "dev-esm-m-1",
                "transformation_applied": "uppercase_data_source",
            },
            "stored_at": "2024-05-01T12:00:00.250Z",
            "durable_execution_arn": ARN,
        })
    );

    // A redelivery of the same message: a duplicate, which is a success; nothing changes.
    let again = run_pipeline(
        "m-1",
        r#"{"data_source":"other.csv","processing_type":"x"}"#,
        &table,
    )
    .await
    .unwrap();
    assert_eq!(
        again,
        json!({"execution_id": "dev-esm-m-1", "outcome": "duplicate"})
    );
    assert_eq!(table.get("dev-esm-m-1").await.unwrap().unwrap(), item);
}

#[tokio::test]
async fn storage_failures_carry_their_error_type() {
    let cases = [
        (TableErrorKind::Throttled, "StorageThrottled", true),
        (TableErrorKind::Unavailable, "StorageUnavailable", true),
        (TableErrorKind::Rejected, "StorageError", false),
    ];
    for (kind, error_type, transient) in cases {
        let table = MemoryTable {
            fail_with: Some(kind),
            ..MemoryTable::default()
        };
        let err = run_pipeline("m", r#"{"data_source":"a","processing_type":"b"}"#, &table)
            .await
            .unwrap_err();
        assert_eq!(err.error_type().as_str(), error_type);
        assert_eq!(err.is_transient(), transient);
        assert_eq!(lambda_runtime::Diagnostic::from(err).error_type, error_type);
    }
}

#[tokio::test]
async fn store_refuses_an_execution_id_of_another_environment() {
    let table = MemoryTable::default();
    let err = store_handler(
        json!({
            "message_id": "m-1",
            "durable_execution_arn": ARN,
            "message": {"data_source": "a", "processing_type": "b"},
            "transformed": {
                "data_source": "A",
                "processing_type": "b",
                "processed_at": "2024-05-01T12:00:00.000Z",
                "execution_id": "prod-esm-m-1",
                "transformation_applied": "uppercase_data_source",
            },
        }),
        &table,
        &store_config(),
        &CLOCK,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type().as_str(), "InvalidEvent");
    assert!(err.to_string().contains("prod-esm-m-1"), "{err}");
    assert!(table.items.lock().unwrap().is_empty());
}
