//! Condition and filter expressions: a parser for the subset the stack supports and an
//! evaluator against an item.
//!
//! Supported: `attribute_exists(p)`, `attribute_not_exists(p)`, `begins_with(p, v)`,
//! `contains(p, v)`, comparisons `= <> < <= > >=`, `a BETWEEN b AND c`, `AND`, `OR`, `NOT`,
//! parentheses; paths are names or `#name` placeholders, dotted into maps.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::errors::DdbError;
use super::value::{self, Item};

/// A parsed, placeholder-resolved condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Vec<String>),
    Value(Value),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Exists(Vec<String>),
    NotExists(Vec<String>),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    Compare(Operand, String, Operand),
    Between(Operand, Operand, Operand),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl Condition {
    /// `attribute_not_exists(<name>)`.
    pub fn attribute_not_exists(name: &str) -> Self {
        Self {
            expr: Expr::NotExists(vec![name.to_string()]),
        }
    }

    /// Parses `expression`, resolving `#name` and `:value` placeholders.
    ///
    /// # Errors
    /// `ValidationException` for a syntax error, an undefined placeholder or an unsupported
    /// construct.
    pub fn parse(
        expression: &str,
        names: &Map<String, Value>,
        values: &Map<String, Value>,
    ) -> Result<Self, DdbError> {
        for v in values.values() {
            value::validate(v)?;
        }
        let tokens = tokenize(expression)?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            names,
            values,
        };
        let expr = parser.or()?;
        if parser.pos != parser.tokens.len() {
            return Err(syntax(expression));
        }
        Ok(Self { expr })
    }

    /// Whether `item` (absent: `None`) satisfies the condition.
    pub fn matches(&self, item: Option<&Item>) -> bool {
        let empty = Map::new();
        eval(&self.expr, item.unwrap_or(&empty))
    }
}

fn syntax(expression: &str) -> DdbError {
    DdbError::validation(format!(
        "Invalid ConditionExpression: Syntax error; expression: {expression}"
    ))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Name(String),
    Value(String),
    Op(String),
    Open,
    Close,
    Comma,
    Dot,
}

fn tokenize(text: &str) -> Result<Vec<Token>, DdbError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let word_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => (out.push(Token::Open), i += 1).1,
            ')' => (out.push(Token::Close), i += 1).1,
            ',' => (out.push(Token::Comma), i += 1).1,
            '.' => (out.push(Token::Dot), i += 1).1,
            '=' => (out.push(Token::Op("=".into())), i += 1).1,
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
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
                let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
                if word.len() < 2 {
                    return Err(syntax(text));
                }
                out.push(if c == '#' {
                    Token::Name(word)
                } else {
                    Token::Value(word)
                });
            }
            c if word_char(c) => {
                let start = i;
                while chars.get(i).is_some_and(|c| word_char(*c)) {
                    i += 1;
                }
                out.push(Token::Word(
                    chars.get(start..i).unwrap_or_default().iter().collect(),
                ));
            }
            _ => return Err(syntax(text)),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a Map<String, Value>,
    values: &'a Map<String, Value>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &Token) -> Result<(), DdbError> {
        if self.next().as_ref() == Some(token) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn error(&self) -> DdbError {
        DdbError::validation(format!(
            "Invalid ConditionExpression: Syntax error near token {}",
            self.pos + 1
        ))
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

    fn not(&mut self) -> Result<Expr, DdbError> {
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, DdbError> {
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(&Token::Close)?;
            return Ok(inner);
        }
        if let (Some(Token::Word(w)), Some(Token::Open)) =
            (self.tokens.get(self.pos), self.tokens.get(self.pos + 1))
        {
            let function = w.clone();
            self.pos += 2;
            let first = self.operand()?;
            let mut args = vec![first];
            while self.peek() == Some(&Token::Comma) {
                self.pos += 1;
                args.push(self.operand()?);
            }
            self.expect(&Token::Close)?;
            return function_call(&function, args);
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
        match self.next() {
            Some(Token::Op(op)) => Ok(Expr::Compare(left, op, self.operand()?)),
            _ => Err(self.error()),
        }
    }

    fn operand(&mut self) -> Result<Operand, DdbError> {
        if let Some(Token::Value(v)) = self.peek() {
            let v = v.clone();
            self.pos += 1;
            return self.values.get(&v).cloned().map(Operand::Value).ok_or_else(|| {
                DdbError::validation(format!(
                    "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: {v}"
                ))
            });
        }
        let mut path = vec![self.segment()?];
        while self.peek() == Some(&Token::Dot) {
            self.pos += 1;
            path.push(self.segment()?);
        }
        Ok(Operand::Path(path))
    }

    fn segment(&mut self) -> Result<String, DdbError> {
        match self.next() {
            Some(Token::Word(w)) if !is_reserved(&w) => Ok(w),
            Some(Token::Name(n)) => self
                .names
                .get(&n)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    DdbError::validation(format!(
                        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: {n}"
                    ))
                }),
            _ => Err(self.error()),
        }
    }
}

