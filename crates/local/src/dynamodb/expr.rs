//! DynamoDB expressions: the shared lexer, placeholders and document paths, and condition,
//! filter and key-condition expressions (a parser and an evaluator against an item).
//!
//! Supported in conditions: comparisons `= <> < <= > >=`, `a BETWEEN b AND c`,
//! `a IN (b, c, ...)`, `AND`, `OR`, `NOT`, parentheses, and the functions
//! `attribute_exists(p)`, `attribute_not_exists(p)`, `attribute_type(p, :t)`,
//! `begins_with(p, v)`, `contains(p, v)` and `size(p)` (as an operand). Paths are names or
//! `#name` placeholders, dotted into maps and indexed into lists (`a.b[2].c`).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::errors::DdbError;
use super::path::{self, Path, Step};
use super::value::{self, Item};

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which of
/// them its expressions used (DynamoDB refuses unused ones).
#[derive(Debug, Default)]
pub struct Placeholders {
    names: Map<String, Value>,
    values: Map<String, Value>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    /// The request's placeholders; values are validated.
    ///
    /// # Errors
    /// `ValidationException` for an invalid `AttributeValue`.
    pub fn new(
        names: Option<Map<String, Value>>,
        values: Option<Map<String, Value>>,
    ) -> Result<Self, DdbError> {
        let values = values.unwrap_or_default();
        for v in values.values() {
            value::validate(v)?;
        }
        Ok(Self {
            names: names.unwrap_or_default(),
            values,
            ..Self::default()
        })
    }

