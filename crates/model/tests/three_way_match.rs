//! The three-way-match rule table: each case an invoice against its order and receipts, with the
//! Peppol invoice-response codes it must produce.

use backroom_model::{
    GoodsReceipt, ItemRef, MatchInput, MatchOutcome, PurchaseOrder, SupplierInvoice, Tolerance, three_way_match,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// A purchase order from supplier SUP-001: (line, sku, quantity, unit price).
fn order(lines: &[(u32, &str, &str, &str)]) -> PurchaseOrder {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(n, sku, q, p)| {
            json!({"line": n, "item": {"sku": sku}, "quantity": {"value": q},
                   "unit_price": {"amount": p, "currency": "EUR"}})
        })
        .collect();
    serde_json::from_value(json!({
        "po_number": "PO-1001", "supplier": "SUP-001", "ship_to": "DC-01", "ordered_on": "2026-11-02",
        "currency": "EUR", "lines": lines,
    }))
    .expect("order")
}

/// A goods receipt against PO-1001: (order line, sku, received).
fn receipt(number: &str, lines: &[(u32, &str, &str)]) -> GoodsReceipt {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (po_line, sku, q))| {
            json!({"line": i + 1, "po_line": po_line, "item": {"sku": sku}, "received": {"value": q}})
        })
        .collect();
    serde_json::from_value(json!({
        "receipt_number": number, "location": "DC-01", "supplier": "SUP-001", "po_number": "PO-1001",
        "lines": lines,
    }))
    .expect("receipt")
}

/// An invoice line: (line, order line, sku, quantity, unit price); net = quantity × price.
type Line<'a> = (u32, Option<u32>, &'a str, &'a str, &'a str);

fn invoice(number: &str, lines: &[Line<'_>]) -> SupplierInvoice {
    document("invoice", number, lines, None)
}

fn credit_note(number: &str, credits: &str, lines: &[Line<'_>]) -> SupplierInvoice {
    document("credit_note", number, lines, Some(credits))
}

fn document(kind: &str, number: &str, lines: &[Line<'_>], credits: Option<&str>) -> SupplierInvoice {
    let mut total = Decimal::ZERO;
    let lines: Vec<Value> = lines
        .iter()
        .map(|(n, po_line, sku, q, p)| {
            let net = (d(q) * d(p)).round_dp(2);
            total += net;
            json!({"line": n, "po_line": po_line, "item": {"sku": sku}, "quantity": {"value": q},
                   "unit_price": {"amount": p, "currency": "EUR"},
                   "net_amount": {"amount": net.to_string(), "currency": "EUR"}})
        })
        .collect();
    let mut doc = json!({
        "invoice_number": number, "kind": kind, "supplier": "SUP-001", "issued_on": "2026-11-06",
        "currency": "EUR", "po_number": "PO-1001", "lines": lines,
        "tax_total": {"amount": "0", "currency": "EUR"},
        "total": {"amount": total.to_string(), "currency": "EUR"},
    });
    if let Some(c) = credits {
        doc["credited_invoice"] = json!(c);
    }
    serde_json::from_value(doc).expect("invoice")
}

fn edit(mut inv: SupplierInvoice, f: impl FnOnce(&mut SupplierInvoice)) -> SupplierInvoice {
    f(&mut inv);
    inv
}

struct Case {
    name: &'static str,
    order: Option<PurchaseOrder>,
    receipts: Vec<GoodsReceipt>,
    earlier: Vec<SupplierInvoice>,
    invoice: SupplierInvoice,
    tolerance: Tolerance,
    outcome: MatchOutcome,
    status: &'static str,
    reasons: &'static [&'static str],
    actions: &'static [&'static str],
    credit_due: &'static str,
}

fn case(name: &'static str, order: PurchaseOrder, receipts: Vec<GoodsReceipt>, invoice: SupplierInvoice) -> Case {
    Case {
        name,
        order: Some(order),
        receipts,
        earlier: Vec::new(),
        invoice,
        tolerance: Tolerance::default(),
        outcome: MatchOutcome::Matched,
        status: "AP",
        reasons: &["NON"],
        actions: &["NOA"],
        credit_due: "0",
    }
}

impl Case {
    fn expect(
        mut self,
        outcome: MatchOutcome,
        reasons: &'static [&'static str],
        actions: &'static [&'static str],
    ) -> Self {
        self.outcome = outcome;
        self.status = outcome.status();
        self.reasons = reasons;
        self.actions = actions;
        self
    }
    fn credit(mut self, amount: &'static str) -> Self {
        self.credit_due = amount;
        self
    }
    fn earlier(mut self, docs: Vec<SupplierInvoice>) -> Self {
        self.earlier = docs;
        self
    }
    fn tolerance(mut self, receipt: &str, billing: &str, price: &str) -> Self {
        self.tolerance =
            Tolerance { over_receipt_percent: d(receipt), over_billing_percent: d(billing), price_percent: d(price) };
        self
    }
    fn without_order(mut self) -> Self {
        self.order = None;
        self
    }
}

