//! Update expressions (`SET`, `REMOVE`, `ADD`, `DELETE`): a parser and their application to an
//! item. `SET` values may be `a + b`, `a - b`, `if_not_exists(path, v)` and
//! `list_append(a, b)`.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::errors::DdbError;
use super::expr::{Operand, Parser, Placeholders, Token};
use super::path::{self, Path};
use super::value::{self, Item};

#[derive(Debug, Clone, PartialEq)]
enum ValueExpr {
    Operand(Operand),
    IfNotExists(Path, Box<ValueExpr>),
    ListAppend(Box<ValueExpr>, Box<ValueExpr>),
    Plus(Box<ValueExpr>, Box<ValueExpr>),
    Minus(Box<ValueExpr>, Box<ValueExpr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Action {
    Set(Path, ValueExpr),
    Remove(Path),
    Add(Path, Value),
    Delete(Path, Value),
}

/// A parsed update expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    actions: Vec<Action>,
}

const LABEL: &str = "UpdateExpression";

impl Update {
    /// Parses `expression`, resolving placeholders.
    ///
    /// # Errors
    /// `ValidationException` for a syntax error, a repeated section, overlapping paths or an
    /// undefined placeholder.
    pub fn parse(expression: &str, placeholders: &mut Placeholders) -> Result<Self, DdbError> {
        let mut p = Parser::new(expression, placeholders, LABEL)?;
        let mut actions = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        while p.peek().is_some() {
            let section = ["SET", "REMOVE", "ADD", "DELETE"]
                .into_iter()
                .find(|s| p.keyword(s))
                .ok_or_else(|| p.error())?;
            if seen.contains(&section) {
                return Err(p.invalid(&format!(
                    "The \"{section}\" section can only be used once in an update expression;"
                )));
            }
            seen.push(section);
            loop {
                let path = p.path()?;
                let action = match section {
                    "SET" => {
                        p.expect(&Token::Op("=".into()))?;
                        Action::Set(path, value_expr(&mut p)?)
                    }
                    "REMOVE" => Action::Remove(path),
                    _ => {
                        let value = match p.operand()? {
                            Operand::Value(v) => v,
                            _ => return Err(p.error()),
                        };
                        if section == "ADD" {
                            Action::Add(path, value)
                        } else {
                            Action::Delete(path, value)
                        }
                    }
                };
                actions.push(action);
                if !p.eat(&Token::Comma) {
                    break;
                }
            }
        }
        let paths: Vec<&Path> = actions.iter().map(action_path).collect();
        for (i, a) in paths.iter().enumerate() {
            for b in paths.iter().skip(i + 1) {
                if a.overlaps(b) {
                    return Err(DdbError::validation(format!(
                        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        a.describe(),
                        b.describe()
                    )));
                }
            }
        }
        Ok(Self { actions })
    }

    /// The paths the update writes or removes.
    pub fn paths(&self) -> Vec<Path> {
        self.actions.iter().map(action_path).cloned().collect()
    }

