//! The supply chain: purchase orders to suppliers, despatch advices, goods receipts and
//! invoices at the distribution centres, and replenishment transfers to the stores.

use backroom_model::{
    DespatchAdvice, DespatchLine, DocumentNumber, EventPayload, EventType, GoodsReceipt, InvoiceKind, InvoiceLine,
    LocationId, PurchaseOrder, PurchaseOrderLine, ReceiptLine, SupplierId, SupplierInvoice, Transfer, TransferLine,
};
use chrono::{Datelike, Duration, Weekday};
use rand::Rng;
use rust_decimal::Decimal;

use super::calendar;
use super::envelope::DayLog;
use super::faults::FaultKind;
use super::money::{cents, each, item_ref, money, tax_on};
use super::random::{chance, pick_exclusive};
use super::simulation::{Delivery, OrderedLine, PendingInvoice, Simulation};
use super::world::round_up_to_case;

/// Payment terms of every supplier, in days.
const PAYMENT_TERMS_DAYS: i64 = 30;

impl Simulation {
    fn day_of(&self, date: chrono::NaiveDate) -> u32 {
        (date - self.retailer.start()).num_days().max(0) as u32
    }

    /// Purchasing reviews each distribution centre's stock on weekdays at 09:00 and orders, per
    /// supplier, every item whose position (on hand and on order) is below its reorder point.
    pub(crate) fn review_purchasing(&mut self, day: u32, log: &mut DayLog) {
        let date = self.retailer.date(day);
        if date.weekday() == Weekday::Sat {
            return;
        }
        let currency = self.retailer.config.currency.clone();
        for d in 0..self.dcs.len() {
            for sup in 0..self.retailer.suppliers.len() {
                let supplier = self.retailer.suppliers[sup].clone();
                let mut lines = Vec::new();
                for i in 0..self.retailer.items.len() {
                    if self.retailer.items[i].supplier != supplier.id {
                        continue;
                    }
                    let (reorder, up_to) = self.retailer.dc_policy(d, i);
                    let position = self.dcs[d].on_hand[i] + self.dcs[d].on_order[i];
                    if reorder > 0 && position < reorder {
                        let quantity = round_up_to_case(up_to - position);
                        lines.push(OrderedLine {
                            line: lines.len() as u32 + 1,
                            item: i,
                            quantity,
                            unit_price: self.retailer.items[i].cost,
                        });
                    }
                }
                if lines.is_empty() {
                    continue;
                }
                for l in &lines {
                    self.dcs[d].on_order[l.item] += l.quantity;
                }
                self.counters.po += 1;
                let po_number = format!("PO-{:07}", self.counters.po);
                let expected = calendar::next_working_day(date + Duration::days(i64::from(supplier.lead_time_days)));
                let mut asn_date = expected - Duration::days(1);
                while !calendar::working_day(asn_date) && asn_date > date {
                    asn_date -= Duration::days(1);
                }
                let dc_id = self.retailer.distribution_centres[d].id.clone();
                let doc = PurchaseOrder {
                    po_number: DocumentNumber(po_number.clone()),
                    supplier: SupplierId(supplier.id.clone()),
                    ship_to: LocationId(dc_id),
                    ordered_on: date,
                    expected_on: Some(expected),
                    currency: backroom_model::Currency(currency.clone()),
                    buyer: Some("replenishment".to_owned()),
                    lines: lines
                        .iter()
                        .map(|l| {
                            let item = &self.retailer.items[l.item];
                            PurchaseOrderLine {
                                line: l.line,
                                item: item_ref(&item.gtin, &item.sku),
                                quantity: each(l.quantity),
                                unit_price: money(l.unit_price, &currency),
                            }
                        })
                        .collect(),
                };
                let minute = 9 * 60 + self.supply_rng[d].random_range(0..30);
                log.emit(calendar::local(date, minute), EventType::PoCreated, "erp", EventPayload::PurchaseOrder(doc));
                self.deliveries.push(Delivery {
                    po_number,
                    dc: d,
                    supplier: sup,
                    lines,
                    asn_day: self.day_of(asn_date),
                    expected_day: self.day_of(expected),
                    asn_number: None,
                });
            }
        }
    }