use MatchOutcome::{Exception, Hold, Matched, Rejected, WithinTolerance};

fn one_line() -> PurchaseOrder {
    order(&[(1, "SKU-1", "100", "2.00")])
}

fn two_lines() -> PurchaseOrder {
    order(&[(1, "SKU-1", "100", "2.00"), (2, "SKU-2", "50", "3.50")])
}

fn cases() -> Vec<Case> {
    let full = || vec![receipt("GR-1", &[(1, "SKU-1", "100")])];
    let inv100 = || invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.00")]);
    vec![
        case("exact match, one line", one_line(), full(), inv100()),
        case(
            "exact match, two lines",
            two_lines(),
            vec![receipt("GR-1", &[(1, "SKU-1", "100"), (2, "SKU-2", "50")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.00"), (2, Some(2), "SKU-2", "50", "3.50")]),
        ),
        case(
            "partial receipt billed as received",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "60")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "60", "2.00")]),
        ),
        case("partial receipt billed in full", one_line(), vec![receipt("GR-1", &[(1, "SKU-1", "60")])], inv100())
            .expect(Exception, &["QTY"], &["CNP"])
            .credit("80.00"),
        case(
            "two receipts make up the line",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "70")]), receipt("GR-2", &[(1, "SKU-1", "30")])],
            inv100(),
        ),
        case(
            "two receipts short of the billed quantity",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "70")]), receipt("GR-2", &[(1, "SKU-1", "20")])],
            inv100(),
        )
        .expect(Exception, &["QTY"], &["CNP"])
        .credit("20.00"),
        case("invoice before any receipt", one_line(), vec![], inv100()).expect(Hold, &["DEL"], &["NOA"]),
        case(
            "one line received, the other not yet",
            two_lines(),
            vec![receipt("GR-1", &[(1, "SKU-1", "100")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.00"), (2, Some(2), "SKU-2", "50", "3.50")]),
        )
        .expect(Hold, &["DEL"], &["NOA"]),
        case(
            "a price difference outweighs a missing receipt",
            two_lines(),
            vec![receipt("GR-1", &[(1, "SKU-1", "100")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.10"), (2, Some(2), "SKU-2", "50", "3.50")]),
        )
        .expect(Exception, &["PRI"], &["CNP"])
        .credit("10.00"),
        case(
            "over-billing within a 10% tolerance",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "100")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "105", "2.00")]),
        )
        .tolerance("10", "10", "0")
        .expect(WithinTolerance, &["QTY"], &["NOA"]),
        case(
            "over-billing beyond a 10% tolerance",
            order(&[(1, "SKU-1", "120", "2.00")]),
            vec![receipt("GR-1", &[(1, "SKU-1", "100")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "115", "2.00")]),
        )
        .tolerance("0", "10", "0")
        .expect(Exception, &["QTY"], &["CNP"])
        .credit("30.00"),
        case(
            "over-billing exactly at the tolerance",
            order(&[(1, "SKU-1", "120", "2.00")]),
            vec![receipt("GR-1", &[(1, "SKU-1", "100")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "110", "2.00")]),
        )
        .tolerance("0", "10", "0")
        .expect(WithinTolerance, &["QTY"], &["NOA"]),
        case(
            "over-billing 0.01 points past the tolerance still passes",
            order(&[(1, "SKU-1", "12000", "2.00")]),
            vec![receipt("GR-1", &[(1, "SKU-1", "10000")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "11001", "2.00")]),
        )
        .tolerance("0", "10", "0")
        .expect(WithinTolerance, &["QTY"], &["NOA"]),
        case(
            "over-billing 0.02 points past the tolerance fails",
            order(&[(1, "SKU-1", "12000", "2.00")]),
            vec![receipt("GR-1", &[(1, "SKU-1", "10000")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "11002", "2.00")]),
        )
        .tolerance("0", "10", "0")
        .expect(Exception, &["QTY"], &["CNP"])
        .credit("2004.00"),
        case(
            "over-receipt billed without an over-receipt tolerance",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "120")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "120", "2.00")]),
        )
        .expect(Exception, &["QTY"], &["CNP"])
        .credit("40.00"),
        case(
            "over-receipt billed within a 20% over-receipt tolerance",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "120")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "120", "2.00")]),
        )
        .tolerance("20", "0", "0"),
        case(
            "price above the order, exact by default",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.05")]),
        )
        .expect(Exception, &["PRI"], &["CNP"])
        .credit("5.00"),
        case("price below the order", one_line(), full(), invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "1.95")])),
        case(
            "price above the order within a 3% tolerance",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.05")]),
        )
        .tolerance("0", "0", "3")
        .expect(WithinTolerance, &["PRI"], &["NOA"]),
        case(
            "price above the order beyond a 3% tolerance",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.10")]),
        )
        .tolerance("0", "0", "3")
        .expect(Exception, &["PRI"], &["CNP"])
        .credit("10.00"),
        case(
            "line amount off by 0.02 is rounding",
            one_line(),
            full(),
            edit(inv100(), |i| {
                i.lines[0].net_amount.amount = d("200.02");
                i.total.amount = d("200.02");
            }),
        ),
        case(
            "line amount off by 0.03 is wrong arithmetic",
            one_line(),
            full(),
            edit(inv100(), |i| {
                i.lines[0].net_amount.amount = d("200.03");
                i.total.amount = d("200.03");
            }),
        )
        .expect(Rejected, &["OTH"], &["NIN"]),
        case("total not the lines plus tax", one_line(), full(), edit(inv100(), |i| i.total.amount = d("210.00")))
            .expect(Rejected, &["OTH"], &["NIN"]),
        case(
            "billed in cases, ordered in each",
            one_line(),
            full(),
            edit(inv100(), |i| i.lines[0].quantity.unit = backroom_model::UnitCode("CS".into())),
        )
        .expect(Exception, &["QTY"], &["NIN"]),
        case(
            "line not linked to the order",
            one_line(),
            full(),
            invoice("INV-1", &[(1, None, "SKU-1", "100", "2.00")]),
        )
        .expect(Exception, &["REF"], &["PIN"]),
        case(
            "order line that does not exist",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(7), "SKU-1", "100", "2.00")]),
        )
        .expect(Exception, &["REF"], &["PIN"]),
        case("unknown purchase order", one_line(), vec![], inv100()).without_order().expect(
            Exception,
            &["REF"],
            &["PIN"],
        ),
        case(
            "billed item differs from the order line",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(1), "SKU-9", "100", "2.00")]),
        )
        .expect(Exception, &["ITM"], &["PIN"]),
        case(
            "invoiced in another currency",
            one_line(),
            full(),
            edit(inv100(), |i| {
                i.currency = backroom_model::Currency("USD".into());
            }),
        )
        .expect(Exception, &["PRI"], &["NIN"]),
        case(
            "supplier differs from the order's",
            one_line(),
            full(),
            edit(inv100(), |i| i.supplier = backroom_model::SupplierId::from("SUP-002")),
        )
        .expect(Exception, &["REF"], &["PIN"]),
        case("duplicate: same supplier, number and amount", one_line(), full(), inv100())
            .earlier(vec![inv100()])
            .expect(Rejected, &["OTH"], &["NOA"]),
        case(
            "same number, another amount",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(1), "SKU-1", "90", "2.00")]),
        )
        .earlier(vec![inv100()])
        .expect(Exception, &["REF"], &["PIN"]),
        case("same number from another supplier is no duplicate", one_line(), full(), inv100())
            .earlier(vec![edit(inv100(), |i| i.supplier = backroom_model::SupplierId::from("SUP-002"))]),
        case(
            "second invoice bills the rest",
            one_line(),
            full(),
            invoice("INV-2", &[(1, Some(1), "SKU-1", "40", "2.00")]),
        )
        .earlier(vec![invoice("INV-1", &[(1, Some(1), "SKU-1", "60", "2.00")])]),
        case(
            "second invoice bills more than was received",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "80")])],
            invoice("INV-2", &[(1, Some(1), "SKU-1", "40", "2.00")]),
        )
        .earlier(vec![invoice("INV-1", &[(1, Some(1), "SKU-1", "60", "2.00")])])
        .expect(Exception, &["QTY"], &["CNP"])
        .credit("40.00"),
        case(
            "credit note closes a quantity difference",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "80")])],
            inv100(),
        )
        .earlier(vec![credit_note("CN-1", "INV-1", &[(1, Some(1), "SKU-1", "20", "2.00")])]),
        case(
            "credit note closes a price difference",
            one_line(),
            full(),
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.20")]),
        )
        .earlier(vec![credit_note("CN-1", "INV-1", &[(1, Some(1), "SKU-1", "100", "0.20")])]),
        case(
            "credit note closes half of a quantity difference",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "80")])],
            inv100(),
        )
        .earlier(vec![credit_note("CN-1", "INV-1", &[(1, Some(1), "SKU-1", "10", "2.00")])])
        .expect(Exception, &["QTY"], &["CNP"])
        .credit("20.00"),
        case(
            "credit note for a known invoice",
            one_line(),
            full(),
            credit_note("CN-1", "INV-1", &[(1, Some(1), "SKU-1", "20", "2.00")]),
        )
        .earlier(vec![inv100()]),
        case(
            "credit note for an unknown invoice",
            one_line(),
            full(),
            credit_note("CN-1", "INV-404", &[(1, Some(1), "SKU-1", "20", "2.00")]),
        )
        .expect(Exception, &["REF"], &["PIN"]),
        case(
            "a duplicate is rejected whatever else is wrong",
            one_line(),
            vec![],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.50")]),
        )
        .earlier(vec![invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.50")])])
        .expect(Rejected, &["OTH"], &["NOA"]),
        case(
            "quantity and price both off on one line",
            one_line(),
            vec![receipt("GR-1", &[(1, "SKU-1", "90")])],
            invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.10")]),
        )
        .expect(Exception, &["QTY", "PRI"], &["CNP"])
        .credit("30.00"),
        case(
            "receipt lines without an order line match by item",
            one_line(),
            vec![
                serde_json::from_value(json!({
                    "receipt_number": "GR-9", "location": "DC-01", "po_number": "PO-1001",
                    "lines": [{"line": 1, "item": {"sku": "SKU-1"}, "received": {"value": "100"}}],
                }))
                .expect("receipt"),
            ],
            inv100(),
        ),
    ]
}

