//! The simulation: the retailer's state from day to day and the events each day produces.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use backroom_model::{DocumentNumber, EventPayload, EventType, LocationId, Promotion, PromotionItem};
use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::calendar;
use super::config::SimConfig;
use super::envelope::{DayLog, RawEvent, SimEvent};
use super::error::SimError;
use super::faults::GroundTruth;
use super::money::{item_ref, money};
use super::random::{Concern, chance, stream};
use super::world::Retailer;

/// A simulated retailer trading day after day.
///
/// Each call to [`Simulation::next_day`] advances one day and returns that day's events in
/// `occurred_at` order. The same configuration always gives byte-identical events.
pub struct Simulation {
    pub(crate) retailer: Retailer,
    pub(crate) day: u32,
    pub(crate) truths: Vec<GroundTruth>,
    pub(crate) stores: Vec<StoreState>,
    pub(crate) dcs: Vec<DcState>,
    pub(crate) supply_rng: Vec<ChaCha8Rng>,
    pub(crate) supply_faults: ChaCha8Rng,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) invoices: Vec<PendingInvoice>,
    pub(crate) counters: Counters,
    /// Per promotion and promoted item: the uplift factor shoppers actually show.
    pub(crate) actual_uplift: Vec<Vec<f64>>,
    /// Promotions, stores and items whose replenishment ignores the promotion.
    pub(crate) unprepared: HashSet<(usize, usize, usize)>,
    /// Promotions, stores and items whose stockout has been labelled.
    pub(crate) labelled_stockouts: HashSet<(usize, usize, usize)>,
    pub(crate) item_index: HashMap<String, usize>,
    pub(crate) store_index: HashMap<String, usize>,
}

/// What one store holds and remembers.
pub(crate) struct StoreState {
    /// Units physically on hand per item.
    pub(crate) on_hand: Vec<i64>,
    /// Units the store's systems believe are on hand (what Backroom's projection shows).
    pub(crate) book: Vec<i64>,
    /// Items reported out of stock and not replenished since.
    pub(crate) out: Vec<bool>,
    pub(crate) demand_rng: ChaCha8Rng,
    pub(crate) ops_rng: ChaCha8Rng,
    pub(crate) fault_rng: ChaCha8Rng,
    pub(crate) online_rng: ChaCha8Rng,
    /// Sale lines to known customers in the last 30 days, which customers may return.
    pub(crate) recent: VecDeque<SoldLine>,
    /// Shrink incidents waiting for the count that shows them.
    pub(crate) reveals: Vec<Reveal>,
}

/// A sale line a customer may bring back.
pub(crate) struct SoldLine {
    pub(crate) transaction_id: String,
    pub(crate) day: u32,
    pub(crate) date: NaiveDate,
    pub(crate) customer: String,
    pub(crate) item: usize,
    pub(crate) quantity: i64,
    pub(crate) unit_paid: Decimal,
    pub(crate) returned: i64,
}

/// Stock that vanished, to be shown by a later count.
pub(crate) struct Reveal {
    pub(crate) count_day: u32,
    pub(crate) shrink_day: u32,
    pub(crate) item: usize,
    pub(crate) units: i64,
}

/// What one distribution centre holds.
pub(crate) struct DcState {
    pub(crate) on_hand: Vec<i64>,
    pub(crate) on_order: Vec<i64>,
}

/// A purchase-order line.
#[derive(Clone)]
pub(crate) struct OrderedLine {
    pub(crate) line: u32,
    pub(crate) item: usize,
    pub(crate) quantity: i64,
    pub(crate) unit_price: Decimal,
}

/// A purchase order on its way from a supplier.
pub(crate) struct Delivery {
    pub(crate) po_number: String,
    pub(crate) dc: usize,
    pub(crate) supplier: usize,
    pub(crate) lines: Vec<OrderedLine>,
    pub(crate) asn_day: u32,
    pub(crate) expected_day: u32,
    pub(crate) asn_number: Option<String>,
}

/// A supplier invoice to be sent after the goods are received.
pub(crate) struct PendingInvoice {
    pub(crate) due_day: u32,
    pub(crate) invoice_number: String,
    pub(crate) supplier: usize,
    pub(crate) dc: usize,
    pub(crate) po_number: String,
    pub(crate) asn_number: Option<String>,
    pub(crate) receipt_number: Option<String>,
    /// Billed lines: purchase-order line, item, quantity, unit price.
    pub(crate) lines: Vec<OrderedLine>,
    /// The fault planted in the invoice, with its account, if any.
    pub(crate) fault: Option<(super::faults::FaultKind, usize, String)>,
}

/// Document number counters.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) po: u32,
    pub(crate) asn: u32,
    pub(crate) receipt: u32,
    pub(crate) transfer: u32,
    pub(crate) invoice: BTreeMap<usize, u32>,
}

/// A promotion running at a store for an item on the current day.
#[derive(Clone, Copy)]
pub(crate) struct ActivePromo {
    pub(crate) promotion: usize,
    pub(crate) promo_item: usize,
    pub(crate) uplift: f64,
    pub(crate) unprepared: bool,
}