    /// Suppliers announce tomorrow's deliveries at 16:00 with a despatch advice of the quantities ordered.
    pub(crate) fn advise_despatches(&mut self, day: u32, log: &mut DayLog) {
        let date = self.retailer.date(day);
        for k in 0..self.deliveries.len() {
            if self.deliveries[k].asn_day != day || self.deliveries[k].asn_number.is_some() {
                continue;
            }
            self.counters.asn += 1;
            let delivery = &self.deliveries[k];
            let supplier = &self.retailer.suppliers[delivery.supplier];
            let number = format!("ASN-{}-{:06}", supplier.id, self.counters.asn);
            let doc = DespatchAdvice {
                despatch_number: DocumentNumber(number.clone()),
                supplier: Some(SupplierId(supplier.id.clone())),
                ship_from: None,
                ship_to: LocationId(self.retailer.distribution_centres[delivery.dc].id.clone()),
                po_number: Some(DocumentNumber(delivery.po_number.clone())),
                shipped_on: Some(date),
                expected_on: Some(self.retailer.date(delivery.expected_day)),
                lines: delivery
                    .lines
                    .iter()
                    .map(|l| {
                        let item = &self.retailer.items[l.item];
                        DespatchLine {
                            line: l.line,
                            po_line: Some(l.line),
                            item: item_ref(&item.gtin, &item.sku),
                            quantity: each(l.quantity),
                        }
                    })
                    .collect(),
            };
            let source = format!("supplier/{}", supplier.id);
            log.emit(calendar::at(date, 16, 0), EventType::DespatchAdvised, &source, EventPayload::DespatchAdvice(doc));
            self.deliveries[k].asn_number = Some(number);
        }
    }

    /// Deliveries due today are received at 05:00; each may arrive short. The supplier's invoice
    /// follows the next working day, or (a fault) arrives before the receipt.
    pub(crate) fn receive_deliveries(&mut self, day: u32, log: &mut DayLog) {
        let date = self.retailer.date(day);
        let (due, later): (Vec<Delivery>, Vec<Delivery>) =
            std::mem::take(&mut self.deliveries).into_iter().partition(|d| d.expected_day == day);
        self.deliveries = later;
        let faults = self.retailer.config.faults.clone();
        for delivery in due {
            let dc_id = self.retailer.distribution_centres[delivery.dc].id.clone();
            let supplier = self.retailer.suppliers[delivery.supplier].clone();
            let mut received: Vec<i64> = delivery.lines.iter().map(|l| l.quantity).collect();
            let mut short_line = None;
            if chance(&mut self.supply_faults, faults.short_shipment) {
                let k = self.supply_faults.random_range(0..received.len());
                let ordered = received[k];
                let got = (ordered as f64 * self.supply_faults.random_range(0.4..0.9)).floor() as i64;
                received[k] = got.min(ordered - 1).max(0);
                short_line = Some(k);
            }
            for (l, got) in delivery.lines.iter().zip(&received) {
                self.dcs[delivery.dc].on_hand[l.item] += got;
                self.dcs[delivery.dc].on_order[l.item] -= l.quantity;
            }
            self.counters.receipt += 1;
            let receipt_number = format!("GR-{}-{:06}", dc_id, self.counters.receipt);
            let doc = GoodsReceipt {
                receipt_number: DocumentNumber(receipt_number.clone()),
                location: LocationId(dc_id.clone()),
                supplier: Some(SupplierId(supplier.id.clone())),
                po_number: Some(DocumentNumber(delivery.po_number.clone())),
                despatch_advice: delivery.asn_number.clone().map(DocumentNumber),
                lines: delivery
                    .lines
                    .iter()
                    .zip(&received)
                    .map(|(l, got)| {
                        let item = &self.retailer.items[l.item];
                        let short = l.quantity - got;
                        ReceiptLine {
                            line: l.line,
                            po_line: Some(l.line),
                            item: item_ref(&item.gtin, &item.sku),
                            received: each(*got),
                            short: (short > 0).then(|| each(short)),
                            rejected: None,
                            reason: (short > 0).then(|| "not delivered".to_owned()),
                        }
                    })
                    .collect(),
            };
            let source = format!("wms/{dc_id}");
            let event =
                log.emit(calendar::at(date, 5, 0), EventType::ReceiptPosted, &source, EventPayload::GoodsReceipt(doc));
            if let Some(k) = short_line {
                let l = &delivery.lines[k];
                let sku = &self.retailer.items[l.item].sku;
                log.fault(
                    FaultKind::ShortShipment,
                    &event,
                    &dc_id,
                    Some(sku),
                    Some(&receipt_number),
                    day,
                    format!(
                        "{} line {} ({sku}): {} announced and ordered, {} received",
                        delivery.po_number, l.line, l.quantity, received[k]
                    ),
                );
            }
            self.plan_invoice(day, delivery, receipt_number, &received, log);
        }
    }

