//! Small, hand-shaped situations on a generated retailer, for end-to-end tests of workflows.
//!
//! Each builder returns a [`Scenario`]: the events (as POSTed to `/v1/events`) and the document
//! numbers a test needs to follow them. Event ids and document numbers are derived from the
//! builder's arguments, so the same call gives the same events (and a server dedupes a repeat),
//! while different calls never collide. Days count from the retailer's first simulated day.

use std::collections::BTreeMap;

use backroom_model::{
    Channel, CustomerId, CustomerOrder, DocumentNumber, EventPayload, EventType, FulfilmentMethod, GoodsReceipt,
    InvoiceKind, InvoiceLine, LocationId, OrderException, OrderExceptionKind, OrderExceptionLine, OrderLine, Promotion,
    PromotionItem, PurchaseOrder, PurchaseOrderLine, Quantity, ReceiptLine, ReturnLine, ReturnReason, ReturnRequest,
    SaleLine, SaleRef, SalesTransaction, StockoutReport, SupplierId, SupplierInvoice, Tender, TenderMethod, Transfer,
    TransferLine,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::calendar;
use super::envelope::event_json;
use super::error::SimError;
use super::money::{cents, each, included_tax, item_ref, money, tax_on};
use super::world::{Item, Retailer};

/// The events of a scenario and the document numbers they carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The events in `occurred_at` order, as POSTed to `/v1/events`.
    pub events: Vec<Value>,
    /// Document numbers by role: `promotion`, `transaction`, `return`, `po_number`,
    /// `receipt_number`, `invoice_number`, `transfer_number`, `order_number`.
    pub documents: BTreeMap<String, String>,
}

impl Scenario {
    /// The document number with this role.
    pub fn document(&self, role: &str) -> Option<&str> {
        self.documents.get(role).map(String::as_str)
    }

    /// The purchase order of a `po.created` event in the scenario.
    pub fn purchase_order(&self) -> Option<PurchaseOrder> {
        self.events
            .iter()
            .find(|e| e["type"] == EventType::PoCreated.as_str())
            .and_then(|e| serde_json::from_value(e["data"].clone()).ok())
    }

    /// The ids of the scenario's events, in order.
    pub fn event_ids(&self) -> Vec<String> {
        self.events.iter().filter_map(|e| e["id"].as_str().map(str::to_owned)).collect()
    }
}

/// What a supplier bills for one purchase-order line.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoicedLine {
    /// The billed quantity.
    pub quantity: Decimal,
    /// The billed price per unit, before VAT.
    pub unit_price: Decimal,
}

/// Collects a scenario's events with ids derived from its arguments.
struct Builder<'a> {
    r: &'a Retailer,
    tag: String,
    events: Vec<(DateTime<Utc>, Value)>,
    documents: BTreeMap<String, String>,
}

impl<'a> Builder<'a> {
    fn new(r: &'a Retailer, kind: &str, key: &str) -> Self {
        // FNV-1a over the arguments and the seed: stable across runs and platforms.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!("{}|{kind}|{key}", r.config.seed).bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Builder { r, tag: format!("{kind}-{:08x}", hash as u32), events: Vec::new(), documents: BTreeMap::new() }
    }

    /// A document number: the prefix and the scenario's hash (`PO-887089E1`).
    fn number(&self, prefix: &str) -> String {
        let hash = self.tag.rsplit('-').next().unwrap_or(&self.tag);
        format!("{prefix}-{}", hash.to_uppercase())
    }

    fn emit(&mut self, at: DateTime<Utc>, t: EventType, source: &str, payload: EventPayload) {
        let id = format!("scn-{}-{}", self.tag, self.events.len() + 1);
        self.events.push((at, event_json(&id, t, source, at, &payload)));
    }

    fn document(&mut self, role: &str, number: &str) {
        self.documents.insert(role.to_owned(), number.to_owned());
    }

