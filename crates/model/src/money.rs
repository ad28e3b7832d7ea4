//! Money and quantities: decimal amounts with their currency or unit, never floating point.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::validate::{Checker, Path};

/// Most decimal places a quantity may carry (grams of a kilogram need three).
pub const QUANTITY_SCALE: u32 = 4;
/// Most decimal places a money amount may carry (unit prices of bulk goods need more than two).
pub const MONEY_SCALE: u32 = 6;
/// Largest absolute amount or quantity accepted.
const MAX_MAGNITUDE: i64 = 1_000_000_000_000;

/// JSON Schema of a decimal: a JSON number or a string of digits (strings keep every digit).
pub(crate) struct DecimalSchema;

impl JsonSchema for DecimalSchema {
    fn schema_name() -> Cow<'static, str> {
        "Decimal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A decimal number, as a JSON number or (preferred, exact) a string such as \"12.50\".",
            "type": ["string", "number"],
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
        })
    }
}

fn check_decimal(c: &mut Checker, path: &Path<'_>, value: &Decimal, scale: u32, what: &str) {
    if value.normalize().scale() > scale {
        c.error(path, format!("{what} {value} has more than {scale} decimal places"));
    }
    if value.abs() >= Decimal::from(MAX_MAGNITUDE) {
        c.error(path, format!("{what} {value} is out of range: must be below 10^12 in magnitude"));
    }
}

/// An ISO 4217 currency code such as `EUR`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(pub String);

impl Currency {
    /// Whether the code is an ISO 4217 currency (or fund, or precious-metal) code in use.
    pub fn is_known(&self) -> bool {
        ISO_4217.binary_search(&self.0.as_str()).is_ok()
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn check(&self, c: &mut Checker, path: &Path<'_>) {
        if !self.is_known() {
            c.error(path, format!("{:?} is not an ISO 4217 currency code (such as EUR, USD, GBP)", self.0));
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An ISO 4217 alphabetic currency code.",
            "pattern": "^[A-Z]{3}$",
        })
    }
}

/// An amount of money in a currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// The amount; negative for credits.
    #[schemars(with = "DecimalSchema")]
    pub amount: Decimal,
    /// The ISO 4217 currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: &str) -> Self {
        Self { amount, currency: Currency(currency.to_owned()) }
    }

    pub(crate) fn check(&self, c: &mut Checker, path: &Path<'_>) {
        check_decimal(c, &path.field("amount"), &self.amount, MONEY_SCALE, "amount");
        self.currency.check(c, &path.field("currency"));
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// A UN/ECE Recommendation 20 unit-of-measure code (`EA` each, `C62` one, `KGM` kilogram, …).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitCode(pub String);

impl Default for UnitCode {
    fn default() -> Self {
        Self("EA".to_owned())
    }
}

impl UnitCode {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn check(&self, c: &mut Checker, path: &Path<'_>) {
        let ok =
            (2..=3).contains(&self.0.len()) && self.0.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            c.error(path, format!("{:?} is not a UN/ECE Rec 20 unit code (such as EA, C62, KGM, LTR, MTR)", self.0));
        }
    }
}

impl JsonSchema for UnitCode {
    fn schema_name() -> Cow<'static, str> {
        "UnitCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A UN/ECE Recommendation 20 unit code; defaults to EA (each).",
            "pattern": "^[A-Z0-9]{2,3}$",
        })
    }
}

/// A quantity in a unit of measure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    /// How many units.
    #[schemars(with = "DecimalSchema")]
    pub value: Decimal,
    /// The unit; `EA` when omitted.
    #[serde(default)]
    pub unit: UnitCode,
}

impl Quantity {
    /// A quantity of `value` each.
    pub fn each(value: Decimal) -> Self {
        Self { value, unit: UnitCode::default() }
    }

    pub(crate) fn check(&self, c: &mut Checker, path: &Path<'_>) {
        check_decimal(c, &path.field("value"), &self.value, QUANTITY_SCALE, "quantity");
        self.unit.check(c, &path.field("unit"));
    }

    /// Like [`Quantity::check`], and also refuses a negative value.
    pub(crate) fn check_non_negative(&self, c: &mut Checker, path: &Path<'_>) {
        self.check(c, path);
        if self.value.is_sign_negative() && !self.value.is_zero() {
            c.error(&path.field("value"), format!("quantity {} must not be negative", self.value));
        }
    }

    /// Like [`Quantity::check`], and also refuses zero or a negative value.
    pub(crate) fn check_positive(&self, c: &mut Checker, path: &Path<'_>) {
        self.check(c, path);
        if self.value <= Decimal::ZERO {
            c.error(&path.field("value"), format!("quantity {} must be greater than zero", self.value));
        }
    }
}

/// ISO 4217 codes in use, sorted for binary search.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF",
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA",
    "XXX", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_table_is_sorted() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
        assert!(Currency("EUR".into()).is_known());
        assert!(!Currency("EURO".into()).is_known());
        assert!(!Currency("ABC".into()).is_known());
    }
}
