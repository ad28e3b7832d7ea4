//! How JSON values from an evaluation context compare: numbers as exact decimals.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};

/// `null`, for inputs that the context does not have.
pub(crate) static NULL: Value = Value::Null;

/// The exact decimal value of a JSON number, if it fits a [`Decimal`].
pub(crate) fn number_to_decimal(number: &Number) -> Option<Decimal> {
    if let Some(i) = number.as_i64() {
        return Some(Decimal::from(i));
    }
    if let Some(u) = number.as_u64() {
        return Some(Decimal::from(u));
    }
    let text = number.to_string();
    if text.contains(['e', 'E']) { Decimal::from_scientific(&text).ok() } else { Decimal::from_str(&text).ok() }
}

/// The decimal value of a numeric string written like a FEEL number: an optional `-`, digits, and
/// an optional fraction (`12.50`, `-3`, `.5`). Anything else (spaces, exponents, `+`) is not numeric.
pub(crate) fn numeric_string(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let valid = all_digits(whole)
        && match fraction {
            Some(f) => !f.is_empty() && all_digits(f),
            None => !whole.is_empty(),
        };
    if valid { Decimal::from_str(text).ok() } else { None }
}

/// The decimal value of a JSON value that is a number or a numeric string.
pub(crate) fn as_decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => number_to_decimal(n),
        Value::String(s) => numeric_string(s),
        _ => None,
    }
}

/// A decimal as a JSON number, without trailing zeros in the fraction (`4.50` becomes `4.5`).
pub(crate) fn decimal_to_json(value: Decimal) -> Value {
    let text = value.normalize().to_string();
    match Number::from_str(&text) {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text),
    }
}

/// Writes numbers in one canonical form, so that `10.00` from DMN text and `10.0` from YAML are
/// the same JSON value. Numbers too large for a decimal, and all other values, are kept as they are.
pub(crate) fn canonical(value: Value) -> Value {
    match value {
        Value::Number(n) => match number_to_decimal(&n) {
            Some(d) => decimal_to_json(d),
            None => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, canonical(v))).collect()),
        other => other,
    }
}

/// Equality as the decision tables see it: numbers (and numeric strings) by decimal value.
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), _) | (_, Value::Number(_)) => match (as_decimal(a), as_decimal(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => a == b,
    }
}

/// The value of an input in the context: the entry with exactly that key, else, for a dotted name
/// such as `order.total`, the path through nested objects; `null` when there is none.
pub(crate) fn lookup<'a>(context: &'a Map<String, Value>, name: &str) -> &'a Value {
    if let Some(value) = context.get(name) {
        return value;
    }
    let mut parts = name.split('.');
    let Some(first) = parts.next() else {
        return &NULL;
    };
    let mut current = match context.get(first) {
        Some(v) if name.contains('.') => v,
        _ => return &NULL,
    };
    for part in parts {
        match current.get(part) {
            Some(next) => current = next,
            None => return &NULL,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_strings_are_feel_numbers_only() {
        assert_eq!(numeric_string("12.50"), Some(Decimal::new(1250, 2)));
        assert_eq!(numeric_string("-3"), Some(Decimal::from(-3)));
        assert_eq!(numeric_string(".5"), Some(Decimal::new(5, 1)));
        for text in ["", "-", ".", "1.", "1e3", "+1", " 1", "1 ", "1_000", "abc", "--1"] {
            assert_eq!(numeric_string(text), None, "{text:?}");
        }
    }

    #[test]
    fn numbers_become_canonical_decimals() {
        assert_eq!(canonical(json!(10.0)), json!(10));
        assert_eq!(decimal_to_json(Decimal::new(450, 2)), json!(4.5));
        assert!(same_value(&json!(5), &json!(5.0)));
        assert!(same_value(&json!("5.00"), &json!(5)));
        assert!(!same_value(&json!("5"), &json!("5.0")));
    }

    #[test]
    fn dotted_names_reach_into_objects() {
        let context = json!({"order": {"total": 12}, "a.b": 1});
        let context = context.as_object().unwrap();
        assert_eq!(lookup(context, "order.total"), &json!(12));
        assert_eq!(lookup(context, "a.b"), &json!(1));
        assert_eq!(lookup(context, "order.missing"), &Value::Null);
        assert_eq!(lookup(context, "order"), &json!({"total": 12}));
        assert_eq!(lookup(context, "nothing"), &Value::Null);
    }
}
