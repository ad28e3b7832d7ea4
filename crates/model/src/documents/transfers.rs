//! Stock transfers between locations.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::opt_text;
use crate::ids::{DocumentNumber, ItemRef, LocationId};
use crate::money::Quantity;
use crate::validate::Checker;

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
    pub(crate) fn check(&self, c: &mut Checker, p: &str) {
        self.transfer_number.check(c, &format!("{p}.transfer_number"));
        self.from.check(c, &format!("{p}.from"));
        self.to.check(c, &format!("{p}.to"));
        if self.from == self.to {
            c.error(
                &format!("{p}.to"),
                format!("a transfer must go to another location than its origin {}", self.from),
            );
        }
        opt_text(c, &format!("{p}.reason"), &self.reason);
        c.non_empty(&format!("{p}.lines"), &self.lines, "a transfer");
        c.unique_lines(&format!("{p}.lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp = format!("{p}.lines[{i}]");
            l.item.check(c, &format!("{lp}.item"));
            l.quantity.check_non_negative(c, &format!("{lp}.quantity"));
        }
    }
}
