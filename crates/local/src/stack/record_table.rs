//! The record-table port on the local DynamoDB table: what the `store` function writes to when
//! it runs in the local stack. Runs the same conformance suite as the DynamoDB adapter.

use durapipe_core::{PutOutcome, RecordTable, StoredItem, TableError, TableErrorKind};
use serde_json::{Map, Number, Value};

use crate::dynamodb::{DdbError, Item, Tables};

/// [`RecordTable`] over one table of the local [`Tables`] store.
#[derive(Debug, Clone)]
pub struct LocalRecordTable {
    tables: Tables,
    table: String,
}

impl LocalRecordTable {
    /// The port on table `table` (which must exist, hash key `execution_id`).
    pub fn new(tables: Tables, table: impl Into<String>) -> Self {
        Self {
            tables,
            table: table.into(),
        }
    }
}

impl RecordTable for LocalRecordTable {
    async fn put_if_absent(&self, item: &StoredItem) -> Result<PutOutcome, TableError> {
        let json = serde_json::to_value(item)
            .map_err(|e| TableError::new(TableErrorKind::Malformed, e.to_string()))?;
        let Value::Object(map) = to_attribute(&json).remove("M").unwrap_or(Value::Null) else {
            return Err(TableError::new(
                TableErrorKind::Malformed,
                "a stored item must be a map",
            ));
        };
        match self.tables.put_if_absent(&self.table, map).await {
            Ok(true) => Ok(PutOutcome::Inserted),
            Ok(false) => Ok(PutOutcome::Duplicate),
            Err(e) => Err(classify(e)),
        }
    }

    async fn get(&self, execution_id: &str) -> Result<Option<StoredItem>, TableError> {
        let mut key = Item::new();
        key.insert(
            "execution_id".into(),
            serde_json::json!({ "S": execution_id }),
        );
        let Some(item) = self.tables.get(&self.table, &key).await.map_err(classify)? else {
            return Ok(None);
        };
        let json = from_attribute_map(&item).ok_or_else(|| {
            TableError::new(
                TableErrorKind::Malformed,
                "the item holds a type JSON cannot represent",
            )
        })?;
        serde_json::from_value(Value::Object(json))
            .map(Some)
            .map_err(|e| TableError::new(TableErrorKind::Malformed, e.to_string()))
    }
}

fn classify(e: DdbError) -> TableError {
    let kind = match e {
        DdbError::Validation(_) | DdbError::ResourceNotFound(_) => TableErrorKind::Rejected,
        _ => TableErrorKind::Unavailable,
    };
    TableError::new(kind, e.to_string())
}

/// A JSON value as a DynamoDB attribute value in its JSON wire form (`{"S": ...}`), as a map
/// with the one type key.
fn to_attribute(value: &Value) -> Map<String, Value> {
    let (kind, inner) = match value {
        Value::Null => ("NULL", Value::Bool(true)),
        Value::Bool(b) => ("BOOL", Value::Bool(*b)),
        Value::Number(n) => ("N", Value::String(n.to_string())),
        Value::String(s) => ("S", Value::String(s.clone())),
        Value::Array(items) => (
            "L",
            Value::Array(
                items
                    .iter()
                    .map(|v| Value::Object(to_attribute(v)))
                    .collect(),
            ),
        ),
        Value::Object(map) => (
            "M",
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::Object(to_attribute(v))))
                    .collect(),
            ),
        ),
    };
    let mut out = Map::new();
    out.insert(kind.to_owned(), inner);
    out
}

fn from_attribute(value: &Value) -> Option<Value> {
    let (kind, inner) = value.as_object()?.iter().next()?;
    match (kind.as_str(), inner) {
        ("NULL", _) => Some(Value::Null),
        ("BOOL", Value::Bool(b)) => Some(Value::Bool(*b)),
        ("S", Value::String(s)) => Some(Value::String(s.clone())),
        ("N", Value::String(text)) => parse_number(text).map(Value::Number),
        ("L", Value::Array(items)) => items
            .iter()
            .map(from_attribute)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        ("M", Value::Object(map)) => from_attribute_map(map).map(Value::Object),
        _ => None,
    }
}

fn from_attribute_map(map: &Map<String, Value>) -> Option<Map<String, Value>> {
    map.iter()
        .map(|(k, v)| from_attribute(v).map(|v| (k.clone(), v)))
        .collect()
}

fn parse_number(text: &str) -> Option<Number> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(u.into());
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_attribute_values() {
        let v = json!({"s": "x", "n": 3, "f": 1.5, "b": true, "z": null, "l": [1, "a"], "m": {"k": []}});
        let av = Value::Object(to_attribute(&v));
        assert_eq!(av["M"]["s"], json!({"S": "x"}));
        assert_eq!(av["M"]["n"], json!({"N": "3"}));
        assert_eq!(from_attribute(&av), Some(v));
    }
}
