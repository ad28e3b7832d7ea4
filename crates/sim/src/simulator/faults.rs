//! Labelled faults: the ground truth that anomaly and classification models are scored against.

use serde::{Deserialize, Serialize};

/// A kind of fault the simulator injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A cycle count that differs from the true stock.
    Miscount,
    /// Stock that vanished without a record; the event is the count that shows it.
    Shrink,
    /// A promotion whose demand outran the stock sent for it; the event is the stockout report.
    PromotionStockout,
    /// A goods receipt with less than the despatch advice and purchase order announced.
    ShortShipment,
    /// An invoice unit price that differs from the purchase-order price.
    InvoicePriceMismatch,
    /// An invoiced quantity above the received quantity.
    InvoiceQuantityMismatch,
    /// The same invoice (supplier, number, amount) sent again under a new event id.
    DuplicateInvoice,
    /// An invoice that arrived before its goods receipt was posted.
    InvoiceBeforeReceipt,
    /// A return naming a till transaction that does not exist.
    ReturnWithoutSale,
    /// A return of more than was bought.
    OverLimitRefund,
    /// An online order reported late against its promised time.
    LateFulfilment,
    /// An online order whose fulfilment failed.
    FailedFulfilment,
}

impl FaultKind {
    /// Every kind of fault.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::Miscount,
        FaultKind::Shrink,
        FaultKind::PromotionStockout,
        FaultKind::ShortShipment,
        FaultKind::InvoicePriceMismatch,
        FaultKind::InvoiceQuantityMismatch,
        FaultKind::DuplicateInvoice,
        FaultKind::InvoiceBeforeReceipt,
        FaultKind::ReturnWithoutSale,
        FaultKind::OverLimitRefund,
        FaultKind::LateFulfilment,
        FaultKind::FailedFulfilment,
    ];
}

/// One injected fault and the event that carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// What went wrong.
    pub fault: FaultKind,
    /// The id of the event that shows the fault.
    pub event_id: String,
    /// The store or distribution centre concerned.
    pub location: String,
    /// The item concerned (SKU), when the fault is about one item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The document concerned (invoice, receipt, return, order or count number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The simulated day (0 is the first) the fault was injected.
    pub day: u32,
    /// A human-readable account of the fault, with the true and the reported figures.
    pub detail: String,
}