    /// Applies the update to `item` (all values are read from the item as it was before).
    ///
    /// # Errors
    /// `ValidationException` for an operand of the wrong type or an invalid path.
    pub fn apply(&self, item: &mut Item) -> Result<(), DdbError> {
        let before = item.clone();
        for action in &self.actions {
            match action {
                Action::Set(path, expr) => {
                    let value = evaluate(expr, &before)?;
                    path::set(item, path, value)?;
                }
                Action::Remove(path) => path::remove(item, path)?,
                Action::Add(path, value) => {
                    let current = path::resolve(&before, path).cloned();
                    let new = add(current.as_ref(), value)?;
                    path::set(item, path, new)?;
                }
                Action::Delete(path, value) => {
                    let Some(current) = path::resolve(&before, path).cloned() else {
                        continue;
                    };
                    match set_difference(&current, value)? {
                        Some(rest) => path::set(item, path, rest)?,
                        None => path::remove(item, path)?,
                    }
                }
            }
        }
        Ok(())
    }
}

fn action_path(a: &Action) -> &Path {
    match a {
        Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => p,
    }
}

fn value_expr(p: &mut Parser<'_>) -> Result<ValueExpr, DdbError> {
    let left = value_term(p)?;
    if p.eat(&Token::Plus) {
        return Ok(ValueExpr::Plus(Box::new(left), Box::new(value_term(p)?)));
    }
    if p.eat(&Token::Minus) {
        return Ok(ValueExpr::Minus(Box::new(left), Box::new(value_term(p)?)));
    }
    Ok(left)
}

fn value_term(p: &mut Parser<'_>) -> Result<ValueExpr, DdbError> {
    for function in ["if_not_exists", "list_append"] {
        if p.at_keyword(function) {
            p.keyword(function);
            p.expect(&Token::Open)?;
            p.nest()?;
            let first = value_term(p)?;
            p.expect(&Token::Comma)?;
            let second = value_term(p)?;
            p.expect(&Token::Close)?;
            p.unnest();
            return if function == "if_not_exists" {
                match first {
                    ValueExpr::Operand(Operand::Path(path)) => {
                        Ok(ValueExpr::IfNotExists(path, Box::new(second)))
                    }
                    _ => Err(p.invalid(
                        "Operator or function requires a document path; operator or function: if_not_exists",
                    )),
                }
            } else {
                Ok(ValueExpr::ListAppend(Box::new(first), Box::new(second)))
            };
        }
    }
    match p.operand()? {
        Operand::Size(_) => {
            Err(p.invalid("The function is not allowed in an update expression; function: size"))
        }
        operand => Ok(ValueExpr::Operand(operand)),
    }
}

fn evaluate(expr: &ValueExpr, item: &Item) -> Result<Value, DdbError> {
    match expr {
        ValueExpr::Operand(Operand::Value(v)) => Ok(v.clone()),
        ValueExpr::Operand(Operand::Path(p)) => path::resolve(item, p).cloned().ok_or_else(|| {
            DdbError::validation(
                "The provided expression refers to an attribute that does not exist in the item",
            )
        }),
        ValueExpr::Operand(Operand::Size(_)) => Err(DdbError::validation(
            "Invalid UpdateExpression: The function is not allowed in an update expression; function: size",
        )),
        ValueExpr::IfNotExists(p, fallback) => match path::resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => evaluate(fallback, item),
        },
        ValueExpr::ListAppend(a, b) => {
            let (a, b) = (evaluate(a, item)?, evaluate(b, item)?);
            match (a.get("L").and_then(Value::as_array), b.get("L").and_then(Value::as_array)) {
                (Some(a), Some(b)) => {
                    let joined: Vec<Value> = a.iter().chain(b).cloned().collect();
                    Ok(json!({ "L": joined }))
                }
                _ => Err(DdbError::validation(
                    "An operand in the update expression has an incorrect data type",
                )),
            }
        }
        ValueExpr::Plus(a, b) | ValueExpr::Minus(a, b) => {
            let (a, b) = (evaluate(a, item)?, evaluate(b, item)?);
            let number = |v: &Value| v.get("N").and_then(Value::as_str).map(str::to_string);
            let (Some(a), Some(b)) = (number(&a), number(&b)) else {
                return Err(DdbError::validation(
                    "An operand in the update expression has an incorrect data type",
                ));
            };
            let negate = matches!(expr, ValueExpr::Minus(..));
            Ok(json!({ "N": arithmetic(&a, &b, negate)? }))
        }
    }
}

/// `a + b` or `a - b` of DynamoDB numbers: exact for integers up to 38 digits, else decimal
/// arithmetic in `f64`.
fn arithmetic(a: &str, b: &str, negate: bool) -> Result<String, DdbError> {
    let overflow = || {
        DdbError::validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
    };
    if let (Ok(x), Ok(y)) = (a.trim().parse::<i128>(), b.trim().parse::<i128>()) {
        let r = if negate {
            x.checked_sub(y)
        } else {
            x.checked_add(y)
        }
        .ok_or_else(overflow)?;
        if r.unsigned_abs() >= 10u128.pow(38) {
            return Err(overflow());
        }
        return Ok(r.to_string());
    }
    let (x, y): (f64, f64) = (
        a.trim().parse().map_err(|_| overflow())?,
        b.trim().parse().map_err(|_| overflow())?,
    );
    let r = if negate { x - y } else { x + y };
    if !r.is_finite() {
        return Err(overflow());
    }
    Ok(value::normalize_number(&format!("{r}")))
}

