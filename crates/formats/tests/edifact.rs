//! UN/EDIFACT: every public sample read or rejected for its real reason, hand-made ORDERS,
//! DESADV, RECADV, ORDRSP and INVOIC fixtures (no public DESADV/RECADV sample exists), syntax
//! variants, envelope errors with their segment and element, and never a panic.

use std::path::{Path, PathBuf};

use backroom_formats::xml::Document;
use backroom_formats::{Context, Format, FormatError, Location, Problem, detect, parse};
use backroom_model::{
    DespatchAdvice, EventPayload, GoodsReceipt, InvoiceKind, NewEvent, PurchaseOrder, PurchaseOrderResponse,
    ResponseStatus, SupplierInvoice,
};
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/x12/edifact");

fn cx() -> Context {
    Context::new(Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap())
}

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(SAMPLES).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn ok(bytes: &[u8]) -> Vec<NewEvent> {
    match parse(bytes, &cx()) {
        Ok(p) => {
            assert_eq!(p.format, Format::Edifact);
            assert!(p.replies.is_empty());
            p.events
        }
        Err(e) => panic!("expected the interchange to be read:\n{e}"),
    }
}

fn rejected(bytes: &[u8]) -> Vec<Problem> {
    match parse(bytes, &cx()) {
        Ok(p) => panic!("expected a rejection, got {:?}", p.raw_events()),
        Err(FormatError { format, problems }) => {
            assert_eq!(format, Some(Format::Edifact));
            assert!(!problems.is_empty());
            problems
        }
    }
}

fn at(index: usize, tag: &str, element: Option<usize>, component: Option<usize>) -> Location {
    Location::Segment { index, tag: tag.into(), element, component }
}

