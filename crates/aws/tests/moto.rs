//! The DynamoDB adapter honours the record-table port against a real DynamoDB API (a moto
//! server this test starts): the conformance suite passes, a stored item has exactly DESIGN.md's
//! attributes (read back raw), and a second put of the same `execution_id` is a duplicate that
//! leaves the first item unchanged.
//!
//! Needs `moto_server` on `PATH` (the gate installs `moto[server]`); without it the test fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/moto.rs"]
mod moto_server;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use durapipe_aws::DynamoRecordTable;
use durapipe_core::record_table::conformance;
use durapipe_core::{PutOutcome, RecordTable, TableErrorKind};
use moto_server::Moto;

/// A DynamoDB client of `moto`.
fn client(moto: &Moto) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(&moto.endpoint)
        .build();
    Client::from_conf(config)
}

async fn create_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("execution_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("execution_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_adapter_against_moto() {
    let moto = Moto::start("moto_server");
    let client = client(&moto);

    // The port's conformance suite, on a fresh table.
    create_table(&client, "conformance").await;
    let table = DynamoRecordTable::new(client.clone(), "conformance");
    conformance::run_suite(&table).await.unwrap();

    // A stored item, read back raw: exactly DESIGN.md's attributes, with DynamoDB types.
    create_table(&client, "dev-processed-data").await;
    let table = DynamoRecordTable::new(client.clone(), "dev-processed-data");
    let item = conformance::sample_item("raw");
    assert_eq!(
        table.put_if_absent(&item).await.unwrap(),
        PutOutcome::Inserted
    );
    let raw = client
        .get_item()
        .table_name("dev-processed-data")
        .key("execution_id", AttributeValue::S(item.execution_id.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let mut names: Vec<&str> = raw.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "data_source",
            "durable_execution_arn",
            "execution_id",
            "message_id",
            "original_data",
            "processing_type",
            "stored_at",
            "transformed_data",
        ]
    );
    for name in [
        "execution_id",
        "message_id",
        "data_source",
        "processing_type",
        "stored_at",
        "durable_execution_arn",
    ] {
        assert!(raw[name].is_s(), "{name} should be S: {:?}", raw[name]);
    }
    let original = raw["original_data"].as_m().unwrap();
    assert_eq!(original["count"], AttributeValue::N("42".into()));
    assert_eq!(original["enabled"], AttributeValue::Bool(true));
    assert_eq!(original["nothing"], AttributeValue::Null(true));
    assert!(original["tags"].is_l() && original["nested"].is_m());
    assert_eq!(
        raw["transformed_data"].as_m().unwrap()["data_source"],
        AttributeValue::S("STRASSE.CSV".into())
    );

    // A redelivery: same execution_id, different content. Duplicate, first item unchanged.
    let mut redelivered = item.clone();
    redelivered.stored_at = "2099-01-01T00:00:00.000Z".into();
    redelivered.durable_execution_arn = "another-execution".into();
    assert_eq!(
        table.put_if_absent(&redelivered).await.unwrap(),
        PutOutcome::Duplicate
    );
    assert_eq!(table.get(&item.execution_id).await.unwrap(), Some(item));
    let count = client
        .scan()
        .table_name("dev-processed-data")
        .send()
        .await
        .unwrap()
        .count;
    assert_eq!(count, 1);

    // A missing table is a permanent, classified error, not a panic or a duplicate.
    let missing = DynamoRecordTable::new(client.clone(), "no-such-table");
    let err = missing
        .put_if_absent(&conformance::sample_item("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TableErrorKind::Rejected);
    assert_eq!(err.error_type().as_str(), "StorageError");

    // An unreachable table is a transient error (StorageUnavailable).
    let endpoint = moto.endpoint.clone();
    drop(moto);
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    let unreachable = DynamoRecordTable::new(Client::from_conf(config), "dev-processed-data");
    let err = unreachable
        .put_if_absent(&conformance::sample_item("y"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TableErrorKind::Unavailable);
    assert!(err.is_transient());
}
