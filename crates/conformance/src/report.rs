//! The lists kept in the repository and the summary of a run.
//!
//! - `expected-pass.txt`: one requirement id per line (`#` starts a comment); a run fails when
//!   one of them does not pass.
//! - `not-applicable.txt`: `id: reason` per line (`suite/*` for a whole suite); those are not
//!   run and are counted apart.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};

use crate::requirement::sort_key;

/// How one requirement ended in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Passed.
    Passed,
    /// Failed (no handler yet counts as failed).
    Failed,
    /// Not applicable (the reason).
    NotApplicable(String),
}

/// Reads `expected-pass.txt`.
///
/// # Errors
/// The file cannot be read, or a line is not an id (`suite/N-M`).
pub fn read_expected(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut ids = Vec::new();
    for (n, line) in lines(&text) {
        if !is_id(line) {
            bail!("{}:{n}: not a requirement id: {line:?}", path.display());
        }
        ids.push(line.to_owned());
    }
    Ok(ids)
}

/// Reads `not-applicable.txt`: pattern (`suite/N-M` or `suite/*`) → reason.
///
/// # Errors
/// The file cannot be read, or a line is not `id: reason` with a reason.
pub fn read_not_applicable(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in lines(&text) {
        let Some((id, reason)) = line.split_once(':') else {
            bail!(
                "{}:{n}: expected `id: reason`, got {line:?}",
                path.display()
            );
        };
        let (id, reason) = (id.trim(), reason.trim());
        let whole_suite = id
            .strip_suffix("/*")
            .is_some_and(|s| !s.is_empty() && !s.contains('/'));
        if !(is_id(id) || whole_suite) || reason.is_empty() {
            bail!(
                "{}:{n}: expected `id: reason`, got {line:?}",
                path.display()
            );
        }
        out.push((id.to_owned(), reason.to_owned()));
    }
    Ok(out)
}

/// The reason `id` is not applicable, if it is.
pub fn not_applicable<'a>(list: &'a [(String, String)], id: &str) -> Option<&'a str> {
    let suite = id.split_once('/').map_or(id, |(s, _)| s);
    list.iter()
        .find(|(p, _)| p == id || p.strip_suffix("/*") == Some(suite))
        .map(|(_, r)| r.as_str())
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or_default().trim()))
        .filter(|(_, l)| !l.is_empty())
}

fn is_id(s: &str) -> bool {
    let Some((suite, stem)) = s.split_once('/') else {
        return false;
    };
    let Some((n, m)) = stem.split_once('-') else {
        return false;
    };
    !suite.is_empty()
        && suite.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        && !n.is_empty()
        && !m.is_empty()
        && n.chars().chain(m.chars()).all(|c| c.is_ascii_digit())
}

/// Counts by suite: (passed, failed, not applicable).
pub fn by_suite(results: &[(String, Status)]) -> BTreeMap<String, (usize, usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (id, status) in results {
        let suite = id.split_once('/').map_or(id.as_str(), |(s, _)| s);
        let e = out.entry(suite.to_owned()).or_default();
        match status {
            Status::Passed => e.0 += 1,
            Status::Failed => e.1 += 1,
            Status::NotApplicable(_) => e.2 += 1,
        }
    }
    out
}

/// The last line of a run.
pub fn summary_line(results: &[(String, Status)]) -> String {
    let (p, f, n) = by_suite(results)
        .values()
        .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    format!(
        "conformance: {p} passed, {f} failed, {n} not applicable (of {})",
        results.len()
    )
}

/// Expected-to-pass ids that did not pass (or do not exist in the data), in id order.
pub fn regressions(expected: &[String], results: &[(String, Status)]) -> Vec<String> {
    let mut out: Vec<String> = expected
        .iter()
        .filter(|id| {
            !results
                .iter()
                .any(|(r, s)| r == *id && *s == Status::Passed)
        })
        .cloned()
        .collect();
    out.sort_by_key(|id| sort_key(id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_with_comments_and_reject_junk() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.txt");
        std::fs::write(&p, "# header\nstep/1-1\n\nmap/6-12  # note\n").unwrap();
        assert_eq!(read_expected(&p).unwrap(), vec!["step/1-1", "map/6-12"]);
        std::fs::write(&p, "step/1\n").unwrap();
        assert!(read_expected(&p).is_err());
        std::fs::write(&p, "plugin/*: SDK 0.1.0 has no plugins\nstep/1-7: logs\n").unwrap();
        let na = read_not_applicable(&p).unwrap();
        assert_eq!(
            not_applicable(&na, "plugin/10-3"),
            Some("SDK 0.1.0 has no plugins")
        );
        assert_eq!(not_applicable(&na, "step/1-7"), Some("logs"));
        assert_eq!(not_applicable(&na, "step/1-8"), None);
        std::fs::write(&p, "step/1-7:\n").unwrap();
        assert!(read_not_applicable(&p).is_err());
    }

    #[test]
    fn the_summary_counts_and_regressions_name_what_broke() {
        let results = vec![
            ("step/1-1".to_owned(), Status::Passed),
            ("step/1-2".to_owned(), Status::Failed),
            ("plugin/10-1".to_owned(), Status::NotApplicable("x".into())),
        ];
        assert_eq!(
            summary_line(&results),
            "conformance: 1 passed, 1 failed, 1 not applicable (of 3)"
        );
        let expected = vec![
            "step/1-2".to_owned(),
            "step/1-1".to_owned(),
            "wait/2-1".to_owned(),
        ];
        assert_eq!(
            regressions(&expected, &results),
            vec!["step/1-2", "wait/2-1"]
        );
        assert_eq!(by_suite(&results)["step"], (1, 1, 0));
    }
}
