//! The SQS message body and its validation (the `validate` stage's pure logic).
//!
//! A [`ValidMessage`] can only be built by validation, also when it is deserialized: its serde
//! form is the original body object itself, and deserializing re-runs the checks, so every stage
//! that receives one over the wire gets the same guarantees as `validate`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest accepted body, in bytes (256 KiB: SQS's historical limit, and the durable-execution
/// service's per-operation checkpoint limit).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Deepest accepted nesting of arrays/objects; the body object itself is level 1. Well below
/// serde_json's own recursion limit (128) and DynamoDB's document nesting limit (32).
pub const MAX_NESTING_DEPTH: usize = 16;

/// Longest accepted `data_source`, in characters (Unicode scalar values).
pub const MAX_DATA_SOURCE_CHARS: usize = 1024;

/// Longest accepted `processing_type`, in characters.
pub const MAX_PROCESSING_TYPE_CHARS: usize = 64;

/// Largest number magnitude accepted (DynamoDB `N` goes up to 9.99…9E+125; slightly conservative).
const MAX_NUMBER_MAGNITUDE: f64 = 9.999e125;
/// Smallest non-zero number magnitude DynamoDB can store.
const MIN_NUMBER_MAGNITUDE: f64 = 1e-130;

/// Nesting checked on the raw text before parsing, so serde_json never reaches its own recursion
/// limit (128); bodies between [`MAX_NESTING_DEPTH`] and this are parsed so the error can name
/// the field.
const RAW_DEPTH_GUARD: usize = 100;

/// Longest field name quoted verbatim in an error message.
const MAX_QUOTED_FIELD_CHARS: usize = 64;

/// A message body that passed validation: a JSON object with a usable `data_source` and
/// `processing_type`. Extra fields are kept.
///
/// Serializes as the original body object; deserializing validates again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>", into = "Map<String, Value>")]
pub struct ValidMessage {
    body: Map<String, Value>,
    data_source: String,
    processing_type: String,
}

impl ValidMessage {
    /// The `data_source` field (validated: non-blank, ≤ 1,024 characters, no control characters).
    #[must_use]
    pub fn data_source(&self) -> &str {
        &self.data_source
    }

    /// The `processing_type` field (validated: 1–64 of `[A-Za-z0-9_-]`).
    #[must_use]
    pub fn processing_type(&self) -> &str {
        &self.processing_type
    }

    /// The whole original body, extra fields included (`original_data` in the stored item).
    #[must_use]
    pub fn original_data(&self) -> &Map<String, Value> {
        &self.body
    }

    /// Consumes the message, returning the original body.
    #[must_use]
    pub fn into_original_data(self) -> Map<String, Value> {
        self.body
    }
}

impl TryFrom<Map<String, Value>> for ValidMessage {
    type Error = ValidationError;

    fn try_from(body: Map<String, Value>) -> Result<Self, Self::Error> {
        validate_object(body)
    }
}

impl From<ValidMessage> for Map<String, Value> {
    fn from(message: ValidMessage) -> Self {
        message.body
    }
}

/// Validates a raw SQS message body.
///
/// # Errors
/// A [`ValidationError`] naming the offending field (or `body` for whole-body problems): the
/// body is larger than [`MAX_BODY_BYTES`], nested deeper than [`MAX_NESTING_DEPTH`], not JSON,
/// not an object; `data_source` is missing, not a string, blank, too long or has control
/// characters; `processing_type` is missing, not a string or not 1–64 of `[A-Za-z0-9_-]`; a
/// number cannot be stored in DynamoDB.
pub fn validate(body: &str) -> Result<ValidMessage, ValidationError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ValidationError::new(
            Field::Body,
            ValidationErrorKind::TooLarge {
                limit_bytes: MAX_BODY_BYTES,
            },
        ));
    }
    // Checked on the raw text first, so that serde_json never reaches its own recursion limit.
    if raw_nesting_depth(body) > RAW_DEPTH_GUARD {
        return Err(too_deep(Field::Body));
    }
    let value: Value = serde_json::from_str(body).map_err(|source| ValidationError {
        field: Field::Body,
        kind: ValidationErrorKind::NotJson,
        source: Some(source),
    })?;
    match value {
        Value::Object(map) => validate_object(map),
        _ => Err(ValidationError::new(
            Field::Body,
            ValidationErrorKind::NotAnObject,
        )),
    }
}