    fn date(&self, day: u32) -> NaiveDate {
        self.r.date(day)
    }

    fn currency(&self) -> String {
        self.r.config.currency.clone()
    }

    fn finish(mut self) -> Scenario {
        self.events.sort_by_key(|(at, _)| *at);
        Scenario { events: self.events.into_iter().map(|(_, e)| e).collect(), documents: self.documents }
    }
}

fn store_of(r: &Retailer, field: &str, id: &str) -> Result<(), SimError> {
    r.store(id).map(|_| ()).ok_or_else(|| {
        SimError::scenario(
            field,
            format!("{id:?} is not a store of the retailer; stores are S001 to S{:03}", r.stores.len()),
        )
    })
}

fn location_of(r: &Retailer, field: &str, id: &str) -> Result<(), SimError> {
    if r.store(id).is_some() || r.distribution_centre(id).is_some() {
        return Ok(());
    }
    Err(SimError::scenario(field, format!("{id:?} is neither a store nor a distribution centre of the retailer")))
}

fn item_of<'r>(r: &'r Retailer, field: &str, sku: &str) -> Result<&'r Item, SimError> {
    r.item(sku).ok_or_else(|| {
        SimError::scenario(
            field,
            format!("{sku:?} is not an item of the retailer; items are SKU-00001 to SKU-{:05}", r.items.len()),
        )
    })
}

fn positive(field: &str, q: Decimal) -> Result<(), SimError> {
    if q <= Decimal::ZERO {
        return Err(SimError::scenario(field, format!("{q} must be greater than zero")));
    }
    Ok(())
}

