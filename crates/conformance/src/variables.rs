//! Placeholder bindings shared by every phase of one requirement: `Variables` (`${GEN_STR:N}`
//! generators or literals), `Input` substitution, history matching (`${ID1}` bound on first
//! sight) and callback payloads. Follows the suite's own context: only bound names are
//! substituted, unknown `${...}` stay as they are, and a value is inserted as Python's `str()`
//! of it.

use std::collections::HashMap;

use rand::Rng as _;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::pyvalue::{py_eq, py_str, yaml_to_json};

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Name → value bindings.
#[derive(Debug, Clone, Default)]
pub struct Context {
    bindings: HashMap<String, Json>,
}

impl Context {
    /// Binds the requirement's `Variables` (in file order): `${GEN_STR:N}` becomes N random
    /// characters of `[a-z0-9]`, any other string is bound as written, other scalars as their
    /// `str()`.
    pub fn resolve_variables(&mut self, variables: &[(String, Yaml)]) {
        for (name, value) in variables {
            let bound = match value {
                Yaml::String(s) => match gen_str_len(s) {
                    Some(n) => random_string(n),
                    None => s.clone(),
                },
                other => py_str(&yaml_to_json(other)),
            };
            self.bindings.insert(name.clone(), Json::String(bound));
        }
    }

    /// The value bound to `name`.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.bindings.get(name)
    }

    /// Binds `name` on first sight; a later different value is an error message.
    pub fn bind_or_check(&mut self, name: &str, actual: &Json) -> Result<(), String> {
        match self.bindings.get(name) {
            Some(bound) if py_eq(bound, actual) => Ok(()),
            Some(bound) => Err(format!(
                "placeholder ${{{name}}} was previously bound to {}, but got {}",
                crate::pyvalue::py_repr(bound),
                crate::pyvalue::py_repr(actual)
            )),
            None => {
                self.bindings.insert(name.to_owned(), actual.clone());
                Ok(())
            }
        }
    }

    /// Replaces every bound `${NAME}` (NAME: `[A-Za-z_][A-Za-z0-9_]*`) in `text`.
    pub fn substitute_str(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) if is_ref_name(&after[..end]) => {
                    match self.bindings.get(&after[..end]) {
                        Some(v) => out.push_str(&py_str(v)),
                        None => out.push_str(&rest[start..start + 2 + end + 1]),
                    }
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Substitutes inside strings, recursively through lists and mapping values (never keys).
    pub fn substitute(&self, value: &Yaml) -> Yaml {
        if self.bindings.is_empty() {
            return value.clone();
        }
        match value {
            Yaml::String(s) => Yaml::String(self.substitute_str(s)),
            Yaml::Sequence(items) => {
                Yaml::Sequence(items.iter().map(|v| self.substitute(v)).collect())
            }
            Yaml::Mapping(m) => Yaml::Mapping(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v)))
                    .collect(),
            ),
            Yaml::Tagged(t) => self.substitute(&t.value),
            other => other.clone(),
        }
    }
}

fn is_ref_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `N` of a whole-string `${GEN_STR:N}`.
fn gen_str_len(s: &str) -> Option<usize> {
    let digits = s.strip_prefix("${GEN_STR:")?.strip_suffix('}')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn random_string(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Yaml {
        serde_norway::from_str(s).unwrap()
    }

    #[test]
    fn gen_str_makes_fresh_lowercase_alphanumerics_and_literals_stay() {
        let mut c = Context::default();
        c.resolve_variables(&[
            ("A".into(), yaml("${GEN_STR:10}")),
            ("B".into(), yaml("${GEN_STR:10}")),
            ("L".into(), yaml("literal ${A}")),
            ("N".into(), yaml("5")),
        ]);
        let a = c.get("A").unwrap().as_str().unwrap().to_owned();
        assert_eq!(a.len(), 10);
        assert!(a.bytes().all(|b| ALPHANUMERIC.contains(&b)));
        assert_ne!(c.get("B").unwrap().as_str().unwrap(), a);
        assert_eq!(c.get("L").unwrap(), "literal ${A}");
        assert_eq!(c.get("N").unwrap(), "5");
    }

    #[test]
    fn only_bound_names_are_substituted_and_keys_are_left_alone() {
        let mut c = Context::default();
        c.resolve_variables(&[("X".into(), yaml("abc"))]);
        c.bind_or_check("N", &serde_json::json!(3)).unwrap();
        assert_eq!(
            c.substitute_str("\"${X}\"-${N}-${Y}-${/re/}-$X"),
            "\"abc\"-3-${Y}-${/re/}-$X"
        );
        let v = c.substitute(&yaml("{'${X}': ['${X}', 1, {k: 'Hello ${X}!'}]}"));
        assert_eq!(v, yaml("{'${X}': ['abc', 1, {k: 'Hello abc!'}]}"));
    }

    #[test]
    fn a_placeholder_keeps_its_first_value() {
        let mut c = Context::default();
        c.bind_or_check("ID1", &serde_json::json!("a")).unwrap();
        c.bind_or_check("ID1", &serde_json::json!("a")).unwrap();
        let err = c.bind_or_check("ID1", &serde_json::json!("b")).unwrap_err();
        assert!(err.contains("previously bound to 'a'"), "{err}");
    }
}
