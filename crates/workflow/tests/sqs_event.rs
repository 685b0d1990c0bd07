//! The orchestrator's input type accepts AWS's documented SQS event sample
//! (`fixtures/sqs_event.json`, from the Lambda developer guide) and round-trips it, and the
//! sample's records flow into the validate stage as real events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lambda_events::event::sqs::SqsEvent;
use durapipe_workflow::{validate_handler, StageError, ValidateInput};
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/sqs_event.json");

/// Every key/value of `expected` is present, equal, in `actual` (recursively for objects).
fn assert_subset(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let got = a.get(k).unwrap_or_else(|| panic!("{path}.{k} lost"));
                assert_subset(v, got, &format!("{path}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}");
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                assert_subset(e, a, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

#[test]
fn fixture_parses_and_round_trips() {
    let event: SqsEvent = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(event.records.len(), 2);
    let first = &event.records[0];
    assert_eq!(
        first.message_id.as_deref(),
        Some("059f36b4-87a3-44ab-83d2-661975830a7d")
    );
    assert_eq!(first.body.as_deref(), Some("Test message."));
    assert_eq!(first.event_source.as_deref(), Some("aws:sqs"));
    assert_eq!(first.attributes["ApproximateReceiveCount"], "1");
    assert_eq!(
        event.records[1].message_id.as_deref(),
        Some("2e1424d4-f796-459a-8184-9c92662be6da")
    );

    let serialized = serde_json::to_value(&event).unwrap();
    let again: SqsEvent = serde_json::from_value(serialized.clone()).unwrap();
    assert_eq!(again, event);
    let original: Value = serde_json::from_str(FIXTURE).unwrap();
    assert_subset(&original, &serialized, "$");
}

#[tokio::test]
async fn fixture_records_reach_validate_and_are_rejected_as_not_json() {
    let event: SqsEvent = serde_json::from_str(FIXTURE).unwrap();
    for record in event.records {
        let input = ValidateInput {
            message_id: record.message_id.unwrap(),
            body: record.body.unwrap(),
        };
        let err = validate_handler(serde_json::to_value(&input).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StageError::Validation(_)), "{err}");
        assert_eq!(err.error_type().as_str(), "ValidationError");
        assert!(err.to_string().contains("`body`"), "{err}");
    }
}

#[tokio::test]
async fn fixture_with_the_seeds_body_validates() {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    event["Records"][0]["body"] =
        Value::String(r#"{"data_source": "test.csv", "processing_type": "standard"}"#.into());
    let event: SqsEvent = serde_json::from_value(event).unwrap();
    let record = &event.records[0];
    let out = validate_handler(serde_json::json!({
        "message_id": record.message_id,
        "body": record.body,
    }))
    .await
    .unwrap();
    assert_eq!(out.message.data_source(), "test.csv");
    assert_eq!(out.message_id, "059f36b4-87a3-44ab-83d2-661975830a7d");
}