fn is_reserved(word: &str) -> bool {
    ["AND", "OR", "NOT", "BETWEEN", "IN"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(word))
}

fn function_call(name: &str, mut args: Vec<Operand>) -> Result<Expr, DdbError> {
    let bad = || {
        DdbError::validation(format!(
            "Invalid ConditionExpression: Invalid function name or arguments; function: {name}"
        ))
    };
    match (name, args.len()) {
        ("attribute_exists" | "attribute_not_exists", 1) => match args.pop() {
            Some(Operand::Path(p)) if name == "attribute_exists" => Ok(Expr::Exists(p)),
            Some(Operand::Path(p)) => Ok(Expr::NotExists(p)),
            _ => Err(bad()),
        },
        ("begins_with" | "contains", 2) => {
            let second = args.pop().ok_or_else(bad)?;
            let first = args.pop().ok_or_else(bad)?;
            if name == "begins_with" {
                Ok(Expr::BeginsWith(first, second))
            } else {
                Ok(Expr::Contains(first, second))
            }
        }
        _ => Err(bad()),
    }
}

fn resolve<'a>(item: &'a Item, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut current = item.get(first)?;
    for segment in rest {
        current = current.get("M")?.get(segment)?;
    }
    Some(current)
}

fn operand_value<'a>(item: &'a Item, operand: &'a Operand) -> Option<&'a Value> {
    match operand {
        Operand::Path(p) => resolve(item, p),
        Operand::Value(v) => Some(v),
    }
}

fn eval(expr: &Expr, item: &Item) -> bool {
    match expr {
        Expr::Exists(p) => resolve(item, p).is_some(),
        Expr::NotExists(p) => resolve(item, p).is_none(),
        Expr::And(a, b) => eval(a, item) && eval(b, item),
        Expr::Or(a, b) => eval(a, item) || eval(b, item),
        Expr::Not(a) => !eval(a, item),
        Expr::BeginsWith(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(a), Some(b)) => match (a.get("S"), b.get("S")) {
                (Some(Value::String(a)), Some(Value::String(b))) => a.starts_with(b.as_str()),
                _ => false,
            },
            _ => false,
        },
        Expr::Contains(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(a), Some(b)) => contains(a, b),
            _ => false,
        },
        Expr::Compare(a, op, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(a), Some(b)) => match op.as_str() {
                "=" => value::equal(a, b),
                "<>" => !value::equal(a, b),
                _ => value::compare(a, b).is_some_and(|o| match op.as_str() {
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    ">=" => o != Ordering::Less,
                    _ => false,
                }),
            },
            _ => false,
        },
        Expr::Between(a, low, high) => match (
            operand_value(item, a),
            operand_value(item, low),
            operand_value(item, high),
        ) {
            (Some(a), Some(l), Some(h)) => {
                value::compare(a, l).is_some_and(|o| o != Ordering::Less)
                    && value::compare(a, h).is_some_and(|o| o != Ordering::Greater)
            }
            _ => false,
        },
    }
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    if let (Some(Value::String(h)), Some(Value::String(n))) = (haystack.get("S"), needle.get("S")) {
        return h.contains(n.as_str());
    }
    for (set, scalar) in [("SS", "S"), ("NS", "N"), ("BS", "B")] {
        if let (Some(Value::Array(items)), Some(v)) = (haystack.get(set), needle.get(scalar)) {
            return items.contains(v);
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
        json!({"id": {"S": "a-1"}, "n": {"N": "5"}, "m": {"M": {"x": {"S": "y"}}}})
            .as_object()
            .cloned()
            .unwrap()
    }

    fn check(expression: &str, names: Value, values: Value) -> Result<bool, DdbError> {
        let c = Condition::parse(
            expression,
            names.as_object().unwrap(),
            values.as_object().unwrap(),
        )?;
        Ok(c.matches(Some(&item())))
    }

    #[test]
    fn functions_comparisons_and_logic() {
        assert!(!check("attribute_not_exists(#k)", json!({"#k": "id"}), json!({})).unwrap());
        assert!(check("attribute_not_exists(other)", json!({}), json!({})).unwrap());
        assert!(check("attribute_exists(m.x)", json!({}), json!({})).unwrap());
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
        assert!(Condition::attribute_not_exists("id").matches(None));
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(check("attribute_not_exists(#k)", json!({}), json!({})).is_err());
        assert!(check("n = :missing", json!({}), json!({})).is_err());
        assert!(check("n = ", json!({}), json!({})).is_err());
        assert!(check("size(n) > :a", json!({}), json!({":a": {"N": "1"}})).is_err());
        assert!(check("n = :a extra", json!({}), json!({":a": {"N": "1"}})).is_err());
        assert!(check("$$$", json!({}), json!({})).is_err());
    }
}
