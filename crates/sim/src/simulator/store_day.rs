//! A store's trading day: shoppers' baskets at the tills, online orders collected in store,
//! customer returns, shelf stockouts, unrecorded shrink and the evening cycle count.

use std::collections::{HashMap, HashSet};

use backroom_model::{
    Channel, CountLine, CountScope, CustomerId, CustomerOrder, DocumentNumber, EventPayload, EventType,
    FulfilmentMethod, InventoryCount, LocationId, OrderException, OrderExceptionKind, OrderExceptionLine, OrderLine,
    ReturnLine, ReturnReason, ReturnRequest, SaleLine, SaleRef, SalesTransaction, StockoutReport, Tender, TenderMethod,
};
use chrono::{Duration, NaiveDate};
use rand::Rng;
use rust_decimal::Decimal;

use super::calendar::{self, CLOSES, OPENS};
use super::envelope::DayLog;
use super::faults::FaultKind;
use super::money::{each, included_tax, item_ref, money};
use super::random::{chance, pick_exclusive, poisson};
use super::simulation::{ActivePromo, Reveal, Simulation, SoldLine, StoreState};
use super::world::Retailer;

/// Customers with a loyalty card per store.
const CUSTOMERS_PER_STORE: u32 = 600;
/// Share of till transactions with a loyalty card.
const LOYALTY_SHARE: f64 = 0.35;
/// Days within which a sale may be returned.
const RETURN_WINDOW_DAYS: u32 = 30;
/// Items counted per store each evening.
const COUNTED_PER_DAY: usize = 3;
/// Till transactions a store aims for in a day (fewer on quiet days, more on busy ones).
const TRANSACTIONS: (u32, u32) = (20, 80);

/// One shopper's basket: items and units wanted.
struct Basket {
    lines: Vec<(usize, i64)>,
    customer: Option<u32>,
    card: bool,
    till: u32,
}

/// How an online order turns out.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    OnTime,
    Late,
    Failed,
}

/// An online order to be collected in store.
struct WebOrder {
    number: String,
    customer: u32,
    placed: u32,
    promised: u32,
    lines: Vec<(usize, i64)>,
    fate: Fate,
}

/// A customer return, honest or not.
enum Return {
    Honest,
    WithoutSale,
    OverLimit,
}

enum Action {
    Basket(Basket),
    OrderPlaced(usize),
    OrderPicked(usize),
    Return(Return),
    Shrink { item: usize, units: i64 },
}

/// Everything a store's day needs, borrowed from the simulation.
struct StoreDay<'a> {
    r: &'a Retailer,
    st: &'a mut StoreState,
    active: &'a HashMap<(usize, usize), ActivePromo>,
    labelled: &'a mut HashSet<(usize, usize, usize)>,
    log: &'a mut DayLog,
    s: usize,
    day: u32,
    date: NaiveDate,
    store: String,
    source: String,
    transactions: u32,
    returns: u32,
}

impl Simulation {
    /// Simulates store `s` trading on `day`.
    pub(crate) fn trade(
        &mut self,
        s: usize,
        day: u32,
        active: &HashMap<(usize, usize), ActivePromo>,
        log: &mut DayLog,
    ) {
        let r = &self.retailer;
        let date = r.date(day);
        let store = r.stores[s].id.clone();
        let mut sd = StoreDay {
            r,
            st: &mut self.stores[s],
            active,
            labelled: &mut self.labelled_stockouts,
            log,
            s,
            day,
            date,
            source: format!("pos/{store}"),
            store,
            transactions: 0,
            returns: 0,
        };
        sd.run();
    }
}