fn code(field: &str, value: &str) -> Result<(), SimError> {
    let ok = value.len() <= 64
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '#' | '+' | '-'));
    if !ok {
        return Err(SimError::scenario(
            field,
            format!(
                "{value:?} is not a code: use 1 to 64 letters, digits or . _ : / # + -, starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

fn qty(q: Decimal) -> Quantity {
    Quantity::each(q)
}

fn opening(r: &Retailer, location: &str, sku: &str) -> i64 {
    r.opening_stock.iter().find(|s| s.location == location && s.sku == sku).map_or(0, |s| s.on_hand)
}

/// A promotion on `item` at `store` starting on `day` (announced a week ahead), then shoppers
/// who buy the store's whole opening stock of it that day, and the empty shelf reported.
pub fn promoted_stockout(r: &Retailer, store: &str, item: &str, day: u32) -> Result<Scenario, SimError> {
    store_of(r, "store", store)?;
    let it = item_of(r, "item", item)?.clone();
    let mut b = Builder::new(r, "promo-stockout", &format!("{store}|{item}|{day}"));
    let currency = b.currency();
    let promotion = b.number("PROMO");
    let promo_price = cents(it.price * Decimal::new(75, 2));
    let doc = Promotion {
        promotion_id: DocumentNumber(promotion.clone()),
        name: format!("{} offer", it.name),
        starts_on: b.date(day),
        ends_on: b.date(day + 6),
        locations: vec![LocationId::from(store)],
        items: vec![PromotionItem {
            item: item_ref(&it.gtin, &it.sku),
            promo_price: Some(money(promo_price, &currency)),
            discount_percent: Some(Decimal::from(25)),
            expected_uplift_percent: Some(Decimal::from(120)),
        }],
    };
    let announced = b.date(day.saturating_sub(7));
    b.emit(calendar::at(announced, 7, 30), EventType::PromotionScheduled, "erp", EventPayload::Promotion(doc));
    b.document("promotion", &promotion);
    let date = b.date(day);
    let mut stock = opening(r, store, item).max(1);
    let per_sale = (stock / 30 + 1).max(1);
    let source = format!("pos/{store}");
    let mut minute = 8 * 60 + 30;
    let mut n = 0;
    let mut last = String::new();
    while stock > 0 {
        n += 1;
        let q = (per_sale + i64::from(n % 3)).min(stock);
        stock -= q;
        last = format!("{store}-{}-P{n:03}", b.tag.to_uppercase());
        let units = Decimal::from(q);
        let net = promo_price * units;
        let sale = SalesTransaction {
            transaction_id: DocumentNumber(last.clone()),
            location: LocationId::from(store),
            workstation: Some("till-1".to_owned()),
            business_day: date,
            cashier: None,
            customer: None,
            currency: backroom_model::Currency(currency.clone()),
            original: None,
            lines: vec![SaleLine {
                line: 1,
                item: item_ref(&it.gtin, &it.sku),
                quantity: each(q),
                unit_price: money(it.price, &currency),
                discount: Some(money((it.price - promo_price) * units, &currency)),
                tax: Some(money(included_tax(net, it.vat_percent), &currency)),
                net_amount: money(net, &currency),
                promotion: Some(DocumentNumber(promotion.clone())),
            }],
            tenders: vec![Tender { method: TenderMethod::Card, amount: money(net, &currency), reference: None }],
            total: money(net, &currency),
        };
        b.emit(calendar::local(date, minute), EventType::PosSale, &source, EventPayload::SalesTransaction(sale));
        minute += 15;
    }
    b.document("transaction", &last);
    let report = StockoutReport {
        location: LocationId::from(store),
        item: item_ref(&it.gtin, &it.sku),
        reported_by: Some("shelf check".to_owned()),
        shelf_quantity: Some(each(0)),
        system_quantity: Some(each(0)),
        note: Some(format!("promoted in {promotion}")),
    };
    b.emit(
        calendar::local(date, minute + 10),
        EventType::InventoryStockoutReported,
        &source,
        EventPayload::StockoutReport(report),
    );
    Ok(b.finish())
}

/// A purchase order from `dc` to `supplier` on the first day. `lines` are (SKU, quantity) at
/// the items' cost; with no lines, up to three of the supplier's items, 24 units each. With
/// `amount_hint`, quantities are multiplied by the smallest whole factor that brings the order
/// total to at least that amount (to cross an approval threshold, say).
pub fn purchase_order(
    r: &Retailer,
    dc: &str,
    supplier: &str,
    lines: &[(&str, Decimal)],
    amount_hint: Option<Decimal>,
) -> Result<Scenario, SimError> {
    let dc_loc = r.distribution_centre(dc).ok_or_else(|| {
        SimError::scenario(
            "dc",
            format!("{dc:?} is not a distribution centre; they are DC-01 to DC-{:02}", r.distribution_centres.len()),
        )
    })?;
    let sup = r.supplier(supplier).ok_or_else(|| {
        SimError::scenario(
            "supplier",
            format!("{supplier:?} is not a supplier; they are SUP-001 to SUP-{:03}", r.suppliers.len()),
        )
    })?;
    let mut chosen: Vec<(Item, Decimal)> = Vec::new();
    if lines.is_empty() {
        chosen.extend(r.items.iter().filter(|i| i.supplier == sup.id).take(3).map(|i| (i.clone(), Decimal::from(24))));
        if chosen.is_empty() {
            return Err(SimError::scenario("lines", format!("{} supplies no item: name the lines", sup.id)));
        }
    }
    for (k, (sku, q)) in lines.iter().enumerate() {
        let it = item_of(r, &format!("lines[{k}].sku"), sku)?;
        positive(&format!("lines[{k}].quantity"), *q)?;
        chosen.push((it.clone(), *q));
    }
    let total: Decimal = chosen.iter().map(|(i, q)| i.cost * q).sum();
    if let Some(hint) = amount_hint
        && hint > total
        && total > Decimal::ZERO
    {
        let factor = (hint / total).ceil();
        for (_, q) in &mut chosen {
            *q *= factor;
        }
    }
    let key = format!(
        "{dc}|{supplier}|{chosen:?}",
        chosen = chosen.iter().map(|(i, q)| format!("{}x{q}", i.sku)).collect::<Vec<_>>()
    );
    let mut b = Builder::new(r, "po", &key);
    let currency = b.currency();
    let po_number = b.number("PO");
    let ordered = b.date(0);
    let doc = PurchaseOrder {
        po_number: DocumentNumber(po_number.clone()),
        supplier: SupplierId(sup.id.clone()),
        ship_to: LocationId(dc_loc.id.clone()),
        ordered_on: ordered,
        expected_on: Some(calendar::next_working_day(ordered + Duration::days(i64::from(sup.lead_time_days)))),
        currency: backroom_model::Currency(currency.clone()),
        buyer: Some("category buyer".to_owned()),
        lines: chosen
            .iter()
            .enumerate()
            .map(|(n, (i, q))| PurchaseOrderLine {
                line: n as u32 + 1,
                item: item_ref(&i.gtin, &i.sku),
                quantity: qty(*q),
                unit_price: money(i.cost, &currency),
            })
            .collect(),
    };
    b.emit(calendar::at(ordered, 9, 0), EventType::PoCreated, "erp", EventPayload::PurchaseOrder(doc));
    b.document("po_number", &po_number);
    Ok(b.finish())
}

/// The goods receipt of `po` at its delivery day (`received`: one quantity per order line; a
/// line received short gets its shortfall) and the supplier's invoice the next day (`invoiced`:
/// one billed quantity and price per order line; lines billed zero are left off).
pub fn receipt_and_invoice(
    r: &Retailer,
    po: &PurchaseOrder,
    received: &[Decimal],
    invoiced: &[InvoicedLine],
) -> Result<Scenario, SimError> {
    if received.len() != po.lines.len() {
        return Err(SimError::scenario(
            "received",
            format!("{} quantities for {} order lines: give one per line", received.len(), po.lines.len()),
        ));
    }
    if invoiced.len() != po.lines.len() {
        return Err(SimError::scenario(
            "invoiced",
            format!("{} billed lines for {} order lines: give one per line", invoiced.len(), po.lines.len()),
        ));
    }
    for (k, q) in received.iter().enumerate() {
        if q.is_sign_negative() {
            return Err(SimError::scenario(&format!("received[{k}]"), format!("{q} must not be negative")));
        }
    }
    for (k, l) in invoiced.iter().enumerate() {
        if l.quantity.is_sign_negative() || l.unit_price.is_sign_negative() {
            return Err(SimError::scenario(
                &format!("invoiced[{k}]"),
                "quantity and price must not be negative".to_owned(),
            ));
        }
    }
    let key = format!("{}|{received:?}|{invoiced:?}", po.po_number);
    let mut b = Builder::new(r, "match", &key);
    let currency = po.currency.0.clone();
    let receipt_number = b.number("GR");
    let invoice_number = b.number("INV");
    let delivered = po.expected_on.unwrap_or(po.ordered_on + Duration::days(1));
    let receipt = GoodsReceipt {
        receipt_number: DocumentNumber(receipt_number.clone()),
        location: po.ship_to.clone(),
        supplier: Some(po.supplier.clone()),
        po_number: Some(po.po_number.clone()),
        despatch_advice: None,
        lines: po
            .lines
            .iter()
            .zip(received)
            .map(|(l, got)| {
                let short = l.quantity.value - got;
                ReceiptLine {
                    line: l.line,
                    po_line: Some(l.line),
                    item: l.item.clone(),
                    received: qty(*got),
                    short: (short > Decimal::ZERO).then(|| qty(short)),
                    rejected: None,
                    reason: (short > Decimal::ZERO).then(|| "not delivered".to_owned()),
                }
            })
            .collect(),
    };
    b.emit(
        calendar::at(delivered, 5, 0),
        EventType::ReceiptPosted,
        &format!("wms/{}", po.ship_to),
        EventPayload::GoodsReceipt(receipt),
    );
    let mut net_total = Decimal::ZERO;
    let mut tax_total = Decimal::ZERO;
    let mut lines = Vec::new();
    for (l, billed) in po.lines.iter().zip(invoiced) {
        if billed.quantity.is_zero() {
            continue;
        }
        let vat = l.item.sku.as_ref().and_then(|s| r.item(s.as_str())).map_or(Decimal::from(20), |i| i.vat_percent);
        let net = cents(billed.quantity * billed.unit_price);
        net_total += net;
        tax_total += tax_on(net, vat);
        lines.push(InvoiceLine {
            line: lines.len() as u32 + 1,
            po_line: Some(l.line),
            item: l.item.clone(),
            quantity: qty(billed.quantity),
            unit_price: Money6::of(billed.unit_price, &currency),
            net_amount: money(net, &currency),
            tax_rate_percent: Some(vat),
        });
    }
    if lines.is_empty() {
        return Err(SimError::scenario("invoiced", "every billed quantity is zero: bill at least one line".to_owned()));
    }
    let issued = calendar::next_working_day(delivered + Duration::days(1));
    let invoice = SupplierInvoice {
        invoice_number: DocumentNumber(invoice_number.clone()),
        kind: InvoiceKind::Invoice,
        supplier: po.supplier.clone(),
        issued_on: issued,
        due_on: Some(issued + Duration::days(30)),
        currency: po.currency.clone(),
        po_number: Some(po.po_number.clone()),
        despatch_advice: None,
        receipt_number: Some(DocumentNumber(receipt_number.clone())),
        credited_invoice: None,
        lines,
        tax_total: money(tax_total, &currency),
        total: money(net_total + tax_total, &currency),
    };
    b.emit(
        calendar::at(issued, 10, 0),
        EventType::InvoiceReceived,
        &format!("supplier/{}", po.supplier),
        EventPayload::SupplierInvoice(invoice),
    );
    b.document("po_number", po.po_number.as_str());
    b.document("receipt_number", &receipt_number);
    b.document("invoice_number", &invoice_number);
    Ok(b.finish())
}

/// Unit prices keep the precision given (a supplier may bill 0.8425 a unit).
struct Money6;

impl Money6 {
    fn of(amount: Decimal, currency: &str) -> backroom_model::Money {
        backroom_model::Money::new(amount.round_dp(6), currency)
    }
}

/// A sale of `qty_sold` units of the store's first item to `customer` on the first day, and
/// `days_between` days later the customer's request to return `qty_returned` of them (more than
/// was sold makes an over-limit return).
pub fn sale_and_return(
    r: &Retailer,
    store: &str,
    customer: &str,
    qty_sold: Decimal,
    qty_returned: Decimal,
    days_between: u32,
) -> Result<Scenario, SimError> {
    store_of(r, "store", store)?;
    code("customer", customer)?;
    positive("qty_sold", qty_sold)?;
    positive("qty_returned", qty_returned)?;
    let it =
        r.items.first().ok_or_else(|| SimError::scenario("store", "the retailer has no items".to_owned()))?.clone();
    let mut b = Builder::new(r, "return", &format!("{store}|{customer}|{qty_sold}|{qty_returned}|{days_between}"));
    let currency = b.currency();
    let sold_on = b.date(0);
    let transaction = b.number(&format!("{store}-T"));
    let net = it.price * qty_sold;
    let sale = SalesTransaction {
        transaction_id: DocumentNumber(transaction.clone()),
        location: LocationId::from(store),
        workstation: Some("till-2".to_owned()),
        business_day: sold_on,
        cashier: None,
        customer: Some(CustomerId::from(customer)),
        currency: backroom_model::Currency(currency.clone()),
        original: None,
        lines: vec![SaleLine {
            line: 1,
            item: item_ref(&it.gtin, &it.sku),
            quantity: qty(qty_sold),
            unit_price: money(it.price, &currency),
            discount: None,
            tax: Some(money(included_tax(net, it.vat_percent), &currency)),
            net_amount: money(net, &currency),
            promotion: None,
        }],
        tenders: vec![Tender { method: TenderMethod::Card, amount: money(net, &currency), reference: None }],
        total: money(net, &currency),
    };
    let source = format!("pos/{store}");
    b.emit(calendar::at(sold_on, 11, 0), EventType::PosSale, &source, EventPayload::SalesTransaction(sale));
    let return_number = b.number("RMA");
    let request = ReturnRequest {
        return_number: DocumentNumber(return_number.clone()),
        location: LocationId::from(store),
        channel: Channel::Store,
        customer: Some(CustomerId::from(customer)),
        original_sale: SaleRef {
            transaction_id: DocumentNumber(transaction.clone()),
            location: LocationId::from(store),
            business_day: Some(sold_on),
        },
        requested_refund: Some(money(it.price * qty_returned, &currency)),
        lines: vec![ReturnLine {
            line: 1,
            item: item_ref(&it.gtin, &it.sku),
            quantity: qty(qty_returned),
            reason: ReturnReason::ChangedMind,
            condition: Some("unopened".to_owned()),
        }],
    };
    b.emit(
        calendar::at(b.date(days_between), 15, 0),
        EventType::ReturnRequested,
        &source,
        EventPayload::ReturnRequest(request),
    );
    b.document("transaction", &transaction);
    b.document("return", &return_number);
    Ok(b.finish())
}

/// A transfer of `item` from `from` to `to` requested and shipped on the first day (`shipped`
/// units) and received the next morning (`received` units; fewer makes a discrepancy).
pub fn store_transfer(
    r: &Retailer,
    from: &str,
    to: &str,
    item: &str,
    shipped: Decimal,
    received: Decimal,
) -> Result<Scenario, SimError> {
    location_of(r, "from", from)?;
    location_of(r, "to", to)?;
    if from == to {
        return Err(SimError::scenario("to", format!("{to} is also the origin: a transfer goes to another location")));
    }
    let it = item_of(r, "item", item)?.clone();
    positive("shipped", shipped)?;
    if received.is_sign_negative() {
        return Err(SimError::scenario("received", format!("{received} must not be negative")));
    }
    let mut b = Builder::new(r, "transfer", &format!("{from}|{to}|{item}|{shipped}|{received}"));
    let number = b.number("TR");
    let day0 = b.date(0);
    let arrives = day0 + Duration::days(1);
    let doc = |q: Decimal| Transfer {
        transfer_number: DocumentNumber(number.clone()),
        from: LocationId::from(from),
        to: LocationId::from(to),
        expected_on: Some(arrives),
        reason: Some("rebalancing".to_owned()),
        lines: vec![TransferLine { line: 1, item: item_ref(&it.gtin, &it.sku), quantity: qty(q) }],
    };
    let origin = if r.store(from).is_some() { format!("pos/{from}") } else { format!("wms/{from}") };
    let destination = if r.store(to).is_some() { format!("pos/{to}") } else { format!("wms/{to}") };
    b.emit(calendar::at(day0, 9, 0), EventType::TransferRequested, "erp", EventPayload::Transfer(doc(shipped)));
    b.emit(calendar::at(day0, 14, 0), EventType::TransferShipped, &origin, EventPayload::Transfer(doc(shipped)));
    b.emit(
        calendar::at(arrives, 8, 0),
        EventType::TransferReceived,
        &destination,
        EventPayload::Transfer(doc(received)),
    );
    b.document("transfer_number", &number);
    Ok(b.finish())
}

/// An online order for one unit of `item` to collect at `store` on the first day (placed at
/// 10:00, promised for 13:00), and its fulfilment exception of `kind`.
pub fn order_exception(r: &Retailer, store: &str, item: &str, kind: OrderExceptionKind) -> Result<Scenario, SimError> {
    store_of(r, "store", store)?;
    let it = item_of(r, "item", item)?.clone();
    let mut b = Builder::new(r, "order", &format!("{store}|{item}|{kind:?}"));
    let currency = b.currency();
    let date = b.date(0);
    let number = b.number("WEB");
    let promised = calendar::at(date, 13, 0);
    let order = CustomerOrder {
        order_number: DocumentNumber(number.clone()),
        customer: CustomerId(format!("C-{store}-WEB")),
        fulfilment: FulfilmentMethod::ClickAndCollect,
        fulfilment_location: LocationId::from(store),
        promised_at: promised,
        currency: backroom_model::Currency(currency.clone()),
        lines: vec![OrderLine {
            line: 1,
            item: item_ref(&it.gtin, &it.sku),
            quantity: each(1),
            unit_price: money(it.price, &currency),
        }],
        total: money(it.price, &currency),
    };
    b.emit(calendar::at(date, 10, 0), EventType::OrderPlaced, "oms", EventPayload::CustomerOrder(order));
    let (at, note, lines) = match kind {
        OrderExceptionKind::Late => {
            (calendar::at(date, 13, 10), "order not ready at the promised pick-up time", Vec::new())
        }
        OrderExceptionKind::Failed => {
            (calendar::at(date, 12, 0), "fulfilment failed: the order was cancelled", Vec::new())
        }
        _ => (
            calendar::at(date, 10, 45),
            "the item could not be picked",
            vec![OrderExceptionLine { line: 1, item: item_ref(&it.gtin, &it.sku), quantity: each(1) }],
        ),
    };
    let exception = OrderException {
        order_number: DocumentNumber(number.clone()),
        fulfilment_location: LocationId::from(store),
        kind,
        promised_at: Some(promised),
        lines,
        note: Some(note.to_owned()),
    };
    b.emit(at, EventType::OrderException, "oms", EventPayload::OrderException(exception));
    b.document("order_number", &number);
    Ok(b.finish())
}

/// A promotion of `items` at `stores`, announced on the first day and starting `starts_in_days`
/// later for a week, at 20 % off with an expected uplift of 80 %.
pub fn promotion_ahead(
    r: &Retailer,
    stores: &[&str],
    items: &[&str],
    starts_in_days: u32,
) -> Result<Scenario, SimError> {
    if stores.is_empty() {
        return Err(SimError::scenario("stores", "name at least one store".to_owned()));
    }
    if items.is_empty() {
        return Err(SimError::scenario("items", "name at least one item".to_owned()));
    }
    for (k, s) in stores.iter().enumerate() {
        store_of(r, &format!("stores[{k}]"), s)?;
    }
    let mut promoted = Vec::new();
    for (k, sku) in items.iter().enumerate() {
        promoted.push(item_of(r, &format!("items[{k}]"), sku)?.clone());
    }
    let mut b = Builder::new(r, "promotion", &format!("{stores:?}|{items:?}|{starts_in_days}"));
    let currency = b.currency();
    let promotion = b.number("PROMO");
    let announced = b.date(0);
    let doc = Promotion {
        promotion_id: DocumentNumber(promotion.clone()),
        name: format!("{} and more", promoted[0].name),
        starts_on: b.date(starts_in_days),
        ends_on: b.date(starts_in_days + 6),
        locations: stores.iter().map(|s| LocationId::from(*s)).collect(),
        items: promoted
            .iter()
            .map(|it| PromotionItem {
                item: item_ref(&it.gtin, &it.sku),
                promo_price: Some(money(it.price * Decimal::new(80, 2), &currency)),
                discount_percent: Some(Decimal::from(20)),
                expected_uplift_percent: Some(Decimal::from(80)),
            })
            .collect(),
    };
    b.emit(calendar::at(announced, 7, 30), EventType::PromotionScheduled, "erp", EventPayload::Promotion(doc));
    b.document("promotion", &promotion);
    Ok(b.finish())
}
