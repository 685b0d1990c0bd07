//! Nothing a client sends is dropped: every member of every SQS and DynamoDB operation's input
//! shape in botocore's service models (read at run time through the tools venv) is either
//! honoured or refused by name. Each member is sent alone with a sample value from its shape;
//! a member the stack does not honour must be answered with an error that names it and says
//! durapipe does not support it, and a member it honours must not be. What "honoured" means
//! for each member is shown by the behaviour tests (`sqs_sdk`, `dynamodb_sdk`, `aws_cli`, ...).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::raw_post;
use serde_json::{json, Map, Value};

// What the stack declares it honours; the test proves the declaration against botocore's models
// and the stack's answers (a declared member must not be refused, any other must be, by name).
use durapipe_local::dynamodb::members::OPERATIONS as DYNAMODB;
use durapipe_local::sqs::members::{ENTRY_MEMBERS as SQS_ENTRIES, OPERATIONS as SQS};

fn models() -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/model_members.py"
    );
    let out = std::process::Command::new(common::venv_python())
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reading botocore's models failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether the answer refuses `member` by name as unsupported.
fn refuses(r: &common::Raw, member: &str) -> bool {
    let message = r.json()["message"].as_str().unwrap_or_default().to_string();
    r.status == 400 && message.contains("is not supported by durapipe") && message.contains(member)
}

