//! Lambda's partial batch response rules (`ReportBatchItemFailures`), as a pure function.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What a batch target reported.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchResult {
    /// The function returned `response` (`Value::Null` for no response).
    Completed {
        /// The function's response.
        response: Value,
        /// Why individual records failed, by message id, when the target knows (the durable
        /// orchestrator's recorded stage errors). Kept as the message's last error.
        item_errors: BTreeMap<String, String>,
    },
    /// The function (or its durable execution) failed.
    Failed {
        /// The error type, e.g. `States.Runtime` or the handler's own.
        error_type: String,
        /// The error message.
        message: String,
    },
    /// The function did not finish in time.
    TimedOut,
}

impl BatchResult {
    /// A completed invocation with `response` and no per-record reasons.
    pub fn completed(response: Value) -> Self {
        Self::Completed {
            response,
            item_errors: BTreeMap::new(),
        }
    }
}

/// What the event source mapping does with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Delete every message.
    AllSucceeded,
    /// Delete all but these message ids, which return to the queue.
    Partial(BTreeSet<String>),
    /// Every message returns to the queue; the text is recorded as their last error.
    AllFailed(String),
}

/// Applies the partial batch response rules to `result` for a batch of `message_ids`:
/// an empty or null response, or an empty or null `batchItemFailures`, is full success; a list
/// fails exactly the listed messages; a response that is not a JSON object, a
/// `batchItemFailures` that is not a list, an entry without a non-empty string
/// `itemIdentifier`, an id not in the batch, a function error or a timeout fails the batch.
pub fn evaluate(result: &BatchResult, message_ids: &[&str]) -> Disposition {
    let response = match result {
        BatchResult::Failed {
            error_type,
            message,
        } => return Disposition::AllFailed(format!("{error_type}: {message}")),
        BatchResult::TimedOut => {
            return Disposition::AllFailed("TimedOut: the function did not finish in time".into())
        }
        BatchResult::Completed { response, .. } => response,
    };
    let invalid = |why: &str| Disposition::AllFailed(format!("InvalidBatchResponse: {why}"));
    let failures = match response {
        Value::Null => return Disposition::AllSucceeded,
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => return Disposition::AllSucceeded,
            Some(Value::Array(list)) => list,
            Some(_) => return invalid("batchItemFailures is not a list"),
        },
        Value::String(s) if s.is_empty() => return Disposition::AllSucceeded,
        _ => return invalid("the response is not a JSON object"),
    };
    if failures.is_empty() {
        return Disposition::AllSucceeded;
    }
    let mut failed = BTreeSet::new();
    for entry in failures {
        let id = match entry.get("itemIdentifier") {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(Value::String(_)) => return invalid("an itemIdentifier is empty"),
            Some(Value::Null) => return invalid("an itemIdentifier is null"),
            Some(_) => return invalid("an itemIdentifier is not a string"),
            None => return invalid("a batchItemFailures entry has no itemIdentifier"),
        };
        if !message_ids.contains(&id.as_str()) {
            return invalid(&format!("itemIdentifier {id} is not in the batch"));
        }
        failed.insert(id.clone());
    }
    Disposition::Partial(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IDS: &[&str] = &["a", "b", "c"];

    fn eval(v: Value) -> Disposition {
        evaluate(&BatchResult::completed(v), IDS)
    }

    fn all_failed(d: &Disposition) -> bool {
        matches!(d, Disposition::AllFailed(_))
    }

    #[test]
    fn empty_or_null_responses_succeed() {
        assert_eq!(eval(Value::Null), Disposition::AllSucceeded);
        assert_eq!(eval(json!({})), Disposition::AllSucceeded);
        assert_eq!(
            eval(json!({"batchItemFailures": null})),
            Disposition::AllSucceeded
        );
        assert_eq!(
            eval(json!({"batchItemFailures": []})),
            Disposition::AllSucceeded
        );
    }

    #[test]
    fn listed_ids_fail_alone() {
        let d =
            eval(json!({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "b"}]}));
        assert_eq!(d, Disposition::Partial(["b".to_string()].into()));
    }

    #[test]
    fn invalid_responses_fail_the_batch() {
        for bad in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemId": "a"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "zzz"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": 7}]}),
            json!({"batchItemFailures": "a"}),
            json!([1, 2]),
            json!("not json"),
            json!(42),
        ] {
            assert!(all_failed(&eval(bad.clone())), "{bad}");
        }
        assert!(all_failed(&evaluate(&BatchResult::TimedOut, IDS)));
        let failed = BatchResult::Failed {
            error_type: "Boom".into(),
            message: "bad".into(),
        };
        assert_eq!(
            evaluate(&failed, IDS),
            Disposition::AllFailed("Boom: bad".into())
        );
    }
}
