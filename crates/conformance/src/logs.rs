//! A requirement's `ExpectedLogs`, checked against the output its function's processes wrote,
//! by the suite's own rules (its CloudWatch validator):
//! - a line that is a JSON object exposes its top-level keys as fields; any other line exposes
//!   only `message`, the line itself (trimmed);
//! - an entry's `match` maps fields to values, all of which must match (ANDed); a string value
//!   `/…/` is a regex search, any other string compares exactly (both sides trimmed), numbers
//!   compare as numbers, booleans as booleans;
//! - `count` requires exactly that many matching lines; otherwise `min_count` / `max_count`,
//!   and with none of the three at least one line must match.
//!
//! Variables are substituted into an entry before it is read (as the suite does). The suite's
//! `before` / `after` ordering anchors are not implemented: an entry with one is reported as an
//! error rather than passed unchecked.

use serde_json::{Map, Value as Json};
use serde_norway::Value as Yaml;

use crate::pyvalue::{py_repr, py_str, yaml_to_json};
use crate::variables::Context;

/// One parsed output line: its fields.
pub type Record = Map<String, Json>;

/// The fields of one output line.
pub fn parse_record(line: &str) -> Record {
    let trimmed = line.trim();
    if trimmed.starts_with('{') {
        if let Ok(Json::Object(m)) = serde_json::from_str(trimmed) {
            return m;
        }
    }
    let mut m = Map::new();
    m.insert("message".into(), Json::String(trimmed.to_owned()));
    m
}

/// Whether one field value matches the expected one.
fn value_matches(expected: &Json, actual: &Json) -> Result<bool, String> {
    match (expected, actual) {
        (Json::String(e), _) => {
            let actual = py_str(actual);
            let actual = actual.trim();
            if e.len() >= 2 && e.starts_with('/') && e.ends_with('/') {
                let source = e.get(1..e.len() - 1).unwrap_or_default();
                regex::Regex::new(source)
                    .map(|re| re.is_match(actual))
                    .map_err(|err| format!("invalid regex {source:?}: {err}"))
            } else {
                Ok(actual == e.trim())
            }
        }
        (Json::Bool(e), Json::Bool(a)) => Ok(e == a),
        (Json::Bool(_), _) | (_, Json::Bool(_)) => Ok(false),
        (Json::Number(e), Json::Number(a)) => Ok(e.as_f64() == a.as_f64()),
        (e, a) => Ok(py_str(e) == py_str(a)),
    }
}

