//! The item `store` writes: one per message, keyed by its execution id.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::message::ValidMessage;
use crate::transform::{format_rfc3339_utc, TransformOutput};

/// A message's execution id, `{ENVIRONMENT}-esm-{messageId}`: the table's hash key.
///
/// Stable across redeliveries of the same SQS message (the seed's scheme), which is what makes
/// the conditional put idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionId(String);

impl ExecutionId {
    /// Builds the execution id of `message_id` in `environment`.
    #[must_use]
    pub fn new(environment: &str, message_id: &str) -> Self {
        Self(format!("{environment}-esm-{message_id}"))
    }

    /// The id as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The attribute names of a stored item, exactly (DESIGN.md's table).
pub const ATTRIBUTE_NAMES: [&str; 8] = [
    "execution_id",
    "message_id",
    "data_source",
    "processing_type",
    "original_data",
    "transformed_data",
    "stored_at",
    "durable_execution_arn",
];

/// One stored message. Every field is one table attribute ([`ATTRIBUTE_NAMES`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredItem {
    /// Hash key: `{ENVIRONMENT}-esm-{messageId}`.
    pub execution_id: String,
    /// The SQS message id.
    pub message_id: String,
    /// The original `data_source`.
    pub data_source: String,
    /// The original `processing_type`.
    pub processing_type: String,
    /// The whole original body.
    pub original_data: Map<String, Value>,
    /// The transform output (`data_source` upper-cased).
    pub transformed_data: Map<String, Value>,
    /// When the item was stored, RFC 3339 UTC.
    pub stored_at: String,
    /// The orchestrator execution that stored it.
    pub durable_execution_arn: String,
}

impl StoredItem {
    /// Builds the item for a message.
    #[must_use]
    pub fn new(
        execution_id: &ExecutionId,
        message_id: &str,
        message: &ValidMessage,
        transformed: &TransformOutput,
        stored_at: OffsetDateTime,
        durable_execution_arn: &str,
    ) -> Self {
        Self {
            execution_id: execution_id.as_str().to_owned(),
            message_id: message_id.to_owned(),
            data_source: message.data_source().to_owned(),
            processing_type: message.processing_type().to_owned(),
            original_data: message.original_data().clone(),
            transformed_data: transform_output_map(transformed),
            stored_at: format_rfc3339_utc(stored_at),
            durable_execution_arn: durable_execution_arn.to_owned(),
        }
    }
}

/// The transform output as the JSON map stored in `transformed_data`.
#[must_use]
pub fn transform_output_map(output: &TransformOutput) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("data_source".into(), output.data_source.clone().into());
    map.insert(
        "processing_type".into(),
        output.processing_type.clone().into(),
    );
    map.insert("processed_at".into(), output.processed_at.clone().into());
    map.insert("execution_id".into(), output.execution_id.clone().into());
    map.insert(
        "transformation_applied".into(),
        output.transformation_applied.clone().into(),
    );
    map
}

/// What a conditional put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PutOutcome {
    /// The item was written.
    Inserted,
    /// An item with the same execution id already existed; it was left unchanged. This is a
    /// success (a redelivered message).
    Duplicate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::validate;
    use crate::transform::transform;
    use time::macros::datetime;

    #[test]
    fn execution_id_scheme() {
        assert_eq!(ExecutionId::new("dev", "abc-1").as_str(), "dev-esm-abc-1");
        assert_eq!(ExecutionId::new("prod", "x").to_string(), "prod-esm-x");
    }

    #[test]
    fn item_has_exactly_the_design_attributes() {
        let message =
            validate(r#"{"data_source":"straße.csv","processing_type":"standard","n":1}"#).unwrap();
        let id = ExecutionId::new("dev", "m-1");
        let now = datetime!(2024-05-01 12:00:00 UTC);
        let transformed = transform(&message, &id, now);
        let item = StoredItem::new(&id, "m-1", &message, &transformed, now, "arn:x");
        let json = serde_json::to_value(&item).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        let mut expected: Vec<_> = ATTRIBUTE_NAMES.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(keys, expected);
        assert_eq!(item.data_source, "straße.csv");
        assert_eq!(item.transformed_data["data_source"], "STRASSE.CSV");
        assert_eq!(item.original_data["n"], 1);
        assert_eq!(item.stored_at, "2024-05-01T12:00:00.000Z");
        assert_eq!(
            Value::Object(item.transformed_data.clone()),
            serde_json::to_value(&transformed).unwrap()
        );
    }
}
