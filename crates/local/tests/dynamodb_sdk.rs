//! The DynamoDB endpoint speaks AWS JSON 1.0 to aws-sdk-dynamodb: tables, conditional puts,
//! gets, deletes and paged scans behave as DynamoDB does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use durapipe_local::dynamodb::TableDefinition;

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("execution_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("execution_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn item(id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "execution_id".to_string(),
            AttributeValue::S(id.to_string()),
        ),
        (
            "data_source".to_string(),
            AttributeValue::S("test.csv".into()),
        ),
        (
            "transformed_data".to_string(),
            AttributeValue::M(HashMap::from([(
                "data_source".to_string(),
                AttributeValue::S("TEST.CSV".into()),
            )])),
        ),
        ("n".to_string(), AttributeValue::N("42".into())),
    ])
}

/// Scans `table` page by page to the end: the `execution_id`s in order, and each page's size.
async fn scan_all(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    limit: Option<i32>,
) -> (Vec<String>, Vec<usize>) {
    let (mut seen, mut pages, mut start) = (Vec::new(), Vec::new(), None);
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        pages.push(page.items().len());
        for i in page.items() {
            let AttributeValue::S(id) = &i["execution_id"] else {
                panic!("an item without a string execution_id: {i:?}")
            };
            seen.push(id.clone());
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return (seen, pages);
        }
    }
}

#[tokio::test]
async fn tables_are_created_described_and_listed() {
    let stack = common::stack().await;
    let client = common::ddb_client(&stack.endpoint);
    create_table(&client, "dev-processed-data").await;
    let described = client
        .describe_table()
        .table_name("dev-processed-data")
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    assert_eq!(table.table_name(), Some("dev-processed-data"));
    assert_eq!(table.key_schema()[0].attribute_name(), "execution_id");
    assert_eq!(table.item_count(), Some(0));
    let listed = client.list_tables().send().await.unwrap();
    assert_eq!(listed.table_names(), ["dev-processed-data"]);
    let err = client
        .create_table()
        .table_name("dev-processed-data")
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("execution_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("execution_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_in_use_exception());
    // Start-up provisioning is idempotent.
    stack
        .tables
        .ensure_table(TableDefinition::with_string_hash_key(
            "dev-processed-data",
            "execution_id",
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn conditional_puts_gets_and_deletes() {
    let stack = common::stack().await;
    let client = common::ddb_client(&stack.endpoint);
    create_table(&client, "items").await;
    let put = || {
        client
            .put_item()
            .table_name("items")
            .set_item(Some(item("dev-esm-1")))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", "execution_id")
    };
    put().send().await.unwrap();
    let err = put().send().await.unwrap_err();
    assert!(err
        .into_service_error()
        .is_conditional_check_failed_exception());

    let got = client
        .get_item()
        .table_name("items")
        .key("execution_id", AttributeValue::S("dev-esm-1".into()))
        .send()
        .await
        .unwrap();
    let got = got.item().unwrap();
    assert_eq!(got["n"], AttributeValue::N("42".into()));
    let AttributeValue::M(transformed) = &got["transformed_data"] else {
        panic!("transformed_data is not a map")
    };
    assert_eq!(
        transformed["data_source"],
        AttributeValue::S("TEST.CSV".into())
    );

    let missing = client
        .get_item()
        .table_name("items")
        .key("execution_id", AttributeValue::S("nope".into()))
        .send()
        .await
        .unwrap();
    assert!(missing.item().is_none());

    let deleted = client
        .delete_item()
        .table_name("items")
        .key("execution_id", AttributeValue::S("dev-esm-1".into()))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(deleted.attributes().is_some());
    // The in-process API agrees.
    let item = serde_json::json!({"execution_id": {"S": "x"}});
    let item = item.as_object().unwrap().clone();
    assert!(stack
        .tables
        .put_if_absent("items", item.clone())
        .await
        .unwrap());
    assert!(!stack.tables.put_if_absent("items", item).await.unwrap());
}

#[tokio::test]
async fn scans_page_in_key_order() {
    let stack = common::stack().await;
    let client = common::ddb_client(&stack.endpoint);
    create_table(&client, "items").await;
    for i in [3, 1, 4, 0, 2] {
        client
            .put_item()
            .table_name("items")
            .set_item(Some(item(&format!("id-{i}"))))
            .send()
            .await
            .unwrap();
    }
    let (seen, pages) = scan_all(&client, "items", Some(2)).await;
    assert_eq!(seen, ["id-0", "id-1", "id-2", "id-3", "id-4"]);
    assert_eq!(pages.len(), 3);
    let filtered = client
        .scan()
        .table_name("items")
        .filter_expression("execution_id = :a")
        .expression_attribute_values(":a", AttributeValue::S("id-3".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.count(), 1);
    assert_eq!(filtered.scanned_count(), 5);
}

#[tokio::test]
async fn a_scan_without_limit_stops_at_one_megabyte() {
    // 30 items of ~100 KB: 3 MB, so an unlimited scan must come back in several pages (the
    // stack once answered a 1,000,000-item table in one page and ran out of memory).
    let stack = common::stack().await;
    let client = common::ddb_client(&stack.endpoint);
    create_table(&client, "big").await;
    let padding = "x".repeat(100_000);
    for i in 0..30 {
        let mut it = item(&format!("id-{i:02}"));
        it.insert("padding".into(), AttributeValue::S(padding.clone()));
        client
            .put_item()
            .table_name("big")
            .set_item(Some(it))
            .send()
            .await
            .unwrap();
    }
    let (seen, pages) = scan_all(&client, "big", None).await;
    let expected: Vec<String> = (0..30).map(|i| format!("id-{i:02}")).collect();
    assert_eq!(seen, expected, "every item once, in key order");
    assert!(
        pages.len() >= 3 && pages.iter().all(|&n| n <= 11),
        "pages of at most ~1 MB: {pages:?}"
    );
}

#[tokio::test]
async fn items_over_400_kb_and_bad_keys_are_rejected() {
    let stack = common::stack().await;
    let client = common::ddb_client(&stack.endpoint);
    create_table(&client, "items").await;
    let mut big = item("big");
    big.insert("blob".into(), AttributeValue::S("x".repeat(401 * 1024)));
    let err = client
        .put_item()
        .table_name("items")
        .set_item(Some(big))
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert_eq!(err.meta().code(), Some("ValidationException"));
    let err = client
        .put_item()
        .table_name("items")
        .item("other", AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap_err();
    assert!(err
        .into_service_error()
        .meta()
        .message()
        .unwrap()
        .contains("Missing the key execution_id"));
    let err = client
        .get_item()
        .table_name("missing")
        .key("execution_id", AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}
