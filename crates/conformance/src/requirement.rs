//! One requirement file (`test_requirements/<suite>/N-M.yaml`), parsed with the fields the
//! harness uses; other keys (the handler's description, ...) are kept only as far as the report
//! needs them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde_norway::Value as Yaml;

/// `success`, `failure` or `heartbeat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `SendDurableExecutionCallbackSuccess`.
    Success,
    /// `SendDurableExecutionCallbackFailure`.
    Failure,
    /// `SendDurableExecutionCallbackHeartbeat`.
    Heartbeat,
}

/// One entry of `CallbackActions`.
#[derive(Debug, Clone)]
pub struct CallbackAction {
    /// Matched against a `CallbackStarted` event's `Name`: `*`, `${/regex/}` or the name
    /// (after substitution).
    pub callback_name: String,
    /// What to send.
    pub operation: Operation,
    /// `Payload` (substituted when sent).
    pub payload: Yaml,
    /// `Delay` in seconds before sending (on the harness's clock).
    pub delay_seconds: f64,
}

/// A parsed requirement.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// `suite/N-M`.
    pub id: String,
    /// The suite folder.
    pub suite: String,
    /// The requirement file it was read from.
    pub path: PathBuf,
    /// `description`.
    pub description: String,
    /// `AsyncInvoke`.
    pub async_invoke: bool,
    /// `Variables`, in file order.
    pub variables: Vec<(String, Yaml)>,
    /// `Input` (null when absent).
    pub input: Yaml,
    /// `CallbackActions`.
    pub callback_actions: Vec<CallbackAction>,
    /// `ExpectedResult`.
    pub expected_result: Option<Yaml>,
    /// `ExpectedExecutionHistory`.
    pub expected_history: Vec<Yaml>,
    /// `ExpectedLogs` (checked by [`crate::logs`] against the function's output).
    pub expected_logs: Option<Yaml>,
}

impl Requirement {
    /// Parses `path`, whose id is `suite/stem`.
    ///
    /// # Errors
    /// Unreadable file, invalid YAML, or a malformed field (named).
    pub fn load(path: &Path, suite: &str) -> anyhow::Result<Self> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("bad file name {}", path.display()))?;
        let id = format!("{suite}/{stem}");
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Yaml =
            serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if !doc.is_mapping() {
            bail!("{id}: not a mapping");
        }
        let truthy = |k: &str| match doc.get(k) {
            None | Some(Yaml::Null) => false,
            Some(Yaml::Bool(b)) => *b,
            Some(Yaml::String(s)) => !s.is_empty(),
            Some(Yaml::Number(n)) => n.as_f64() != Some(0.0),
            Some(_) => true,
        };
        let variables = match doc.get("Variables") {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Mapping(m)) => m
                .iter()
                .map(|(k, v)| {
                    k.as_str()
                        .map(|k| (k.to_owned(), v.clone()))
                        .with_context(|| format!("{id}: Variables key {k:?} is not a string"))
                })
                .collect::<anyhow::Result<_>>()?,
            Some(other) => bail!("{id}: Variables is not a mapping: {other:?}"),
        };
        let callback_actions = match doc.get("CallbackActions") {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Sequence(items)) => items
                .iter()
                .map(|a| {
                    callback_action(a).with_context(|| format!("{id}: Invalid CallbackAction"))
                })
                .collect::<anyhow::Result<_>>()?,
            Some(other) => bail!("{id}: CallbackActions is not a list: {other:?}"),
        };
        let expected_history = match doc.get("ExpectedExecutionHistory") {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Sequence(items)) => items.clone(),
            Some(other) => bail!("{id}: ExpectedExecutionHistory is not a list: {other:?}"),
        };
        let expected_result = match doc.get("ExpectedResult") {
            None | Some(Yaml::Null) => None,
            Some(m @ Yaml::Mapping(_)) => Some(m.clone()),
            Some(other) => bail!("{id}: ExpectedResult is not a mapping: {other:?}"),
        };
        Ok(Self {
            id,
            suite: suite.to_owned(),
            path: path.to_owned(),
            description: doc
                .get("description")
                .and_then(Yaml::as_str)
                .unwrap_or_default()
                .to_owned(),
            async_invoke: truthy("AsyncInvoke"),
            variables,
            input: doc.get("Input").cloned().unwrap_or(Yaml::Null),
            callback_actions,
            expected_result,
            expected_history,
            expected_logs: doc.get("ExpectedLogs").filter(|v| !v.is_null()).cloned(),
        })
    }

    /// The function name the requirement's handler is registered under (`step_1-1`).
    pub fn function_name(&self) -> String {
        self.id.replace('/', "_")
    }
}

