//! Text templates with `{Column}` placeholders, plain decimals and decimal expressions.

use std::fmt;

use rust_decimal::Decimal;

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text copied as is.
    Literal(String),
    /// The text of the named column's cell.
    Column(String),
}

/// A text with `{Column}` placeholders; `{{` and `}}` stand for literal braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    /// The pieces, in order.
    pub(crate) parts: Vec<Part>,
    /// The template as written in the mapping, for error messages.
    pub(crate) source: String,
}

impl Template {
    /// Parses a template, or says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, n) in chars.by_ref() {
                        match n {
                            '}' => {
                                closed = true;
                                break;
                            }
                            '{' => {
                                return Err(format!(
                                    "placeholder at character {} of {text:?} contains `{{`; a placeholder is \
                                     {{Column}} with the column name between single braces",
                                    at + 1
                                ));
                            }
                            other => name.push(other),
                        }
                    }
                    if !closed {
                        return Err(format!(
                            "placeholder at character {} of {text:?} is not closed with `}}`; write {{Column}}, or \
                             `{{{{` for a literal brace",
                            at + 1
                        ));
                    }
                    if name.trim().is_empty() {
                        return Err(format!(
                            "empty placeholder `{{}}` in {text:?}; write the column name between the braces, such \
                             as {{InvoiceNo}}"
                        ));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Column(name));
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(format!(
                        "unmatched `}}` at character {} of {text:?}; write `}}}}` for a literal brace",
                        at + 1
                    ));
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Self { parts, source: text.to_owned() })
    }

    /// The column when the template is exactly one placeholder and nothing else.
    pub(crate) fn single_column(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Column(c)] => Some(c),
            _ => None,
        }
    }

    /// The columns the template names, in order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Column(c) => Some(c.as_str()),
            Part::Literal(_) => None,
        })
    }
}

/// A product of one or two templates, each of which must render to a plain decimal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DecimalExpr {
    /// The factors (one or two).
    pub(crate) factors: Vec<Template>,
    /// The expression as written in the mapping.
    pub(crate) source: String,
}

impl DecimalExpr {
    /// Parses `{A}` or `{A} * {B}` (the factors may also be constants such as `100`).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        // Split at `*` outside placeholders.
        let mut pieces = vec![String::new()];
        let mut depth = false;
        for c in text.chars() {
            match c {
                '{' => depth = true,
                '}' => depth = false,
                _ => {}
            }
            if c == '*' && !depth {
                pieces.push(String::new());
            } else if let Some(last) = pieces.last_mut() {
                last.push(c);
            }
        }
        if pieces.len() > 2 {
            return Err(format!(
                "{text:?} multiplies more than two factors; a decimal expression is one template such as \
                 \"{{Quantity}}\" or two joined by ` * `, such as \"{{Quantity}} * {{UnitPrice}}\""
            ));
        }
        let mut factors = Vec::with_capacity(pieces.len());
        for piece in &pieces {
            let piece = piece.trim();
            if piece.is_empty() {
                return Err(format!(
                    "{text:?} has an empty factor; a decimal expression is one template such as \"{{Quantity}}\" \
                     or two joined by ` * `, such as \"{{Quantity}} * {{UnitPrice}}\""
                ));
            }
            let template = Template::parse(piece)?;
            if template.parts.iter().all(|p| matches!(p, Part::Literal(_))) {
                parse_decimal(piece).map_err(|e| format!("the constant factor {piece:?} of {text:?}: {e}"))?;
            }
            factors.push(template);
        }
        Ok(Self { factors, source: text.to_owned() })
    }
}

/// What a plain decimal looks like, for error messages.
pub(crate) const PLAIN_DECIMAL: &str = "a plain decimal number: digits with an optional leading minus sign and an \
     optional decimal point followed by digits, such as -12.5 or 3 (no thousands separators, currency symbols or \
     exponents)";

