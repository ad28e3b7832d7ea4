//! Inventory documents: counts, adjustments and stockout reports.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::opt_text;
use crate::ids::{DocumentNumber, ItemRef, LocationId};
use crate::money::{Money, Quantity};
use crate::validate::{Checker, Path};

/// How much of the location a count covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountScope {
    /// A cycle count of a few items.
    Cycle,
    /// A full stock-take of the location.
    Full,
}

/// A physical count of stock at a location. Counted quantities replace the stock on hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryCount {
    /// The count number.
    pub count_number: DocumentNumber,
    /// Where stock was counted.
    pub location: LocationId,
    /// Cycle count or full stock-take.
    pub scope: CountScope,
    /// Who counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_by: Option<String>,
    /// The counted items.
    pub lines: Vec<CountLine>,
}

/// One counted item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountLine {
    /// The item.
    pub item: ItemRef,
    /// The quantity found.
    pub counted: Quantity,
}

impl InventoryCount {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.count_number.check(c, &p.field("count_number"));
        self.location.check(c, &p.field("location"));
        opt_text(c, &p.field("counted_by"), &self.counted_by);
        c.non_empty(&p.field("lines"), &self.lines, "a count");
        let mut seen = std::collections::HashSet::new();
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.counted.check_non_negative(c, &lp.field("counted"));
            if !seen.insert(l.item.key()) {
                c.error(&lp.field("item"), "the item is counted twice in one count".to_owned());
            }
        }
    }
}

/// Why stock was adjusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    /// Damaged goods taken out of stock.
    Damaged,
    /// Out-of-date goods taken out of stock.
    Expired,
    /// Known theft.
    Theft,
    /// Unexplained loss.
    Shrink,
    /// Stock found that was not on record.
    Found,
    /// A correction of an earlier error.
    Correction,
    /// A write-off approved by finance.
    WriteOff,
    /// Sold, as seen by the store's own tracking (an RFID exit read), not by a till: tills report
    /// sales as `pos.sale`, which is what demand is measured from.
    Sold,
    /// Taken back from a customer, as seen by the store's own tracking.
    Returned,
    /// Any other reason.
    Other,
}

/// A change to stock on hand outside sales, receipts and transfers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryAdjustment {
    /// The adjustment number.
    pub adjustment_number: DocumentNumber,
    /// Where stock changed.
    pub location: LocationId,
    /// Why.
    pub reason: AdjustmentReason,
    /// Who approved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The adjusted items.
    pub lines: Vec<AdjustmentLine>,
}

/// One adjusted item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentLine {
    /// The item.
    pub item: ItemRef,
    /// The change: negative takes stock out, positive adds it.
    pub delta: Quantity,
    /// The cost per unit, for valuing the adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Money>,
}

impl InventoryAdjustment {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.adjustment_number.check(c, &p.field("adjustment_number"));
        self.location.check(c, &p.field("location"));
        opt_text(c, &p.field("approved_by"), &self.approved_by);
        c.non_empty(&p.field("lines"), &self.lines, "an adjustment");
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.delta.check(c, &lp.field("delta"));
            if l.delta.value.is_zero() {
                c.error(&lp.field("delta").field("value"), "an adjustment of zero changes nothing".to_owned());
            }
            if let Some(m) = &l.unit_cost {
                m.check(c, &lp.field("unit_cost"));
            }
        }
    }
}

/// A report that an item is missing from the shelf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StockoutReport {
    /// The store.
    pub location: LocationId,
    /// The missing item.
    pub item: ItemRef,
    /// Who reported it (an associate, a shelf camera, an ecommerce pick failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    /// What was on the shelf when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelf_quantity: Option<Quantity>,
    /// What the system showed on hand when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_quantity: Option<Quantity>,
    /// A note from the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl StockoutReport {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.location.check(c, &p.field("location"));
        self.item.check(c, &p.field("item"));
        opt_text(c, &p.field("reported_by"), &self.reported_by);
        if let Some(q) = &self.shelf_quantity {
            q.check_non_negative(c, &p.field("shelf_quantity"));
        }
        if let Some(q) = &self.system_quantity {
            q.check(c, &p.field("system_quantity"));
        }
        opt_text(c, &p.field("note"), &self.note);
    }
}