/// `ADD path value`: numbers add (absent is 0), sets union (absent is empty).
fn add(current: Option<&Value>, value: &Value) -> Result<Value, DdbError> {
    let t = value::type_of(value).unwrap_or_default();
    let wrong =
        || DdbError::validation("An operand in the update expression has an incorrect data type");
    match (t, current) {
        ("N", None) => Ok(value.clone()),
        ("N", Some(c)) => {
            let a = c.get("N").and_then(Value::as_str).ok_or_else(wrong)?;
            let b = value.get("N").and_then(Value::as_str).ok_or_else(wrong)?;
            Ok(json!({ "N": arithmetic(a, b, false)? }))
        }
        ("SS" | "NS" | "BS", None) => Ok(value.clone()),
        ("SS" | "NS" | "BS", Some(c)) => {
            let existing = c.get(t).and_then(Value::as_array).ok_or_else(wrong)?;
            let mut out = existing.clone();
            for v in value.get(t).and_then(Value::as_array).ok_or_else(wrong)? {
                if !out.iter().any(|o| same_member(t, o, v)) {
                    out.push(v.clone());
                }
            }
            let mut m = Map::new();
            m.insert(t.to_string(), Value::Array(out));
            Ok(Value::Object(m))
        }
        _ => Err(DdbError::validation(format!(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: {}",
            if t.is_empty() { "unknown" } else { t }
        ))),
    }
}

/// `DELETE path set`: the set without the given members; `None` when nothing remains.
fn set_difference(current: &Value, remove: &Value) -> Result<Option<Value>, DdbError> {
    let t = value::type_of(remove).unwrap_or_default();
    if !matches!(t, "SS" | "NS" | "BS") {
        return Err(DdbError::validation(format!(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: {}",
            if t.is_empty() { "unknown" } else { t }
        )));
    }
    let existing = current.get(t).and_then(Value::as_array).ok_or_else(|| {
        DdbError::validation("An operand in the update expression has an incorrect data type")
    })?;
    let gone = remove
        .get(t)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rest: Vec<Value> = existing
        .iter()
        .filter(|e| !gone.iter().any(|g| same_member(t, e, g)))
        .cloned()
        .collect();
    if rest.is_empty() {
        return Ok(None);
    }
    let mut m = Map::new();
    m.insert(t.to_string(), Value::Array(rest));
    Ok(Some(Value::Object(m)))
}

fn same_member(set_type: &str, a: &Value, b: &Value) -> bool {
    if set_type == "NS" {
        let wrap = |v: &Value| json!({ "N": v });
        return value::compare(&wrap(a), &wrap(b)) == Some(Ordering::Equal);
    }
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expression: &str, values: Value, item: Value) -> Result<Value, DdbError> {
        let mut p = Placeholders::new(None, values.as_object().cloned())?;
        let u = Update::parse(expression, &mut p)?;
        let mut item = item.as_object().cloned().unwrap_or_default();
        u.apply(&mut item)?;
        Ok(Value::Object(item))
    }

    #[test]
    fn set_remove_add_delete() {
        let item = json!({"n": {"N": "5"}, "l": {"L": [{"N": "1"}]}, "s": {"SS": ["a", "b"]}, "gone": {"S": "x"}});
        let out = run(
            "SET n = n + :one, l = list_append(l, :more), c = if_not_exists(c, :zero) REMOVE gone ADD s :c, k :one DELETE t :c",
            json!({":one": {"N": "1"}, ":more": {"L": [{"N": "2"}]}, ":zero": {"N": "0"}, ":c": {"SS": ["c"]}}),
            item,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"n": {"N": "6"}, "l": {"L": [{"N": "1"}, {"N": "2"}]}, "s": {"SS": ["a", "b", "c"]}, "c": {"N": "0"}, "k": {"N": "1"}})
        );
        let out = run(
            "DELETE s :ab",
            json!({":ab": {"SS": ["a", "b"]}}),
            json!({"s": {"SS": ["a", "b"]}}),
        )
        .unwrap();
        assert_eq!(out, json!({}));
        let out = run(
            "SET n = :a - n",
            json!({":a": {"N": "1.5"}}),
            json!({"n": {"N": "2"}}),
        )
        .unwrap();
        assert_eq!(out, json!({"n": {"N": "-0.5"}}));
    }

    #[test]
    fn bad_updates_are_refused() {
        assert!(run(
            "SET a = :v SET b = :v",
            json!({":v": {"N": "1"}}),
            json!({})
        )
        .is_err());
        assert!(run("SET a = :v, a.b = :v", json!({":v": {"N": "1"}}), json!({})).is_err());
        assert!(run("SET a = b + :v", json!({":v": {"N": "1"}}), json!({})).is_err());
        assert!(run("ADD a :v", json!({":v": {"S": "x"}}), json!({})).is_err());
        assert!(run("SET x.y = :v", json!({":v": {"N": "1"}}), json!({})).is_err());
        assert!(run(
            "SET n = n + :v",
            json!({":v": {"N": "1"}}),
            json!({"n": {"S": "x"}})
        )
        .is_err());
    }
}