fn honoured_in<'a>(table: &'a [(&str, &'a [&str])], op: &str) -> Option<&'a [&'a str]> {
    table.iter().find(|(o, _)| *o == op).map(|(_, m)| *m)
}

async fn walk(
    stack: &common::Stack,
    model: &Map<String, Value>,
    target_prefix: &str,
    served: &[(&str, &[&str])],
    entries: &[(&str, &[&str])],
) {
    let mut found = BTreeSet::new();
    let mut checked = 0usize;
    for (op, shape) in model {
        let target = format!("{target_prefix}.{op}");
        let probe = raw_post(stack.addr, Some(&target), b"{}").await;
        let unknown = probe.json()["__type"]
            .as_str()
            .is_some_and(|t| t.ends_with("UnknownOperationException"));
        let Some(honoured) = honoured_in(served, op) else {
            assert!(
                unknown,
                "{op} is served but not listed here: {}",
                probe.body
            );
            continue;
        };
        assert!(!unknown, "{op} is listed but not served");
        found.insert(op.clone());
        for (member, value) in shape["members"].as_object().unwrap() {
            let body = json!({ member: value }).to_string();
            let r = raw_post(stack.addr, Some(&target), body.as_bytes()).await;
            if honoured.contains(&member.as_str()) {
                assert!(!refuses(&r, member), "{op}.{member} is refused: {}", r.body);
            } else {
                assert!(
                    refuses(&r, member),
                    "{op}.{member} {value} is not refused by name: {} {}",
                    r.status,
                    r.body
                );
            }
            checked += 1;
        }
        let entry_members = shape["entries"].as_object().unwrap();
        if entry_members.is_empty() {
            continue;
        }
        let honoured_entry = honoured_in(entries, op).unwrap_or_else(|| panic!("{op} entries"));
        for (member, value) in entry_members {
            let body = json!({ "Entries": [{ member: value }] }).to_string();
            let r = raw_post(stack.addr, Some(&target), body.as_bytes()).await;
            if honoured_entry.contains(&member.as_str()) {
                assert!(
                    !refuses(&r, member),
                    "{op} entry {member} is refused: {}",
                    r.body
                );
            } else {
                assert!(
                    refuses(&r, member),
                    "{op} entry {member} is not refused by name: {}",
                    r.body
                );
            }
            checked += 1;
        }
    }
    let listed: BTreeSet<String> = served.iter().map(|(o, _)| (*o).to_string()).collect();
    assert_eq!(found, listed, "every listed operation is in the model");
    assert!(checked > 50, "only {checked} members were checked");
}

#[tokio::test]
async fn every_sqs_member_is_honoured_or_refused_by_name() {
    let stack = common::stack().await;
    let models = models();
    walk(
        &stack,
        models["sqs"].as_object().unwrap(),
        "AmazonSQS",
        SQS,
        SQS_ENTRIES,
    )
    .await;
}

#[tokio::test]
async fn every_dynamodb_member_is_honoured_or_refused_by_name() {
    let stack = common::stack().await;
    let models = models();
    walk(
        &stack,
        models["dynamodb"].as_object().unwrap(),
        "DynamoDB_20120810",
        DYNAMODB,
        &[],
    )
    .await;
}

/// A member set to the value that asks for nothing is accepted (AWS's defaults, sent by some
/// tools explicitly); asking for something is refused.
#[tokio::test]
async fn off_values_are_accepted_and_on_values_refused() {
    let stack = common::stack().await;
    let ddb = "DynamoDB_20120810.CreateTable";
    let base = json!({
        "TableName": "t-1",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b.to_string()
    };
    for (member, on) in [
        (
            "StreamSpecification",
            json!({"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}),
        ),
        ("DeletionProtectionEnabled", json!(true)),
        ("TableClass", json!("STANDARD_INFREQUENT_ACCESS")),
        (
            "GlobalSecondaryIndexes",
            json!([{"IndexName": "g", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]),
        ),
        (
            "LocalSecondaryIndexes",
            json!([{"IndexName": "l", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]),
        ),
        ("ReturnConsumedCapacity", json!("TOTAL")),
    ] {
        let r = raw_post(
            stack.addr,
            Some(ddb),
            with(json!({ member: on })).as_bytes(),
        )
        .await;
        assert!(refuses(&r, member), "{member}: {}", r.body);
    }
    assert!(
        stack.tables.list().await.unwrap().is_empty(),
        "no table was created"
    );
    let off = json!({
        "StreamSpecification": {"StreamEnabled": false},
        "DeletionProtectionEnabled": false,
        "TableClass": "STANDARD",
        "SSESpecification": {"Enabled": false},
        "GlobalSecondaryIndexes": [],
    });
    let r = raw_post(stack.addr, Some(ddb), with(off).as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let put = json!({"TableName": "t-1", "Item": {"id": {"S": "a"}}, "ReturnConsumedCapacity": "NONE", "Expected": {"id": {"Exists": false}}});
    let r = raw_post(
        stack.addr,
        Some("DynamoDB_20120810.PutItem"),
        put.to_string().as_bytes(),
    )
    .await;
    assert!(refuses(&r, "Expected"), "{}", r.body);
    // Members nested in batch and transaction items are checked too.
    let nested = [
        (
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": {"TableName": "t-1", "Item": {"id": {"S": "a"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]}),
            "ReturnValuesOnConditionCheckFailure",
        ),
        (
            "BatchWriteItem",
            json!({"RequestItems": {"t-1": [{"PutRequest": {"Item": {"id": {"S": "a"}}},
                "Extra": {}}]}}),
            "Extra",
        ),
        (
            "BatchGetItem",
            json!({"RequestItems": {"t-1": {"Keys": [{"id": {"S": "a"}}], "IndexName": "i"}}}),
            "IndexName",
        ),
        (
            "TransactGetItems",
            json!({"TransactItems": [{"Get": {"TableName": "t-1", "Key": {"id": {"S": "a"}},
                "ConsistentRead": true}}]}),
            "ConsistentRead",
        ),
    ];
    for (op, body, member) in nested {
        let target = format!("DynamoDB_20120810.{op}");
        let r = raw_post(stack.addr, Some(&target), body.to_string().as_bytes()).await;
        assert!(refuses(&r, member), "{op} {member}: {}", r.body);
    }
    assert_eq!(
        stack
            .tables
            .get("t-1", json!({"id": {"S": "a"}}).as_object().unwrap())
            .await
            .unwrap(),
        None,
        "a refused conditional put writes nothing"
    );
}