/// The problems as (location, rule) pairs, to compare whole lists.
fn places(problems: &[Problem]) -> Vec<(Location, Option<&str>)> {
    problems.iter().map(|p| (p.location.clone(), p.rule.as_deref())).collect()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn invoice(e: &NewEvent) -> &SupplierInvoice {
    match &e.payload {
        EventPayload::SupplierInvoice(i) => i,
        other => panic!("expected an invoice, got {other:?}"),
    }
}

fn order(e: &NewEvent) -> &PurchaseOrder {
    match &e.payload {
        EventPayload::PurchaseOrder(o) => o,
        other => panic!("expected a purchase order, got {other:?}"),
    }
}

fn despatch(e: &NewEvent) -> &DespatchAdvice {
    match &e.payload {
        EventPayload::DespatchAdvice(d) => d,
        other => panic!("expected a despatch advice, got {other:?}"),
    }
}

fn receipt(e: &NewEvent) -> &GoodsReceipt {
    match &e.payload {
        EventPayload::GoodsReceipt(g) => g,
        other => panic!("expected a goods receipt, got {other:?}"),
    }
}

fn response(e: &NewEvent) -> &PurchaseOrderResponse {
    match &e.payload {
        EventPayload::PurchaseOrderResponse(r) => r,
        other => panic!("expected a purchase order response, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The sample folders
// ---------------------------------------------------------------------------------------------

/// Every sample file, so that a new one cannot go unnoticed.
#[test]
fn every_sample_is_covered() {
    let mut found: Vec<String> = Vec::new();
    for folder in ["cen-en16931-invoic", "dfdl-supplychain-d03b", "edi-net"] {
        for entry in std::fs::read_dir(Path::new(SAMPLES).join(folder)).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".xml") || name == "LICENSE" {
                continue;
            }
            found.push(format!("{folder}/{name}"));
        }
    }
    found.sort();
    let mut covered: Vec<String> = CEN_READ
        .iter()
        .chain(CEN_WITHOUT_ITEMS.iter().map(|(n, _)| n))
        .map(|n| format!("cen-en16931-invoic/EDIFACT_EXAMPLE{n}.TXT"))
        .chain(["cen-en16931-invoic/EDIFACT_EXAMPLE0.TXT".into(), "cen-en16931-invoic/EDIFACT_EXAMPLE0a.TXT".into()])
        .chain(
            [
                "dfdl-supplychain-d03b/INVOIC_D.03B_Interchange_with_UNA.txt",
                "dfdl-supplychain-d03b/ORDERS_D.03B_Interchange.txt",
                "edi-net/edifact.01.edi",
                "edi-net/edifact.D95B.CUSCAR.EDI",
                "edi-net/edifact.ORDRSP-formatted.edi",
                "edi-net/edifact.ORDRSP.edi",
                "edi-net/edifact.Paiement.Issue139.EDI",
            ]
            .map(String::from),
        )
        .collect();
    covered.sort();
    assert_eq!(found, covered);
    for name in &found {
        assert_eq!(detect(&sample(name)), Some(Format::Edifact), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// CEN EN 16931 INVOIC D16B examples, against their syntax-neutral XML twins
// ---------------------------------------------------------------------------------------------

/// Examples whose lines all name an item.
const CEN_READ: [&str; 5] = ["1", "2", "4", "5", "7"];
/// Examples with lines that name no item (services), with the segment index of each such LIN.
const CEN_WITHOUT_ITEMS: [(&str, &[usize]); 4] =
    [("3", &[28]), ("6", &[13, 19, 25]), ("8", &[28, 38, 48, 58, 68, 78, 88, 94, 100, 106]), ("9", &[24])];

/// The CEN examples close their interchange with UNZ02 set to the message reference instead of
/// UNB 0020 (87846595); the original is rejected for exactly that, and the repaired one is read.
fn cen(n: &str) -> (Vec<u8>, Vec<u8>) {
    let original = sample(&format!("cen-en16931-invoic/EDIFACT_EXAMPLE{n}.TXT"));
    let text = String::from_utf8_lossy(&original).into_owned();
    let unz = text.rfind("UNZ+1+").unwrap();
    let repaired = format!("{}UNZ+1+87846595'", &text[..unz]).into_bytes();
    (original, repaired)
}

fn xml_decimal(doc: &Document, id: usize, steps: &[&str]) -> Option<Decimal> {
    let steps: Vec<(&str, &str)> = steps.iter().map(|s| ("", *s)).collect();
    doc.text_at(id, &steps).map(dec)
}

/// The first amount with qualifier `q` among MOA holders (`G_SGn` groups with `S_MOA`).
fn xml_moa(doc: &Document, holders: impl Iterator<Item = usize>, q: &str) -> Option<Decimal> {
    holders
        .filter_map(|g| doc.descend(g, &[("", "S_MOA"), ("", "C_C516")]))
        .find(|c| doc.text_at(*c, &[("", "D_5025")]) == Some(q))
        .and_then(|c| doc.text_at(c, &[("", "D_5004")]).map(dec))
}

/// Every amount with qualifier `q` anywhere below `id`.
fn xml_amounts(doc: &Document, id: usize, q: &str) -> Vec<Decimal> {
    let e = doc.get(id);
    let mut found = Vec::new();
    if e.name == "C_C516" && doc.text_at(id, &[("", "D_5025")]) == Some(q) {
        found.extend(doc.text_at(id, &[("", "D_5004")]).map(dec));
    }
    for c in &e.children {
        found.extend(xml_amounts(doc, *c, q));
    }
    found
}

#[test]
fn cen_examples_agree_with_their_xml_twins() {
    for n in CEN_READ {
        let (original, repaired) = cen(n);
        let problems = rejected(&original);
        assert_eq!(problems.len(), 1, "example {n}: {problems:?}");
        assert_eq!(problems[0].rule.as_deref(), Some("0085-28"));
        assert!(matches!(&problems[0].location, Location::Segment { tag, element: Some(2), .. } if tag == "UNZ"));
        assert!(problems[0].message.contains("87846595"), "{}", problems[0].message);

        let events = ok(&repaired);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        let inv = invoice(e);
        let xml = std::fs::read(Path::new(SAMPLES).join(format!("cen-en16931-invoic/EDIFACT_EXAMPLE{n}.xml"))).unwrap();
        let doc = Document::parse(&xml).unwrap();
        let root = doc.root();
        let unh = doc.text_at(root, &[("", "S_UNH"), ("", "D_0062")]).unwrap();
        assert_eq!(e.id, format!("4000001000005/87846595/{unh}"));
        assert_eq!(e.source, "edifact/4000001000005");
        let number = doc.text_at(root, &[("", "S_BGM"), ("", "C_C106"), ("", "D_1004")]).unwrap();
        assert_eq!(inv.invoice_number.as_str(), number, "example {n}");
        assert_eq!(inv.kind, InvoiceKind::Invoice);
        let issued = doc
            .children(root, "", "S_DTM")
            .filter_map(|d| doc.child(d, "", "C_C507"))
            .find(|c| doc.text_at(*c, &[("", "D_2005")]) == Some("137"))
            .and_then(|c| doc.text_at(c, &[("", "D_2380")]))
            .unwrap();
        assert_eq!(inv.issued_on, NaiveDate::parse_from_str(issued, "%Y%m%d").unwrap());
        assert_eq!(e.occurred_at, inv.issued_on.and_hms_opt(0, 0, 0).unwrap().and_utc());
        let currency = doc.text_at(root, &[("", "G_SG7"), ("", "S_CUX"), ("", "C_C504"), ("", "D_6345")]).unwrap();
        assert_eq!(inv.currency.as_str(), currency);

        let xml_lines: Vec<usize> = doc.children(root, "", "G_SG27").collect();
        assert_eq!(inv.lines.len(), xml_lines.len(), "example {n}");
        for (line, x) in inv.lines.iter().zip(&xml_lines) {
            let lin = doc.text_at(*x, &[("", "S_LIN"), ("", "D_1082")]).unwrap();
            assert_eq!(line.line.to_string(), lin);
            let qty = xml_decimal(&doc, *x, &["S_QTY", "C_C186", "D_6060"]).unwrap();
            assert_eq!(line.quantity.value, qty, "example {n} line {lin}");
            let unit = doc.text_at(*x, &[("", "S_QTY"), ("", "C_C186"), ("", "D_6411")]).unwrap();
            assert_eq!(line.quantity.unit.0, unit);
            let amount = xml_moa(&doc, doc.children(*x, "", "G_SG28"), "203").unwrap();
            assert_eq!(line.net_amount.amount, amount, "example {n} line {lin}");
            let price = xml_decimal(&doc, *x, &["G_SG30", "S_PRI", "C_C509", "D_5118"]).unwrap();
            let base = xml_decimal(&doc, *x, &["G_SG30", "S_PRI", "C_C509", "D_5284"]).unwrap_or(Decimal::ONE);
            assert_eq!(line.unit_price.amount, (price / base).normalize(), "example {n} line {lin}");
            let rate = xml_decimal(&doc, *x, &["G_SG35", "S_TAX", "C_C243", "D_5278"]);
            assert_eq!(line.tax_rate_percent, rate, "example {n} line {lin}");
        }
        let total = xml_moa(&doc, doc.children(root, "", "G_SG52"), "388").unwrap();
        assert_eq!(inv.total.amount, total, "example {n}");
        let tax = xml_moa(&doc, doc.children(root, "", "G_SG52"), "176").unwrap_or_else(|| {
            doc.children(root, "", "G_SG54").flat_map(|g| xml_amounts(&doc, g, "124")).sum::<Decimal>()
        });
        assert_eq!(inv.tax_total.amount, tax, "example {n}");
    }
}

#[test]
fn cen_examples_in_detail() {
    let inv2 = ok(&cen("2").1);
    let inv2 = invoice(&inv2[0]);
    assert_eq!(inv2.supplier.as_str(), "1238764941386");
    assert_eq!(inv2.po_number.as_ref().unwrap().as_str(), "123");
    assert_eq!(inv2.due_on, Some(day(2013, 7, 20)));
    assert_eq!(inv2.currency.as_str(), "NOK");
    let l1 = &inv2.lines[0];
    assert_eq!(l1.item.gtin.as_ref().unwrap().0, "1234567890128");
    assert_eq!(l1.item.sku.as_ref().unwrap().as_str(), "JB007");
    assert_eq!(l1.po_line, Some(1));
    assert_eq!(inv2.lines[1].quantity.value, dec("-1"));
    assert_eq!(inv2.lines[1].net_amount.amount, dec("-3.96"));
    assert_eq!(inv2.tax_total.amount, dec("365.28"));
    assert_eq!(inv2.total.amount, dec("1801.78"));

    let inv5 = ok(&cen("5").1);
    let inv5 = invoice(&inv5[0]);
    assert_eq!(inv5.po_number.as_ref().unwrap().as_str(), "PO4711");
    assert_eq!(inv5.despatch_advice.as_ref().unwrap().as_str(), "5433");
    assert_eq!(inv5.receipt_number.as_ref().unwrap().as_str(), "3544");
    assert_eq!(inv5.credited_invoice, None, "RFF+OI on an invoice is not a credited invoice");
    assert_eq!(inv5.lines[0].item.sku.as_ref().unwrap().as_str(), "BUY123", "the buyer's number is the SKU");

    let inv1 = ok(&cen("1").1);
    let inv1 = invoice(&inv1[0]);
    assert_eq!(inv1.supplier.as_str(), "NL8200.98.395.B.01", "no NAD id: the seller's VAT number");
    assert_eq!(inv1.lines.len(), 20);
    assert_eq!(inv1.lines[19].net_amount.amount, dec("-109.98"));
    assert_eq!(inv1.tax_total.amount, dec("20.73"));
    assert_eq!(inv1.total.amount, dec("250.33"));

    let inv7 = ok(&cen("7").1);
    let inv7 = invoice(&inv7[0]);
    assert_eq!(inv7.supplier.as_str(), "5532331183");
    assert_eq!(inv7.lines[0].tax_rate_percent, None, "TAX without a rate (category O)");
    assert_eq!(inv7.tax_total.amount, Decimal::ZERO);
}

#[test]
fn cen_examples_with_service_lines_are_rejected_per_line() {
    for (n, lins) in CEN_WITHOUT_ITEMS {
        let (original, repaired) = cen(n);
        let problems = rejected(&repaired);
        let expected: Vec<_> = lins.iter().map(|i| (at(*i, "LIN", Some(3), Some(1)), Some("BT-157"))).collect();
        assert_eq!(places(&problems), expected, "example {n}");
        assert!(problems[0].message.contains("names no item"), "{}", problems[0].message);
        let original = rejected(&original);
        assert_eq!(original.len(), lins.len() + 1, "example {n}: the UNZ02 mismatch too");
        assert!(original.iter().any(|p| p.rule.as_deref() == Some("0085-28")));
    }
}

#[test]
fn cen_example_zero_has_a_wrong_segment_count() {
    for (name, count, unt) in [("0", 37, 37), ("0a", 34, 34)] {
        let problems = rejected(&sample(&format!("cen-en16931-invoic/EDIFACT_EXAMPLE{name}.TXT")));
        let unt_index = unt + 2; // UNA and UNB before UNH
        assert_eq!(places(&problems), vec![(at(unt_index, "UNT", Some(1), None), Some("0085-29"))], "{name}");
        assert!(problems[0].message.contains(&format!("UNT01 segment count is 171 but message \"1\" has {count}")));
    }
}

// ---------------------------------------------------------------------------------------------
// DFDL D.03B samples
// ---------------------------------------------------------------------------------------------

const DFDL_INVOIC: &str = "dfdl-supplychain-d03b/INVOIC_D.03B_Interchange_with_UNA.txt";
const DFDL_ORDERS: &str = "dfdl-supplychain-d03b/ORDERS_D.03B_Interchange.txt";

#[test]
fn dfdl_invoice_with_an_unnamed_packaging_line_is_rejected() {
    let problems = rejected(&sample(DFDL_INVOIC));
    assert_eq!(places(&problems), vec![(at(22, "LIN", Some(3), Some(1)), Some("BT-157"))]);
    assert!(problems[0].message.contains("line 2 names no item"));
}

#[test]
fn dfdl_invoice_reads_once_the_packaging_line_has_a_number() {
    let text = String::from_utf8(sample(DFDL_INVOIC)).unwrap().replace("LIN+2++:IN'", "LIN+2++PACK-01:IN'");
    let events = ok(text.as_bytes());
    let e = &events[0];
    assert_eq!(e.id, "5790000274017/17/30");
    assert_eq!(e.occurred_at, Utc.with_ymd_and_hms(1999, 4, 20, 0, 0, 0).unwrap());
    let inv = invoice(e);
    assert_eq!(inv.invoice_number.as_str(), "539602");
    assert_eq!(inv.supplier.as_str(), "UK19430839", "NAD+SU has only a name; its RFF+VA is the code");
    assert_eq!(inv.currency.as_str(), "GBP");
    assert_eq!(inv.lines.len(), 2);
    let l1 = &inv.lines[0];
    assert_eq!(l1.item.sku.as_ref().unwrap().as_str(), "V0370246");
    assert_eq!((l1.quantity.value, l1.quantity.unit.0.as_str()), (dec("5"), "PCE"));
    assert_eq!(l1.unit_price.amount, dec("9.83"));
    assert_eq!(l1.net_amount.amount, dec("49.15"), "MOA+66 when there is no MOA+203");
    assert_eq!(inv.lines[1].net_amount.amount, dec("50"), "computed from QTY and PRI");
    assert_eq!(inv.total.amount, dec("362.00"), "MOA+86 message total");
    assert_eq!(inv.tax_total.amount, dec("72.36"), "the MOA+124 in currency 'UK' is not the invoice's");
}

#[test]
fn dfdl_order_without_prices_or_currency_is_rejected() {
    let problems = rejected(&sample(DFDL_ORDERS));
    let expected = vec![
        (at(3, "BGM", None, None), None),
        (at(9, "LIN", None, None), None),
        (at(12, "LIN", None, None), None),
        (at(15, "LIN", None, None), None),
        (at(18, "LIN", None, None), None),
    ];
    assert_eq!(places(&problems), expected);
    assert!(problems[0].message.contains("no CUX currency"));
    assert!(problems[1].message.contains("line 1 has no price"));
}

#[test]
fn dfdl_order_reads_once_priced() {
    let text = String::from_utf8(sample(DFDL_ORDERS)).unwrap();
    let text = text
        .replace("CTA+AA'", "CTA+AA'\nCUX+2:EUR:9'")
        .replace("QTY+1:25'", "QTY+1:25'\nPRI+AAA:12.5'")
        .replace("QTY+1:16'", "QTY+1:16'\nPRI+AAA:14'")
        .replace("QTY+1:10'", "QTY+1:10'\nPRI+AAA:9.99'")
        .replace("UNT+22+SSDD1'", "UNT+27+SSDD1'");
    let events = ok(text.as_bytes());
    let e = &events[0];
    assert_eq!(e.id, "APPLICATION/6002/SSDD1");
    assert_eq!(e.source, "edifact/APPLICATION");
    let po = order(e);
    assert_eq!(po.po_number.as_str(), "BKOD99");
    assert_eq!(po.supplier.as_str(), "4012345000094");
    assert_eq!(po.ship_to.as_str(), "5412345000176", "no NAD+DP: the buyer receives");
    assert_eq!(po.ordered_on, day(2005, 11, 7));
    let got: Vec<(u32, &str, Decimal)> =
        po.lines.iter().map(|l| (l.line, l.item.sku.as_ref().unwrap().as_str(), l.quantity.value)).collect();
    assert_eq!(
        got,
        vec![
            (1, "0764569104", dec("25")),
            (2, "0764569090", dec("25")),
            (3, "1861004656", dec("16")),
            (4, "0596006756", dec("10"))
        ]
    );
    assert!(po.lines.iter().all(|l| l.item.gtin.is_none() && l.quantity.unit.0 == "EA"));
    assert_eq!(po.total().amount, dec("25") * dec("12.5") * dec("2") + dec("16") * dec("14") + dec("99.9"));
}

// ---------------------------------------------------------------------------------------------
// EDI.Net samples: every one is rejected, for its own reasons
// ---------------------------------------------------------------------------------------------

#[test]
fn edi_net_quotes_is_not_supported() {
    let problems = rejected(&sample("edi-net/edifact.01.edi"));
    assert_eq!(
        places(&problems),
        vec![
            (at(3, "UNH", Some(2), Some(1)), None),
            (at(33, "UNT", Some(1), None), Some("0085-29")),
            (at(34, "UNZ", Some(2), None), Some("0085-28")),
        ]
    );
    assert!(problems[0].message.contains("\"QUOTES\"") && problems[0].message.contains("ORDERS, INVOIC"));
}

#[test]
fn edi_net_cuscar_is_of_an_old_directory_and_has_no_message_type() {
    let problems = rejected(&sample("edi-net/edifact.D95B.CUSCAR.EDI"));
    assert_eq!(
        places(&problems),
        vec![
            (at(2, "UNH", Some(2), Some(1)), Some("0085-13")),
            (at(2, "UNH", Some(2), Some(3)), Some("0085-14")),
            (at(53, "UNT", Some(1), None), Some("0085-29")),
        ]
    );
    assert!(problems[1].message.contains("D:95B") && problems[1].message.contains("D.96A through D.16B"));
}

#[test]
fn edi_net_ordrsp_breaks_its_envelope_in_both_layouts() {
    for (name, unt) in [("edi-net/edifact.ORDRSP.edi", 33), ("edi-net/edifact.ORDRSP-formatted.edi", 32)] {
        let problems = rejected(&sample(name));
        assert_eq!(
            places(&problems),
            vec![
                (at(4, "BGM", Some(1), Some(1)), None),
                (at(unt, "UNT", Some(1), None), Some("0085-29")),
                (at(unt, "UNT", Some(2), None), Some("0085-28")),
                (at(unt + 1, "UNZ", Some(2), None), Some("0085-28")),
            ],
            "{name}"
        );
        assert!(problems[0].message.contains("\"Z12\"") && problems[0].message.contains("231"));
        assert!(problems[2].message.contains("\"9IM20YSP9\"") && problems[2].message.contains("\"9IMX20YSP0009\""));
    }
}

#[test]
fn edi_net_payment_sample_is_an_infent_with_a_group() {
    let problems = rejected(&sample("edi-net/edifact.Paiement.Issue139.EDI"));
    assert_eq!(
        places(&problems),
        vec![(at(4, "UNH", Some(2), Some(1)), None), (at(13, "UNT", Some(1), None), Some("0085-29"))]
    );
    assert!(problems[0].message.contains("\"INFENT\""));
}

// ---------------------------------------------------------------------------------------------
// Hand-made fixtures
// ---------------------------------------------------------------------------------------------

/// ORDERS D.96A (EANCOM) with a decimal comma and a released `+` in the order number.
const ORDERS_D96A: &str = "UNA:+,? '
UNB+UNOC:3+5412345000013:14+4012345000009:14+240305:0930+ORD0042'
UNH+1+ORDERS:D:96A:UN:EAN008'
BGM+220+PO?+4500012345+9'
DTM+137:20240305:102'
DTM+2:20240312:102'
FTX+ZZZ+++Ring the bell?: ask for O?'Brien'
NAD+BY+5412345000013::9'
CTA+OC+:Jane Buyer'
NAD+SU+4012345000009::9'
NAD+DP+5412345000020::9'
CUX+2:EUR:9'
LIN+1++4006381333931:SRV'
PIA+1+SKU-1001:IN'
QTY+21:24'
PRI+AAA:1,25'
LIN+2++5012345678900:EN'
QTY+21:6,5:KGM'
PRI+AAB:12,5:::10'
LIN+3'
PIA+5+SUP-77:SA'
QTY+21:3'
PRI+AAA:0,995'
UNS+S'
CNT+2:3'
UNT+24+1'
UNZ+1+ORD0042'
";

#[test]
fn orders_d96a_with_decimal_comma() {
    let events = ok(ORDERS_D96A.as_bytes());
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.id, "5412345000013/ORD0042/1");
    assert_eq!(e.event_type.as_str(), "po.created");
    assert_eq!(e.occurred_at, Utc.with_ymd_and_hms(2024, 3, 5, 0, 0, 0).unwrap());
    let po = order(e);
    assert_eq!(po.po_number.as_str(), "PO+4500012345");
    assert_eq!(po.supplier.as_str(), "4012345000009");
    assert_eq!(po.ship_to.as_str(), "5412345000020");
    assert_eq!(po.buyer.as_deref(), Some("Jane Buyer"));
    assert_eq!(po.expected_on, Some(day(2024, 3, 12)));
    assert_eq!(po.currency.as_str(), "EUR");
    let l = &po.lines;
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].item.gtin.as_ref().unwrap().0, "4006381333931");
    assert_eq!(l[0].item.sku.as_ref().unwrap().as_str(), "SKU-1001");
    assert_eq!((l[0].quantity.value, l[0].unit_price.amount), (dec("24"), dec("1.25")));
    assert_eq!((l[1].quantity.value, l[1].quantity.unit.0.as_str()), (dec("6.5"), "KGM"));
    assert_eq!(l[1].unit_price.amount, dec("1.25"), "gross price 12,5 per 10");
    assert_eq!(l[1].item.sku, None);
    assert_eq!(l[2].item.sku.as_ref().unwrap().as_str(), "SUP-77");
    assert_eq!(l[2].unit_price.amount, dec("0.995"));
}

#[test]
fn the_same_interchange_in_any_layout_reads_the_same() {
    let reference = ok(ORDERS_D96A.as_bytes());
    let one_line = ORDERS_D96A.replace('\n', "");
    let crlf = ORDERS_D96A.replace('\n', "\r\n");
    let indented = ORDERS_D96A.replace("\nQTY", "\n\tQTY").replace("\nPRI", "\n    PRI");
    let with_bom = format!("\u{feff}\n{ORDERS_D96A}");
    for variant in [one_line, crlf, indented, with_bom] {
        assert_eq!(ok(variant.as_bytes()), reference);
    }
    // Other delimiters, declared in the UNA, give the same order.
    let custom = ORDERS_D96A
        .replace("UNA:+,? '", "UNA|*,\\ ~")
        .replace('\'', "~")
        .replace('?', "\\")
        .replace('+', "*")
        .replace(':', "|")
        .replace("\\~Brien", "'Brien")
        .replace("PO\\*4500012345", "PO+4500012345");
    assert_eq!(ok(custom.as_bytes()), reference);
}

#[test]
fn without_una_the_defaults_apply_and_a_decimal_comma_is_refused() {
    let plain = ORDERS_D96A.replace("UNA:+,? '\n", "").replace(",", ".");
    assert_eq!(order(&ok(plain.as_bytes())[0]).lines[1].quantity.value, dec("6.5"));
    let comma = ORDERS_D96A.replace("UNA:+,? '\n", "");
    let problems = rejected(comma.as_bytes());
    assert_eq!(
        places(&problems),
        vec![
            (at(15, "PRI", Some(1), Some(2)), None),
            (at(17, "QTY", Some(1), Some(2)), None),
            (at(18, "PRI", Some(1), Some(2)), None),
            (at(22, "PRI", Some(1), Some(2)), None),
        ]
    );
    assert!(problems[0].message.contains("\"1,25\" is not a number") && problems[0].message.contains("'.'"));
}

#[test]
fn the_release_character_keeps_apostrophes_in_text() {
    let rsp = ok(ORDRSP_D96A.as_bytes());
    assert_eq!(
        response(&rsp[0]).note.as_deref(),
        Some("Line 2 cannot be delivered before 15 March; O'Brien informed: call +49 30 1234")
    );
}

/// DESADV D.96A (EANCOM) without UNA, syntax level A, with packaging levels.
const DESADV_D96A: &str = "UNB+UNOA:2+4012345000009:14+5412345000013:14+240310:1400+DES1'
UNH+ME0001+DESADV:D:96A:UN:EAN005'
BGM+351+DES-889+9'
DTM+137:20240310:102'
DTM+11:20240310:102'
DTM+17:20240312:102'
RFF+ON:4500012345'
NAD+SU+4012345000009::9'
NAD+SF+4012345000016::9'
NAD+DP+5412345000020::9'
CPS+1'
PAC+2++201'
CPS+2+1'
PAC+1++201'
PCI+33E'
GIN+BJ+354123450000000014'
LIN+1++4006381333931:EN'
QTY+12:24'
RFF+ON:4500012345:1'
CPS+3+1'
PAC+1++201'
QTY+52:5'
LIN+2++5012345678900:EN'
PIA+1+SKU-2002:IN'
QTY+12:5.5:KGM'
RFF+ON:4500012345:2'
CNT+2:2'
UNT+27+ME0001'
UNZ+1+DES1'
";

/// DESADV D.01B with CRLF line ends, a UNA and times in the dates, and no document date.
const DESADV_D01B: &str = "UNA:+.? '\r
UNB+UNOC:4+DCNORTH:ZZZ+STORE0042:ZZZ+20240311:0615+T000981'\r
UNH+77+DESADV:D:01B:UN'\r
BGM+351+ASN?:2024?:0311+9'\r
DTM+11:202403110600:203'\r
DTM+132:202403111300:203'\r
NAD+SF+DC-NORTH'\r
NAD+ST+STORE-0042'\r
CPS+1'\r
LIN+10++8712345678906:SRV'\r
QTY+12:48'\r
LIN+20'\r
PIA+5+BKR-3310:IN'\r
QTY+12:12'\r
CNT+2:2'\r
UNT+14+77'\r
UNZ+1+T000981'\r
";

#[test]
fn desadv_d96a() {
    let events = ok(DESADV_D96A.as_bytes());
    let e = &events[0];
    assert_eq!(e.event_type.as_str(), "despatch.advised");
    assert_eq!(e.id, "4012345000009/DES1/ME0001");
    let d = despatch(e);
    assert_eq!(d.despatch_number.as_str(), "DES-889");
    assert_eq!(d.supplier.as_ref().unwrap().as_str(), "4012345000009");
    assert_eq!(d.ship_from.as_ref().unwrap().as_str(), "4012345000016");
    assert_eq!(d.ship_to.as_str(), "5412345000020");
    assert_eq!(d.po_number.as_ref().unwrap().as_str(), "4500012345");
    assert_eq!((d.shipped_on, d.expected_on), (Some(day(2024, 3, 10)), Some(day(2024, 3, 12))));
    assert_eq!(d.lines.len(), 2);
    assert_eq!((d.lines[0].line, d.lines[0].po_line, d.lines[0].quantity.value), (1, Some(1), dec("24")));
    assert_eq!(d.lines[0].item.gtin.as_ref().unwrap().0, "4006381333931");
    let l2 = &d.lines[1];
    assert_eq!((l2.po_line, l2.quantity.value, l2.quantity.unit.0.as_str()), (Some(2), dec("5.5"), "KGM"));
    assert_eq!(l2.item.sku.as_ref().unwrap().as_str(), "SKU-2002");
}

#[test]
fn desadv_d01b_without_document_date_takes_the_interchange_time() {
    let events = ok(DESADV_D01B.as_bytes());
    let e = &events[0];
    assert_eq!(e.id, "DCNORTH/T000981/77");
    assert_eq!(e.occurred_at, Utc.with_ymd_and_hms(2024, 3, 11, 6, 15, 0).unwrap());
    let d = despatch(e);
    assert_eq!(d.despatch_number.as_str(), "ASN:2024:0311");
    assert_eq!(d.supplier, None);
    assert_eq!(d.ship_from.as_ref().unwrap().as_str(), "DC-NORTH");
    assert_eq!(d.ship_to.as_str(), "STORE-0042");
    assert_eq!((d.shipped_on, d.expected_on), (Some(day(2024, 3, 11)), Some(day(2024, 3, 11))));
    let lines: Vec<_> = d.lines.iter().map(|l| (l.line, l.item.key().0, l.quantity.value)).collect();
    assert_eq!(lines, vec![(10, "08712345678906".to_owned(), dec("48")), (20, "BKR-3310".to_owned(), dec("12"))]);
}

/// RECADV D.96A (EANCOM): accepted, rejected and short quantities.
const RECADV_D96A: &str = "UNB+UNOC:3+5412345000020:14+4012345000009:14+240312:1615+REC77'
UNH+1+RECADV:D:96A:UN:EAN003'
BGM+632+GR-2024-0312-01+9'
DTM+137:20240312:102'
DTM+50:20240312:102'
RFF+ON:4500012345'
RFF+AAK:DES-889'
NAD+SU+4012345000009::9'
NAD+DP+5412345000020::9'
LIN+1++4006381333931:EN'
QTY+194:22'
QVR+-2:195+AF'
RFF+ON:4500012345:1'
LIN+2++5012345678900:EN'
QTY+194:4:KGM'
QTY+12:5:KGM'
LIN+3++8712345678906:EN'
QTY+194:10'
QVR+-2:21+BP'
CNT+2:3'
UNT+20+1'
UNZ+1+REC77'
";

/// RECADV D.01B with a decimal comma: received quantity less what is to be destroyed.
const RECADV_D01B: &str = "UNA:+,? '
UNB+UNOC:4+STORE0042:ZZZ+FRESHCO:ZZZ+20240313:0710+8841'
UNH+R1+RECADV:D:01B:UN'
BGM+632+GR0313+9'
DTM+137:20240313:102'
RFF+DQ:DN-5531'
NAD+SU+FRESHCO'
NAD+BY+STORE-0042'
LIN+1'
PIA+5+FR-APL-1:IN'
QTY+48:7,5:KGM'
QTY+196:0,5:KGM'
UNS+S'
UNT+12+R1'
UNZ+1+8841'
";

#[test]
fn recadv_d96a() {
    let events = ok(RECADV_D96A.as_bytes());
    let e = &events[0];
    assert_eq!(e.event_type.as_str(), "receipt.posted");
    let g = receipt(e);
    assert_eq!(g.receipt_number.as_str(), "GR-2024-0312-01");
    assert_eq!(g.location.as_str(), "5412345000020");
    assert_eq!(g.supplier.as_ref().unwrap().as_str(), "4012345000009");
    assert_eq!(g.po_number.as_ref().unwrap().as_str(), "4500012345");
    assert_eq!(g.despatch_advice.as_ref().unwrap().as_str(), "DES-889");
    let l1 = &g.lines[0];
    assert_eq!(
        (l1.received.value, l1.rejected.as_ref().map(|q| q.value), l1.short.as_ref()),
        (dec("22"), Some(dec("2")), None)
    );
    assert_eq!(l1.reason.as_deref(), Some("goods delivered damaged (AF)"));
    assert_eq!(l1.po_line, Some(1));
    let l2 = &g.lines[1];
    assert_eq!(
        (l2.received.value, l2.short.as_ref().map(|q| (q.value, q.unit.0.as_str()))),
        (dec("4"), Some((dec("1"), "KGM")))
    );
    let l3 = &g.lines[2];
    assert_eq!((l3.received.value, l3.short.as_ref().map(|q| q.value)), (dec("10"), Some(dec("2"))));
    assert_eq!(l3.reason.as_deref(), Some("shipment partial, back order to follow (BP)"));
}

#[test]
fn recadv_d01b_with_decimal_comma() {
    let events = ok(RECADV_D01B.as_bytes());
    let g = receipt(&events[0]);
    assert_eq!(g.location.as_str(), "STORE-0042");
    assert_eq!(g.despatch_advice.as_ref().unwrap().as_str(), "DN-5531");
    let l = &g.lines[0];
    assert_eq!(l.item.sku.as_ref().unwrap().as_str(), "FR-APL-1");
    assert_eq!((l.received.value, l.received.unit.0.as_str()), (dec("7"), "KGM"));
    assert_eq!(l.rejected.as_ref().map(|q| q.value), Some(dec("0.5")));
}

/// ORDRSP D.96A (EANCOM): the order changed, one line accepted, one changed, one refused.
const ORDRSP_D96A: &str = "UNA:+.? '
UNB+UNOC:3+4012345000009:14+5412345000013:14+240306:0800+RSP5'
UNH+1+ORDRSP:D:96A:UN:EAN005'
BGM+231+RSP-5501+4'
DTM+137:20240306:102'
FTX+AAI+++Line 2 cannot be delivered before 15 March; O?'Brien informed?: call ?+49 30 1234'
RFF+ON:4500012345'
NAD+SU+4012345000009::9'
NAD+BY+5412345000013::9'
CUX+2:EUR:9'
LIN+1+5+4006381333931:SRV'
QTY+21:24'
LIN+2+3+5012345678900:SRV'
QTY+113:4:KGM'
PRI+AAA:1.30'
DTM+2:20240315:102'
RFF+ON:4500012345:2'
LIN+3+7'
PIA+5+SUP-77:SA'
UNS+S'
UNT+19+1'
UNZ+1+RSP5'
";

#[test]
fn ordrsp_d96a() {
    let events = ok(ORDRSP_D96A.as_bytes());
    let e = &events[0];
    assert_eq!(e.event_type.as_str(), "po.acknowledged");
    let r = response(e);
    assert_eq!(r.po_number.as_str(), "4500012345");
    assert_eq!(r.supplier.as_ref().unwrap().as_str(), "4012345000009");
    assert_eq!(r.responded_on, day(2024, 3, 6));
    assert_eq!(r.status, ResponseStatus::Changed);
    let lines: Vec<_> = r.lines.iter().map(|l| (l.po_line, l.status, l.quantity.value)).collect();
    assert_eq!(
        lines,
        vec![
            (1, ResponseStatus::Accepted, dec("24")),
            (2, ResponseStatus::Changed, dec("4")),
            (3, ResponseStatus::Rejected, Decimal::ZERO)
        ]
    );
    assert_eq!(r.lines[1].unit_price.as_ref().map(|m| m.amount), Some(dec("1.30")));
    assert_eq!(r.lines[1].delivery_on, Some(day(2024, 3, 15)));
}

#[test]
fn ordrsp_d01b_accepting_the_whole_order() {
    let text = "UNB+UNOC:4+4012345000009:14+5412345000013:14+20240306:0815+RSP6'
UNH+2+ORDRSP:D:01B:UN'
BGM+231+RSP-5502+29'
DTM+137:20240306:102'
RFF+ON:4500012346'
NAD+SE+4012345000009::9'
UNT+6+2'
UNZ+1+RSP6'";
    let r = ok(text.as_bytes());
    let r = response(&r[0]);
    assert_eq!((r.po_number.as_str(), r.status, r.lines.len()), ("4500012346", ResponseStatus::Accepted, 0));
    let refused = text.replace("+29'", "+27'");
    assert_eq!(response(&ok(refused.as_bytes())[0]).status, ResponseStatus::Rejected);
    let unclear = text.replace("+29'", "+9'");
    let problems = rejected(unclear.as_bytes());
    assert_eq!(places(&problems), vec![(at(3, "BGM", Some(3), Some(1)), None)]);
}

/// INVOIC D.96A credit note (EANCOM) with MOA+77 and a tax breakdown.
const CREDIT_NOTE_D96A: &str = "UNB+UNOC:3+4012345000009:14+5412345000013:14+240320:1000+INV900'
UNH+1+INVOIC:D:96A:UN:EAN008'
BGM+381+CN-2024-77+9'
DTM+137:20240320:102'
RFF+IV:INV-2024-55'
RFF+ON:4500012345'
NAD+SU+4012345000009::9'
RFF+VA:DE123456789'
NAD+BY+5412345000013::9'
CUX+2:EUR:4'
LIN+1++4006381333931:EN'
QTY+47:2'
MOA+203:2.50'
PRI+AAA:1.25'
RFF+ON:4500012345:1'
TAX+7+VAT+++:::19'
UNS+S'
MOA+77:2.98'
MOA+79:2.50'
TAX+7+VAT+++:::19'
MOA+125:2.50'
MOA+124:0.48'
UNT+22+1'
UNZ+1+INV900'
";

#[test]
fn invoic_d96a_credit_note() {
    let events = ok(CREDIT_NOTE_D96A.as_bytes());
    let e = &events[0];
    assert_eq!(e.event_type.as_str(), "invoice.received");
    let inv = invoice(e);
    assert_eq!(inv.kind, InvoiceKind::CreditNote);
    assert_eq!(inv.invoice_number.as_str(), "CN-2024-77");
    assert_eq!(inv.credited_invoice.as_ref().unwrap().as_str(), "INV-2024-55");
    assert_eq!(inv.supplier.as_str(), "4012345000009");
    assert_eq!(inv.lines[0].item.gtin.as_ref().unwrap().0, "4006381333931");
    assert_eq!(inv.lines[0].tax_rate_percent, Some(dec("19")));
    assert_eq!(inv.lines[0].po_line, Some(1));
    assert_eq!((inv.tax_total.amount, inv.total.amount), (dec("0.48"), dec("2.98")));
}

#[test]
fn several_messages_in_a_group_give_one_event_each() {
    let text = "UNB+UNOC:3+4012345000009:14+5412345000013:14+240312:1700+MIX1'
UNG+DESADV+4012345000009+5412345000013+240312:1700+G1+UN+D:96A'
UNH+A1+DESADV:D:96A:UN'
BGM+351+DES-1+9'
NAD+DP+5412345000020::9'
LIN+1++4006381333931:EN'
QTY+12:1'
UNT+6+A1'
UNH+A2+DESADV:D:96A:UN'
BGM+351+DES-2+9'
NAD+DP+5412345000020::9'
LIN+1++5012345678900:EN'
QTY+12:2'
UNT+6+A2'
UNE+2+G1'
UNZ+1+MIX1'";
    let events = ok(text.as_bytes());
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["4012345000009/MIX1/A1", "4012345000009/MIX1/A2"]);
    assert_eq!(despatch(&events[1]).despatch_number.as_str(), "DES-2");
    // Parsing twice gives the same events; the context may name the source.
    assert_eq!(ok(text.as_bytes()), events);
    let mut named = cx();
    named.source = Some("partner/acme".into());
    let again = parse(text.as_bytes(), &named).unwrap();
    assert!(again.events.iter().all(|e| e.source == "partner/acme"));

    let bad_group = text.replace("UNE+2+G1'", "UNE+3+G2'").replace("UNZ+1+MIX1'", "UNZ+2+MIX1'");
    let problems = rejected(bad_group.as_bytes());
    assert_eq!(
        places(&problems),
        vec![
            (at(15, "UNE", Some(1), None), Some("0085-29")),
            (at(15, "UNE", Some(2), None), Some("0085-28")),
            (at(16, "UNZ", Some(1), None), Some("0085-29")),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Envelope errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_wrong_segment_count_names_unt01() {
    let problems = rejected(ORDERS_D96A.replace("UNT+24+1'", "UNT+23+1'").as_bytes());
    assert_eq!(places(&problems), vec![(at(26, "UNT", Some(1), None), Some("0085-29"))]);
    assert_eq!(
        problems[0].to_string(),
        "segment 26 (UNT), element UNT01: [0085-29] UNT01 segment count is 23 but message \"1\" has 24 segments, UNH and UNT included"
    );
}

#[test]
fn mismatched_references_name_unt02_and_unz02() {
    let text = ORDERS_D96A.replace("UNT+24+1'", "UNT+24+2'").replace("UNZ+1+ORD0042'", "UNZ+1+ORD0043'");
    let problems = rejected(text.as_bytes());
    assert_eq!(
        places(&problems),
        vec![(at(26, "UNT", Some(2), None), Some("0085-28")), (at(27, "UNZ", Some(2), None), Some("0085-28"))]
    );
    assert!(problems[1].message.contains("\"ORD0043\" differs from UNB05 \"ORD0042\""));
    let count = ORDERS_D96A.replace("UNZ+1+ORD0042'", "UNZ+2+ORD0042'");
    assert_eq!(places(&rejected(count.as_bytes())), vec![(at(27, "UNZ", Some(1), None), Some("0085-29"))]);
}

#[test]
fn missing_trailers_are_named() {
    let no_unz = ORDERS_D96A.replace("UNZ+1+ORD0042'\n", "");
    let problems = rejected(no_unz.as_bytes());
    assert_eq!(places(&problems), vec![(at(27, "UNZ", None, None), Some("0085-13"))]);
    assert!(problems[0].message.contains("no UNZ"));

    let no_unt = ORDERS_D96A.replace("UNT+24+1'\n", "");
    let problems = rejected(no_unt.as_bytes());
    assert_eq!(places(&problems), vec![(at(26, "UNZ", None, None), Some("0085-13"))]);
    assert!(problems[0].message.contains("no UNT message trailer before this UNZ"));

    let cut = &ORDERS_D96A[..ORDERS_D96A.find("LIN+2").unwrap()];
    let problems = rejected(cut.as_bytes());
    assert!(problems.iter().any(|p| p.location == at(17, "UNT", None, None) && p.message.contains("no UNT")));
    assert!(problems.iter().any(|p| p.location == at(17, "UNZ", None, None)));
}

#[test]
fn structure_errors_are_named() {
    let no_unb = ORDERS_D96A.replace("UNB+UNOC:3+5412345000013:14+4012345000009:14+240305:0930+ORD0042'\n", "");
    let problems = rejected(no_unb.as_bytes());
    assert_eq!(problems[0].location, at(2, "UNH", None, None));
    assert!(problems[0].message.contains("instead of the UNB"));

    let stray = ORDERS_D96A.replace("UNZ+1", "FTX+AAI+++stray'\nUNZ+1");
    let problems = rejected(stray.as_bytes());
    assert_eq!(places(&problems), vec![(at(27, "FTX", None, None), Some("0085-15"))]);

    let after = format!("{ORDERS_D96A}BGM+220+X'");
    assert_eq!(places(&rejected(after.as_bytes())), vec![(at(28, "BGM", None, None), Some("0085-15"))]);

    let bad_unb = ORDERS_D96A.replace("UNOC:3", "XYZ:7").replace("240305:0930", "240399:2575");
    let problems = rejected(bad_unb.as_bytes());
    assert_eq!(
        places(&problems),
        vec![
            (at(2, "UNB", Some(1), Some(1)), Some("0085-2")),
            (at(2, "UNB", Some(1), Some(2)), Some("0085-2")),
            (at(2, "UNB", Some(4), Some(1)), Some("0085-12")),
            (at(2, "UNB", Some(4), Some(2)), Some("0085-12")),
        ]
    );
}

#[test]
fn directories_outside_d96a_to_d16b_are_refused() {
    for (directory, component) in [("D:95B", 3), ("D:17A", 3), ("S:93A", 2)] {
        let text = ORDERS_D96A.replace("D:96A", directory);
        let problems = rejected(text.as_bytes());
        assert_eq!(places(&problems), vec![(at(3, "UNH", Some(2), Some(component)), Some("0085-14"))], "{directory}");
        assert!(problems[0].message.contains("accepted: D.96A through D.16B"));
    }
    for directory in ["D:01B", "D:16B", "D:01C", "D:99A"] {
        ok(ORDERS_D96A.replace("D:96A", directory).as_bytes());
    }
}

#[test]
fn content_errors_name_segment_and_element() {
    let text = ORDERS_D96A
        .replace("DTM+137:20240305:102'", "DTM+137:20240231:102'")
        .replace("LIN+2++5012345678900:EN'", "LIN+2++5012345678901:EN'")
        .replace("BGM+220", "BGM+351");
    let problems = rejected(text.as_bytes());
    assert_eq!(places(&problems), vec![(at(4, "BGM", Some(1), Some(1)), None)]);
    assert!(problems[0].message.contains("accepted: 220"));
    let text = text.replace("BGM+351", "BGM+220");
    let problems = rejected(text.as_bytes());
    assert_eq!(
        places(&problems),
        vec![(at(5, "DTM", Some(1), Some(2)), None), (at(17, "LIN", Some(3), Some(1)), None)]
    );
    assert!(problems[1].message.contains("not a valid GTIN"));
}

#[test]
fn numbers_out_of_range_are_refused_not_overflowed() {
    let text =
        ORDERS_D96A.replace("PRI+AAB:12,5:::10'", "PRI+AAB:9999999999999999999999999:::0,0000000000000000000000001'");
    let problems = rejected(text.as_bytes());
    assert_eq!(
        places(&problems),
        vec![(at(19, "PRI", Some(1), Some(2)), None), (at(19, "PRI", Some(1), Some(5)), None)]
    );
    assert!(problems[0].message.contains("out of range"));
    let credit =
        CREDIT_NOTE_D96A.replace("MOA+203:2.50'", "MOA+206:2.50'").replace("QTY+47:2'", "QTY+47:999999999999999");
    let _ = parse(credit.as_bytes(), &cx());
}

#[test]
fn una_problems_are_reported() {
    let problems = rejected(ORDERS_D96A.replace("UNA:+,? '", "UNA::,? '").as_bytes());
    assert_eq!(problems[0].location, at(1, "UNA", Some(2), None));
    let problems = rejected(b"UNA:+");
    assert_eq!(problems[0].location, at(1, "UNA", None, None));
    assert!(problems[0].message.contains("cut short"));
}

#[test]
fn detection() {
    assert_eq!(detect(ORDERS_D96A.as_bytes()), Some(Format::Edifact));
    assert_eq!(detect(DESADV_D96A.as_bytes()), Some(Format::Edifact));
    assert_eq!(detect(b"\xEF\xBB\xBF  UNB+UNOA:1+X+Y+240101:0000+1'"), Some(Format::Edifact));
    assert_ne!(detect(b"ISA*00*"), Some(Format::Edifact));
}

// ---------------------------------------------------------------------------------------------
// Never a panic
// ---------------------------------------------------------------------------------------------

fn all_inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> =
        [ORDERS_D96A, DESADV_D96A, DESADV_D01B, RECADV_D96A, RECADV_D01B, ORDRSP_D96A, CREDIT_NOTE_D96A]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
    inputs.push(sample(DFDL_INVOIC));
    inputs.push(sample(DFDL_ORDERS));
    inputs.push(cen("2").0);
    inputs.push(cen("5").1);
    inputs.push(sample("edi-net/edifact.Paiement.Issue139.EDI"));
    inputs
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = backroom_formats::edifact::parse(&bytes, &cx());
        let mut una = b"UNA:+.? 'UNB+".to_vec();
        una.extend_from_slice(&bytes);
        let _ = parse(&una, &cx());
    }

    #[test]
    fn mutated_interchanges_never_panic(
        which in 0usize..12,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
    ) {
        let inputs = all_inputs();
        let mut bytes = inputs[which % inputs.len()].clone();
        let alphabet = b"+:?'*,.0123456789UNHTZLINQTYPRIMOA\n-";
        for (index, kind, byte) in edits {
            let special = alphabet[usize::from(byte) % alphabet.len()];
            if bytes.is_empty() {
                bytes.push(special);
                continue;
            }
            let i = index.index(bytes.len());
            match kind {
                0 => bytes[i] = if byte % 2 == 0 { special } else { byte },
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, special),
            }
        }
        let _ = parse(&bytes, &cx());
    }

    #[test]
    fn truncated_interchanges_never_panic(which in 0usize..12, cut in any::<prop::sample::Index>()) {
        let inputs = all_inputs();
        let bytes = &inputs[which % inputs.len()];
        let _ = parse(&bytes[..cut.index(bytes.len() + 1).min(bytes.len())], &cx());
    }
}