impl Simulation {
    /// A simulation of the retailer `config` describes. An invalid configuration is clamped to
    /// the nearest valid one; use [`Simulation::try_new`] to have it refused instead.
    pub fn new(config: SimConfig) -> Simulation {
        let mut config = config;
        if config.validate().is_err() {
            config = clamp(config);
        }
        Self::build(config)
    }

    /// A simulation of the retailer `config` describes, or the first problem with the configuration.
    pub fn try_new(config: SimConfig) -> Result<Simulation, SimError> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: SimConfig) -> Simulation {
        let retailer = Retailer::generate(&config);
        let seed = config.seed;
        let opening = retailer.opening_map();
        let n_items = retailer.items.len();
        let stock_of = |location: &str| -> Vec<i64> {
            retailer
                .items
                .iter()
                .map(|i| opening.get(&(location.to_owned(), i.sku.clone())).copied().unwrap_or(0))
                .collect()
        };
        let stores = retailer
            .stores
            .iter()
            .enumerate()
            .map(|(s, store)| {
                let on_hand = stock_of(&store.id);
                StoreState {
                    book: on_hand.clone(),
                    on_hand,
                    out: vec![false; n_items],
                    demand_rng: stream(seed, Concern::Demand, s as u64),
                    ops_rng: stream(seed, Concern::StoreOps, s as u64),
                    fault_rng: stream(seed, Concern::StoreFaults, s as u64),
                    online_rng: stream(seed, Concern::Online, s as u64),
                    recent: VecDeque::new(),
                    reveals: Vec::new(),
                }
            })
            .collect();
        let dcs = retailer
            .distribution_centres
            .iter()
            .map(|dc| DcState { on_hand: stock_of(&dc.id), on_order: vec![0; n_items] })
            .collect();
        let supply_rng =
            (0..retailer.distribution_centres.len()).map(|d| stream(seed, Concern::Supply, d as u64)).collect();
        let mut promo_rng = stream(seed, Concern::Promotions, 1);
        let actual_uplift = retailer
            .promotions
            .iter()
            .map(|p| {
                p.items
                    .iter()
                    .map(|it| {
                        let expected = f64::try_from(it.expected_uplift_percent).unwrap_or(100.0) / 100.0;
                        1.0 + expected * promo_rng.random_range(0.8..1.2)
                    })
                    .collect()
            })
            .collect();
        let item_index: HashMap<String, usize> =
            retailer.items.iter().enumerate().map(|(i, it)| (it.sku.clone(), i)).collect();
        let store_index: HashMap<String, usize> =
            retailer.stores.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        let mut fault_rng = stream(seed, Concern::Promotions, 2);
        let mut unprepared = HashSet::new();
        for (p, promo) in retailer.promotions.iter().enumerate() {
            for store in &promo.stores {
                for it in &promo.items {
                    if chance(&mut fault_rng, config.faults.promotion_stockout) {
                        unprepared.insert((p, store_index[store], item_index[&it.sku]));
                    }
                }
            }
        }
        Simulation {
            retailer,
            day: 0,
            truths: Vec::new(),
            stores,
            dcs,
            supply_rng,
            supply_faults: stream(seed, Concern::SupplyFaults, 0),
            deliveries: Vec::new(),
            invoices: Vec::new(),
            counters: Counters::default(),
            actual_uplift,
            unprepared,
            labelled_stockouts: HashSet::new(),
            item_index,
            store_index,
        }
    }

    /// The generated retailer.
    pub fn retailer(&self) -> &Retailer {
        &self.retailer
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.retailer.config
    }

    /// The next day to simulate (0 before the first call to [`Simulation::next_day`]).
    pub fn current_day(&self) -> u32 {
        self.day
    }

    /// Every fault injected so far, in the order the carrying events were produced.
    pub fn ground_truth(&self) -> &[GroundTruth] {
        &self.truths
    }

    /// Units physically on hand at a store or distribution centre now (the truth, which counts
    /// reveal and shrink hides from the books).
    pub fn stock_on_hand(&self, location: &str, sku: &str) -> Option<Decimal> {
        let item = *self.item_index.get(sku)?;
        if let Some(&s) = self.store_index.get(location) {
            return Some(Decimal::from(self.stores[s].on_hand[item]));
        }
        let d = self.retailer.distribution_centres.iter().position(|d| d.id == location)?;
        Some(Decimal::from(self.dcs[d].on_hand[item]))
    }

    /// The next simulated day's events in `occurred_at` order, or `None` after the last day.
    pub fn next_day(&mut self) -> Option<Vec<SimEvent>> {
        let day = self.day;
        let events = self.next_day_raw()?;
        Some(events.iter().map(|e| SimEvent { event: e.to_value(), day }).collect())
    }

    /// The next simulated day's events, still typed.
    pub(crate) fn next_day_raw(&mut self) -> Option<Vec<RawEvent>> {
        if self.day >= self.retailer.config.days {
            return None;
        }
        let day = self.day;
        let date = self.retailer.date(day);
        let mut log = DayLog::new(self.retailer.config.seed, day);
        self.announce_promotions(day, &mut log);
        if calendar::working_day(date) {
            self.receive_deliveries(day, &mut log);
            self.send_invoices(day, &mut log);
            self.replenish_stores(day, &mut log);
            self.review_purchasing(day, &mut log);
            self.advise_despatches(day, &mut log);
        }
        if calendar::store_open(date) {
            let active = self.active_promotions(day);
            for s in 0..self.stores.len() {
                self.trade(s, day, &active, &mut log);
            }
        }
        let (events, truths) = log.finish();
        self.truths.extend(truths);
        self.day += 1;
        Some(events)
    }

    /// `promotion.scheduled` for promotions announced today, at 07:30 from merchandising.
    fn announce_promotions(&mut self, day: u32, log: &mut DayLog) {
        let r = &self.retailer;
        let currency = r.config.currency.clone();
        for p in r.promotions.iter().filter(|p| p.announce_day == day) {
            let doc = Promotion {
                promotion_id: DocumentNumber(p.id.clone()),
                name: p.name.clone(),
                starts_on: r.date(p.start_day),
                ends_on: r.date(p.end_day),
                locations: p.stores.iter().map(|s| LocationId(s.clone())).collect(),
                items: p
                    .items
                    .iter()
                    .map(|it| {
                        let item = &r.items[self.item_index[&it.sku]];
                        PromotionItem {
                            item: item_ref(&item.gtin, &item.sku),
                            promo_price: Some(money(it.promo_price, &currency)),
                            discount_percent: Some(it.discount_percent),
                            expected_uplift_percent: Some(it.expected_uplift_percent),
                        }
                    })
                    .collect(),
            };
            log.emit(
                calendar::at(r.date(day), 7, 30),
                EventType::PromotionScheduled,
                "erp",
                EventPayload::Promotion(doc),
            );
        }
    }

    /// The promotions running on `day`, per (store, item).
    pub(crate) fn active_promotions(&self, day: u32) -> HashMap<(usize, usize), ActivePromo> {
        let mut active = HashMap::new();
        for (p, promo) in self.retailer.promotions.iter().enumerate() {
            if !promo.runs_on(day) {
                continue;
            }
            for store in &promo.stores {
                let s = self.store_index[store];
                for (k, it) in promo.items.iter().enumerate() {
                    let i = self.item_index[&it.sku];
                    active.entry((s, i)).or_insert(ActivePromo {
                        promotion: p,
                        promo_item: k,
                        uplift: self.actual_uplift[p][k],
                        unprepared: self.unprepared.contains(&(p, s, i)),
                    });
                }
            }
        }
        active
    }

    /// Per promoted store and item, the uplift replenishment plans for on `day` (promotions
    /// running today or tomorrow, unless replenishment ignores them) and whether replenishment
    /// is held back because it ignores a running promotion. Pairs not listed plan for no uplift.
    pub(crate) fn planned_uplifts(&self, day: u32) -> HashMap<(usize, usize), (f64, bool)> {
        let mut plans: HashMap<(usize, usize), (f64, bool)> = HashMap::new();
        for (p, promo) in self.retailer.promotions.iter().enumerate() {
            if !(promo.runs_on(day) || promo.runs_on(day + 1)) {
                continue;
            }
            for store in &promo.stores {
                let s = self.store_index[store];
                for it in &promo.items {
                    let i = self.item_index[&it.sku];
                    let plan = plans.entry((s, i)).or_insert((1.0, false));
                    if self.unprepared.contains(&(p, s, i)) {
                        plan.1 |= promo.runs_on(day);
                    } else {
                        let expected = f64::try_from(it.expected_uplift_percent).unwrap_or(100.0) / 100.0;
                        plan.0 = plan.0.max(1.0 + expected);
                    }
                }
            }
        }
        plans
    }
}

