//! Stock transfers between locations.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::opt_text;
use crate::ids::{DocumentNumber, ItemRef, LocationId};
use crate::money::Quantity;
use crate::validate::{Checker, Path};

/// A transfer of stock from one location to another. The same document is carried by
/// `transfer.requested`, `transfer.shipped` (quantities shipped) and `transfer.received`
/// (quantities received).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The transfer number.
    pub transfer_number: DocumentNumber,
    /// The origin.
    pub from: LocationId,
    /// The destination.
    pub to: LocationId,
    /// The day the goods are expected at the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_on: Option<NaiveDate>,
    /// Why the transfer is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The transferred lines.
    pub lines: Vec<TransferLine>,
}

/// One line of a transfer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLine {
    /// The line number, unique within the transfer.
    pub line: u32,
    /// The item.
    pub item: ItemRef,
    /// The quantity requested, shipped or received (per the event type).
    pub quantity: Quantity,
}

impl Transfer {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.transfer_number.check(c, &p.field("transfer_number"));
        self.from.check(c, &p.field("from"));
        self.to.check(c, &p.field("to"));
        if self.from == self.to {
            c.error(&p.field("to"), format!("a transfer must go to another location than its origin {}", self.from));
        }
        opt_text(c, &p.field("reason"), &self.reason);
        c.non_empty(&p.field("lines"), &self.lines, "a transfer");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_non_negative(c, &lp.field("quantity"));
        }
    }
}