#[test]
fn the_rule_table_gives_the_expected_peppol_codes() {
    let cases = cases();
    assert!(cases.len() >= 30, "the table has {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let tolerance = c.tolerance;
        let result = three_way_match(
            MatchInput { invoice: &c.invoice, order: c.order.as_ref(), receipts: &c.receipts, earlier: &c.earlier },
            |_: &ItemRef| tolerance,
        );
        let got = (result.outcome, result.status.as_str(), result.reasons.clone(), result.actions.clone());
        let want = (
            c.outcome,
            c.status,
            c.reasons.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            c.actions.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        if got != want || result.credit_due != d(c.credit_due) {
            failures.push(format!(
                "{}: got {:?} credit {} ({}), want {:?} credit {}",
                c.name, got, result.credit_due, result.summary, want, c.credit_due
            ));
        }
        if c.outcome != Matched {
            assert!(!result.findings.is_empty() && !result.summary.is_empty(), "{}: no finding explains it", c.name);
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn a_finding_spells_out_the_discrepancy() {
    let o = one_line();
    let receipts = vec![receipt("GR-1", &[(1, "SKU-1", "60")])];
    let inv = invoice("INV-1", &[(1, Some(1), "SKU-1", "100", "2.00")]);
    let result =
        three_way_match(MatchInput { invoice: &inv, order: Some(&o), receipts: &receipts, earlier: &[] }, |_| {
            Tolerance::default()
        });
    assert_eq!(result.summary, "line 1: billed 100 but received 60; 66.67% over, tolerance 0%");
    let line = &result.lines[0];
    assert_eq!((line.ordered, line.received, line.billed), (d("100"), d("60"), d("100")));
}
