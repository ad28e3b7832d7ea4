//! The retail documents carried by events.
//!
//! Each document checks its own business rules in a `check` method that reports every problem
//! with its JSON path; structural rules (types, required fields) come from its JSON Schema.

mod inventory;
mod logistics;
mod orders;
mod promotions;
mod purchasing;
mod sales;
mod transfers;

pub use inventory::*;
pub use logistics::*;
pub use orders::*;
pub use promotions::*;
pub use purchasing::*;
pub use sales::*;
pub use transfers::*;

use crate::money::Money;
use crate::validate::{Checker, Path};

/// Longest free-text field (notes, comments, names) accepted.
pub(crate) const TEXT_MAX: usize = 2000;

/// Reports an amount whose currency differs from the document's currency.
pub(crate) fn same_currency(c: &mut Checker, path: &Path<'_>, money: &Money, currency: &crate::Currency) {
    money.check(c, path);
    if money.currency != *currency {
        c.error(
            &path.field("currency"),
            format!("currency {} differs from the document currency {}", money.currency, currency),
        );
    }
}

/// Checks optional free text.
pub(crate) fn opt_text(c: &mut Checker, path: &Path<'_>, value: &Option<String>) {
    if let Some(v) = value {
        c.text(path, v, TEXT_MAX);
    }
}
