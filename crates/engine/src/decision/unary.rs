//! S-FEEL unary tests: the text in a rule's input cell, parsed and matched against a value.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use super::value::{as_decimal, decimal_to_json};

/// A literal value in a unary test or an output entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `null`: the input is missing or null.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number such as `500`, `-3` or `12.50`, kept as an exact decimal.
    Number(Decimal),
    /// A string in double quotes, such as `"store"`.
    String(String),
}

impl Literal {
    /// The literal as a JSON value (numbers without trailing zeros in the fraction).
    pub fn to_json(&self) -> Value {
        match self {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Number(n) => decimal_to_json(*n),
            Literal::String(s) => Value::String(s.clone()),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Literal::Null => "null",
            Literal::Bool(_) => "a boolean",
            Literal::Number(_) => "a number",
            Literal::String(_) => "a string",
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::String(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

/// A comparison operator of a unary test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

/// The test in one input cell of a rule (S-FEEL "simple unary tests").
///
/// | text | test |
/// | --- | --- |
/// | `-` | [`UnaryTest::Any`] |
/// | `"DC"`, `5000`, `true`, `null` | [`UnaryTest::Equals`] |
/// | `< 500`, `>= 5000` | [`UnaryTest::Compare`] |
/// | `[100..500)`, `]0..1]`, `("a".."m")` | [`UnaryTest::Range`] (`[`/`]` inclusive; `(`, `)`, `]` as start and `[` as end exclusive) |
/// | `"A", "B"`, `< 0, > 100` | [`UnaryTest::List`]: any of them |
/// | `not("X")`, `not([1..5], 9)` | [`UnaryTest::Not`] |
///
/// Numbers compare as exact decimals; an input that is a numeric string such as `"12.50"` counts as
/// a number. Strings compare by equality and by Unicode code point order, booleans by equality.
/// Testing a value of another type (a string against `< 500`) is not a match, not an error, and
/// neither is its negation: `not("X")` does not match `5`. A missing input is `null`, which only
/// `-` and `null` match (so `not(null)` means "present").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnaryTest {
    /// `-`: any value, including null.
    Any,
    /// `not(…)`: the value is comparable to the inner tests and matches none of them.
    Not(Box<UnaryTest>),
    /// A literal alone: the value equals it.
    Equals(Literal),
    /// `< 500`: the value compares so to a number or string.
    Compare(Op, Literal),
    /// `[low..high]` and its open variants: numbers or strings between two endpoints of one type.
    Range {
        /// The lower endpoint.
        low: Literal,
        /// Whether the lower endpoint itself matches (`[`).
        low_inclusive: bool,
        /// The upper endpoint.
        high: Literal,
        /// Whether the upper endpoint itself matches (`]`).
        high_inclusive: bool,
    },
    /// `a, b, c`: the value matches at least one of the tests.
    List(Vec<UnaryTest>),
}

impl UnaryTest {
    /// Whether `value` passes this test.
    pub fn matches(&self, value: &Value) -> bool {
        self.test(&Input::new(value)) == Some(true)
    }

    /// FEEL's three-valued result: `None` when the value cannot be compared with the test.
    pub(crate) fn test(&self, input: &Input<'_>) -> Option<bool> {
        match self {
            UnaryTest::Any => Some(true),
            UnaryTest::Not(inner) => inner.test(input).map(|b| !b),
            UnaryTest::Equals(Literal::Null) => Some(input.json.is_null()),
            UnaryTest::Equals(literal) => input.compare(literal).map(|o| o == Ordering::Equal),
            UnaryTest::Compare(op, literal) => match literal {
                Literal::Number(_) | Literal::String(_) => input.compare(literal).map(|o| op.holds(o)),
                Literal::Null | Literal::Bool(_) => None,
            },
            UnaryTest::Range { low, low_inclusive, high, high_inclusive } => {
                let above = input.compare(low)?;
                let below = input.compare(high)?;
                let low_ok = above == Ordering::Greater || (*low_inclusive && above == Ordering::Equal);
                let high_ok = below == Ordering::Less || (*high_inclusive && below == Ordering::Equal);
                Some(low_ok && high_ok)
            }
            UnaryTest::List(tests) => {
                let mut unknown = false;
                for test in tests {
                    match test.test(input) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(false) }
            }
        }
    }

    /// Every literal this test compares for equality, for checking them against allowed values.
    pub(crate) fn equality_literals(&self) -> Vec<&Literal> {
        let mut out = Vec::new();
        self.collect_equality_literals(&mut out);
        out
    }

    fn collect_equality_literals<'a>(&'a self, out: &mut Vec<&'a Literal>) {
        match self {
            UnaryTest::Equals(literal) => out.push(literal),
            UnaryTest::Not(inner) => inner.collect_equality_literals(out),
            UnaryTest::List(tests) => tests.iter().for_each(|t| t.collect_equality_literals(out)),
            UnaryTest::Any | UnaryTest::Compare(..) | UnaryTest::Range { .. } => {}
        }
    }
}

impl fmt::Display for UnaryTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnaryTest::Any => f.write_str("-"),
            UnaryTest::Not(inner) => write!(f, "not({inner})"),
            UnaryTest::Equals(literal) => write!(f, "{literal}"),
            UnaryTest::Compare(op, literal) => write!(f, "{op} {literal}"),
            UnaryTest::Range { low, low_inclusive, high, high_inclusive } => write!(
                f,
                "{}{low}..{high}{}",
                if *low_inclusive { '[' } else { '(' },
                if *high_inclusive { ']' } else { ')' }
            ),
            UnaryTest::List(tests) => {
                for (i, test) in tests.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{test}")?;
                }
                Ok(())
            }
        }
    }
}

