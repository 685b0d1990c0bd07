//! `AttributeValue` JSON: validation, size, key encoding and comparison.

use std::cmp::Ordering;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::errors::DdbError;

/// An item: attribute name → `AttributeValue` JSON (`{"S": "..."}`, `{"N": "1"}`, `{"M": {...}}`…).
pub type Item = Map<String, Value>;

/// The largest item DynamoDB stores (400 KB).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

const TYPES: &[&str] = &["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"];

/// The type descriptor (`S`, `N`, ...) of a valid `AttributeValue`.
pub fn type_of(value: &Value) -> Option<&str> {
    let obj = value.as_object()?;
    let mut keys = obj.keys();
    let key = keys.next()?;
    (keys.next().is_none() && TYPES.contains(&key.as_str())).then_some(key.as_str())
}

/// Checks an `AttributeValue` (recursively).
///
/// # Errors
/// `ValidationException` describing the first problem.
pub fn validate(value: &Value) -> Result<(), DdbError> {
    let Some(t) = type_of(value) else {
        return Err(DdbError::validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ));
    };
    let inner = value.get(t).unwrap_or(&Value::Null);
    let ok = match t {
        "S" => inner.is_string(),
        "N" => inner.as_str().is_some_and(valid_number),
        "B" => inner.as_str().is_some_and(valid_base64),
        "BOOL" => inner.is_boolean(),
        "NULL" => inner == &Value::Bool(true),
        "SS" | "NS" | "BS" => inner.as_array().is_some_and(|items| {
            !items.is_empty()
                && items.iter().all(|i| match (t, i.as_str()) {
                    ("SS", Some(_)) => true,
                    ("NS", Some(n)) => valid_number(n),
                    ("BS", Some(b)) => valid_base64(b),
                    _ => false,
                })
        }),
        "L" => match inner.as_array() {
            Some(items) => {
                for i in items {
                    validate(i)?;
                }
                true
            }
            None => false,
        },
        "M" => match inner.as_object() {
            Some(map) => {
                for v in map.values() {
                    validate(v)?;
                }
                true
            }
            None => false,
        },
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(DdbError::validation(format!(
            "One or more parameter values were invalid: invalid value for AttributeValue of type {t}"
        )))
    }
}

/// Checks every attribute of an item.
///
/// # Errors
/// `ValidationException`.
pub fn validate_item(item: &Item) -> Result<(), DdbError> {
    for (name, value) in item {
        if name.is_empty() {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: An attribute name is empty",
            ));
        }
        validate(value)?;
    }
    Ok(())
}

fn valid_number(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.len() <= 40 && t.parse::<f64>().is_ok_and(f64::is_finite)
}

fn valid_base64(text: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .is_ok()
}

/// The item's size as DynamoDB counts it (names plus values), approximately.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(value: &Value) -> usize {
    let Some(t) = type_of(value) else { return 0 };
    let inner = value.get(t).unwrap_or(&Value::Null);
    let str_len = |v: &Value| v.as_str().map_or(0, str::len);
    match t {
        "S" => str_len(inner),
        "N" => str_len(inner) / 2 + 1,
        "B" => str_len(inner) * 3 / 4,
        "BOOL" | "NULL" => 1,
        "SS" | "NS" | "BS" => inner.as_array().map_or(0, |a| a.iter().map(str_len).sum()),
        "L" => {
            3 + inner
                .as_array()
                .map_or(0, |a| a.iter().map(|v| 1 + value_size(v)).sum())
        }
        "M" => {
            3 + inner.as_object().map_or(0, |m| {
                m.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum()
            })
        }
        _ => 0,
    }
}

/// A canonical text form of a scalar key value, used as the stored key and for ordering.
pub fn key_text(value: &Value) -> Option<String> {
    match type_of(value)? {
        "S" => value.get("S")?.as_str().map(str::to_string),
        "N" => value.get("N")?.as_str().map(normalize_number),
        "B" => value.get("B")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Normalizes a DynamoDB number's text (`+1.50` → `1.5`, `007` → `7`).
pub fn normalize_number(text: &str) -> String {
    let t = text.trim().trim_start_matches('+');
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t),
    };
    if digits.contains(['e', 'E']) {
        return format!("{sign}{digits}");
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if body == "0" {
        body
    } else {
        format!("{sign}{body}")
    }
}

/// Whether two `AttributeValue`s are equal (numbers compared by value).
pub fn equal(a: &Value, b: &Value) -> bool {
    compare(a, b) == Some(Ordering::Equal) || a == b
}

/// Orders two scalar `AttributeValue`s of the same type (`S`, `N`, `B`).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (ta, tb) = (type_of(a)?, type_of(b)?);
    if ta != tb {
        return None;
    }
    let (va, vb) = (a.get(ta)?.as_str()?, b.get(tb)?.as_str()?);
    match ta {
        "S" => Some(va.cmp(vb)),
        // Binary values order by their bytes (unsigned), not by their base64 text.
        "B" => {
            let decode = |t: &str| base64::engine::general_purpose::STANDARD.decode(t).ok();
            Some(decode(va)?.cmp(&decode(vb)?))
        }
        "N" => va
            .trim()
            .parse::<f64>()
            .ok()?
            .partial_cmp(&vb.trim().parse::<f64>().ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_values_are_checked() {
        assert!(validate(&json!({"S": "x"})).is_ok());
        assert!(validate(&json!({"M": {"a": {"N": "1.5"}}})).is_ok());
        assert!(validate(&json!({"S": "x", "N": "1"})).is_err());
        assert!(validate(&json!({"N": "abc"})).is_err());
        assert!(validate(&json!({})).is_err());
        assert!(validate(&json!("plain")).is_err());
        assert!(validate(&json!({"L": [{"Q": 1}]})).is_err());
    }

    #[test]
    fn numbers_normalize_and_compare() {
        assert_eq!(normalize_number("+007.50"), "7.5");
        assert_eq!(normalize_number("-0.0"), "0");
        assert!(equal(&json!({"N": "1.0"}), &json!({"N": "1"})));
        assert_eq!(
            compare(&json!({"N": "2"}), &json!({"N": "10"})),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&json!({"S": "2"}), &json!({"N": "10"})), None);
        // 0xff sorts after 0x00 as bytes, though "/w==" sorts before "AA==" as text.
        assert_eq!(
            compare(&json!({"B": "/w=="}), &json!({"B": "AA=="})),
            Some(Ordering::Greater)
        );
    }
}
