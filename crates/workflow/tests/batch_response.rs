//! The orchestrator's response has exactly the partial-batch-response shape Lambda reads with
//! `ReportBatchItemFailures`: `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}]}`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lambda_events::event::sqs::SqsBatchResponse;
use durapipe_workflow::{BatchItemFailure, BatchResponse};

fn failures(ids: &[&str]) -> BatchResponse {
    BatchResponse {
        batch_item_failures: ids
            .iter()
            .map(|id| BatchItemFailure {
                item_identifier: (*id).to_owned(),
            })
            .collect(),
    }
}

#[test]
fn serializes_exactly() {
    assert_eq!(
        serde_json::to_string(&failures(&["059f36b4-87a3-44ab-83d2-661975830a7d"])).unwrap(),
        r#"{"batchItemFailures":[{"itemIdentifier":"059f36b4-87a3-44ab-83d2-661975830a7d"}]}"#
    );
    assert_eq!(
        serde_json::to_string(&failures(&["a", "b"])).unwrap(),
        r#"{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b"}]}"#
    );
    assert_eq!(
        serde_json::to_string(&BatchResponse::default()).unwrap(),
        r#"{"batchItemFailures":[]}"#
    );
}

#[test]
fn lambdas_own_type_reads_it_back() {
    let ours = failures(&["a", "b"]);
    let theirs: SqsBatchResponse =
        serde_json::from_str(&serde_json::to_string(&ours).unwrap()).unwrap();
    let ids: Vec<_> = theirs
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn wrong_key_names_are_rejected() {
    assert!(
        serde_json::from_str::<BatchResponse>(r#"{"batchItemFailures":[{"itemId":"a"}]}"#).is_err()
    );
    assert!(serde_json::from_str::<BatchResponse>(r#"{"BatchItemFailures":[]}"#).is_err());
    let parsed: BatchResponse =
        serde_json::from_str(r#"{"batchItemFailures":[{"itemIdentifier":"x"}]}"#).unwrap();
    assert_eq!(parsed, failures(&["x"]));
}