/// An input value prepared for testing: its decimal value is worked out once.
pub(crate) struct Input<'a> {
    pub(crate) json: &'a Value,
    number: Option<Decimal>,
}

impl<'a> Input<'a> {
    pub(crate) fn new(json: &'a Value) -> Self {
        Input { json, number: as_decimal(json) }
    }

    /// How the input orders against a literal, or `None` when they are of different types.
    fn compare(&self, literal: &Literal) -> Option<Ordering> {
        match (literal, self.json) {
            (Literal::Number(n), _) => self.number.map(|x| x.cmp(n)),
            (Literal::String(s), Value::String(x)) => Some(x.as_str().cmp(s.as_str())),
            (Literal::Bool(b), Value::Bool(x)) => Some(x.cmp(b)),
            (Literal::Null, Value::Null) => Some(Ordering::Equal),
            _ => None,
        }
    }
}

/// Why a text is not a unary test, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {}: {message}", .offset + 1)]
pub struct ParseError {
    /// Where the problem is: the number of characters (not bytes) before it.
    pub offset: usize,
    /// What is wrong and what would be accepted.
    pub message: String,
}

/// Parses S-FEEL "simple unary tests", the text of a decision-table input cell: `-`, a literal
/// (`"DC"`, `5000`, `-2.5`, `true`, `null`), a comparison (`< 500`, `>= 5000`), a range
/// (`[100..500)`, `]0..1]`), a comma-separated list of these (any of them), or `not(…)` around a
/// list. Names of variables and date/time functions are not supported.
pub fn parse_unary_tests(text: &str) -> Result<UnaryTest, ParseError> {
    Parser::new(text, false).parse()
}

/// Like [`parse_unary_tests`], but a bare word such as `store` is read as the string `"store"`:
/// the convenience of the YAML format, where the table has no variables that a name could mean.
pub(crate) fn parse_unary_tests_lenient(text: &str) -> Result<UnaryTest, ParseError> {
    Parser::new(text, true).parse()
}

/// Parses an output entry: one literal, as DMN output entries and output values are written.
pub(crate) fn parse_literal(text: &str) -> Result<Literal, ParseError> {
    let mut parser = Parser::new(text, false);
    parser.skip_ws();
    let literal = parser.endpoint()?;
    parser.skip_ws();
    if let Some(c) = parser.peek() {
        return Err(parser.error_at(parser.pos, format!("unexpected `{c}` after the value: expected a single value")));
    }
    Ok(literal)
}

const EXPECTED_VALUE: &str = "expected a number, a string in double quotes, true, false or null";

struct Parser {
    chars: Vec<char>,
    pos: usize,
    bare_words: bool,
}

