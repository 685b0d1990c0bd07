//! JSON values ↔ DynamoDB attribute values: the one mapping, for every representation of
//! attribute values (the SDK's `AttributeValue` in `durapipe-aws`, the wire JSON `{"S": "…"}`
//! of the local stack's table).
//!
//! JSON maps become `M`, arrays `L`, strings `S`, numbers `N` (their JSON text), booleans `BOOL`
//! and null `NULL`. Reading back, `N` becomes an integer when it is one and a float otherwise, so
//! DynamoDB's normalization of `2.0` to `2` is the one visible change; other types (sets,
//! binary) and numbers that are not finite have no JSON form.

use serde_json::{Map, Number, Value};

/// One attribute value as the mapping reads it.
#[derive(Debug)]
pub enum AttributeRef<'a, A> {
    /// `NULL`.
    Null,
    /// `BOOL`.
    Bool(bool),
    /// `N`, as text.
    Number(&'a str),
    /// `S`.
    String(&'a str),
    /// `L`.
    List(&'a [A]),
    /// `M`: its entries.
    Map(Vec<(&'a String, &'a A)>),
    /// A type JSON cannot hold, or a malformed value.
    Other,
}

/// A representation of attribute values: how one is built, and how it is read.
pub trait AttributeCodec {
    /// The attribute value type.
    type Attr;
    /// `NULL`.
    fn null() -> Self::Attr;
    /// `BOOL`.
    fn bool(b: bool) -> Self::Attr;
    /// `N` from its text.
    fn number(text: String) -> Self::Attr;
    /// `S`.
    fn string(s: String) -> Self::Attr;
    /// `L`.
    fn list(items: Vec<Self::Attr>) -> Self::Attr;
    /// `M`.
    fn map(entries: Vec<(String, Self::Attr)>) -> Self::Attr;
    /// The value as the mapping reads it.
    fn read(attr: &Self::Attr) -> AttributeRef<'_, Self::Attr>;
}

/// A JSON value as an attribute value.
pub fn to_attribute<C: AttributeCodec>(value: &Value) -> C::Attr {
    match value {
        Value::Null => C::null(),
        Value::Bool(b) => C::bool(*b),
        Value::Number(n) => C::number(n.to_string()),
        Value::String(s) => C::string(s.clone()),
        Value::Array(items) => C::list(items.iter().map(to_attribute::<C>).collect()),
        Value::Object(map) => C::map(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute::<C>(v)))
                .collect(),
        ),
    }
}

/// An attribute value as JSON; `None` for types JSON cannot hold and numbers that are not
/// finite.
pub fn from_attribute<C: AttributeCodec>(attr: &C::Attr) -> Option<Value> {
    match C::read(attr) {
        AttributeRef::Null => Some(Value::Null),
        AttributeRef::Bool(b) => Some(Value::Bool(b)),
        AttributeRef::Number(text) => parse_number(text).map(Value::Number),
        AttributeRef::String(s) => Some(Value::String(s.to_owned())),
        AttributeRef::List(items) => items
            .iter()
            .map(from_attribute::<C>)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        AttributeRef::Map(entries) => from_attribute_entries::<C>(entries).map(Value::Object),
        AttributeRef::Other => None,
    }
}

/// Attribute map entries as a JSON map (keys sorted, as serde_json's maps are).
pub fn from_attribute_entries<'a, C: AttributeCodec>(
    entries: impl IntoIterator<Item = (&'a String, &'a C::Attr)>,
) -> Option<Map<String, Value>>
where
    C::Attr: 'a,
{
    entries
        .into_iter()
        .map(|(k, v)| from_attribute::<C>(v).map(|v| (k.clone(), v)))
        .collect()
}

/// A DynamoDB number's text as a JSON number: an integer when it is one, else a finite float.
#[must_use]
pub fn parse_number(text: &str) -> Option<Number> {
    if let Ok(u) = text.parse::<u64>() {
        return Some(Number::from(u));
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Number::from(i));
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}
