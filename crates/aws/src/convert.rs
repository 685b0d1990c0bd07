//! JSON values ↔ the SDK's attribute values (the mapping itself is
//! [`durapipe_core::attribute`]), and stored items ↔ DynamoDB items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use durapipe_core::attribute::{self, AttributeCodec, AttributeRef};
use durapipe_core::StoredItem;
use serde_json::{Map, Value};

/// A DynamoDB item could not be read as a [`StoredItem`].
#[derive(Debug, thiserror::Error)]
#[error("attribute `{attribute}` {problem}")]
#[non_exhaustive]
pub struct ItemFormatError {
    /// The attribute (top-level name) at fault.
    pub attribute: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl ItemFormatError {
    fn new(attribute: &str, problem: &'static str) -> Self {
        Self {
            attribute: attribute.to_owned(),
            problem,
        }
    }
}

/// The SDK's `AttributeValue` as a representation of the one mapping in
/// [`durapipe_core::attribute`].
struct Sdk;

impl AttributeCodec for Sdk {
    type Attr = AttributeValue;

    fn null() -> AttributeValue {
        AttributeValue::Null(true)
    }

    fn bool(b: bool) -> AttributeValue {
        AttributeValue::Bool(b)
    }

    fn number(text: String) -> AttributeValue {
        AttributeValue::N(text)
    }

    fn string(s: String) -> AttributeValue {
        AttributeValue::S(s)
    }

    fn list(items: Vec<AttributeValue>) -> AttributeValue {
        AttributeValue::L(items)
    }

    fn map(entries: Vec<(String, AttributeValue)>) -> AttributeValue {
        AttributeValue::M(entries.into_iter().collect())
    }

    fn read(attr: &AttributeValue) -> AttributeRef<'_, AttributeValue> {
        match attr {
            AttributeValue::Null(_) => AttributeRef::Null,
            AttributeValue::Bool(b) => AttributeRef::Bool(*b),
            AttributeValue::N(text) => AttributeRef::Number(text),
            AttributeValue::S(s) => AttributeRef::String(s),
            AttributeValue::L(items) => AttributeRef::List(items),
            AttributeValue::M(map) => AttributeRef::Map(map.iter().collect()),
            _ => AttributeRef::Other,
        }
    }
}

/// Converts a JSON value to an attribute value.
#[must_use]
pub fn to_attribute(value: &Value) -> AttributeValue {
    attribute::to_attribute::<Sdk>(value)
}

/// Converts a JSON map to an attribute map.
#[must_use]
pub fn to_attribute_map(map: &Map<String, Value>) -> HashMap<String, AttributeValue> {
    map.iter()
        .map(|(k, v)| (k.clone(), to_attribute(v)))
        .collect()
}

/// Converts an attribute value to JSON; `None` for types JSON cannot hold (sets, binary) and
/// numbers that are not finite.
#[must_use]
pub fn from_attribute(value: &AttributeValue) -> Option<Value> {
    attribute::from_attribute::<Sdk>(value)
}

/// Converts an attribute map to a JSON map (keys sorted, as serde_json's maps are).
#[must_use]
pub fn from_attribute_map(map: &HashMap<String, AttributeValue>) -> Option<Map<String, Value>> {
    attribute::from_attribute_entries::<Sdk>(map)
}

/// The DynamoDB item for a stored item: exactly its eight attributes.
#[must_use]
pub fn item_to_attributes(item: &StoredItem) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    HashMap::from([
        ("execution_id".to_owned(), s(&item.execution_id)),
        ("message_id".to_owned(), s(&item.message_id)),
        ("data_source".to_owned(), s(&item.data_source)),
        ("processing_type".to_owned(), s(&item.processing_type)),
        (
            "original_data".to_owned(),
            AttributeValue::M(to_attribute_map(&item.original_data)),
        ),
        (
            "transformed_data".to_owned(),
            AttributeValue::M(to_attribute_map(&item.transformed_data)),
        ),
        ("stored_at".to_owned(), s(&item.stored_at)),
        (
            "durable_execution_arn".to_owned(),
            s(&item.durable_execution_arn),
        ),
    ])
}

