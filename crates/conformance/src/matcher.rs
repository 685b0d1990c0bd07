//! The suite's matching rules, for expected history events (YAML, walked in file order) against
//! the actual events (the JSON of `GetDurableExecutionHistory`):
//! - events are paired by `EventId`; actual events the file does not list are ignored;
//! - `{}` in the file: anything (the field must still exist in its parent);
//! - `'*'`: anything;
//! - `${NAME}` (a whole string): binds NAME on first sight, later sights must be equal;
//! - `${/regex/}`: the actual value's `str()` must contain a match;
//! - mappings: every expected key must exist and match (extra actual keys are ignored);
//! - lists: same length, element by element;
//! - anything else: Python equality, after substituting bound `${NAME}`s inside strings.
//!
//! And the result rule: the status must equal `ExecutionStatus`; for a SUCCEEDED execution with
//! an expected `Result`, the actual result after one `json.loads` (the raw text if it is not
//! JSON) must equal the expected value after substitution.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::pyvalue::{py_eq, py_repr, py_str, yaml_to_json};
use crate::variables::Context;

/// The name of a whole-string `${NAME}` (not a `${/regex/}`).
fn placeholder(v: &Yaml) -> Option<&str> {
    let s = v.as_str()?;
    if regex_source(v).is_some() {
        return None;
    }
    let name = s.strip_prefix("${")?.strip_suffix('}')?;
    (!name.is_empty()).then_some(name)
}

/// The pattern of a whole-string `${/pattern/}`.
pub fn regex_source(v: &Yaml) -> Option<&str> {
    let s = v.as_str()?;
    let p = s.strip_prefix("${/")?.strip_suffix("/}")?;
    (!p.is_empty()).then_some(p)
}

/// Matches expected events against actual ones; returns every mismatch (empty: a match).
pub fn match_history(expected: &[Yaml], actual: &[Json], ctx: &mut Context) -> Vec<String> {
    let mut errors = Vec::new();
    for e in expected {
        let Some(id) = e.get("EventId").and_then(Yaml::as_i64) else {
            errors.push(format!(
                "Expected event missing EventId: {}",
                py_repr(&yaml_to_json(e))
            ));
            continue;
        };
        // The last actual event with this id wins, as in a Python dict built from the list.
        let Some(a) = actual
            .iter()
            .rev()
            .find(|a| a.get("EventId").and_then(Json::as_i64) == Some(id))
        else {
            errors.push(format!("No actual event found for EventId={id}"));
            continue;
        };
        match_value(e, a, &format!("Event[EventId={id}]"), ctx, &mut errors);
    }
    errors
}

fn match_value(
    expected: &Yaml,
    actual: &Json,
    path: &str,
    ctx: &mut Context,
    errors: &mut Vec<String>,
) {
    if let Yaml::Tagged(t) = expected {
        return match_value(&t.value, actual, path, ctx, errors);
    }
    if expected
        .as_mapping()
        .is_some_and(serde_norway::Mapping::is_empty)
    {
        return;
    }
    if expected.as_str() == Some("*") {
        return;
    }
    if let Some(name) = placeholder(expected) {
        if let Err(e) = ctx.bind_or_check(name, actual) {
            errors.push(format!("{path}: {e}"));
        }
        return;
    }
    if let Some(source) = regex_source(expected) {
        match regex::Regex::new(source) {
            Ok(re) if re.is_match(&py_str(actual)) => {}
            Ok(_) => errors.push(format!(
                "{path}: value {} does not match regex pattern {}",
                py_repr(actual),
                py_repr(&Json::String(source.to_owned()))
            )),
            Err(e) => errors.push(format!("{path}: invalid regex {source:?}: {e}")),
        }
        return;
    }
    match (expected, actual) {
        (Yaml::Mapping(m), Json::Object(a)) => {
            for (k, v) in m {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => py_str(&yaml_to_json(other)),
                };
                match a.get(&key) {
                    Some(av) => match_value(v, av, &format!("{path}.{key}"), ctx, errors),
                    None => errors.push(format!("{path}.{key}: key missing in actual event")),
                }
            }
        }
        (Yaml::Sequence(items), Json::Array(a)) => {
            if items.len() != a.len() {
                errors.push(format!(
                    "{path}: list length mismatch (expected {}, got {})",
                    items.len(),
                    a.len()
                ));
                return;
            }
            for (i, (e, av)) in items.iter().zip(a).enumerate() {
                match_value(e, av, &format!("{path}[{i}]"), ctx, errors);
            }
        }
        _ => {
            let resolved = match expected {
                Yaml::String(s) => Json::String(ctx.substitute_str(s)),
                other => yaml_to_json(other),
            };
            if !py_eq(&resolved, actual) {
                errors.push(format!(
                    "{path}: expected {}, got {}",
                    py_repr(&resolved),
                    py_repr(actual)
                ));
            }
        }
    }
}