fn record_matches(matcher: &Map<String, Json>, record: &Record) -> Result<bool, String> {
    for (field, expected) in matcher {
        match record.get(field) {
            Some(actual) if value_matches(expected, actual)? => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

fn count_field(entry: &Map<String, Json>, key: &str) -> Result<Option<u64>, String> {
    match entry.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{key} is not a non-negative integer: {v}")),
    }
}

/// Checks `expected` (the YAML `ExpectedLogs` list) against `lines`; returns every failure
/// (empty: all entries hold).
pub fn check(expected: &Yaml, lines: &[String], ctx: &Context) -> Vec<String> {
    let Json::Array(entries) = yaml_to_json(&ctx.substitute(expected)) else {
        return vec!["ExpectedLogs is not a list".into()];
    };
    let records: Vec<Record> = lines.iter().map(|l| parse_record(l)).collect();
    let mut errors = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if let Err(e) = check_entry(entry, &records) {
            errors.push(format!("ExpectedLogs[{i}]{e}"));
        }
    }
    errors
}

fn check_entry(entry: &Json, records: &[Record]) -> Result<(), String> {
    let Some(entry) = entry.as_object() else {
        return Err(": invalid entry — not a mapping".into());
    };
    let matcher = match entry.get("match") {
        Some(Json::Object(m)) if !m.is_empty() => m,
        _ => {
            return Err(": invalid entry — 'match' must be a non-empty field->value mapping".into())
        }
    };
    let label = matcher
        .iter()
        .map(|(k, v)| format!("{k}={}", py_repr(v)))
        .collect::<Vec<_>>()
        .join(", ");
    let label = format!(" match({label})");
    for anchor in ["before", "after"] {
        if entry.contains_key(anchor) {
            return Err(format!(
                "{label}: '{anchor}' anchors are not supported by this harness"
            ));
        }
    }
    let mut got = 0u64;
    for record in records {
        if record_matches(matcher, record).map_err(|e| format!("{label}: {e}"))? {
            got += 1;
        }
    }
    let count = count_field(entry, "count").map_err(|e| format!("{label}: {e}"))?;
    let min = count_field(entry, "min_count").map_err(|e| format!("{label}: {e}"))?;
    let max = count_field(entry, "max_count").map_err(|e| format!("{label}: {e}"))?;
    if let Some(count) = count {
        if got != count {
            return Err(format!(
                "{label}: expected exactly {count} match(es), got {got}"
            ));
        }
        return Ok(());
    }
    let min = if max.is_none() { min.or(Some(1)) } else { min };
    if let Some(min) = min.filter(|m| got < *m) {
        return Err(format!(
            "{label}: expected at least {min} match(es), got {got}"
        ));
    }
    if let Some(max) = max.filter(|m| got > *m) {
        return Err(format!(
            "{label}: expected at most {max} match(es), got {got}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Yaml {
        serde_norway::from_str(text).unwrap()
    }

    fn lines(ls: &[&str]) -> Vec<String> {
        ls.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn json_lines_expose_top_level_fields_and_text_lines_a_message() {
        let r = parse_record(r#"  {"level":"INFO","message":"hi","fields":{"message":"x"}} "#);
        assert_eq!(r["message"], "hi");
        assert_eq!(r["level"], "INFO");
        let r = parse_record("  plain text ");
        assert_eq!(r.len(), 1);
        assert_eq!(r["message"], "plain text");
        assert_eq!(parse_record("{not json")["message"], "{not json");
    }

    #[test]
    fn counts_use_the_substituted_regex_and_must_be_exact() {
        let mut ctx = Context::default();
        ctx.resolve_variables(&[("INPUT_1".into(), yaml("abc123"))]);
        let expected = yaml("- match: {message: '/${INPUT_1}/'}\n  count: 2\n");
        let out = lines(&[
            r#"{"message":"saw abc123"}"#,
            "abc123 as text",
            r#"{"message":"other"}"#,
            r#"{"fields":{"message":"abc123"}}"#,
        ]);
        assert_eq!(check(&expected, &out, &ctx), Vec::<String>::new());
        let one = yaml("- match: {message: '/${INPUT_1}/'}\n  count: 1\n");
        assert_eq!(
            check(&one, &out, &ctx),
            ["ExpectedLogs[0] match(message='/abc123/'): expected exactly 1 match(es), got 2"]
        );
    }

    #[test]
    fn exact_values_fields_anded_and_default_at_least_one() {
        let ctx = Context::default();
        let out = lines(&[r#"{"message":" done ","level":"INFO","n":2}"#]);
        let ok = yaml("- match: {message: done, level: INFO, n: 2.0}\n");
        assert!(check(&ok, &out, &ctx).is_empty());
        let wrong_level = yaml("- match: {message: done, level: ERROR}\n");
        assert_eq!(
            check(&wrong_level, &out, &ctx),
            ["ExpectedLogs[0] match(level='ERROR', message='done'): expected at least 1 match(es), got 0"]
        );
        let too_many = yaml("- match: {message: '/d/'}\n  max_count: 0\n");
        assert_eq!(check(&too_many, &out, &ctx).len(), 1);
    }

    #[test]
    fn malformed_entries_and_anchors_are_errors() {
        let ctx = Context::default();
        let out = lines(&["x"]);
        assert_eq!(
            check(&yaml("{a: 1}"), &out, &ctx),
            ["ExpectedLogs is not a list"]
        );
        assert_eq!(check(&yaml("- count: 1"), &out, &ctx).len(), 1);
        assert_eq!(
            check(&yaml("- match: {message: '/(/'}"), &out, &ctx).len(),
            1
        );
        let anchored = yaml("- match: {message: x}\n  after: {message: y}\n");
        let errors = check(&anchored, &out, &ctx);
        assert!(
            errors[0].contains("'after' anchors are not supported"),
            "{errors:?}"
        );
    }
}