fn callback_action(a: &Yaml) -> anyhow::Result<CallbackAction> {
    let callback_name = match a.get("CallbackName") {
        Some(Yaml::String(s)) if !s.is_empty() => s.clone(),
        _ => bail!("CallbackAction requires a 'CallbackName' field"),
    };
    let operation = match a.get("Operation").and_then(Yaml::as_str) {
        None | Some("") => bail!("CallbackAction requires an 'Operation' field"),
        Some(op) => match op.to_ascii_lowercase().as_str() {
            "success" => Operation::Success,
            "failure" => Operation::Failure,
            "heartbeat" => Operation::Heartbeat,
            _ => bail!("Invalid operation '{op}'. Must be one of: failure, heartbeat, success"),
        },
    };
    let delay_seconds = match a.get("Delay") {
        None | Some(Yaml::Null) => 0.0,
        Some(Yaml::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Yaml::String(s)) => s
            .trim()
            .parse()
            .with_context(|| format!("Delay {s:?} is not a number"))?,
        Some(other) => bail!("Delay {other:?} is not a number"),
    };
    if !delay_seconds.is_finite() || delay_seconds < 0.0 {
        bail!("Delay {delay_seconds} is not a non-negative number of seconds");
    }
    Ok(CallbackAction {
        callback_name,
        operation,
        payload: a.get("Payload").cloned().unwrap_or(Yaml::Null),
        delay_seconds,
    })
}

/// Every requirement under `dir` (`<suite>/*.yaml`), ordered by suite, then N, then M.
///
/// # Errors
/// A missing or empty directory, or a file that does not parse.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Requirement>> {
    let suites = std::fs::read_dir(dir).with_context(|| {
        format!(
            "the conformance requirements are missing: {} (run scripts/conformance-data)",
            dir.display()
        )
    })?;
    let mut out = Vec::new();
    for suite in suites {
        let suite = suite?;
        if !suite.file_type()?.is_dir() {
            continue;
        }
        let name = suite.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(suite.path())? {
            let path = file?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
                out.push(Requirement::load(&path, &name)?);
            }
        }
    }
    if out.is_empty() {
        bail!("no requirement files under {}", dir.display());
    }
    out.sort_by_key(|r| sort_key(&r.id));
    Ok(out)
}

/// (suite, N, M) with N and M numeric.
pub fn sort_key(id: &str) -> (String, u32, u32) {
    let (suite, stem) = id.split_once('/').unwrap_or(("", id));
    let (n, m) = stem.split_once('-').unwrap_or((stem, "0"));
    (
        suite.to_owned(),
        n.parse().unwrap_or(u32::MAX),
        m.parse().unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requirement_file_is_read_with_its_actions_and_expectations() {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("callback");
        std::fs::create_dir(&suite).unwrap();
        std::fs::write(
            suite.join("4-10.yaml"),
            r#"---
description: d
AsyncInvoke: true
Variables:
  B: ${GEN_STR:4}
  A: x
Input: ${A}
CallbackActions:
  - CallbackName: ${A}
    Operation: Success
    Payload: {k: v}
    Delay: 1.5
ExpectedResult:
  ExecutionStatus: SUCCEEDED
ExpectedExecutionHistory:
  - EventId: 2
"#,
        )
        .unwrap();
        std::fs::write(
            suite.join("4-9.yaml"),
            "Input:\nExpectedExecutionHistory: []\n",
        )
        .unwrap();
        let all = load_dir(dir.path()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, "callback/4-9");
        assert!(!all[0].async_invoke && all[0].input.is_null());
        let r = &all[1];
        assert_eq!(r.function_name(), "callback_4-10");
        assert!(r.async_invoke);
        assert_eq!(r.variables[0].0, "B");
        assert_eq!(r.callback_actions[0].operation, Operation::Success);
        assert!((r.callback_actions[0].delay_seconds - 1.5).abs() < f64::EPSILON);
        assert_eq!(r.expected_history.len(), 1);
    }

    #[test]
    fn bad_actions_and_a_missing_directory_are_errors() {
        assert!(callback_action(
            &serde_norway::from_str("{CallbackName: a, Operation: poke}").unwrap()
        )
        .is_err());
        assert!(callback_action(&serde_norway::from_str("{Operation: success}").unwrap()).is_err());
        let err = load_dir(Path::new("/nonexistent/conformance")).unwrap_err();
        assert!(
            format!("{err:#}").contains("scripts/conformance-data"),
            "{err:#}"
        );
    }
}
