//! Identifier newtypes.
//!
//! Identifiers accept any string when deserialised; what makes one valid (length, characters,
//! GTIN check digit) is checked by [`crate::validate_event`] so that every problem in a document is
//! reported at once, each with its JSON path.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::validate::{Checker, Path};

/// Characters allowed in codes that name things (locations, SKUs, suppliers, documents).
pub(crate) const CODE_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._:/#+-]*$";
/// Longest accepted code.
pub(crate) const CODE_MAX: usize = 64;

fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    s.len() <= CODE_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '#' | '+' | '-'))
}

macro_rules! code_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub(crate) fn check(&self, c: &mut Checker, path: &Path<'_>) {
                if !is_code(&self.0) {
                    c.error(
                        path,
                        format!(
                            concat!("{:?} is not a valid ", $what, ": use 1 to {} letters, digits or . _ : / # + -, starting with a letter or digit"),
                            self.0, CODE_MAX
                        ),
                    );
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "description": concat!("A ", $what, "."),
                    "minLength": 1,
                    "maxLength": CODE_MAX,
                    "pattern": CODE_PATTERN,
                })
            }
        }
    };
}

code_newtype!(
    /// A location code: a store, a distribution centre, or a node of the hierarchy above them.
    LocationId,
    "location code"
);
code_newtype!(
    /// A retailer's stock-keeping unit code.
    Sku,
    "SKU"
);
code_newtype!(
    /// A supplier code as known in the ERP.
    SupplierId,
    "supplier code"
);
code_newtype!(
    /// A customer or loyalty-account code.
    CustomerId,
    "customer code"
);
code_newtype!(
    /// The number of a business document (purchase order, receipt, invoice, transfer, …).
    DocumentNumber,
    "document number"
);

/// A GS1 Global Trade Item Number: 8, 12, 13 or 14 digits with a valid check digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Gtin(pub String);

impl Gtin {
    /// Whether the digits and check digit form a valid GTIN-8/12/13/14.
    pub fn is_valid(&self) -> bool {
        let s = self.0.as_bytes();
        if !matches!(s.len(), 8 | 12 | 13 | 14) || !s.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let (body, check) = s.split_at(s.len() - 1);
        let sum: u32 =
            body.iter().rev().enumerate().map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
        (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
    }

    /// The GTIN zero-padded to 14 digits, so that a GTIN-13 and its GTIN-14 form compare equal.
    pub fn to_gtin14(&self) -> String {
        format!("{:0>14}", self.0)
    }
}

impl JsonSchema for Gtin {
    fn schema_name() -> Cow<'static, str> {
        "Gtin".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A GS1 GTIN-8, GTIN-12, GTIN-13 or GTIN-14 with a valid check digit.",
            "pattern": "^([0-9]{8}|[0-9]{12,14})$",
        })
    }
}

/// How an event names an item: by GTIN, by SKU, or both. At least one is required.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRef {
    /// The GS1 GTIN printed on the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<Gtin>,
    /// The retailer's SKU code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
}

impl ItemRef {
    /// An item known by its SKU.
    pub fn sku(sku: &str) -> Self {
        Self { gtin: None, sku: Some(Sku::from(sku)) }
    }

    /// An item known by its GTIN.
    pub fn gtin(gtin: &str) -> Self {
        Self { gtin: Some(Gtin(gtin.to_owned())), sku: None }
    }

    /// The key under which projections keep this item: the GTIN-14 when a GTIN is given,
    /// otherwise the SKU.
    pub fn key(&self) -> ItemKey {
        match (&self.gtin, &self.sku) {
            (Some(g), _) => ItemKey(g.to_gtin14()),
            (None, Some(s)) => ItemKey(s.0.clone()),
            (None, None) => ItemKey(String::new()),
        }
    }

    pub(crate) fn check(&self, c: &mut Checker, path: &Path<'_>) {
        if self.gtin.is_none() && self.sku.is_none() {
            c.error(path, "an item needs a gtin, a sku, or both".to_owned());
        }
        if let Some(g) = &self.gtin
            && !g.is_valid()
        {
            c.error(
                &path.field("gtin"),
                format!("{:?} is not a valid GTIN: expected 8, 12, 13 or 14 digits ending in the GS1 check digit", g.0),
            );
        }
        if let Some(s) = &self.sku {
            s.check(c, &path.field("sku"));
        }
    }
}

/// The normalised key of an item in projections and queries (see [`ItemRef::key`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ItemKey(pub String);

impl ItemKey {
    /// Normalises a user-supplied item filter: a valid GTIN becomes its GTIN-14, anything else
    /// is taken as a SKU.
    pub fn parse(s: &str) -> Self {
        let g = Gtin(s.to_owned());
        if g.is_valid() { ItemKey(g.to_gtin14()) } else { ItemKey(s.to_owned()) }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digits() {
        assert!(Gtin("4006381333931".into()).is_valid());
        assert!(Gtin("96385074".into()).is_valid());
        assert!(Gtin("036000291452".into()).is_valid());
        assert!(Gtin("10614141000415".into()).is_valid());
        assert!(!Gtin("4006381333932".into()).is_valid());
        assert!(!Gtin("40063813339".into()).is_valid());
        assert!(!Gtin("40063813339a1".into()).is_valid());
    }

    #[test]
    fn item_keys_normalise_gtins() {
        assert_eq!(ItemRef::gtin("4006381333931").key().0, "04006381333931");
        assert_eq!(ItemKey::parse("4006381333931").0, "04006381333931");
        assert_eq!(ItemKey::parse("SKU-1").0, "SKU-1");
        assert_eq!(ItemRef::sku("SKU-1").key(), ItemKey::parse("SKU-1"));
    }
}