/// What `GetDurableExecution` said.
#[derive(Debug, Clone)]
pub struct ActualResult {
    /// `Status`.
    pub status: String,
    /// `Result` (JSON text, as stored).
    pub result: Option<String>,
}

/// Checks `ExpectedResult` (a mapping with `ExecutionStatus` and maybe `Result`).
pub fn match_result(expected: &Yaml, actual: &ActualResult, ctx: &Context) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(status) = expected.get("ExecutionStatus").and_then(Yaml::as_str) {
        if !status.is_empty() && actual.status != status {
            errors.push(format!(
                "Expected ExecutionStatus={}, got {}",
                py_repr(&Json::String(status.to_owned())),
                py_repr(&Json::String(actual.status.clone()))
            ));
            return errors;
        }
    }
    if actual.status != "SUCCEEDED" {
        return errors;
    }
    let Some(want) = expected.get("Result") else {
        return errors;
    };
    let got = match &actual.result {
        None => Json::Null,
        Some(raw) => serde_json::from_str(raw).unwrap_or_else(|_| Json::String(raw.clone())),
    };
    let want = yaml_to_json(&ctx.substitute(want));
    if !py_eq(&got, &want) {
        errors.push(format!(
            "Expected Result={}, got {}",
            py_repr(&want),
            py_repr(&got)
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(s: &str) -> Yaml {
        serde_norway::from_str(s).unwrap()
    }

    fn events(s: &str) -> Vec<Yaml> {
        serde_norway::from_str(s).unwrap()
    }

    const EXPECTED: &str = r#"
- EventType: StepStarted
  EventId: 2
  Id: ${ID1}
  EventTimestamp: '*'
  StepStartedDetails: {}
- EventType: StepSucceeded
  EventId: 3
  Id: ${ID1}
  StepSucceededDetails:
    Result:
      Payload: '"Hello, ${NAME}!"'
"#;

    fn actual(second_id: &str, payload: &str) -> Vec<Json> {
        vec![
            json!({"EventType": "ExecutionStarted", "EventId": 1, "Id": "x"}),
            json!({"EventType": "StepStarted", "EventId": 2, "Id": "a1",
                   "EventTimestamp": "2026-01-01T00:00:00Z", "StepStartedDetails": {"x": 1}}),
            json!({"EventType": "StepSucceeded", "EventId": 3, "Id": second_id,
                   "StepSucceededDetails": {"Result": {"Payload": payload, "Truncated": false}}}),
            json!({"EventType": "InvocationCompleted", "EventId": 4}),
        ]
    }

    fn ctx_with_name() -> Context {
        let mut c = Context::default();
        c.resolve_variables(&[("NAME".into(), yaml("World"))]);
        c
    }

    #[test]
    fn a_matching_history_binds_placeholders_and_ignores_extra_events_and_keys() {
        let mut c = ctx_with_name();
        let errs = match_history(
            &events(EXPECTED),
            &actual("a1", "\"Hello, World!\""),
            &mut c,
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(c.get("ID1").unwrap(), "a1");
    }

    #[test]
    fn an_inconsistent_placeholder_a_wrong_literal_and_a_missing_event_fail() {
        let mut c = ctx_with_name();
        let errs = match_history(
            &events(EXPECTED),
            &actual("b2", "\"Hello, Earth!\""),
            &mut c,
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("previously bound to 'a1'"), "{errs:?}");
        assert!(
            errs[1].contains("Payload: expected '\"Hello, World!\"'"),
            "{errs:?}"
        );
        let mut c = Context::default();
        let errs = match_history(
            &events("- EventId: 9\n  EventType: X"),
            &actual("a1", ""),
            &mut c,
        );
        assert_eq!(errs, vec!["No actual event found for EventId=9".to_owned()]);
    }

    #[test]
    fn empty_mapping_needs_the_key_and_lists_need_the_same_length() {
        let mut c = Context::default();
        let errs = match_history(
            &events("- EventId: 4\n  InvocationCompletedDetails: {}\n  L: [1, '*']"),
            &[json!({"EventId": 4, "L": [1, 2, 3]})],
            &mut c,
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].ends_with("InvocationCompletedDetails: key missing in actual event"));
        assert!(errs[1].contains("list length mismatch (expected 2, got 3)"));
    }

    #[test]
    fn regexes_search_the_str_of_the_value() {
        let mut c = Context::default();
        let exp = events("- EventId: 3\n  D: ${/^[0-5]$/}\n  E: ${/TransientError$/}");
        let ok = [json!({"EventId": 3, "D": 4, "E": "my.TransientError"})];
        assert!(match_history(&exp, &ok, &mut c).is_empty());
        let bad = [json!({"EventId": 3, "D": 7, "E": "TransientError!"})];
        assert_eq!(match_history(&exp, &bad, &mut c).len(), 2);
    }

    #[test]
    fn numbers_compare_as_python_and_types_must_agree_otherwise() {
        let mut c = Context::default();
        let exp = events("- EventId: 2\n  Duration: 60\n  Name: '5'");
        assert!(match_history(
            &exp,
            &[json!({"EventId": 2, "Duration": 60.0, "Name": "5"})],
            &mut c
        )
        .is_empty());
        assert_eq!(
            match_history(
                &exp,
                &[json!({"EventId": 2, "Duration": "60", "Name": 5})],
                &mut c
            )
            .len(),
            2
        );
    }

    #[test]
    fn result_is_compared_after_one_json_decode() {
        let c = ctx_with_name();
        let exp = yaml("{ExecutionStatus: SUCCEEDED, Result: 'Hello, ${NAME}!'}");
        let ok = ActualResult {
            status: "SUCCEEDED".into(),
            result: Some("\"Hello, World!\"".into()),
        };
        assert!(match_result(&exp, &ok, &c).is_empty());
        let twice = ActualResult {
            status: "SUCCEEDED".into(),
            result: Some("\"\\\"Hello, World!\\\"\"".into()),
        };
        assert_eq!(match_result(&exp, &twice, &c).len(), 1);
        let obj = yaml("{ExecutionStatus: SUCCEEDED, Result: {a: [1, 2]}}");
        let got = ActualResult {
            status: "SUCCEEDED".into(),
            result: Some(r#"{"a":[1,2]}"#.into()),
        };
        assert!(match_result(&obj, &got, &c).is_empty());
        let raw = yaml("{ExecutionStatus: SUCCEEDED, Result: not json}");
        let got = ActualResult {
            status: "SUCCEEDED".into(),
            result: Some("not json".into()),
        };
        assert!(match_result(&raw, &got, &c).is_empty());
    }

    #[test]
    fn a_failed_execution_is_checked_by_status_only() {
        let c = Context::default();
        let exp = yaml("{ExecutionStatus: FAILED, Result: x}");
        let failed = ActualResult {
            status: "FAILED".into(),
            result: None,
        };
        assert!(match_result(&exp, &failed, &c).is_empty());
        let wrong = ActualResult {
            status: "SUCCEEDED".into(),
            result: Some("\"x\"".into()),
        };
        assert_eq!(
            match_result(&exp, &wrong, &c),
            vec!["Expected ExecutionStatus='FAILED', got 'SUCCEEDED'".to_owned()]
        );
    }
}