/// Reads a stored item back from a DynamoDB item.
///
/// # Errors
/// When an attribute is missing, has the wrong type, or is not one of the eight.
pub fn item_from_attributes(
    attributes: &HashMap<String, AttributeValue>,
) -> Result<StoredItem, ItemFormatError> {
    if let Some(extra) = attributes
        .keys()
        .find(|k| !durapipe_core::item::ATTRIBUTE_NAMES.contains(&k.as_str()))
    {
        return Err(ItemFormatError::new(
            extra,
            "is not a stored-item attribute",
        ));
    }
    let string = |name: &str| -> Result<String, ItemFormatError> {
        match attributes.get(name) {
            Some(AttributeValue::S(s)) => Ok(s.clone()),
            Some(_) => Err(ItemFormatError::new(name, "is not a string (S)")),
            None => Err(ItemFormatError::new(name, "is missing")),
        }
    };
    let map = |name: &str| -> Result<Map<String, Value>, ItemFormatError> {
        match attributes.get(name) {
            Some(AttributeValue::M(m)) => from_attribute_map(m)
                .ok_or_else(|| ItemFormatError::new(name, "holds a value JSON cannot represent")),
            Some(_) => Err(ItemFormatError::new(name, "is not a map (M)")),
            None => Err(ItemFormatError::new(name, "is missing")),
        }
    };
    Ok(StoredItem {
        execution_id: string("execution_id")?,
        message_id: string("message_id")?,
        data_source: string("data_source")?,
        processing_type: string("processing_type")?,
        original_data: map("original_data")?,
        transformed_data: map("transformed_data")?,
        stored_at: string("stored_at")?,
        durable_execution_arn: string("durable_execution_arn")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::primitives::Blob;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_attributes() {
        let cases = [
            json!(null),
            json!(true),
            json!(0),
            json!(-12),
            json!(18_446_744_073_709_551_615_u64),
            json!(2.5),
            json!(-0.001),
            json!(""),
            json!("日本 ✓"),
            json!([]),
            json!({}),
            json!([1, "a", null, [true, {"x": [2.25]}]]),
            json!({"a": {"b": {"c": [1, 2, {"d": null}]}}, "e": ""}),
        ];
        for value in cases {
            assert_eq!(
                from_attribute(&to_attribute(&value)),
                Some(value.clone()),
                "{value}"
            );
        }
    }

    #[test]
    fn types_are_mapped_as_documented() {
        assert_eq!(to_attribute(&json!(null)), AttributeValue::Null(true));
        assert_eq!(to_attribute(&json!(1.5)), AttributeValue::N("1.5".into()));
        assert_eq!(to_attribute(&json!(7)), AttributeValue::N("7".into()));
        assert_eq!(to_attribute(&json!(false)), AttributeValue::Bool(false));
        assert_eq!(
            to_attribute(&json!({"k": ["v"]})),
            AttributeValue::M(HashMap::from([(
                "k".to_owned(),
                AttributeValue::L(vec![AttributeValue::S("v".into())])
            )]))
        );
    }

    #[test]
    fn dynamodb_number_forms_are_read() {
        let cases = [
            ("2", json!(2)),
            ("-2", json!(-2)),
            ("2.50", json!(2.5)),
            ("1E+2", json!(100.0)),
            ("0.00001", json!(0.00001)),
        ];
        for (text, expected) in cases {
            assert_eq!(
                from_attribute(&AttributeValue::N(text.into())),
                Some(expected),
                "{text}"
            );
        }
        assert_eq!(from_attribute(&AttributeValue::N("1e400".into())), None);
        assert_eq!(from_attribute(&AttributeValue::N("abc".into())), None);
    }

    #[test]
    fn non_json_types_are_rejected() {
        assert_eq!(from_attribute(&AttributeValue::Ss(vec!["a".into()])), None);
        assert_eq!(from_attribute(&AttributeValue::B(Blob::new(vec![1]))), None);
        let nested = AttributeValue::L(vec![AttributeValue::Ns(vec!["1".into()])]);
        assert_eq!(from_attribute(&nested), None);
    }

    fn sample() -> StoredItem {
        durapipe_core::record_table::conformance::sample_item("convert")
    }

    #[test]
    fn items_round_trip_with_exactly_eight_attributes() {
        let item = sample();
        let attributes = item_to_attributes(&item);
        let mut names: Vec<_> = attributes.keys().cloned().collect();
        names.sort();
        let mut expected: Vec<_> = durapipe_core::item::ATTRIBUTE_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect();
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(item_from_attributes(&attributes).unwrap(), item);
    }

    #[test]
    fn malformed_items_name_the_attribute() {
        let mut missing = item_to_attributes(&sample());
        missing.remove("stored_at");
        let err = item_from_attributes(&missing).unwrap_err();
        assert_eq!(err.attribute, "stored_at");

        let mut wrong = item_to_attributes(&sample());
        wrong.insert("original_data".into(), AttributeValue::S("x".into()));
        assert_eq!(
            item_from_attributes(&wrong).unwrap_err().attribute,
            "original_data"
        );

        let mut extra = item_to_attributes(&sample());
        extra.insert("ttl".into(), AttributeValue::N("1".into()));
        assert_eq!(item_from_attributes(&extra).unwrap_err().attribute, "ttl");
    }
}