fn validate_object(body: Map<String, Value>) -> Result<ValidMessage, ValidationError> {
    let data_source = required_string(&body, Field::DataSource)?;
    check_data_source(data_source)?;
    let processing_type = required_string(&body, Field::ProcessingType)?;
    check_processing_type(processing_type)?;
    for (key, value) in &body {
        let field = Field::named(key);
        // The body object is level 1, so a top-level value may use the remaining levels.
        if value_depth(value) >= MAX_NESTING_DEPTH {
            return Err(too_deep(field));
        }
        if !numbers_storable(value) {
            return Err(ValidationError::new(
                field,
                ValidationErrorKind::NumberOutOfRange,
            ));
        }
    }
    let data_source = data_source.to_owned();
    let processing_type = processing_type.to_owned();
    Ok(ValidMessage {
        body,
        data_source,
        processing_type,
    })
}

fn required_string(body: &Map<String, Value>, field: Field) -> Result<&str, ValidationError> {
    match body.get(field.as_str()) {
        None => Err(ValidationError::new(field, ValidationErrorKind::Missing)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ValidationError::new(field, ValidationErrorKind::NotAString)),
    }
}

fn check_data_source(value: &str) -> Result<(), ValidationError> {
    let field = Field::DataSource;
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, ValidationErrorKind::Blank));
    }
    if value.chars().count() > MAX_DATA_SOURCE_CHARS {
        return Err(ValidationError::new(
            field,
            ValidationErrorKind::TooLong {
                max_chars: MAX_DATA_SOURCE_CHARS,
            },
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            ValidationErrorKind::ControlCharacter,
        ));
    }
    Ok(())
}

fn check_processing_type(value: &str) -> Result<(), ValidationError> {
    let well_formed = !value.is_empty()
        && value.len() <= MAX_PROCESSING_TYPE_CHARS
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if well_formed {
        Ok(())
    } else {
        Err(ValidationError::new(
            Field::ProcessingType,
            ValidationErrorKind::InvalidProcessingType,
        ))
    }
}

fn too_deep(field: Field) -> ValidationError {
    ValidationError::new(
        field,
        ValidationErrorKind::TooDeep {
            limit: MAX_NESTING_DEPTH,
        },
    )
}

/// Deepest array/object nesting in raw JSON text (strings are skipped, so brackets inside them do
/// not count). Total on any input: malformed text just yields some depth, and the parser then
/// reports the syntax error.
fn raw_nesting_depth(text: &str) -> usize {
    let mut depth: usize = 0;
    let mut max: usize = 0;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth = depth.saturating_add(1);
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Nesting depth of a parsed value: scalars are 0, an empty or flat container is 1.
fn value_depth(value: &Value) -> usize {
    // Iterative, so no input can exhaust the stack.
    let mut max = 0;
    let mut stack = vec![(value, 0_usize)];
    while let Some((v, level)) = stack.pop() {
        match v {
            Value::Array(items) => {
                let level = level.saturating_add(1);
                max = max.max(level);
                stack.extend(items.iter().map(|i| (i, level)));
            }
            Value::Object(map) => {
                let level = level.saturating_add(1);
                max = max.max(level);
                stack.extend(map.values().map(|i| (i, level)));
            }
            _ => max = max.max(level),
        }
    }
    max
}

/// Whether every number in `value` fits DynamoDB's `N` range.
fn numbers_storable(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    let magnitude = f.abs();
                    if !f.is_finite()
                        || magnitude > MAX_NUMBER_MAGNITUDE
                        || (magnitude != 0.0 && magnitude < MIN_NUMBER_MAGNITUDE)
                    {
                        return false;
                    }
                }
            }
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    true
}