    fn name(&mut self, placeholder: &str, label: &str) -> Result<String, DdbError> {
        let name = self
            .names
            .get(placeholder)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                DdbError::validation(format!(
                    "Invalid {label}: An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
                ))
            })?;
        self.used_names.insert(placeholder.to_string());
        Ok(name)
    }

    fn value(&mut self, placeholder: &str, label: &str) -> Result<Value, DdbError> {
        let value = self.values.get(placeholder).cloned().ok_or_else(|| {
            DdbError::validation(format!(
                "Invalid {label}: An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))
        })?;
        self.used_values.insert(placeholder.to_string());
        Ok(value)
    }

    /// Refuses placeholders no expression used, as DynamoDB does.
    ///
    /// # Errors
    /// `ValidationException` naming the unused keys.
    pub fn check_all_used(&self, any_expression: bool) -> Result<(), DdbError> {
        if !any_expression {
            if !self.names.is_empty() {
                return Err(DdbError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if !self.values.is_empty() {
                return Err(DdbError::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
        }
        let unused = |all: &Map<String, Value>, used: &BTreeSet<String>| {
            all.keys()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect::<Vec<_>>()
        };
        let names = unused(&self.names, &self.used_names);
        if !names.is_empty() {
            return Err(DdbError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        let values = unused(&self.values, &self.used_values);
        if !values.is_empty() {
            return Err(DdbError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        Ok(())
    }
}

/// A parsed, placeholder-resolved condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Path(Path),
    Value(Value),
    Size(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Exists(Path),
    NotExists(Path),
    Type(Path, String),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    Compare(Operand, String, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl Condition {
    /// `attribute_not_exists(<name>)`.
    pub fn attribute_not_exists(name: &str) -> Self {
        Self {
            expr: Expr::NotExists(Path::attribute(name)),
        }
    }

    /// Parses a condition expression (`label` names it in errors: `ConditionExpression`,
    /// `FilterExpression`, `KeyConditionExpression`), resolving placeholders.
    ///
    /// # Errors
    /// `ValidationException` for a syntax error, an undefined placeholder or an unsupported
    /// construct.
    pub fn parse(
        expression: &str,
        placeholders: &mut Placeholders,
        label: &str,
    ) -> Result<Self, DdbError> {
        let mut parser = Parser::new(expression, placeholders, label)?;
        let expr = parser.or()?;
        parser.end()?;
        Ok(Self { expr })
    }

    /// Whether `item` (absent: `None`) satisfies the condition.
    pub fn matches(&self, item: Option<&Item>) -> bool {
        let empty = Map::new();
        eval(&self.expr, item.unwrap_or(&empty))
    }

    pub(super) fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// Parses a `ProjectionExpression` into its paths.
///
/// # Errors
/// `ValidationException` for a syntax error or an undefined placeholder.
pub fn parse_projection(
    expression: &str,
    placeholders: &mut Placeholders,
) -> Result<Vec<Path>, DdbError> {
    let mut parser = Parser::new(expression, placeholders, "ProjectionExpression")?;
    let mut paths = vec![parser.path()?];
    while parser.eat(&Token::Comma) {
        paths.push(parser.path()?);
    }
    parser.end()?;
    for (i, a) in paths.iter().enumerate() {
        if let Some(b) = paths.iter().skip(i + 1).find(|b| a.overlaps(b)) {
            return Err(DdbError::validation(format!(
                "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                a.describe(),
                b.describe()
            )));
        }
    }
    Ok(paths)
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Word(String),
    Name(String),
    Value(String),
    Number(usize),
    Op(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
    Dot,
    Plus,
    Minus,
}

fn tokenize(text: &str, label: &str) -> Result<Vec<Token>, DdbError> {
    let syntax =
        || DdbError::validation(format!("Invalid {label}: Syntax error; token: \"{text}\""));
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    let take = |start: usize, end: usize| -> String {
        chars.get(start..end).unwrap_or_default().iter().collect()
    };
    while let Some(&c) = chars.get(i) {
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenBracket),
            ']' => Some(Token::CloseBracket),
            ',' => Some(Token::Comma),
            '.' => Some(Token::Dot),
            '+' => Some(Token::Plus),
            '-' => Some(Token::Minus),
            '=' => Some(Token::Op("=".into())),
            _ => None,
        };
        if let Some(t) = single {
            out.push(t);
            i += 1;
            continue;
        }
        match c {
            c if c.is_whitespace() => i += 1,
            '<' | '>' => {
                let op = match (c, chars.get(i + 1).copied()) {
                    ('<', Some('>')) => "<>",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    _ => ">",
                };
                i += op.len();
                out.push(Token::Op(op.into()));
            }
            '#' | ':' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|c| word_char(*c)) {
                    i += 1;
                }
                let word = take(start, i);
                if word.len() < 2 {
                    return Err(syntax());
                }
                out.push(if c == '#' {
                    Token::Name(word)
                } else {
                    Token::Value(word)
                });
            }
            c if c.is_ascii_digit() && out.last() == Some(&Token::OpenBracket) => {
                let start = i;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let n = take(start, i).parse().map_err(|_| syntax())?;
                out.push(Token::Number(n));
            }
            c if word_char(c) => {
                let start = i;
                while chars.get(i).is_some_and(|c| word_char(*c)) {
                    i += 1;
                }
                out.push(Token::Word(take(start, i)));
            }
            _ => return Err(syntax()),
        }
    }
    Ok(out)
}

/// A recursive-descent parser over one expression's tokens.
pub(super) struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    placeholders: &'a mut Placeholders,
    label: String,
    depth: usize,
}

/// The longest expression DynamoDB accepts (4 KB).
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// How deeply parentheses and `NOT`s may nest (bounds the parser's recursion).
const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    pub(super) fn new(
        expression: &str,
        placeholders: &'a mut Placeholders,
        label: &str,
    ) -> Result<Self, DdbError> {
        if expression.trim().is_empty() {
            return Err(DdbError::validation(format!(
                "Invalid {label}: The expression can not be empty;"
            )));
        }
        if expression.len() > MAX_EXPRESSION_BYTES {
            return Err(DdbError::validation(format!(
                "Invalid {label}: Expression size has exceeded the maximum allowed size; expression size: {}",
                expression.len()
            )));
        }
        Ok(Self {
            tokens: tokenize(expression, label)?,
            pos: 0,
            placeholders,
            label: label.to_string(),
            depth: 0,
        })
    }

    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    pub(super) fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn at_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    pub(super) fn expect(&mut self, token: &Token) -> Result<(), DdbError> {
        if self.next().as_ref() == Some(token) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn end(&self) -> Result<(), DdbError> {
        if self.pos == self.tokens.len() {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn error(&self) -> DdbError {
        let near = match self
            .tokens
            .get(self.pos.min(self.tokens.len().saturating_sub(1)))
        {
            Some(Token::Word(w) | Token::Name(w) | Token::Value(w) | Token::Op(w)) => w.clone(),
            Some(other) => format!("{other:?}"),
            None => "<EOF>".into(),
        };
        DdbError::validation(format!(
            "Invalid {}: Syntax error; token: \"{near}\", near token {}",
            self.label,
            self.pos + 1
        ))
    }

    pub(super) fn invalid(&self, what: &str) -> DdbError {
        DdbError::validation(format!("Invalid {}: {what}", self.label))
    }

    fn or(&mut self) -> Result<Expr, DdbError> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, DdbError> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    pub(super) fn nest(&mut self) -> Result<(), DdbError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.invalid(&format!(
                "The expression nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    pub(super) fn unnest(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn not(&mut self) -> Result<Expr, DdbError> {
        if self.keyword("NOT") {
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, DdbError> {
        if self.eat(&Token::Open) {
            self.nest()?;
            let inner = self.or()?;
            self.expect(&Token::Close)?;
            self.depth -= 1;
            return Ok(inner);
        }
        if let (Some(Token::Word(w)), Some(Token::Open)) =
            (self.tokens.get(self.pos), self.tokens.get(self.pos + 1))
        {
            if !w.eq_ignore_ascii_case("size") {
                let function = w.clone();
                self.pos += 2;
                let mut args = vec![self.operand()?];
                while self.eat(&Token::Comma) {
                    args.push(self.operand()?);
                }
                self.expect(&Token::Close)?;
                return self.function_call(&function, args);
            }
        }
        let left = self.operand()?;
        if self.keyword("BETWEEN") {
            let low = self.operand()?;
            if !self.keyword("AND") {
                return Err(self.error());
            }
            let high = self.operand()?;
            return Ok(Expr::Between(left, low, high));
        }
        if self.keyword("IN") {
            self.expect(&Token::Open)?;
            let mut list = vec![self.operand()?];
            while self.eat(&Token::Comma) {
                list.push(self.operand()?);
            }
            self.expect(&Token::Close)?;
            if list.len() > 100 {
                return Err(self.invalid("The IN operator accepts at most 100 operands"));
            }
            return Ok(Expr::In(left, list));
        }
        match self.next() {
            Some(Token::Op(op)) => Ok(Expr::Compare(left, op, self.operand()?)),
            _ => Err(self.error()),
        }
    }

    fn function_call(&self, name: &str, mut args: Vec<Operand>) -> Result<Expr, DdbError> {
        let bad = || {
            self.invalid(&format!(
                "Invalid function name or arguments; function: {name}"
            ))
        };
        let two = |args: &mut Vec<Operand>| -> Result<(Operand, Operand), DdbError> {
            let second = args.pop().ok_or_else(bad)?;
            let first = args.pop().ok_or_else(bad)?;
            Ok((first, second))
        };
        match (name, args.len()) {
            ("attribute_exists", 1) => match args.pop() {
                Some(Operand::Path(p)) => Ok(Expr::Exists(p)),
                _ => Err(bad()),
            },
            ("attribute_not_exists", 1) => match args.pop() {
                Some(Operand::Path(p)) => Ok(Expr::NotExists(p)),
                _ => Err(bad()),
            },
            ("attribute_type", 2) => match two(&mut args)? {
                (Operand::Path(p), Operand::Value(t)) => {
                    let name = t.get("S").and_then(Value::as_str).unwrap_or_default();
                    if !["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"].contains(&name)
                    {
                        return Err(self.invalid(&format!(
                            "Invalid attribute type name found; type: {name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                        )));
                    }
                    Ok(Expr::Type(p, name.to_string()))
                }
                _ => Err(bad()),
            },
            ("begins_with", 2) => {
                let (a, b) = two(&mut args)?;
                Ok(Expr::BeginsWith(a, b))
            }
            ("contains", 2) => {
                let (a, b) = two(&mut args)?;
                Ok(Expr::Contains(a, b))
            }
            _ => Err(bad()),
        }
    }

    /// A path, a `:value` or `size(path)`.
    pub(super) fn operand(&mut self) -> Result<Operand, DdbError> {
        if let Some(Token::Value(v)) = self.peek() {
            let v = v.clone();
            self.pos += 1;
            let label = self.label.clone();
            return Ok(Operand::Value(self.placeholders.value(&v, &label)?));
        }
        if let (Some(Token::Word(w)), Some(Token::Open)) =
            (self.tokens.get(self.pos), self.tokens.get(self.pos + 1))
        {
            if w.eq_ignore_ascii_case("size") {
                self.pos += 2;
                let path = self.path()?;
                self.expect(&Token::Close)?;
                return Ok(Operand::Size(path));
            }
        }
        Ok(Operand::Path(self.path()?))
    }

    /// `name(.name | [n])*`.
    pub(super) fn path(&mut self) -> Result<Path, DdbError> {
        let mut steps = vec![Step::Key(self.segment()?)];
        loop {
            if self.eat(&Token::Dot) {
                steps.push(Step::Key(self.segment()?));
            } else if self.eat(&Token::OpenBracket) {
                match self.next() {
                    Some(Token::Number(n)) => steps.push(Step::Index(n)),
                    _ => return Err(self.error()),
                }
                self.expect(&Token::CloseBracket)?;
            } else {
                return Ok(Path(steps));
            }
        }
    }

    fn segment(&mut self) -> Result<String, DdbError> {
        match self.next() {
            Some(Token::Word(w)) if !is_reserved(&w) => Ok(w),
            Some(Token::Word(w)) => Err(self.invalid(&format!(
                "Attribute name is a reserved keyword; reserved keyword: {w}"
            ))),
            Some(Token::Name(n)) => {
                let label = self.label.clone();
                self.placeholders.name(&n, &label)
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(self.error())
            }
        }
    }
}

/// Words of the expression grammar that cannot be attribute names without a placeholder.
fn is_reserved(word: &str) -> bool {
    [
        "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "SIZE",
    ]
    .iter()
    .any(|r| r.eq_ignore_ascii_case(word))
}

fn operand_value(item: &Item, operand: &Operand) -> Option<Value> {
    match operand {
        Operand::Path(p) => path::resolve(item, p).cloned(),
        Operand::Value(v) => Some(v.clone()),
        Operand::Size(p) => size_of(path::resolve(item, p)?).map(|n| {
            let mut m = Map::new();
            m.insert("N".into(), Value::String(n.to_string()));
            Value::Object(m)
        }),
    }
}

/// `size()` of a value: string length, binary bytes, elements of a set, list or map.
fn size_of(value: &Value) -> Option<usize> {
    let t = value::type_of(value)?;
    let inner = value.get(t)?;
    match t {
        "S" => inner.as_str().map(|s| s.chars().count()),
        "B" => inner
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|b| b.len()),
        "SS" | "NS" | "BS" | "L" => inner.as_array().map(Vec::len),
        "M" => inner.as_object().map(Map::len),
        _ => None,
    }
}

fn eval(expr: &Expr, item: &Item) -> bool {
    match expr {
        Expr::Exists(p) => path::resolve(item, p).is_some(),
        Expr::NotExists(p) => path::resolve(item, p).is_none(),
        Expr::Type(p, t) => path::resolve(item, p).and_then(value::type_of) == Some(t.as_str()),
        Expr::And(a, b) => eval(a, item) && eval(b, item),
        Expr::Or(a, b) => eval(a, item) || eval(b, item),
        Expr::Not(a) => !eval(a, item),
        Expr::BeginsWith(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(a), Some(b)) => {
                let text =
                    |v: &Value, t: &str| v.get(t).and_then(Value::as_str).map(str::to_string);
                match (text(&a, "S"), text(&b, "S"), text(&a, "B"), text(&b, "B")) {
                    (Some(a), Some(b), _, _) => a.starts_with(&b),
                    (_, _, Some(a), Some(b)) => {
                        let decode =
                            |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
                        matches!((decode(&a), decode(&b)), (Some(a), Some(b)) if a.starts_with(&b))
                    }
                    _ => false,
                }
            }
            _ => false,
        },
        Expr::Contains(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
        Expr::Compare(a, op, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(a), Some(b)) => match op.as_str() {
                "=" => value::equal(&a, &b),
                "<>" => !value::equal(&a, &b),
                _ => value::compare(&a, &b).is_some_and(|o| match op.as_str() {
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    ">=" => o != Ordering::Less,
                    _ => false,
                }),
            },
            // A missing attribute is unequal to anything.
            _ => op == "<>",
        },
        Expr::Between(a, low, high) => match (
            operand_value(item, a),
            operand_value(item, low),
            operand_value(item, high),
        ) {
            (Some(a), Some(l), Some(h)) => {
                value::compare(&a, &l).is_some_and(|o| o != Ordering::Less)
                    && value::compare(&a, &h).is_some_and(|o| o != Ordering::Greater)
            }
            _ => false,
        },
        Expr::In(a, list) => operand_value(item, a).is_some_and(|a| {
            list.iter()
                .filter_map(|o| operand_value(item, o))
                .any(|v| value::equal(&a, &v))
        }),
    }
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    if let (Some(Value::String(h)), Some(Value::String(n))) = (haystack.get("S"), needle.get("S")) {
        return h.contains(n.as_str());
    }
    for (set, scalar) in [("SS", "S"), ("NS", "N"), ("BS", "B")] {
        if let (Some(Value::Array(items)), Some(v)) = (haystack.get(set), needle.get(scalar)) {
            let mut one = Map::new();
            one.insert(scalar.into(), v.clone());
            let wanted = Value::Object(one);
            return items.iter().any(|i| {
                let mut m = Map::new();
                m.insert(scalar.into(), i.clone());
                value::equal(&Value::Object(m), &wanted)
            });
        }
    }
    if let Some(Value::Array(items)) = haystack.get("L") {
        return items.iter().any(|i| value::equal(i, needle));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> Item {
        json!({
            "id": {"S": "a-1"}, "n": {"N": "5"},
            "m": {"M": {"x": {"S": "y"}, "l": {"L": [{"N": "1"}, {"S": "two"}]}}},
            "tags": {"SS": ["red", "blue"]}
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn check(expression: &str, names: Value, values: Value) -> Result<bool, DdbError> {
        let mut p = Placeholders::new(names.as_object().cloned(), values.as_object().cloned())?;
        let c = Condition::parse(expression, &mut p, "ConditionExpression")?;
        p.check_all_used(true)?;
        Ok(c.matches(Some(&item())))
    }

    #[test]
    fn functions_comparisons_and_logic() {
        assert!(!check("attribute_not_exists(#k)", json!({"#k": "id"}), json!({})).unwrap());
        assert!(check("attribute_not_exists(other)", json!({}), json!({})).unwrap());
        assert!(check("attribute_exists(m.x)", json!({}), json!({})).unwrap());
        assert!(check("attribute_exists(m.l[1])", json!({}), json!({})).unwrap());
        assert!(!check("attribute_exists(m.l[2])", json!({}), json!({})).unwrap());
        assert!(check("m.l[0] = :one", json!({}), json!({":one": {"N": "1.0"}})).unwrap());
        assert!(check(
            "n > :a AND begins_with(id, :p)",
            json!({}),
            json!({":a": {"N": "4"}, ":p": {"S": "a-"}})
        )
        .unwrap());
        assert!(check(
            "NOT (n = :a) OR id <> :b",
            json!({}),
            json!({":a": {"N": "5.0"}, ":b": {"S": "a-1"}})
        )
        .is_ok_and(|m| !m));
        assert!(check(
            "n BETWEEN :a AND :b",
            json!({}),
            json!({":a": {"N": "1"}, ":b": {"N": "9"}})
        )
        .unwrap());
        assert!(check(
            "n IN (:a, :b)",
            json!({}),
            json!({":a": {"N": "3"}, ":b": {"N": "5"}})
        )
        .unwrap());
        assert!(!check("id IN (:a)", json!({}), json!({":a": {"S": "b"}})).unwrap());
        assert!(check(
            "size(tags) = :two AND size(m) > :one",
            json!({}),
            json!({":two": {"N": "2"}, ":one": {"N": "1"}})
        )
        .unwrap());
        assert!(check(
            "attribute_type(tags, :t)",
            json!({}),
            json!({":t": {"S": "SS"}})
        )
        .unwrap());
        assert!(check("contains(tags, :c)", json!({}), json!({":c": {"S": "red"}})).unwrap());
        assert!(check("missing <> :c", json!({}), json!({":c": {"S": "red"}})).unwrap());
        assert!(Condition::attribute_not_exists("id").matches(None));
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(check("attribute_not_exists(#k)", json!({}), json!({})).is_err());
        assert!(check("n = :missing", json!({}), json!({})).is_err());
        assert!(check("n = ", json!({}), json!({})).is_err());
        assert!(check("n = :a extra", json!({}), json!({":a": {"N": "1"}})).is_err());
        assert!(check("$$$", json!({}), json!({})).is_err());
        assert!(check(
            "attribute_type(n, :t)",
            json!({}),
            json!({":t": {"S": "Q"}})
        )
        .is_err());
        let deep = format!("{}n = :a{}", "(".repeat(500), ")".repeat(500));
        assert!(check(&deep, json!({}), json!({":a": {"N": "1"}})).is_err());
        let nots = format!("{}n = :a", "NOT ".repeat(300));
        assert!(check(&nots, json!({}), json!({":a": {"N": "1"}})).is_err());
        let long = format!("n = :a{}", " OR n = :a".repeat(500));
        assert!(check(&long, json!({}), json!({":a": {"N": "1"}})).is_err());
        let unused = check("n = :a", json!({"#x": "y"}), json!({":a": {"N": "1"}})).unwrap_err();
        assert!(unused.to_string().contains("#x"), "{unused}");
        let unused = check(
            "n = :a",
            json!({}),
            json!({":a": {"N": "1"}, ":b": {"N": "1"}}),
        )
        .unwrap_err();
        assert!(unused.to_string().contains(":b"), "{unused}");
    }
}