/// Why a text is not a plain decimal.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// The text is empty (after trimming spaces).
    Empty,
    /// The text is not of the accepted shape.
    Syntax,
    /// The number has too many digits to be represented exactly.
    OutOfRange,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::Empty => write!(f, "is empty; expected {PLAIN_DECIMAL}"),
            DecimalError::Syntax => write!(f, "expected {PLAIN_DECIMAL}"),
            DecimalError::OutOfRange => {
                f.write_str("has more than 28 significant digits and cannot be represented exactly")
            }
        }
    }
}

/// Parses a plain decimal (`-12.5`, `3`, `+0.25`), allowing spaces around it.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DecimalError::Empty);
    }
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return Err(DecimalError::Syntax);
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    Decimal::from_str_exact(t).map_err(|_| DecimalError::OutOfRange)
}

/// A decimal in its canonical text form: no trailing zeros, no exponent, `0` rather than `-0`.
pub(crate) fn decimal_text(d: Decimal) -> String {
    if d.is_zero() { "0".to_owned() } else { d.normalize().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_into_literals_and_columns() {
        let t = Template::parse("pos/{Store Code}-{Till}").unwrap();
        assert_eq!(
            t.parts,
            vec![
                Part::Literal("pos/".into()),
                Part::Column("Store Code".into()),
                Part::Literal("-".into()),
                Part::Column("Till".into()),
            ]
        );
        assert_eq!(t.single_column(), None);
        assert_eq!(Template::parse("{InvoiceNo}").unwrap().single_column(), Some("InvoiceNo"));
        assert_eq!(Template::parse("{{x}}").unwrap().parts, vec![Part::Literal("{x}".into())]);
        assert_eq!(Template::parse("").unwrap().parts, vec![]);
    }

    #[test]
    fn bad_templates_say_what_to_write() {
        assert!(Template::parse("{Invoice").unwrap_err().contains("not closed"));
        assert!(Template::parse("a{}b").unwrap_err().contains("empty placeholder"));
        assert!(Template::parse("a}b").unwrap_err().contains("unmatched"));
        assert!(Template::parse("{a{b}").unwrap_err().contains("contains `{`"));
    }

    #[test]
    fn plain_decimals_only() {
        assert_eq!(parse_decimal("-12.5"), Ok(Decimal::new(-125, 1)));
        assert_eq!(parse_decimal(" 3 "), Ok(Decimal::from(3)));
        assert_eq!(parse_decimal("+0.25"), Ok(Decimal::new(25, 2)));
        for bad in ["1,234.50", "1e5", "12.", ".5", "£3", "--1", "1.2.3", "NaN", "1_000", "- 1"] {
            assert_eq!(parse_decimal(bad), Err(DecimalError::Syntax), "{bad}");
        }
        assert_eq!(parse_decimal("  "), Err(DecimalError::Empty));
        assert_eq!(parse_decimal("123456789012345678901234567890123"), Err(DecimalError::OutOfRange));
        assert_eq!(parse_decimal("0.12345678901234567890123456789"), Err(DecimalError::OutOfRange));
    }

    #[test]
    fn decimal_text_is_canonical() {
        assert_eq!(decimal_text(Decimal::new(1530, 2)), "15.3");
        assert_eq!(decimal_text(Decimal::new(-0, 2)), "0");
        assert_eq!(decimal_text(Decimal::new(13912, 2)), "139.12");
        assert_eq!(decimal_text(Decimal::new(500, 2)), "5");
    }

    #[test]
    fn expressions_have_one_or_two_factors() {
        let e = DecimalExpr::parse("{Quantity} * {UnitPrice}").unwrap();
        assert_eq!(e.factors.len(), 2);
        assert_eq!(DecimalExpr::parse("{Quantity}*100").unwrap().factors.len(), 2);
        assert_eq!(DecimalExpr::parse("{Unit*Price}").unwrap().factors.len(), 1);
        assert!(DecimalExpr::parse("{a} * {b} * {c}").unwrap_err().contains("more than two"));
        assert!(DecimalExpr::parse("{a} * ").unwrap_err().contains("empty factor"));
        assert!(DecimalExpr::parse("{a} * 1,5").unwrap_err().contains("plain decimal"));
    }
}