    fn plan_invoice(
        &mut self,
        day: u32,
        delivery: Delivery,
        receipt_number: String,
        received: &[i64],
        log: &mut DayLog,
    ) {
        let faults = &self.retailer.config.faults;
        let rates = [
            faults.invoice_price_mismatch,
            faults.invoice_quantity_mismatch,
            faults.duplicate_invoice,
            faults.invoice_before_receipt,
        ];
        let kind = pick_exclusive(&mut self.supply_faults, &rates).map(|k| {
            [
                FaultKind::InvoicePriceMismatch,
                FaultKind::InvoiceQuantityMismatch,
                FaultKind::DuplicateInvoice,
                FaultKind::InvoiceBeforeReceipt,
            ][k]
        });
        let mut lines: Vec<OrderedLine> = delivery
            .lines
            .iter()
            .zip(received)
            .filter(|(_, got)| **got > 0)
            .map(|(l, got)| OrderedLine { quantity: *got, ..l.clone() })
            .collect();
        if lines.is_empty() {
            return;
        }
        let counter = self.counters.invoice.entry(delivery.supplier).or_insert(0);
        *counter += 1;
        let supplier_id = self.retailer.suppliers[delivery.supplier].id.clone();
        let invoice_number = format!("{supplier_id}-INV-{:05}", *counter);
        let mut fault = None;
        match kind {
            Some(FaultKind::InvoicePriceMismatch) => {
                let k = self.supply_faults.random_range(0..lines.len());
                let agreed = lines[k].unit_price;
                let factor = Decimal::new(self.supply_faults.random_range(103..=110), 2);
                let mut billed = cents(agreed * factor);
                if billed == agreed {
                    billed += Decimal::new(1, 2);
                }
                lines[k].unit_price = billed;
                let text =
                    format!("{} line {}: ordered at {agreed}, invoiced at {billed}", delivery.po_number, lines[k].line);
                fault = Some((FaultKind::InvoicePriceMismatch, k, text));
            }
            Some(FaultKind::InvoiceQuantityMismatch) => {
                let k = self.supply_faults.random_range(0..lines.len());
                let got = lines[k].quantity;
                let extra = self.supply_faults.random_range(1..=(got / 10).max(1));
                lines[k].quantity = got + extra;
                let text =
                    format!("{} line {}: {got} received, {} invoiced", delivery.po_number, lines[k].line, got + extra);
                fault = Some((FaultKind::InvoiceQuantityMismatch, k, text));
            }
            Some(FaultKind::DuplicateInvoice) => {
                fault = Some((FaultKind::DuplicateInvoice, 0, format!("{invoice_number} sent a second time")));
            }
            _ => {}
        }
        let mut invoice = PendingInvoice {
            due_day: day,
            invoice_number,
            supplier: delivery.supplier,
            dc: delivery.dc,
            po_number: delivery.po_number,
            asn_number: delivery.asn_number,
            receipt_number: Some(receipt_number),
            lines,
            fault,
        };
        if kind == Some(FaultKind::InvoiceBeforeReceipt) {
            // Issued and received before the goods are booked in: it cannot name the receipt.
            let receipt = invoice.receipt_number.take().unwrap_or_default();
            let event = self.emit_invoice(&invoice, day, 4, 30, log);
            let dc_id = self.retailer.distribution_centres[invoice.dc].id.clone();
            log.fault(
                FaultKind::InvoiceBeforeReceipt,
                &event,
                &dc_id,
                None,
                Some(&invoice.invoice_number),
                day,
                format!("{} arrived at 04:30, before receipt {receipt} was posted at 05:00", invoice.invoice_number),
            );
            return;
        }
        let date = self.retailer.date(day);
        invoice.due_day = self.day_of(calendar::next_working_day(date + Duration::days(1)));
        self.invoices.push(invoice);
    }

    /// Invoices due today arrive at 10:00; a duplicated one arrives again at 12:00.
    pub(crate) fn send_invoices(&mut self, day: u32, log: &mut DayLog) {
        let (due, later): (Vec<PendingInvoice>, Vec<PendingInvoice>) =
            std::mem::take(&mut self.invoices).into_iter().partition(|i| i.due_day == day);
        self.invoices = later;
        for invoice in due {
            let event = self.emit_invoice(&invoice, day, 10, 0, log);
            let Some((kind, k, text)) = &invoice.fault else { continue };
            let dc_id = self.retailer.distribution_centres[invoice.dc].id.clone();
            let sku = self.retailer.items[invoice.lines[*k].item].sku.clone();
            match kind {
                FaultKind::DuplicateInvoice => {
                    let again = self.emit_invoice(&invoice, day, 12, 0, log);
                    let detail = format!("{text}; the first copy is event {event}");
                    log.fault(*kind, &again, &dc_id, None, Some(&invoice.invoice_number), day, detail);
                }
                _ => log.fault(*kind, &event, &dc_id, Some(&sku), Some(&invoice.invoice_number), day, text.clone()),
            }
        }
    }