/// The nearest valid configuration to an invalid one.
fn clamp(mut c: SimConfig) -> SimConfig {
    c.stores = c.stores.clamp(1, 999);
    c.regions = c.regions.clamp(1, c.stores.min(99));
    c.distribution_centres = c.distribution_centres.clamp(1, 99);
    c.items = c.items.clamp(1, 99_999);
    c.suppliers = c.suppliers.clamp(1, 999);
    c.days = c.days.clamp(1, 3_660);
    if !backroom_model::Currency(c.currency.clone()).is_known() {
        c.currency = "EUR".to_owned();
    }
    c.ecommerce_share = if c.ecommerce_share.is_finite() { c.ecommerce_share.clamp(0.0, 0.5) } else { 0.0 };
    let f = &mut c.faults;
    for rate in [
        &mut f.miscount,
        &mut f.shrink,
        &mut f.promotion_stockout,
        &mut f.short_shipment,
        &mut f.invoice_price_mismatch,
        &mut f.invoice_quantity_mismatch,
        &mut f.duplicate_invoice,
        &mut f.invoice_before_receipt,
        &mut f.return_without_sale,
        &mut f.over_limit_refund,
        &mut f.late_fulfilment,
        &mut f.failed_fulfilment,
    ] {
        *rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
    }
    c
}