impl Parser {
    fn new(text: &str, bare_words: bool) -> Self {
        Parser { chars: text.chars().collect(), pos: 0, bare_words }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError { offset, message: message.into() }
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            Some(c) => format!("unexpected `{c}`"),
            None => "unexpected end of the test".to_owned(),
        }
    }

    fn parse(mut self) -> Result<UnaryTest, ParseError> {
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self.error_at(self.pos, "the test is empty: write `-` to match any value"));
        }
        if self.peek() == Some('-') && self.rest_is_blank(1) {
            return Ok(UnaryTest::Any);
        }
        let start = self.pos;
        if self.word_here() == "not" {
            self.pos += 3;
            self.skip_ws();
            if self.peek() == Some('(') {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some('-') && self.next_non_ws_after(1).is_none_or(|c| c == ')') {
                    return Err(self.error_at(self.pos, "`not(-)` matches nothing: `-` stands alone, for any value"));
                }
                let inner = self.positive_list()?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(self
                        .error_at(self.pos, format!("{}: expected `,` or `)` to close `not(`", self.describe_here())));
                }
                self.pos += 1;
                self.expect_end()?;
                return Ok(UnaryTest::Not(Box::new(inner)));
            }
            self.pos = start;
        }
        let tests = self.positive_list()?;
        self.expect_end()?;
        Ok(tests)
    }

    fn rest_is_blank(&self, from: usize) -> bool {
        self.chars[(self.pos + from).min(self.chars.len())..].iter().all(|c| c.is_whitespace())
    }

    fn next_non_ws_after(&self, from: usize) -> Option<char> {
        self.chars[(self.pos + from).min(self.chars.len())..].iter().copied().find(|c| !c.is_whitespace())
    }

    fn expect_end(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(self.error_at(
                self.pos,
                format!("unexpected `{c}`: expected `,` and another test, or the end of the text"),
            )),
        }
    }

    fn positive_list(&mut self) -> Result<UnaryTest, ParseError> {
        let mut tests = vec![self.positive()?];
        loop {
            self.skip_ws();
            if self.peek() != Some(',') {
                break;
            }
            self.pos += 1;
            tests.push(self.positive()?);
        }
        Ok(if tests.len() == 1 { tests.pop().unwrap_or(UnaryTest::Any) } else { UnaryTest::List(tests) })
    }

    fn positive(&mut self) -> Result<UnaryTest, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some('<' | '>') => {
                let op = match (self.peek(), self.peek_at(1)) {
                    (Some('<'), Some('=')) => Op::Le,
                    (Some('<'), _) => Op::Lt,
                    (_, Some('=')) => Op::Ge,
                    _ => Op::Gt,
                };
                self.pos += if matches!(op, Op::Le | Op::Ge) { 2 } else { 1 };
                self.skip_ws();
                let at = self.pos;
                let literal = self.endpoint()?;
                match literal {
                    Literal::Number(_) | Literal::String(_) => Ok(UnaryTest::Compare(op, literal)),
                    _ => Err(self.error_at(at, format!("`{op}` compares numbers or strings, not {}", literal.kind()))),
                }
            }
            Some('[' | '(' | ']') => self.range(),
            Some('-') if !self.peek_at(1).is_some_and(|c| c.is_ascii_digit() || c == '.') => {
                Err(self.error_at(start, "`-` (any value) must stand alone; it cannot be part of a list or `not(…)`"))
            }
            Some('=') => Err(self.error_at(start, "write the value alone to test for equality, without `=`")),
            Some('!') => Err(self.error_at(start, "`!=` is not S-FEEL: write `not(value)`")),
            _ => Ok(UnaryTest::Equals(self.endpoint()?)),
        }
    }

    fn range(&mut self) -> Result<UnaryTest, ParseError> {
        let start = self.pos;
        let low_inclusive = self.peek() == Some('[');
        self.pos += 1;
        self.skip_ws();
        let low = self.endpoint()?;
        self.skip_ws();
        if !(self.peek() == Some('.') && self.peek_at(1) == Some('.')) {
            return Err(self.error_at(
                self.pos,
                format!("{}: expected `..` between the two ends of a range like [1..5]", self.describe_here()),
            ));
        }
        self.pos += 2;
        self.skip_ws();
        let high = self.endpoint()?;
        self.skip_ws();
        let high_inclusive = match self.peek() {
            Some(']') => true,
            Some(')' | '[') => false,
            _ => {
                return Err(self.error_at(
                    self.pos,
                    format!("{}: expected `]` (inclusive) or `)` (exclusive) to close the range", self.describe_here()),
                ));
            }
        };
        self.pos += 1;
        match (&low, &high) {
            (Literal::Number(_), Literal::Number(_)) | (Literal::String(_), Literal::String(_)) => {
                Ok(UnaryTest::Range { low, low_inclusive, high, high_inclusive })
            }
            _ => Err(self.error_at(
                start,
                format!("a range needs two numbers or two strings, not {} and {}", low.kind(), high.kind()),
            )),
        }
    }

    /// The identifier-like word at the current position (empty if there is none).
    fn word_here(&self) -> String {
        let mut word = String::new();
        for (i, c) in self.chars[self.pos..].iter().enumerate() {
            let ok = if i == 0 { c.is_alphabetic() || *c == '_' } else { c.is_alphanumeric() || *c == '_' };
            if !ok {
                break;
            }
            word.push(*c);
        }
        word
    }

    fn endpoint(&mut self) -> Result<Literal, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => Err(self.error_at(start, format!("unexpected end of the test: {EXPECTED_VALUE}"))),
            Some('"') => self.string(),
            Some(c) if c.is_ascii_digit() => self.number(),
            Some('.' | '-') if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => self.number(),
            Some('-') if self.peek_at(1) == Some('.') && self.peek_at(2).is_some_and(|c| c.is_ascii_digit()) => {
                self.number()
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                let word = self.word_here();
                self.pos += word.chars().count();
                let after = self.pos;
                self.skip_ws();
                if self.peek() == Some('(') {
                    return Err(self.error_at(
                        start,
                        format!("`{word}(…)`: functions (such as date and time) are not supported; {EXPECTED_VALUE}"),
                    ));
                }
                self.pos = after;
                match word.as_str() {
                    "true" => Ok(Literal::Bool(true)),
                    "false" => Ok(Literal::Bool(false)),
                    "null" => Ok(Literal::Null),
                    _ if self.bare_words => {
                        let range_dots = self.peek() == Some('.') && self.peek_at(1) == Some('.');
                        if let Some(c) = self
                            .peek()
                            .filter(|c| !c.is_whitespace() && !",)][".contains(*c) && !range_dots)
                        {
                            return Err(self.error_at(
                                self.pos,
                                format!("unexpected `{c}` in `{word}…`: write a string with such characters in double quotes"),
                            ));
                        }
                        Ok(Literal::String(word))
                    }
                    _ => Err(self.error_at(
                        start,
                        format!("`{word}` is a name, and names are not supported: write a string in double quotes, \"{word}\""),
                    )),
                }
            }
            Some('\'') => Err(self.error_at(start, "strings are written in double quotes, not single quotes")),
            Some(c) => Err(self.error_at(start, format!("unexpected `{c}`: {EXPECTED_VALUE}"))),
        }
    }

    fn number(&mut self) -> Result<Literal, ParseError> {
        let start = self.pos;
        let mut text = String::new();
        if self.peek() == Some('-') {
            text.push('-');
            self.pos += 1;
        }
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            text.push(c);
            self.pos += 1;
        }
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            text.push('.');
            self.pos += 1;
            while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                text.push(c);
                self.pos += 1;
            }
        }
        if let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            return Err(self.error_at(self.pos, format!("unexpected `{c}` after the number {text}")));
        }
        Decimal::from_str(&text).map(Literal::Number).map_err(|_| {
            self.error_at(start, format!("the number {text} has more than 28 significant digits or is too large"))
        })
    }

    fn string(&mut self) -> Result<Literal, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(start, "the string has no closing `\"`"));
            };
            self.pos += 1;
            match c {
                '"' => return Ok(Literal::String(out)),
                '\\' => {
                    let at = self.pos - 1;
                    let Some(e) = self.peek() else {
                        return Err(self.error_at(start, "the string has no closing `\"`"));
                    };
                    self.pos += 1;
                    match e {
                        '"' => out.push('"'),
                        '\'' => out.push('\''),
                        '\\' => out.push('\\'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => out.push(self.unicode_escape(at)?),
                        other => {
                            return Err(self.error_at(
                                at,
                                format!("`\\{other}` is not an escape: use \\\", \\\\, \\n, \\r, \\t or \\uXXXX"),
                            ));
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self, at: usize) -> Result<u32, ParseError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.error_at(at, "`\\u` must be followed by four hexadecimal digits"))?;
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }

    fn unicode_escape(&mut self, at: usize) -> Result<char, ParseError> {
        let first = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.peek() == Some('\\') && self.peek_at(1) == Some('u') {
                self.pos += 2;
                let second = self.hex4(at)?;
                if !(0xDC00..0xE000).contains(&second) {
                    return Err(self.error_at(at, "a high surrogate must be followed by a low surrogate"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else {
                return Err(self.error_at(at, "a high surrogate must be followed by a low surrogate"));
            }
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error_at(at, "`\\u` escape is not a Unicode character"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(n: i64) -> Literal {
        Literal::Number(Decimal::from(n))
    }

    fn s(text: &str) -> Literal {
        Literal::String(text.to_owned())
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse_unary_tests("-").unwrap(), UnaryTest::Any);
        assert_eq!(parse_unary_tests("  -  ").unwrap(), UnaryTest::Any);
        assert_eq!(parse_unary_tests("\"DC\"").unwrap(), UnaryTest::Equals(s("DC")));
        assert_eq!(parse_unary_tests("5000").unwrap(), UnaryTest::Equals(num(5000)));
        assert_eq!(parse_unary_tests("-5").unwrap(), UnaryTest::Equals(num(-5)));
        assert_eq!(parse_unary_tests("-.5").unwrap(), UnaryTest::Equals(Literal::Number(Decimal::new(-5, 1))));
        assert_eq!(parse_unary_tests("true").unwrap(), UnaryTest::Equals(Literal::Bool(true)));
        assert_eq!(parse_unary_tests("null").unwrap(), UnaryTest::Equals(Literal::Null));
        assert_eq!(parse_unary_tests("< 500").unwrap(), UnaryTest::Compare(Op::Lt, num(500)));
        assert_eq!(parse_unary_tests(">=5000").unwrap(), UnaryTest::Compare(Op::Ge, num(5000)));
        assert_eq!(
            parse_unary_tests("[100..500)").unwrap(),
            UnaryTest::Range { low: num(100), low_inclusive: true, high: num(500), high_inclusive: false }
        );
        assert_eq!(
            parse_unary_tests("]0..1]").unwrap(),
            UnaryTest::Range { low: num(0), low_inclusive: false, high: num(1), high_inclusive: true }
        );
        assert_eq!(
            parse_unary_tests("[1..5[").unwrap(),
            UnaryTest::Range { low: num(1), low_inclusive: true, high: num(5), high_inclusive: false }
        );
        assert_eq!(
            parse_unary_tests("\"A\",\"B\"").unwrap(),
            UnaryTest::List(vec![UnaryTest::Equals(s("A")), UnaryTest::Equals(s("B"))])
        );
        assert_eq!(parse_unary_tests("not(\"X\")").unwrap(), UnaryTest::Not(Box::new(UnaryTest::Equals(s("X")))));
        assert_eq!(
            parse_unary_tests("not ( [1..5], > 10 )").unwrap(),
            UnaryTest::Not(Box::new(UnaryTest::List(vec![
                UnaryTest::Range { low: num(1), low_inclusive: true, high: num(5), high_inclusive: true },
                UnaryTest::Compare(Op::Gt, num(10)),
            ])))
        );
        assert_eq!(parse_unary_tests(r#""a\"b\\c\u00e9\ud83d\ude00""#).unwrap(), UnaryTest::Equals(s("a\"b\\cé😀")));
    }

    #[test]
    fn bare_words_are_strings_only_when_lenient() {
        assert_eq!(parse_unary_tests_lenient("store").unwrap(), UnaryTest::Equals(s("store")));
        assert_eq!(
            parse_unary_tests_lenient("store, online").unwrap(),
            UnaryTest::List(vec![UnaryTest::Equals(s("store")), UnaryTest::Equals(s("online"))])
        );
        assert_eq!(
            parse_unary_tests_lenient("not(store)").unwrap(),
            UnaryTest::Not(Box::new(UnaryTest::Equals(s("store"))))
        );
        assert_eq!(parse_unary_tests_lenient("true").unwrap(), UnaryTest::Equals(Literal::Bool(true)));
        let err = parse_unary_tests("store").unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(err.message.contains("\"store\""), "{err}");
        assert_eq!(
            parse_unary_tests_lenient("[a..m)").unwrap(),
            UnaryTest::Range { low: s("a"), low_inclusive: true, high: s("m"), high_inclusive: false }
        );
        let err = parse_unary_tests_lenient("DC-01").unwrap_err();
        assert_eq!(err.offset, 2);
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            ("", 0, "empty"),
            ("[5..", 4, "end of the test"),
            ("[5..7", 5, "close the range"),
            ("[5 7]", 3, "`..`"),
            ("< true", 2, "numbers or strings"),
            ("[1..\"b\"]", 0, "two numbers or two strings"),
            ("\"open", 0, "closing"),
            ("- , 5", 0, "stand alone"),
            ("5, -", 3, "stand alone"),
            ("not(-)", 4, "matches nothing"),
            ("date(\"2024-01-01\")", 0, "functions"),
            ("12abc", 2, "after the number"),
            ("1 2", 2, "expected `,`"),
            ("!= 5", 0, "not(value)"),
            ("'x'", 0, "double quotes"),
            ("99999999999999999999999999999999", 0, "28 significant digits"),
            ("\"\\q\"", 1, "not an escape"),
            ("not(1", 5, "close `not(`"),
        ];
        for (text, offset, needle) in cases {
            let err = parse_unary_tests(text).unwrap_err();
            assert_eq!(err.offset, offset, "{text:?}: {err}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "-",
            "\"DC\"",
            "< 500",
            ">= 5000",
            "[100..500)",
            "(0..1]",
            "not(\"X\", \"Y\")",
            "\"A\", \"B\"",
            "12.50",
            "null",
            "\"tab\\there\"",
        ] {
            let test = parse_unary_tests(text).unwrap();
            assert_eq!(test.to_string(), text);
            assert_eq!(parse_unary_tests(&test.to_string()).unwrap(), test);
        }
    }

    #[test]
    fn matching_follows_feel() {
        let t = |text: &str, value: Value| parse_unary_tests(text).unwrap().matches(&value);
        assert!(t("[100..500)", json!(100)));
        assert!(t("[100..500)", json!(499.99)));
        assert!(!t("[100..500)", json!(500)));
        assert!(t("[100..500)", json!("250.00")), "numeric strings compare as numbers");
        assert!(!t("[100..500)", json!("abc")));
        assert!(t("< 500", json!(-1)));
        assert!(t("\"DC\"", json!("DC")));
        assert!(!t("\"DC\"", json!("dc")));
        assert!(t("[\"a\"..\"m\"]", json!("kiwi")));
        assert!(!t("[\"a\"..\"m\"]", json!("zebra")));
        assert!(t("not(\"X\")", json!("Y")));
        assert!(!t("not(\"X\")", json!("X")));
        assert!(!t("not(\"X\")", json!(5)), "incomparable stays unmatched under not");
        assert!(!t("not(\"X\")", Value::Null), "a missing input matches only - and null");
        assert!(t("null", Value::Null));
        assert!(!t("null", json!(0)));
        assert!(t("not(null)", json!(0)));
        assert!(!t("not(null)", Value::Null));
        assert!(t("-", Value::Null));
        assert!(!t("< 5", Value::Null));
        assert!(t("true", json!(true)));
        assert!(!t("true", json!("true")));
        assert!(t("5", json!(5.0)));
        assert!(t("\"A\", 5", json!(5)));
        assert!(t("\"A\", 5", json!("A")));
        assert!(!t("\"A\", 5", json!(true)));
        assert!(t("not(< 0, > 100)", json!(50)));
        assert!(!t("not(< 0, > 100)", json!(150)));
    }

    #[test]
    fn output_literals() {
        assert_eq!(parse_literal(" \"auto\" ").unwrap(), s("auto"));
        assert_eq!(parse_literal("-4.50").unwrap(), Literal::Number(Decimal::new(-450, 2)));
        assert!(parse_literal("\"a\", \"b\"").is_err());
        assert!(parse_literal("< 5").is_err());
        assert_eq!(Literal::Number(Decimal::new(450, 2)).to_json(), json!(4.5));
    }
}