    fn emit_invoice(&self, invoice: &PendingInvoice, day: u32, hour: u32, minute: u32, log: &mut DayLog) -> String {
        let currency = &self.retailer.config.currency;
        let date = self.retailer.date(day);
        let mut tax_total = Decimal::ZERO;
        let mut net_total = Decimal::ZERO;
        let lines = invoice
            .lines
            .iter()
            .enumerate()
            .map(|(n, l)| {
                let item = &self.retailer.items[l.item];
                let net = cents(Decimal::from(l.quantity) * l.unit_price);
                net_total += net;
                tax_total += tax_on(net, item.vat_percent);
                InvoiceLine {
                    line: n as u32 + 1,
                    po_line: Some(l.line),
                    item: item_ref(&item.gtin, &item.sku),
                    quantity: each(l.quantity),
                    unit_price: money(l.unit_price, currency),
                    net_amount: money(net, currency),
                    tax_rate_percent: Some(item.vat_percent),
                }
            })
            .collect();
        let supplier = &self.retailer.suppliers[invoice.supplier];
        let doc = SupplierInvoice {
            invoice_number: DocumentNumber(invoice.invoice_number.clone()),
            kind: InvoiceKind::Invoice,
            supplier: SupplierId(supplier.id.clone()),
            issued_on: date,
            due_on: Some(date + Duration::days(PAYMENT_TERMS_DAYS)),
            currency: backroom_model::Currency(currency.clone()),
            po_number: Some(DocumentNumber(invoice.po_number.clone())),
            despatch_advice: invoice.asn_number.clone().map(DocumentNumber),
            receipt_number: invoice.receipt_number.clone().map(DocumentNumber),
            credited_invoice: None,
            lines,
            tax_total: money(tax_total, currency),
            total: money(net_total + tax_total, currency),
        };
        let source = format!("supplier/{}", supplier.id);
        log.emit(
            calendar::at(date, hour, minute),
            EventType::InvoiceReceived,
            &source,
            EventPayload::SupplierInvoice(doc),
        )
    }

    /// Each distribution centre ships to its open stores at 05:45 every item whose book stock
    /// fell below 60 % of its target, up to the target (raised ahead of promotions); the store
    /// books the goods in at 07:15.
    pub(crate) fn replenish_stores(&mut self, day: u32, log: &mut DayLog) {
        let date = self.retailer.date(day);
        if !calendar::store_open(date) {
            return;
        }
        let plans = self.planned_uplifts(day);
        for s in 0..self.stores.len() {
            let store_id = self.retailer.stores[s].id.clone();
            let dc_id = self.retailer.stores[s].distribution_centre.clone();
            let Some(d) = self.retailer.distribution_centres.iter().position(|dc| dc.id == dc_id) else { continue };
            let mut lines = Vec::new();
            for i in 0..self.retailer.items.len() {
                let (uplift, held) = plans.get(&(s, i)).copied().unwrap_or((1.0, false));
                if held {
                    continue;
                }
                let target = self.retailer.store_target(s, i, uplift);
                let book = self.stores[s].book[i];
                if (book as f64) >= target as f64 * 0.6 {
                    continue;
                }
                let quantity = (target - book).min(self.dcs[d].on_hand[i]);
                if quantity > 0 {
                    lines.push((i, quantity));
                }
            }
            if lines.is_empty() {
                continue;
            }
            self.counters.transfer += 1;
            let number = format!("TR-{:07}", self.counters.transfer);
            let doc = Transfer {
                transfer_number: DocumentNumber(number),
                from: LocationId(dc_id.clone()),
                to: LocationId(store_id.clone()),
                expected_on: Some(date),
                reason: Some("replenishment".to_owned()),
                lines: lines
                    .iter()
                    .enumerate()
                    .map(|(n, (i, q))| {
                        let item = &self.retailer.items[*i];
                        TransferLine { line: n as u32 + 1, item: item_ref(&item.gtin, &item.sku), quantity: each(*q) }
                    })
                    .collect(),
            };
            for (i, q) in &lines {
                self.dcs[d].on_hand[*i] -= q;
                let store = &mut self.stores[s];
                store.on_hand[*i] += q;
                store.book[*i] += q;
                if store.on_hand[*i] > 0 {
                    store.out[*i] = false;
                }
            }
            let shipped = EventPayload::Transfer(doc.clone());
            log.emit(calendar::at(date, 5, 45), EventType::TransferShipped, &format!("wms/{dc_id}"), shipped);
            let received = EventPayload::Transfer(doc);
            log.emit(calendar::at(date, 7, 15), EventType::TransferReceived, &format!("pos/{store_id}"), received);
        }
    }
}