impl StoreDay<'_> {
    fn run(&mut self) {
        while self.st.recent.front().is_some_and(|l| self.day - l.day > RETURN_WINDOW_DAYS) {
            self.st.recent.pop_front();
        }
        let rates = self.lambdas();
        let share = self.r.config.ecommerce_share;
        let in_store: Vec<i64> =
            rates.iter().map(|l| i64::from(poisson(&mut self.st.demand_rng, l * (1.0 - share)))).collect();
        let mut actions: Vec<(u32, Action)> = Vec::new();
        for (minute, basket) in self.baskets(&in_store) {
            actions.push((minute, Action::Basket(basket)));
        }
        let orders = self.web_orders(&rates, share);
        for (k, o) in orders.iter().enumerate() {
            actions.push((o.placed, Action::OrderPlaced(k)));
            actions.push((o.placed + 45, Action::OrderPicked(k)));
        }
        let faults = &self.r.config.faults;
        let attempts = poisson(&mut self.st.ops_rng, 1.2 * self.r.stores[self.s].size);
        for _ in 0..attempts {
            let minute = self.st.ops_rng.random_range(600..1140);
            let kind =
                match pick_exclusive(&mut self.st.fault_rng, &[faults.return_without_sale, faults.over_limit_refund]) {
                    Some(0) => Return::WithoutSale,
                    Some(_) => Return::OverLimit,
                    None => Return::Honest,
                };
            actions.push((minute, Action::Return(kind)));
        }
        if chance(&mut self.st.fault_rng, faults.shrink) {
            let n = self.r.items.len();
            let start = self.st.fault_rng.random_range(0..n);
            if let Some(item) = (0..n).map(|k| (start + k) % n).find(|i| self.st.on_hand[*i] >= 2) {
                let units = self.st.fault_rng.random_range(1..=(self.st.on_hand[item] / 2).clamp(1, 6));
                let minute = self.st.fault_rng.random_range(540..1200);
                actions.push((minute, Action::Shrink { item, units }));
            }
        }
        actions.sort_by_key(|(minute, _)| *minute);
        for (minute, action) in actions {
            match action {
                Action::Basket(b) => self.ring_up(minute, b),
                Action::OrderPlaced(k) => self.place_order(&orders[k]),
                Action::OrderPicked(k) => self.pick_order(&orders[k]),
                Action::Return(kind) => self.take_return(minute, kind),
                Action::Shrink { item, units } => self.shrink(item, units),
            }
        }
        self.cycle_count();
    }

    /// Expected units per item today: base demand × store size × weekday × holidays × trend ×
    /// promotion uplift.
    fn lambdas(&self) -> Vec<f64> {
        let season = calendar::weekday_factor(self.date)
            * calendar::holiday_factor(self.date)
            * (1.0 + 0.002 * f64::from(self.day));
        let size = self.r.stores[self.s].size;
        self.r
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let uplift = self.active.get(&(self.s, i)).map_or(1.0, |p| p.uplift);
                item.base_daily_demand * size * season * uplift
            })
            .collect()
    }

    /// Groups the day's units into till transactions of one to five lines, spread over the opening hours.
    fn baskets(&mut self, units: &[i64]) -> Vec<(u32, Basket)> {
        let total: i64 = units.iter().sum();
        if total == 0 {
            return Vec::new();
        }
        let target = (total / 4).clamp(i64::from(TRANSACTIONS.0), i64::from(TRANSACTIONS.1)).min(total);
        let per_line = (total + target * 3 - 1) / (target * 3);
        let mut remaining = units.to_vec();
        let mut open: Vec<usize> = (0..units.len()).filter(|i| units[*i] > 0).collect();
        let rng = &mut self.st.ops_rng;
        let mut baskets = Vec::new();
        while !open.is_empty() {
            let n_lines = rng.random_range(1..=5);
            let mut lines: Vec<(usize, i64)> = Vec::new();
            for _ in 0..n_lines {
                if open.is_empty() {
                    break;
                }
                let k = rng.random_range(0..open.len());
                let i = open[k];
                let q = remaining[i].min(rng.random_range(1..=per_line.max(1)));
                match lines.iter_mut().find(|(item, _)| *item == i) {
                    Some(line) => line.1 += q,
                    None => lines.push((i, q)),
                }
                remaining[i] -= q;
                if remaining[i] == 0 {
                    open.swap_remove(k);
                }
            }
            let customer = (rng.random::<f64>() < LOYALTY_SHARE).then(|| rng.random_range(0..CUSTOMERS_PER_STORE));
            let card = rng.random::<f64>() < 0.75;
            let till = rng.random_range(1..=4);
            let minute = rng.random_range(OPENS * 60..CLOSES * 60);
            baskets.push((minute, Basket { lines, customer, card, till }));
        }
        baskets
    }

    /// Online orders for pick-up at this store, placed between 08:00 and 16:30 and promised three hours later.
    fn web_orders(&mut self, rates: &[f64], share: f64) -> Vec<WebOrder> {
        let online: f64 = rates.iter().sum::<f64>() * share;
        let n = poisson(&mut self.st.online_rng, online / 2.0);
        let total: f64 = rates.iter().sum();
        let faults = &self.r.config.faults;
        let mut orders = Vec::new();
        for k in 0..n {
            let rng = &mut self.st.online_rng;
            let n_lines = rng.random_range(1..=3);
            let mut lines: Vec<(usize, i64)> = Vec::new();
            for _ in 0..n_lines {
                let mut x = rng.random::<f64>() * total;
                let item = rates.iter().position(|l| {
                    x -= l;
                    x < 0.0
                });
                let item = item.unwrap_or(rates.len() - 1);
                if !lines.iter().any(|(i, _)| *i == item) {
                    lines.push((item, rng.random_range(1..=2)));
                }
            }
            let placed = rng.random_range(OPENS * 60..16 * 60 + 30);
            let customer = rng.random_range(0..CUSTOMERS_PER_STORE);
            let fate = match pick_exclusive(&mut self.st.fault_rng, &[faults.late_fulfilment, faults.failed_fulfilment])
            {
                Some(0) => Fate::Late,
                Some(_) => Fate::Failed,
                None => Fate::OnTime,
            };
            orders.push(WebOrder {
                number: format!("WEB-{}-{}-{:03}", self.store, self.date.format("%Y%m%d"), k + 1),
                customer,
                placed,
                promised: placed + 180,
                lines,
                fate,
            });
        }
        orders
    }

    fn customer_id(&self, n: u32) -> String {
        format!("C-{}-{:04}", self.store, n)
    }

    /// The price a shopper pays today: the promotional price while a promotion runs.
    fn price(&self, item: usize) -> (Decimal, Option<String>) {
        let it = &self.r.items[item];
        match self.active.get(&(self.s, item)) {
            Some(p) => {
                let promo = &self.r.promotions[p.promotion];
                (promo.items[p.promo_item].promo_price, Some(promo.id.clone()))
            }
            None => (it.price, None),
        }
    }

    fn next_transaction(&mut self) -> String {
        self.transactions += 1;
        format!("{}-{}-{:04}", self.store, self.date.format("%Y%m%d"), self.transactions)
    }

    /// Rings up what the shelves hold of a basket; an item that runs out is reported.
    fn ring_up(&mut self, minute: u32, basket: Basket) {
        let mut sold = Vec::new();
        for (item, wanted) in basket.lines {
            let take = wanted.min(self.st.on_hand[item].max(0));
            if take < wanted {
                let delay = self.st.ops_rng.random_range(2..=20);
                self.report_stockout(item, (minute + delay).min(CLOSES * 60));
            }
            if take > 0 {
                self.st.on_hand[item] -= take;
                self.st.book[item] -= take;
                sold.push((item, take));
            }
        }
        if sold.is_empty() {
            return;
        }
        let customer = basket.customer.map(|c| self.customer_id(c));
        let method = if basket.card { TenderMethod::Card } else { TenderMethod::Cash };
        self.emit_sale(minute, &sold, customer, format!("till-{}", basket.till), method);
    }

    /// Emits a `pos.sale` and remembers its lines for returns.
    fn emit_sale(
        &mut self,
        minute: u32,
        lines: &[(usize, i64)],
        customer: Option<String>,
        till: String,
        method: TenderMethod,
    ) {
        let currency = self.r.config.currency.clone();
        let id = self.next_transaction();
        let mut total = Decimal::ZERO;
        let mut sale_lines = Vec::new();
        for (n, (item, q)) in lines.iter().enumerate() {
            let it = &self.r.items[*item];
            let (paid, promotion) = self.price(*item);
            let qty = Decimal::from(*q);
            let net = paid * qty;
            total += net;
            sale_lines.push(SaleLine {
                line: n as u32 + 1,
                item: item_ref(&it.gtin, &it.sku),
                quantity: each(*q),
                unit_price: money(it.price, &currency),
                discount: promotion.as_ref().map(|_| money((it.price - paid) * qty, &currency)),
                tax: Some(money(included_tax(net, it.vat_percent), &currency)),
                net_amount: money(net, &currency),
                promotion: promotion.map(DocumentNumber),
            });
            if let Some(c) = &customer {
                self.st.recent.push_back(SoldLine {
                    transaction_id: id.clone(),
                    day: self.day,
                    date: self.date,
                    customer: c.clone(),
                    item: *item,
                    quantity: *q,
                    unit_paid: paid,
                    returned: 0,
                });
            }
        }
        let doc = SalesTransaction {
            transaction_id: DocumentNumber(id),
            location: LocationId(self.store.clone()),
            workstation: Some(till),
            business_day: self.date,
            cashier: None,
            customer: customer.map(CustomerId),
            currency: backroom_model::Currency(currency.clone()),
            original: None,
            lines: sale_lines,
            tenders: vec![Tender { method, amount: money(total, &currency), reference: None }],
            total: money(total, &currency),
        };
        let source = self.source.clone();
        self.log.emit(
            calendar::local(self.date, minute),
            EventType::PosSale,
            &source,
            EventPayload::SalesTransaction(doc),
        );
    }

    /// Reports an item missing from the shelf, once until it is replenished.
    fn report_stockout(&mut self, item: usize, minute: u32) {
        if self.st.out[item] {
            return;
        }
        self.st.out[item] = true;
        let it = &self.r.items[item];
        let promo = self.active.get(&(self.s, item)).copied();
        let doc = StockoutReport {
            location: LocationId(self.store.clone()),
            item: item_ref(&it.gtin, &it.sku),
            reported_by: Some("shelf check".to_owned()),
            shelf_quantity: Some(each(0)),
            system_quantity: Some(each(self.st.book[item])),
            note: promo.map(|p| format!("promoted in {}", self.r.promotions[p.promotion].id)),
        };
        let source = self.source.clone();
        let at = calendar::local(self.date, minute);
        let event = self.log.emit(at, EventType::InventoryStockoutReported, &source, EventPayload::StockoutReport(doc));
        if let Some(p) = promo
            && p.unprepared
            && self.labelled.insert((p.promotion, self.s, item))
        {
            let promotion = &self.r.promotions[p.promotion];
            let detail = format!(
                "{} lifts demand for {} by {:.0} %, but replenishment sent no extra stock; the shelf emptied on day {}",
                promotion.id,
                it.sku,
                (p.uplift - 1.0) * 100.0,
                self.day
            );
            let (store, sku) = (self.store.clone(), it.sku.clone());
            self.log.fault(
                FaultKind::PromotionStockout,
                &event,
                &store,
                Some(&sku),
                Some(&promotion.id),
                self.day,
                detail,
            );
        }
    }

    fn place_order(&mut self, order: &WebOrder) {
        let currency = self.r.config.currency.clone();
        let mut total = Decimal::ZERO;
        let lines = order
            .lines
            .iter()
            .enumerate()
            .map(|(n, (item, q))| {
                let it = &self.r.items[*item];
                let (paid, _) = self.price(*item);
                total += paid * Decimal::from(*q);
                OrderLine {
                    line: n as u32 + 1,
                    item: item_ref(&it.gtin, &it.sku),
                    quantity: each(*q),
                    unit_price: money(paid, &currency),
                }
            })
            .collect();
        let doc = CustomerOrder {
            order_number: DocumentNumber(order.number.clone()),
            customer: CustomerId(self.customer_id(order.customer)),
            fulfilment: FulfilmentMethod::ClickAndCollect,
            fulfilment_location: LocationId(self.store.clone()),
            promised_at: calendar::local(self.date, order.promised),
            currency: backroom_model::Currency(currency.clone()),
            lines,
            total: money(total, &currency),
        };
        self.log.emit(
            calendar::local(self.date, order.placed),
            EventType::OrderPlaced,
            "oms",
            EventPayload::CustomerOrder(doc),
        );
    }

    fn order_exception(
        &mut self,
        order: &WebOrder,
        minute: u32,
        kind: OrderExceptionKind,
        lines: Vec<OrderExceptionLine>,
        note: &str,
    ) -> String {
        let doc = OrderException {
            order_number: DocumentNumber(order.number.clone()),
            fulfilment_location: LocationId(self.store.clone()),
            kind,
            promised_at: Some(calendar::local(self.date, order.promised)),
            lines,
            note: Some(note.to_owned()),
        };
        self.log.emit(
            calendar::local(self.date, minute),
            EventType::OrderException,
            "oms",
            EventPayload::OrderException(doc),
        )
    }

    /// Picks an online order from the shelves; the customer collects it at the till.
    fn pick_order(&mut self, order: &WebOrder) {
        if order.fate == Fate::Failed {
            let event = self.order_exception(
                order,
                order.promised - 60,
                OrderExceptionKind::Failed,
                Vec::new(),
                "fulfilment failed: the order could not be prepared and was cancelled",
            );
            let (store, number) = (self.store.clone(), order.number.clone());
            let detail = format!("{number} was cancelled before its pick-up time");
            self.log.fault(FaultKind::FailedFulfilment, &event, &store, None, Some(&number), self.day, detail);
            return;
        }
        let missing: Vec<OrderExceptionLine> = order
            .lines
            .iter()
            .enumerate()
            .filter(|(_, (item, q))| self.st.on_hand[*item] < *q)
            .map(|(n, (item, q))| {
                let it = &self.r.items[*item];
                OrderExceptionLine {
                    line: n as u32 + 1,
                    item: item_ref(&it.gtin, &it.sku),
                    quantity: each(q - self.st.on_hand[*item].max(0)),
                }
            })
            .collect();
        if !missing.is_empty() {
            self.order_exception(
                order,
                order.placed + 45,
                OrderExceptionKind::ShortPick,
                missing,
                "not enough stock on the shelf to pick",
            );
            return;
        }
        for (item, q) in &order.lines {
            self.st.on_hand[*item] -= q;
        }
        let collected = match order.fate {
            Fate::Late => {
                let event = self.order_exception(
                    order,
                    order.promised + 10,
                    OrderExceptionKind::Late,
                    Vec::new(),
                    "order not ready at the promised pick-up time",
                );
                let (store, number) = (self.store.clone(), order.number.clone());
                let detail = format!("{number} was ready 90 minutes after its promised time");
                self.log.fault(FaultKind::LateFulfilment, &event, &store, None, Some(&number), self.day, detail);
                order.promised + 90
            }
            _ => order.promised - self.st.online_rng.random_range(0..=30),
        };
        for (item, q) in &order.lines {
            self.st.book[*item] -= q;
        }
        let customer = Some(self.customer_id(order.customer));
        self.emit_sale(collected, &order.lines, customer, "click-and-collect".to_owned(), TenderMethod::Card);
    }

    fn return_reason(&mut self) -> ReturnReason {
        match self.st.ops_rng.random_range(0..10) {
            0..=4 => ReturnReason::ChangedMind,
            5 | 6 => ReturnReason::Damaged,
            7 => ReturnReason::Defective,
            8 => ReturnReason::NotAsDescribed,
            _ => ReturnReason::WrongItem,
        }
    }

    /// A customer brings goods back: honest returns are refunded at the till and restocked;
    /// returns without a sale or beyond what was bought stay requests.
    fn take_return(&mut self, minute: u32, kind: Return) {
        let currency = self.r.config.currency.clone();
        self.returns += 1;
        let number = format!("RMA-{}-{}-{:02}", self.store, self.date.format("%Y%m%d"), self.returns);
        let reason = self.return_reason();
        let candidates: Vec<usize> = self
            .st
            .recent
            .iter()
            .enumerate()
            .filter(|(_, l)| l.day < self.day && (matches!(kind, Return::OverLimit) || l.returned < l.quantity))
            .map(|(k, _)| k)
            .collect();
        let (original, customer, item, quantity, unit) = match kind {
            Return::WithoutSale => {
                let back = self.st.ops_rng.random_range(1..=20);
                let date = self.date - Duration::days(back);
                let fake =
                    format!("{}-{}-9{:03}", self.store, date.format("%Y%m%d"), self.st.ops_rng.random_range(0..1000));
                let item = self.st.ops_rng.random_range(0..self.r.items.len());
                let n = self.st.ops_rng.random_range(0..CUSTOMERS_PER_STORE);
                let customer = self.customer_id(n);
                let q = self.st.ops_rng.random_range(1..=2);
                (
                    SaleRef {
                        transaction_id: DocumentNumber(fake),
                        location: LocationId(self.store.clone()),
                        business_day: Some(date),
                    },
                    customer,
                    item,
                    q,
                    self.r.items[item].price,
                )
            }
            _ => {
                if candidates.is_empty() {
                    return;
                }
                let k = candidates[self.st.ops_rng.random_range(0..candidates.len())];
                let line = &self.st.recent[k];
                let q = match kind {
                    Return::OverLimit => line.quantity - line.returned + self.st.ops_rng.random_range(1..=3),
                    _ => self.st.ops_rng.random_range(1..=line.quantity - line.returned),
                };
                let original = SaleRef {
                    transaction_id: DocumentNumber(line.transaction_id.clone()),
                    location: LocationId(self.store.clone()),
                    business_day: Some(line.date),
                };
                (original, line.customer.clone(), line.item, q, line.unit_paid)
            }
        };
        let it = &self.r.items[item];
        let refund = unit * Decimal::from(quantity);
        let request = ReturnRequest {
            return_number: DocumentNumber(number.clone()),
            location: LocationId(self.store.clone()),
            channel: Channel::Store,
            customer: Some(CustomerId(customer.clone())),
            original_sale: original.clone(),
            requested_refund: Some(money(refund, &currency)),
            lines: vec![ReturnLine {
                line: 1,
                item: item_ref(&it.gtin, &it.sku),
                quantity: each(quantity),
                reason,
                condition: Some(if reason == ReturnReason::ChangedMind { "unopened" } else { "opened" }.to_owned()),
            }],
        };
        let source = self.source.clone();
        let at = calendar::local(self.date, minute);
        let event = self.log.emit(at, EventType::ReturnRequested, &source, EventPayload::ReturnRequest(request));
        let (store, sku) = (self.store.clone(), it.sku.clone());
        match kind {
            Return::WithoutSale => {
                let detail = format!("{number} names transaction {}, which was never rung up", original.transaction_id);
                self.log.fault(
                    FaultKind::ReturnWithoutSale,
                    &event,
                    &store,
                    Some(&sku),
                    Some(&number),
                    self.day,
                    detail,
                );
            }
            Return::OverLimit => {
                let k = candidates.iter().copied().find(|k| {
                    self.st.recent[*k].transaction_id == original.transaction_id.0 && self.st.recent[*k].item == item
                });
                let (bought, returned) = k.map_or((0, 0), |k| (self.st.recent[k].quantity, self.st.recent[k].returned));
                let detail = format!(
                    "{number} asks to return {quantity} of {sku} from {}, which sold {bought} (already returned {returned})",
                    original.transaction_id
                );
                self.log.fault(FaultKind::OverLimitRefund, &event, &store, Some(&sku), Some(&number), self.day, detail);
            }
            Return::Honest => {
                if let Some(line) =
                    self.st.recent.iter_mut().find(|l| l.transaction_id == original.transaction_id.0 && l.item == item)
                {
                    line.returned += quantity;
                }
                self.st.on_hand[item] += quantity;
                self.st.book[item] += quantity;
                let id = self.next_transaction();
                let doc = SalesTransaction {
                    transaction_id: DocumentNumber(id),
                    location: LocationId(self.store.clone()),
                    workstation: Some("service-desk".to_owned()),
                    business_day: self.date,
                    cashier: None,
                    customer: Some(CustomerId(customer)),
                    currency: backroom_model::Currency(currency.clone()),
                    original: Some(original),
                    lines: vec![SaleLine {
                        line: 1,
                        item: item_ref(&it.gtin, &it.sku),
                        quantity: each(quantity),
                        unit_price: money(unit, &currency),
                        discount: None,
                        tax: Some(money(included_tax(refund, it.vat_percent), &currency)),
                        net_amount: money(refund, &currency),
                        promotion: None,
                    }],
                    tenders: vec![Tender {
                        method: TenderMethod::Card,
                        amount: money(refund, &currency),
                        reference: None,
                    }],
                    total: money(refund, &currency),
                };
                let at = calendar::local(self.date, minute + 4);
                self.log.emit(at, EventType::PosReturn, &source, EventPayload::SalesTransaction(doc));
            }
        }
    }

    /// Stock vanishes without a record; a count within two trading days shows it.
    fn shrink(&mut self, item: usize, units: i64) {
        let units = units.min(self.st.on_hand[item]);
        if units <= 0 {
            return;
        }
        self.st.on_hand[item] -= units;
        let last = self.r.config.days - 1;
        let mut count_day = (self.day + self.st.fault_rng.random_range(0..=2)).min(last);
        while count_day > self.day && !calendar::store_open(self.r.date(count_day)) {
            count_day -= 1;
        }
        self.st.reveals.push(Reveal { count_day, shrink_day: self.day, item, units });
    }

    /// The evening cycle count at 21:15: a few items in rotation plus any the shrink desk asked
    /// for. Counted quantities replace the books; a miscount records a wrong figure.
    fn cycle_count(&mut self) {
        let n = self.r.items.len();
        let mut items: Vec<usize> = Vec::new();
        for k in 0..COUNTED_PER_DAY.min(n) {
            let i = (self.day as usize * COUNTED_PER_DAY + k + self.s * 7) % n;
            if !items.contains(&i) {
                items.push(i);
            }
        }
        let (due, later): (Vec<Reveal>, Vec<Reveal>) =
            std::mem::take(&mut self.st.reveals).into_iter().partition(|r| r.count_day <= self.day);
        self.st.reveals = later;
        for r in &due {
            if !items.contains(&r.item) {
                items.push(r.item);
            }
        }
        let mut lines = Vec::new();
        let mut miscounts = Vec::new();
        let mut books = Vec::new();
        for &i in &items {
            let truth = self.st.on_hand[i].max(0);
            let mut counted = truth;
            let revealing = due.iter().any(|r| r.item == i);
            if !revealing && chance(&mut self.st.fault_rng, self.r.config.faults.miscount) {
                let delta =
                    self.st.fault_rng.random_range(1..=4) * if self.st.fault_rng.random_bool(0.5) { 1 } else { -1 };
                counted = (truth + delta).max(0);
                if counted == truth {
                    counted = truth + delta.abs();
                }
                miscounts.push((i, truth, counted));
            }
            books.push((i, self.st.book[i]));
            self.st.book[i] = counted;
            let it = &self.r.items[i];
            lines.push(CountLine { item: item_ref(&it.gtin, &it.sku), counted: each(counted) });
        }
        if lines.is_empty() {
            return;
        }
        let number = format!("CC-{}-{}", self.store, self.date.format("%Y%m%d"));
        let doc = InventoryCount {
            count_number: DocumentNumber(number.clone()),
            location: LocationId(self.store.clone()),
            scope: CountScope::Cycle,
            counted_by: Some("night crew".to_owned()),
            lines,
        };
        let source = self.source.clone();
        let at = calendar::at(self.date, 21, 15);
        let event = self.log.emit(at, EventType::InventoryCounted, &source, EventPayload::InventoryCount(doc));
        let store = self.store.clone();
        for (i, truth, counted) in miscounts {
            let sku = self.r.items[i].sku.clone();
            let detail = format!("{sku}: {truth} on the shelf, {counted} counted");
            self.log.fault(FaultKind::Miscount, &event, &store, Some(&sku), Some(&number), self.day, detail);
        }
        for r in due {
            let sku = self.r.items[r.item].sku.clone();
            let book = books.iter().find(|(i, _)| *i == r.item).map_or(0, |(_, b)| *b);
            let detail = format!(
                "{} units of {sku} vanished on day {} without a record; the books showed {book}, the count found {}",
                r.units, r.shrink_day, self.st.on_hand[r.item]
            );
            self.log.fault(FaultKind::Shrink, &event, &store, Some(&sku), Some(&number), r.shrink_day, detail);
        }
    }
}
