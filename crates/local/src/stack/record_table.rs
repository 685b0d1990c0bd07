//! The record-table port on the local DynamoDB table: what the `store` function writes to when
//! it runs in the local stack. Runs the same conformance suite as the DynamoDB adapter (the
//! test below).

use durapipe_core::attribute::{
    from_attribute_entries, to_attribute, AttributeCodec, AttributeRef,
};
use durapipe_core::{PutOutcome, RecordTable, StoredItem, TableError, TableErrorKind};
use serde_json::{Map, Value};

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
        let Some(Value::Object(map)) = to_attribute::<Wire>(&json).get_mut("M").map(Value::take)
        else {
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
        let json = from_attribute_entries::<Wire>(&item).ok_or_else(|| {
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

/// The wire JSON form of attribute values (`{"S": "…"}`, the local table's [`Item`] values) as
/// a representation of the one mapping in [`durapipe_core::attribute`].
struct Wire;

impl Wire {
    fn typed(kind: &str, inner: Value) -> Value {
        let mut out = Map::new();
        out.insert(kind.to_owned(), inner);
        Value::Object(out)
    }
}

impl AttributeCodec for Wire {
    type Attr = Value;

    fn null() -> Value {
        Self::typed("NULL", Value::Bool(true))
    }

    fn bool(b: bool) -> Value {
        Self::typed("BOOL", Value::Bool(b))
    }

    fn number(text: String) -> Value {
        Self::typed("N", Value::String(text))
    }

    fn string(s: String) -> Value {
        Self::typed("S", Value::String(s))
    }

    fn list(items: Vec<Value>) -> Value {
        Self::typed("L", Value::Array(items))
    }

    fn map(entries: Vec<(String, Value)>) -> Value {
        Self::typed("M", Value::Object(entries.into_iter().collect()))
    }

    fn read(attr: &Value) -> AttributeRef<'_, Value> {
        let Some((kind, inner)) = attr.as_object().and_then(|o| o.iter().next()) else {
            return AttributeRef::Other;
        };
        match (kind.as_str(), inner) {
            ("NULL", _) => AttributeRef::Null,
            ("BOOL", Value::Bool(b)) => AttributeRef::Bool(*b),
            ("S", Value::String(s)) => AttributeRef::String(s),
            ("N", Value::String(text)) => AttributeRef::Number(text),
            ("L", Value::Array(items)) => AttributeRef::List(items),
            ("M", Value::Object(map)) => AttributeRef::Map(map.iter().collect()),
            _ => AttributeRef::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use durapipe_core::record_table::conformance;
    use serde_json::json;

    #[tokio::test]
    async fn the_local_table_passes_the_record_table_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let options = durapipe_sqlite::Options::default();
        let db = durapipe_sqlite::Database::open(&dir.path().join("t.db"), &options).unwrap();
        let tables = Tables::open(db, std::sync::Arc::new(crate::SystemClock))
            .await
            .unwrap();
        let definition =
            crate::dynamodb::TableDefinition::with_string_hash_key("records", "execution_id");
        tables.create_table(definition).await.unwrap();
        conformance::run_suite(&LocalRecordTable::new(tables, "records"))
            .await
            .unwrap();
    }

    #[test]
    fn json_round_trips_through_attribute_values() {
        let v = json!({"s": "x", "n": 3, "f": 1.5, "b": true, "z": null, "l": [1, "a"], "m": {"k": []}});
        let av = to_attribute::<Wire>(&v);
        assert_eq!(av["M"]["s"], json!({"S": "x"}));
        assert_eq!(av["M"]["n"], json!({"N": "3"}));
        assert_eq!(
            durapipe_core::attribute::from_attribute::<Wire>(&av),
            Some(v)
        );
    }
}
