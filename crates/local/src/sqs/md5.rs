//! The MD5 digests SQS returns (`MD5OfMessageBody`, `MD5OfMessageAttributes`); clients verify
//! them.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::errors::SqsError;

/// Hex MD5 of a message body's UTF-8 bytes.
pub fn of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// Hex MD5 of message attributes (JSON protocol shape: name → `{DataType, StringValue |
/// BinaryValue}`), computed the way SQS does: names sorted, each field length-prefixed.
///
/// # Errors
/// `InvalidParameterValue` when an attribute is malformed.
pub fn of_attributes(attributes: &Map<String, Value>) -> Result<String, SqsError> {
    let mut digest = Md5::new();
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort();
    for name in names {
        let attr = validate_attribute(name, attributes.get(name.as_str()))?;
        update(&mut digest, name.as_bytes());
        update(&mut digest, attr.data_type.as_bytes());
        match attr.value {
            AttrValue::String(s) => {
                digest.update([1u8]);
                update(&mut digest, s.as_bytes());
            }
            AttrValue::Binary(b) => {
                digest.update([2u8]);
                update(&mut digest, &b);
            }
        }
    }
    Ok(hex(&digest.finalize()))
}

/// Checks a message attributes map (names, data types, values) and returns its digest.
///
/// # Errors
/// `InvalidParameterValue` naming the bad attribute.
pub fn validate_attributes(attributes: &Value) -> Result<(Map<String, Value>, String), SqsError> {
    let Some(map) = attributes.as_object() else {
        return Err(SqsError::InvalidParameterValue(
            "MessageAttributes must be a map".into(),
        ));
    };
    if map.len() > 10 {
        return Err(SqsError::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            map.len()
        )));
    }
    let digest = of_attributes(map)?;
    Ok((map.clone(), digest))
}

enum AttrValue {
    String(String),
    Binary(Vec<u8>),
}

struct Attr {
    data_type: String,
    value: AttrValue,
}

fn validate_attribute(name: &str, value: Option<&Value>) -> Result<Attr, SqsError> {
    let bad = |reason: &str| {
        SqsError::InvalidParameterValue(format!("Message attribute '{name}' is invalid: {reason}"))
    };
    if name.is_empty()
        || name.len() > 256
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(bad("names are 1-256 letters, digits, '_', '-' or '.'"));
    }
    let obj = value
        .and_then(Value::as_object)
        .ok_or_else(|| bad("not a map"))?;
    let data_type = obj
        .get("DataType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("DataType is required"))?;
    let base = data_type.split('.').next().unwrap_or_default();
    let value = match base {
        "String" | "Number" => {
            let s = obj
                .get("StringValue")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("StringValue is required for this DataType"))?;
            AttrValue::String(s.to_string())
        }
        "Binary" => {
            let b = obj
                .get("BinaryValue")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("BinaryValue is required for this DataType"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| bad("BinaryValue is not base64"))?;
            AttrValue::Binary(bytes)
        }
        _ => return Err(bad("DataType must be String, Number or Binary")),
    };
    Ok(Attr {
        data_type: data_type.to_string(),
        value,
    })
}

fn update(digest: &mut Md5, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    digest.update(len.to_be_bytes());
    digest.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_digest_matches_known_value() {
        // md5("hello") is well known.
        assert_eq!(of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_digest_is_order_independent_and_checks_types() {
        let a = serde_json::json!({
            "b": {"DataType": "String", "StringValue": "x"},
            "a": {"DataType": "Number", "StringValue": "1"}
        });
        let (_, d1) = validate_attributes(&a).unwrap();
        assert_eq!(d1.len(), 32);
        let bad = serde_json::json!({"a": {"DataType": "Float", "StringValue": "1"}});
        assert!(validate_attributes(&bad).is_err());
    }
}
