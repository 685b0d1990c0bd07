//! Table-driven tests of `validate`.

use super::*;
use serde_json::json;

fn nested_arrays(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

/// `(case, body, field named, kind)`.
fn rejected_cases() -> Vec<(&'static str, String, &'static str, ValidationErrorKind)> {
    use ValidationErrorKind as K;
    let ok_pt = r#""processing_type":"standard""#;
    let ok_ds = r#""data_source":"test.csv""#;
    vec![
        ("empty body", String::new(), "body", K::NotJson),
        (
            "not JSON",
            "data_source=test.csv".into(),
            "body",
            K::NotJson,
        ),
        (
            "truncated JSON",
            r#"{"data_source":"#.into(),
            "body",
            K::NotJson,
        ),
        (
            "trailing garbage",
            format!("{{{ok_ds},{ok_pt}}} x"),
            "body",
            K::NotJson,
        ),
        (
            "JSON array",
            format!("[{{{ok_ds},{ok_pt}}}]"),
            "body",
            K::NotAnObject,
        ),
        (
            "JSON string",
            r#""test.csv""#.into(),
            "body",
            K::NotAnObject,
        ),
        ("JSON number", "42".into(), "body", K::NotAnObject),
        ("JSON null", "null".into(), "body", K::NotAnObject),
        ("JSON bool", "true".into(), "body", K::NotAnObject),
        (
            "data_source missing",
            format!("{{{ok_pt}}}"),
            "data_source",
            K::Missing,
        ),
        (
            "data_source null",
            format!(r#"{{"data_source":null,{ok_pt}}}"#),
            "data_source",
            K::NotAString,
        ),
        (
            "data_source number",
            format!(r#"{{"data_source":1,{ok_pt}}}"#),
            "data_source",
            K::NotAString,
        ),
        (
            "data_source object",
            format!(r#"{{"data_source":{{}},{ok_pt}}}"#),
            "data_source",
            K::NotAString,
        ),
        (
            "data_source list",
            format!(r#"{{"data_source":["a"],{ok_pt}}}"#),
            "data_source",
            K::NotAString,
        ),
        (
            "data_source empty",
            format!(r#"{{"data_source":"",{ok_pt}}}"#),
            "data_source",
            K::Blank,
        ),
        (
            "data_source blank",
            format!(r#"{{"data_source":" \t ",{ok_pt}}}"#),
            "data_source",
            K::Blank,
        ),
        (
            "data_source unicode blank",
            format!(r#"{{"data_source":"\u3000\u00a0",{ok_pt}}}"#),
            "data_source",
            K::Blank,
        ),
        (
            "data_source 1025 chars",
            format!(r#"{{"data_source":"{}",{ok_pt}}}"#, "é".repeat(1025)),
            "data_source",
            K::TooLong { max_chars: 1024 },
        ),
        (
            "data_source newline",
            format!(r#"{{"data_source":"a\nb",{ok_pt}}}"#),
            "data_source",
            K::ControlCharacter,
        ),
        (
            "data_source NUL",
            format!(r#"{{"data_source":"a\u0000",{ok_pt}}}"#),
            "data_source",
            K::ControlCharacter,
        ),
        (
            "data_source DEL",
            format!(r#"{{"data_source":"a\u007f",{ok_pt}}}"#),
            "data_source",
            K::ControlCharacter,
        ),
        (
            "data_source C1 control",
            format!(r#"{{"data_source":"a\u0085",{ok_pt}}}"#),
            "data_source",
            K::ControlCharacter,
        ),
        (
            "processing_type missing",
            format!("{{{ok_ds}}}"),
            "processing_type",
            K::Missing,
        ),
        (
            "processing_type number",
            format!(r#"{{{ok_ds},"processing_type":7}}"#),
            "processing_type",
            K::NotAString,
        ),
        (
            "processing_type null",
            format!(r#"{{{ok_ds},"processing_type":null}}"#),
            "processing_type",
            K::NotAString,
        ),
        (
            "processing_type empty",
            format!(r#"{{{ok_ds},"processing_type":""}}"#),
            "processing_type",
            K::InvalidProcessingType,
        ),
        (
            "processing_type space",
            format!(r#"{{{ok_ds},"processing_type":"a b"}}"#),
            "processing_type",
            K::InvalidProcessingType,
        ),
        (
            "processing_type dot",
            format!(r#"{{{ok_ds},"processing_type":"a.b"}}"#),
            "processing_type",
            K::InvalidProcessingType,
        ),
        (
            "processing_type non-ASCII",
            format!(r#"{{{ok_ds},"processing_type":"straße"}}"#),
            "processing_type",
            K::InvalidProcessingType,
        ),
        (
            "processing_type 65 chars",
            format!(r#"{{{ok_ds},"processing_type":"{}"}}"#, "a".repeat(65)),
            "processing_type",
            K::InvalidProcessingType,
        ),
        (
            "body over 256 KiB",
            format!(
                r#"{{{ok_ds},{ok_pt},"pad":"{}"}}"#,
                "x".repeat(MAX_BODY_BYTES)
            ),
            "body",
            K::TooLarge {
                limit_bytes: MAX_BODY_BYTES,
            },
        ),
        (
            "extra field nested 16 levels below the body",
            format!(r#"{{{ok_ds},{ok_pt},"deep":{}}}"#, nested_arrays(16)),
            "deep",
            K::TooDeep {
                limit: MAX_NESTING_DEPTH,
            },
        ),
        (
            "extra field nested as objects",
            format!(
                r#"{{{ok_ds},{ok_pt},"obj":{}1{}}}"#,
                r#"{"a":"#.repeat(20),
                "}".repeat(20)
            ),
            "obj",
            K::TooDeep {
                limit: MAX_NESTING_DEPTH,
            },
        ),
        (
            "nesting beyond serde_json's recursion limit",
            format!(r#"{{{ok_ds},{ok_pt},"deep":{}}}"#, nested_arrays(200)),
            "body",
            K::TooDeep {
                limit: MAX_NESTING_DEPTH,
            },
        ),
        (
            "unbalanced nesting of 100,000 brackets",
            "[".repeat(100_000),
            "body",
            K::TooDeep {
                limit: MAX_NESTING_DEPTH,
            },
        ),
        (
            "number DynamoDB cannot store",
            format!(r#"{{{ok_ds},{ok_pt},"huge":1e200}}"#),
            "huge",
            K::NumberOutOfRange,
        ),
        (
            "tiny number DynamoDB cannot store",
            format!(r#"{{{ok_ds},{ok_pt},"list":[1, 1e-200]}}"#),
            "list",
            K::NumberOutOfRange,
        ),
        (
            "number beyond f64",
            format!(r#"{{{ok_ds},{ok_pt},"n":1e400}}"#),
            "body",
            K::NotJson,
        ),
    ]
}

#[test]
fn invalid_bodies_are_rejected_naming_the_field() {
    for (case, body, field, kind) in rejected_cases() {
        let err = match validate(&body) {
            Ok(m) => panic!("{case}: accepted as {m:?}"),
            Err(err) => err,
        };
        assert_eq!(err.field().as_str(), field, "{case}");
        assert_eq!(err.kind(), &kind, "{case}");
        let message = err.to_string();
        assert!(message.contains(&format!("`{field}`")), "{case}: {message}");
        assert!(message.len() < 300, "{case}: message too long: {message}");
        assert_eq!(err.error_type().as_str(), "ValidationError");
        assert!(!err.error_type().is_transient());
    }
}

#[test]
fn not_json_keeps_the_parser_error_as_source() {
    let err = validate("{").unwrap_err();
    assert!(std::error::Error::source(&err).is_some());
    let err = validate(r#"{"processing_type":"x"}"#).unwrap_err();
    assert!(std::error::Error::source(&err).is_none());
}

#[test]
fn valid_bodies_pass_and_keep_extra_fields() {
    let cases: Vec<(&str, String)> = vec![
        ("seed example", r#"{"data_source": "test.csv", "processing_type": "standard"}"#.into()),
        (
            "extra fields",
            r#"{"data_source":"s3://b/k.csv","processing_type":"batch_v2-x","owner":{"id":7},"tags":["a"],"n":null}"#.into(),
        ),
        ("data_source 1024 chars", format!(r#"{{"data_source":"{}","processing_type":"p"}}"#, "ß".repeat(1024))),
        ("processing_type 64 chars", format!(r#"{{"data_source":"d","processing_type":"{}"}}"#, "A".repeat(64))),
        ("processing_type 1 char", r#"{"data_source":"d","processing_type":"-"}"#.into()),
        ("inner spaces and tabs are not blank", r#"{"data_source":" a b ","processing_type":"p"}"#.into()),
        ("unicode data_source", r#"{"data_source":"日本語.csv","processing_type":"p"}"#.into()),
        (
            "nesting exactly at the limit",
            format!(r#"{{"data_source":"d","processing_type":"p","deep":{}}}"#, nested_arrays(15)),
        ),
        ("brackets inside strings do not count", format!(r#"{{"data_source":"{}","processing_type":"p"}}"#, "[{".repeat(300))),
        ("largest storable numbers", r#"{"data_source":"d","processing_type":"p","n":[1e125,-1e125,1e-129,0,0.0,-0.0]}"#.into()),
        ("leading whitespace", " \n{\"data_source\":\"d\",\"processing_type\":\"p\"}\n".into()),
    ];
    for (case, body) in cases {
        let message = validate(&body).unwrap_or_else(|e| panic!("{case}: {e}"));
        let original: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            Value::Object(message.original_data().clone()),
            original,
            "{case}"
        );
        assert_eq!(
            message.original_data()["data_source"],
            message.data_source(),
            "{case}"
        );
        assert_eq!(
            message.original_data()["processing_type"],
            message.processing_type(),
            "{case}"
        );
    }
}

#[test]
fn body_exactly_at_the_size_limit_is_accepted() {
    let prefix = r#"{"data_source":"d","processing_type":"p","pad":""#;
    let suffix = r#""}"#;
    let body = format!(
        "{prefix}{}{suffix}",
        "x".repeat(MAX_BODY_BYTES - prefix.len() - suffix.len())
    );
    assert_eq!(body.len(), MAX_BODY_BYTES);
    assert!(validate(&body).is_ok());
}

#[test]
fn deserializing_a_valid_message_validates_again() {
    let good = json!({"data_source": "d", "processing_type": "p", "x": 1});
    let message: ValidMessage = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(serde_json::to_value(&message).unwrap(), good);

    for bad in [
        json!({"data_source": " ", "processing_type": "p"}),
        json!({"processing_type": "p"}),
        json!({"data_source": "d", "processing_type": "no spaces"}),
        json!("not an object"),
    ] {
        assert!(
            serde_json::from_value::<ValidMessage>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn long_field_names_are_truncated_in_messages() {
    let key = "k".repeat(10_000);
    let body = format!(r#"{{"data_source":"d","processing_type":"p","{key}":1e300}}"#);
    let err = validate(&body).unwrap_err();
    assert_eq!(err.field().as_str(), key);
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn arbitrary_prefixes_of_a_body_never_panic() {
    let body = r#"{"data_source":"straße.csv","processing_type":"standard","x":[1,{"y":"[{\"}"}]}"#;
    for end in (0..=body.len()).filter(|&i| body.is_char_boundary(i)) {
        let _ = validate(&body[..end]);
    }
}
