//! Document paths (`a.b[2].c`): reading, writing, removing and projecting nested attributes.

use serde_json::{Map, Value};

use super::errors::DdbError;
use super::value::Item;

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A map key (or, first, an attribute name).
    Key(String),
    /// A list index.
    Index(usize),
}

/// A document path: an attribute name, then map keys and list indexes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<Step>);

impl Path {
    /// A top-level attribute.
    pub fn attribute(name: &str) -> Self {
        Self(vec![Step::Key(name.to_string())])
    }

    /// The top-level attribute name.
    pub fn top(&self) -> &str {
        match self.0.first() {
            Some(Step::Key(k)) => k,
            _ => "",
        }
    }

    /// Whether one path is a prefix of the other (they overlap in an update).
    pub fn overlaps(&self, other: &Path) -> bool {
        let n = self.0.len().min(other.0.len());
        self.0[..n] == other.0[..n]
    }

    /// The path as DynamoDB prints it in messages (`[a, b, [2]]`).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.clone(),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

fn step_into<'a>(value: &'a Value, step: &Step) -> Option<&'a Value> {
    match step {
        Step::Key(k) => value.get("M")?.get(k),
        Step::Index(i) => value.get("L")?.get(*i),
    }
}

/// The value at `path` in `item`, if any.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a Value> {
    let (first, rest) = path.0.split_first()?;
    let Step::Key(name) = first else { return None };
    let mut current = item.get(name)?;
    for step in rest {
        current = step_into(current, step)?;
    }
    Some(current)
}

fn invalid_path() -> DdbError {
    DdbError::validation(
        "The document path provided in the update expression is invalid for update",
    )
}

/// The container of the last step (creating nothing), and the last step.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &'a Path,
) -> Result<(&'a mut Value, &'a Step), DdbError> {
    let (last, init) = path.0.split_last().ok_or_else(invalid_path)?;
    let (first, middle) = init.split_first().ok_or_else(invalid_path)?;
    let Step::Key(name) = first else {
        return Err(invalid_path());
    };
    let mut current = item.get_mut(name).ok_or_else(invalid_path)?;
    for step in middle {
        current = match step {
            Step::Key(k) => current.get_mut("M").and_then(|m| m.get_mut(k)),
            Step::Index(i) => current.get_mut("L").and_then(|l| l.get_mut(*i)),
        }
        .ok_or_else(invalid_path)?;
    }
    Ok((current, last))
}

/// Where the last step of a path lands: a key of a map (the item itself or an `M` value), or
/// an index of an `L` value.
enum Slot<'a> {
    Key(&'a mut Map<String, Value>, &'a str),
    Index(&'a mut Vec<Value>, usize),
}

/// The slot of `path`'s last step; its parent must exist and be of the step's kind.
fn slot_mut<'a>(item: &'a mut Item, path: &'a Path) -> Result<Slot<'a>, DdbError> {
    if let [Step::Key(name)] = path.0.as_slice() {
        return Ok(Slot::Key(item, name));
    }
    let (parent, last) = parent_mut(item, path)?;
    Ok(match last {
        Step::Key(k) => Slot::Key(
            parent
                .get_mut("M")
                .and_then(Value::as_object_mut)
                .ok_or_else(invalid_path)?,
            k,
        ),
        Step::Index(i) => Slot::Index(
            parent
                .get_mut("L")
                .and_then(Value::as_array_mut)
                .ok_or_else(invalid_path)?,
            *i,
        ),
    })
}

/// Sets the value at `path`; the parent must exist. A list index past the end appends.
///
/// # Errors
/// `ValidationException` when the parent does not exist or has the wrong type.
pub fn set(item: &mut Item, path: &Path, value: Value) -> Result<(), DdbError> {
    match slot_mut(item, path)? {
        Slot::Key(map, k) => {
            map.insert(k.to_owned(), value);
        }
        Slot::Index(list, i) => match list.get_mut(i) {
            Some(slot) => *slot = value,
            None => list.push(value),
        },
    }
    Ok(())
}

/// Removes the value at `path` (nothing if the parent exists without it); a list element's
/// removal shifts the rest.
///
/// # Errors
/// `ValidationException` when the parent is missing or has the wrong type.
pub fn remove(item: &mut Item, path: &Path) -> Result<(), DdbError> {
    match slot_mut(item, path)? {
        Slot::Key(map, k) => {
            map.remove(k);
        }
        Slot::Index(list, i) => {
            if i < list.len() {
                list.remove(i);
            }
        }
    }
    Ok(())
}