/// The part of a message a [`ValidationError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The body as a whole.
    Body,
    /// The `data_source` field.
    DataSource,
    /// The `processing_type` field.
    ProcessingType,
    /// Another top-level field of the body (an extra field).
    Other(String),
}

impl Field {
    fn named(key: &str) -> Self {
        match key {
            "data_source" => Self::DataSource,
            "processing_type" => Self::ProcessingType,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The field's name as it appears in the body (`body` for the body as a whole).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Body => "body",
            Self::DataSource => "data_source",
            Self::ProcessingType => "processing_type",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.as_str();
        if name.chars().count() > MAX_QUOTED_FIELD_CHARS {
            let head: String = name.chars().take(MAX_QUOTED_FIELD_CHARS).collect();
            write!(f, "`{}…`", head.escape_debug())
        } else {
            write!(f, "`{}`", name.escape_debug())
        }
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationErrorKind {
    /// The body is larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit_bytes: usize,
    },
    /// Arrays/objects are nested deeper than the limit.
    TooDeep {
        /// The limit, in levels (the body object is level 1).
        limit: usize,
    },
    /// The body is not valid JSON (the parser's error is the `source()`).
    NotJson,
    /// The body is JSON but not an object.
    NotAnObject,
    /// A required field is absent.
    Missing,
    /// The field is not a string.
    NotAString,
    /// The field is empty or only whitespace.
    Blank,
    /// The field is longer than the limit.
    TooLong {
        /// The limit, in characters.
        max_chars: usize,
    },
    /// The field contains a control character.
    ControlCharacter,
    /// `processing_type` is not 1–64 of `[A-Za-z0-9_-]`.
    InvalidProcessingType,
    /// A number is outside what DynamoDB can store.
    NumberOutOfRange,
}

impl fmt::Display for ValidationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit_bytes } => write!(f, "is larger than {limit_bytes} bytes"),
            Self::TooDeep { limit } => write!(f, "is nested deeper than {limit} levels"),
            Self::NotJson => write!(f, "is not valid JSON"),
            Self::NotAnObject => write!(f, "is not a JSON object"),
            Self::Missing => write!(f, "is missing"),
            Self::NotAString => write!(f, "is not a string"),
            Self::Blank => write!(f, "is blank"),
            Self::TooLong { max_chars } => write!(f, "is longer than {max_chars} characters"),
            Self::ControlCharacter => write!(f, "contains a control character"),
            Self::InvalidProcessingType => write!(
                f,
                "must be 1-{MAX_PROCESSING_TYPE_CHARS} characters of letters, digits, `_` or `-`"
            ),
            Self::NumberOutOfRange => write!(f, "holds a number DynamoDB cannot store"),
        }
    }
}

/// A message failed validation. Permanent: retrying cannot fix it.
///
/// The `Display` text names the field, e.g. ``invalid message: `data_source` is blank``.
#[derive(Debug, thiserror::Error)]
#[error("invalid message: {field} {kind}")]
#[non_exhaustive]
pub struct ValidationError {
    field: Field,
    kind: ValidationErrorKind,
    #[source]
    source: Option<serde_json::Error>,
}

impl ValidationError {
    fn new(field: Field, kind: ValidationErrorKind) -> Self {
        Self {
            field,
            kind,
            source: None,
        }
    }

    /// The field the error is about.
    #[must_use]
    pub fn field(&self) -> &Field {
        &self.field
    }

    /// What is wrong with it.
    #[must_use]
    pub fn kind(&self) -> &ValidationErrorKind {
        &self.kind
    }

    /// The stable error type reported across Lambda boundaries.
    #[must_use]
    pub fn error_type(&self) -> crate::ErrorType {
        crate::ErrorType::Validation
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
