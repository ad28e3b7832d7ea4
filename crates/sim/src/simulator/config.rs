//! The shape of the simulated retailer and how often things go wrong in it.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::SimError;

/// Everything that shapes a simulation. Readable from TOML or JSON; every field has a default,
/// and the defaults describe a small retailer (6 stores in 2 regions, 60 items, 14 days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// The seed of every random draw: the same configuration gives the same events.
    pub seed: u64,
    /// Number of stores (`S001`, `S002`, …).
    pub stores: u32,
    /// Number of regions (`R-01`, …); stores are split evenly among them, about four stores a district.
    pub regions: u32,
    /// Number of distribution centres (`DC-01`, …), assigned to regions in turn.
    pub distribution_centres: u32,
    /// Number of items (`SKU-00001`, …), spread over the categories.
    pub items: u32,
    /// Number of suppliers (`SUP-001`, …).
    pub suppliers: u32,
    /// Number of days simulated.
    pub days: u32,
    /// The first simulated day.
    pub start: NaiveDate,
    /// The ISO 4217 currency of every amount.
    pub currency: String,
    /// The share of demand that arrives as online orders collected in store (0 to 0.5).
    pub ecommerce_share: f64,
    /// How often each kind of fault is injected.
    pub faults: FaultRates,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            stores: 6,
            regions: 2,
            distribution_centres: 2,
            items: 60,
            suppliers: 8,
            days: 14,
            start: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
            currency: "EUR".to_owned(),
            ecommerce_share: 0.05,
            faults: FaultRates::default(),
        }
    }
}

/// The probability of each kind of fault, each between 0 and 1, per opportunity:
///
/// - `miscount`: per counted line of a cycle count;
/// - `shrink`: per store and trading day (an item loses stock without a record);
/// - `promotion_stockout`: per promoted store and item (replenishment ignores the promotion);
/// - `short_shipment`: per goods receipt (one line arrives short);
/// - `invoice_price_mismatch`, `invoice_quantity_mismatch`, `duplicate_invoice`,
///   `invoice_before_receipt`: per supplier invoice (at most one of them per invoice);
/// - `return_without_sale`, `over_limit_refund`: per customer return;
/// - `late_fulfilment`, `failed_fulfilment`: per online order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// A count that differs from the true stock.
    pub miscount: f64,
    /// Stock that vanishes and later shows in a count.
    pub shrink: f64,
    /// A promotion whose demand exceeds the stock sent for it.
    pub promotion_stockout: f64,
    /// A delivery with less than the despatch advice announced.
    pub short_shipment: f64,
    /// An invoice price that differs from the order price.
    pub invoice_price_mismatch: f64,
    /// An invoiced quantity above the received quantity.
    pub invoice_quantity_mismatch: f64,
    /// The same invoice sent twice.
    pub duplicate_invoice: f64,
    /// An invoice that arrives before the goods are received.
    pub invoice_before_receipt: f64,
    /// A return naming a sale that never happened.
    pub return_without_sale: f64,
    /// A return of more than was bought.
    pub over_limit_refund: f64,
    /// An online order that will miss its pick-up time.
    pub late_fulfilment: f64,
    /// An online order that cannot be fulfilled.
    pub failed_fulfilment: f64,
}

impl Default for FaultRates {
    fn default() -> Self {
        Self::uniform(0.02)
    }
}

impl FaultRates {
    /// No faults at all: every document agrees with every other.
    pub fn none() -> Self {
        Self::uniform(0.0)
    }

    /// The same rate for every kind of fault.
    pub fn uniform(rate: f64) -> Self {
        Self {
            miscount: rate,
            shrink: rate,
            promotion_stockout: rate,
            short_shipment: rate,
            invoice_price_mismatch: rate,
            invoice_quantity_mismatch: rate,
            duplicate_invoice: rate,
            invoice_before_receipt: rate,
            return_without_sale: rate,
            over_limit_refund: rate,
            late_fulfilment: rate,
            failed_fulfilment: rate,
        }
    }

    fn named(&self) -> [(&'static str, f64); 12] {
        [
            ("miscount", self.miscount),
            ("shrink", self.shrink),
            ("promotion_stockout", self.promotion_stockout),
            ("short_shipment", self.short_shipment),
            ("invoice_price_mismatch", self.invoice_price_mismatch),
            ("invoice_quantity_mismatch", self.invoice_quantity_mismatch),
            ("duplicate_invoice", self.duplicate_invoice),
            ("invoice_before_receipt", self.invoice_before_receipt),
            ("return_without_sale", self.return_without_sale),
            ("over_limit_refund", self.over_limit_refund),
            ("late_fulfilment", self.late_fulfilment),
            ("failed_fulfilment", self.failed_fulfilment),
        ]
    }
}

/// Largest numbers accepted, so that a typo cannot ask for a simulation that never ends.
const MAX_STORES: u32 = 999;
const MAX_ITEMS: u32 = 99_999;
const MAX_SUPPLIERS: u32 = 999;
const MAX_DAYS: u32 = 3_660;

impl SimConfig {
    /// Reads a configuration from TOML text and checks it.
    pub fn from_toml(text: &str) -> Result<SimConfig, SimError> {
        let config: SimConfig = toml::from_str(text).map_err(|e| SimError::config("(toml)", e.message().to_owned()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; the first problem is returned, naming the field and what is accepted.
    pub fn validate(&self) -> Result<(), SimError> {
        let ranges: [(&str, u32, u32, u32); 6] = [
            ("stores", self.stores, 1, MAX_STORES),
            ("regions", self.regions, 1, 99),
            ("distribution_centres", self.distribution_centres, 1, 99),
            ("items", self.items, 1, MAX_ITEMS),
            ("suppliers", self.suppliers, 1, MAX_SUPPLIERS),
            ("days", self.days, 1, MAX_DAYS),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(SimError::config(field, format!("{value} is out of range: use {min} to {max}")));
            }
        }
        if self.regions > self.stores {
            return Err(SimError::config(
                "regions",
                format!(
                    "{} regions for {} stores: every region needs a store, use at most {}",
                    self.regions, self.stores, self.stores
                ),
            ));
        }
        if !backroom_model::Currency(self.currency.clone()).is_known() {
            return Err(SimError::config(
                "currency",
                format!("{:?} is not an ISO 4217 currency code (such as EUR, USD, GBP)", self.currency),
            ));
        }
        if !(0.0..=0.5).contains(&self.ecommerce_share) {
            return Err(SimError::config(
                "ecommerce_share",
                format!("{} is out of range: use a share from 0 to 0.5", self.ecommerce_share),
            ));
        }
        for (name, rate) in self.faults.named() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SimError::config(
                    &format!("faults.{name}"),
                    format!("{rate} is not a probability: use a number from 0 to 1"),
                ));
            }
        }
        if self.start.year() < 1971 || self.start.year() > 9000 {
            return Err(SimError::config(
                "start",
                format!("{} is out of range: use a day from 1971 to 9000", self.start),
            ));
        }
        Ok(())
    }
}