/// The parts of `item` at `paths`, nested as in the item (list elements keep their order,
/// compacted), as `ProjectionExpression` returns them.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Map::new();
    for path in paths {
        let Some(value) = resolve(item, path) else {
            continue;
        };
        let (first, rest) = match path.0.split_first() {
            Some((Step::Key(first), rest)) => (first, rest),
            _ => continue,
        };
        let Some(source) = item.get(first) else {
            continue;
        };
        let slot = out.entry(first.clone()).or_insert(Value::Null);
        merge(slot, source, rest, value);
    }
    out
}

/// Copies `value` (found at `rest` below `source`) into `slot`, building the same nesting.
fn merge(slot: &mut Value, source: &Value, rest: &[Step], value: &Value) {
    let Some((step, deeper)) = rest.split_first() else {
        *slot = value.clone();
        return;
    };
    let Some(next_source) = step_into(source, step) else {
        return;
    };
    match step {
        Step::Key(k) => {
            if slot.get("M").is_none() {
                *slot = serde_json::json!({ "M": {} });
            }
            if let Some(map) = slot.get_mut("M").and_then(Value::as_object_mut) {
                let child = map.entry(k.clone()).or_insert(Value::Null);
                merge(child, next_source, deeper, value);
            }
        }
        Step::Index(i) => {
            // Projected list elements are keyed by their source index until the end, so
            // `a[2], a[0]` comes out in list order.
            if slot.get("L").is_none() {
                *slot = serde_json::json!({ "L": [], "_idx": [] });
            }
            let position = slot
                .get("_idx")
                .and_then(Value::as_array)
                .and_then(|idx| idx.iter().position(|v| v.as_u64() == Some(*i as u64)));
            let position = match position {
                Some(p) => p,
                None => {
                    let at = slot.get("_idx").and_then(Value::as_array).map_or(0, |idx| {
                        idx.iter()
                            .filter(|v| v.as_u64().is_some_and(|x| x < *i as u64))
                            .count()
                    });
                    if let Some(idx) = slot.get_mut("_idx").and_then(Value::as_array_mut) {
                        idx.insert(at, serde_json::json!(i));
                    }
                    if let Some(list) = slot.get_mut("L").and_then(Value::as_array_mut) {
                        list.insert(at, Value::Null);
                    }
                    at
                }
            };
            if let Some(child) = slot
                .get_mut("L")
                .and_then(Value::as_array_mut)
                .and_then(|l| l.get_mut(position))
            {
                merge(child, next_source, deeper, value);
            }
        }
    }
}

/// Drops the bookkeeping [`project`] leaves in projected lists.
pub fn finish_projection(item: &mut Item) {
    for value in item.values_mut() {
        strip(value);
    }
}

fn strip(value: &mut Value) {
    if let Some(obj) = value.as_object_mut() {
        obj.remove("_idx");
        if let Some(Value::Array(list)) = obj.get_mut("L") {
            list.iter_mut().for_each(strip);
        }
        if let Some(Value::Object(map)) = obj.get_mut("M") {
            map.values_mut().for_each(strip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> Item {
        json!({
            "a": {"M": {"b": {"L": [{"N": "1"}, {"N": "2"}, {"M": {"c": {"S": "x"}}}]}}},
            "d": {"S": "y"}
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn p(steps: &[Step]) -> Path {
        Path(steps.to_vec())
    }

    #[test]
    fn nested_paths_resolve_set_remove_and_project() {
        let k = |s: &str| Step::Key(s.into());
        let c = p(&[k("a"), k("b"), Step::Index(2), k("c")]);
        let mut i = item();
        assert_eq!(resolve(&i, &c), Some(&json!({"S": "x"})));
        set(&mut i, &c, json!({"S": "z"})).unwrap();
        assert_eq!(resolve(&i, &c), Some(&json!({"S": "z"})));
        set(
            &mut i,
            &p(&[k("a"), k("b"), Step::Index(9)]),
            json!({"N": "3"}),
        )
        .unwrap();
        assert_eq!(
            resolve(&i, &p(&[k("a"), k("b"), Step::Index(3)])),
            Some(&json!({"N": "3"}))
        );
        assert!(set(&mut i, &p(&[k("x"), k("y")]), json!({"N": "1"})).is_err());
        remove(&mut i, &p(&[k("a"), k("b"), Step::Index(0)])).unwrap();
        assert_eq!(
            resolve(&i, &p(&[k("a"), k("b"), Step::Index(0)])),
            Some(&json!({"N": "2"}))
        );
        let mut projected = project(
            &item(),
            &[
                p(&[k("a"), k("b"), Step::Index(2), k("c")]),
                p(&[k("a"), k("b"), Step::Index(0)]),
                p(&[k("zz")]),
            ],
        );
        finish_projection(&mut projected);
        assert_eq!(
            Value::Object(projected),
            json!({"a": {"M": {"b": {"L": [{"N": "1"}, {"M": {"c": {"S": "x"}}}]}}}})
        );
    }
}
