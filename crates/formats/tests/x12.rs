//! ANSI X12: every sample interchange read or rejected for the right reason, envelope errors
//! located, 997 and 855 round trips, delimiter variety, 846 fixtures, and no panics.

use std::str::FromStr;

use backroom_formats::x12::{self, AckStatus, ElementNote, Envelope, FunctionalAck, SegmentNote, SetAck};
use backroom_formats::{Context, Format, Location, Parsed, Problem, parse};
use backroom_model::{
    DespatchAdvice, EventPayload, EventType, InventoryAdvice, InvoiceKind, ItemRef, Money, PurchaseOrder,
    PurchaseOrderResponse, Quantity, ResponseLine, ResponseStatus, SupplierInvoice, UnitCode,
};
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/x12/x12");

fn cx() -> Context {
    Context::new(Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap())
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read(bytes: &[u8]) -> Parsed {
    parse(bytes, &cx()).unwrap_or_else(|e| panic!("{e}"))
}

fn rejected(bytes: &[u8]) -> Vec<Problem> {
    match parse(bytes, &cx()) {
        Ok(p) => panic!("expected a rejection, got {:?}", p.events),
        Err(e) => {
            assert_eq!(e.format, Some(Format::X12));
            e.problems
        }
    }
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn at(index: usize, tag: &str, element: Option<usize>) -> Location {
    Location::Segment { index, tag: tag.to_owned(), element, component: None }
}

fn order(p: &Parsed) -> &PurchaseOrder {
    match &p.events[..] {
        [e] => match &e.payload {
            EventPayload::PurchaseOrder(o) => o,
            other => panic!("not an order: {other:?}"),
        },
        more => panic!("expected one event, got {}", more.len()),
    }
}

fn po_response(p: &Parsed) -> &PurchaseOrderResponse {
    match &p.events[0].payload {
        EventPayload::PurchaseOrderResponse(r) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn despatch(p: &Parsed) -> &DespatchAdvice {
    match &p.events[0].payload {
        EventPayload::DespatchAdvice(a) => a,
        other => panic!("not a despatch advice: {other:?}"),
    }
}

fn invoice(p: &Parsed) -> &SupplierInvoice {
    match &p.events[0].payload {
        EventPayload::SupplierInvoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn advice(p: &Parsed) -> &InventoryAdvice {
    match &p.events[0].payload {
        EventPayload::InventoryAdvice(a) => a,
        other => panic!("not an inventory advice: {other:?}"),
    }
}

/// Asserts that one problem's message holds `needle`, and returns it.
fn problem_with<'a>(problems: &'a [Problem], needle: &str) -> &'a Problem {
    problems
        .iter()
        .find(|p| p.message.contains(needle))
        .unwrap_or_else(|| panic!("no problem mentions {needle:?}: {problems:#?}"))
}

/// Replaces the first occurrence of `from` in a sample.
fn patched(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains(from), "{from:?} not in the sample");
    text.replacen(from, to, 1).into_bytes()
}

// ---------------------------------------------------------------------------------------------
// node-x12

fn check_node_850(p: &Parsed) {
    let o = order(p);
    assert_eq!(p.events[0].event_type, EventType::PoCreated);
    assert_eq!(p.events[0].id, "4405197800/000003438/1421/000000010");
    assert_eq!(p.events[0].source, "x12/4405197800");
    assert_eq!(o.po_number.as_str(), "08292233294");
    assert_eq!(o.ordered_on, date(2010, 11, 27));
    assert_eq!(o.expected_on, Some(date(2010, 12, 14)));
    assert_eq!(o.ship_to.as_str(), "0003947268292");
    // An 850 goes from buyer to supplier: the supplier is the group's receiver.
    assert_eq!(o.supplier.as_str(), "999999999");
    assert_eq!(o.currency.as_str(), "USD");
    assert_eq!(o.lines.len(), 6);
    let first = &o.lines[0];
    assert_eq!((first.line, first.item.sku.as_ref().unwrap().as_str()), (1, "065322-117"));
    assert_eq!(first.quantity, Quantity { value: d("120"), unit: UnitCode("EA".into()) });
    assert_eq!(first.unit_price, Money::new(d("9.25"), "USD"));
    assert_eq!(o.lines[5].quantity.value, d("696"));
    // AMT*1 of the sample: 13045.94.
    assert_eq!(o.total().amount, d("13045.94"));
}

#[test]
fn node_850_with_tilde_and_newlines() {
    let p = read(&sample("node-x12/850.edi"));
    check_node_850(&p);
    assert_eq!(p.replies.len(), 1);
    assert_eq!(p.replies[0].kind, "x12_997");
    assert_eq!(p.replies[0].media_type, "application/edi-x12");
}

#[test]
fn node_850_with_newline_terminator() {
    // ISA16 `>` is followed by a line feed: every segment ends at the end of its line.
    check_node_850(&read(&sample("node-x12/850_2.edi")));
}

#[test]
fn node_850_anonymised_order_number_is_rejected() {
    let problems = rejected(&sample("node-x12/850_3.edi"));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].location, at(4, "BEG", Some(3)));
    assert!(problems[0].message.contains("\"----------\" is not a usable purchase-order number"));
}

#[test]
fn node_850_two_identical_interchanges_give_one_event_and_two_acknowledgements() {
    let p = read(&sample("node-x12/850_fat.edi"));
    check_node_850(&p);
    assert_eq!(p.replies.len(), 2);
    let acks: Vec<FunctionalAck> = p.replies.iter().map(|r| x12::read_997(r.body.as_bytes()).unwrap()).collect();
    assert_eq!(acks[0], acks[1]);
    assert!(p.replies[0].body.contains("*000000001*0*P*>~"), "{}", p.replies[0].body);
    assert!(p.replies[1].body.contains("*000000002*0*P*>~"), "{}", p.replies[1].body);
}

#[test]
fn node_855_lines_accepted_and_rejected() {
    let p = read(&sample("node-x12/855.edi"));
    assert_eq!(p.events[0].event_type, EventType::PoAcknowledged);
    let r = po_response(&p);
    assert_eq!(r.po_number.as_str(), "POTEST1112");
    assert_eq!(r.status, ResponseStatus::Accepted); // BAK02 AD
    assert_eq!(r.responded_on, date(2020, 10, 15));
    assert_eq!(r.supplier.as_ref().unwrap().as_str(), "1556150");
    let summary: Vec<(u32, &str, ResponseStatus, Decimal)> = r
        .lines
        .iter()
        .map(|l| (l.po_line, l.item.gtin.as_ref().unwrap().0.as_str(), l.status, l.quantity.value))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "9780446360265", ResponseStatus::Accepted, d("3")),
            (2, "9780767928427", ResponseStatus::Rejected, d("0")),
            (3, "9780099599531", ResponseStatus::Rejected, d("0")),
            (4, "9780446360272", ResponseStatus::Accepted, d("2")),
        ]
    );
    // UN (unit) is counted as EA; prices come from PO104 in the CUR currency.
    assert_eq!(r.lines[0].quantity.unit.as_str(), "EA");
    assert_eq!(r.lines[1].unit_price, Some(Money::new(d("15.99"), "USD")));
}

fn check_node_856(p: &Parsed) {
    let a = despatch(p);
    assert_eq!(p.events[0].event_type, EventType::DespatchAdvised);
    assert_eq!(a.despatch_number.as_str(), "829716");
    assert_eq!(a.po_number.as_ref().unwrap().as_str(), "99999817");
    assert_eq!(a.shipped_on, Some(date(2011, 12, 6)));
    // No N1*ST: the goods go to the group's receiver.
    assert_eq!(a.ship_to.as_str(), "999999999");
    assert_eq!(a.supplier.as_ref().unwrap().as_str(), "4405197800");
    let lines: Vec<(&str, Decimal)> =
        a.lines.iter().map(|l| (l.item.sku.as_ref().unwrap().as_str(), l.quantity.value)).collect();
    assert_eq!(lines, vec![("87787D", d("24")), ("99887D", d("6"))]);
}

#[test]
fn node_856_with_dash_repetition_separator() {
    // ISA11 is `-` in version 00406; values such as REF*BM*999999-001 are not split.
    check_node_856(&read(&sample("node-x12/856.edi")));
}

// ---------------------------------------------------------------------------------------------
// edi-net

#[test]
fn edi_net_810a_pretty_printed_invoice() {
    let p = read(&sample("edi-net/x12.810a.edi"));
    let i = invoice(&p);
    assert_eq!(i.invoice_number.as_str(), "DO091003TESTINV01");
    assert_eq!(i.kind, InvoiceKind::Invoice);
    assert_eq!(i.issued_on, date(2003, 3, 10));
    assert_eq!(i.po_number.as_ref().unwrap().as_str(), "DO091003");
    assert_eq!(i.supplier.as_str(), "ABCMUSIC");
    assert_eq!(i.lines.len(), 2);
    assert_eq!(i.lines[0].net_amount.amount, d("199.98"));
    assert_eq!(i.lines[1].unit_price.amount, d("79.99"));
    // TDS*36596: two implied decimals.
    assert_eq!(i.total, Money::new(d("365.96"), "USD"));
    assert_eq!(i.tax_total.amount, Decimal::ZERO);
}

#[test]
fn huge_amounts_are_refused_not_overflowed() {
    let bytes =
        patched(&sample("edi-net/x12.810a.edi"), "IT1*1*2*EA*99.99", "IT1*1*999999999999999999*EA*999999999999999.999");
    let p = rejected(&bytes);
    assert_eq!(problem_with(&p, "too large").location, at(27, "IT1", Some(2)));
    let bytes = patched(&sample("edi-net/x12.810a.edi"), "IT1*1*2*EA*99.99", "IT1*1*1234567890123456789*EA*99.99");
    problem_with(&rejected(&bytes), "at most 18 digits");
}

#[test]
fn edi_net_810b_taxes() {
    let i = read(&sample("edi-net/x12.810b.edi"));
    let i = invoice(&i);
    assert_eq!(i.invoice_number.as_str(), "DO091003TESTINV01TAX");
    assert_eq!(i.total.amount, d("401.92"));
    // Summary TXI: 28.78 state + 7.18 federal.
    assert_eq!(i.tax_total.amount, d("35.96"));
    // Line TXI03: 8 % state + 2 % federal.
    assert_eq!(i.lines[0].tax_rate_percent, Some(d("10")));
}

#[test]
fn edi_net_810c_and_d_bill_whole_orders_without_items() {
    let c = rejected(&sample("edi-net/x12.810c.edi"));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].location, at(21, "IT1", Some(6)));
    assert!(c[0].message.contains("names no item"));
    let d = rejected(&sample("edi-net/x12.810d.edi"));
    let locations: Vec<&Location> = d.iter().map(|p| &p.location).collect();
    assert_eq!(locations, vec![&at(21, "IT1", Some(6)), &at(39, "IT1", Some(6))]);
}

#[test]
fn edi_net_820_and_832_are_unsupported_sets() {
    let p = rejected(&sample("edi-net/x12.820.issue140.edi"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].location, at(3, "ST", Some(1)));
    assert!(p[0].message.contains("\"820\" is not supported"));
    assert!(p[0].message.contains("850") && p[0].message.contains("846"));
    let p = rejected(&sample("edi-net/x12.832.edi"));
    problem_with(&p, "\"832\" is not supported");
    // The sample also declares 17 segments in SE01 for 12.
    assert_eq!(problem_with(&p, "SE01 says 17").location, at(14, "SE", Some(1)));
}

#[test]
fn edi_net_850_with_nbsp_padding_has_a_wrong_iea02() {
    // ISA fields padded with U+00A0 and a BOM: the header is still read; IEA02 is wrong and the
    // drop-ship address has no location code.
    let p = rejected(&sample("edi-net/x12.850.edi"));
    assert_eq!(problem_with(&p, "IEA02").location, at(15, "IEA", Some(2)));
    problem_with(&p, "names no ship-to location");
}

#[test]
fn edi_net_850a_tab_indented() {
    let bytes = sample("edi-net/x12.850a.edi");
    let p = rejected(&bytes);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].location, at(54, "IEA", Some(2)));
    // With the trailer's control number corrected the tab-indented order reads in full.
    let fixed = patched(&bytes, "IEA*1*000000001", "IEA*1*000000055");
    let p = read(&fixed);
    let o = order(&p);
    assert_eq!(o.po_number.as_str(), "4600000406");
    assert_eq!(o.ship_to.as_str(), "T100");
    assert_eq!(o.supplier.as_str(), "0000600396");
    assert_eq!(o.lines.iter().map(|l| l.line).collect::<Vec<_>>(), vec![100001, 200001, 200002]);
    assert_eq!(o.lines[0].quantity, Quantity { value: d("2500"), unit: UnitCode("YRD".into()) });
    assert_eq!(o.lines[0].unit_price.amount, d("2.53"));
    assert_eq!(o.lines[0].item.sku.as_ref().unwrap().as_str(), "A_QU001-BLK");
}

#[test]
fn edi_net_850_issue135_missing_terminator_and_reused_control_number() {
    let p = rejected(&sample("edi-net/x12.850.issue135.edi"));
    let broken = problem_with(&p, "runs over a line break");
    assert_eq!(broken.location, at(23, "DTM", None));
    assert_eq!(problem_with(&p, "used twice").location, at(89, "ST", Some(2)));
    problem_with(&p, "names no ship-to location");
}

// ---------------------------------------------------------------------------------------------
// x12-types

#[test]
fn x12_types_810_unpadded_isa_reads_but_se01_is_wrong() {
    let bytes = sample("x12-types/x12types_810_004010_1.edi");
    let p = rejected(&bytes);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].location, at(47, "SE", Some(1)));
    let p = read(&patched(&bytes, "SE*44*", "SE*45*"));
    let i = invoice(&p);
    assert_eq!(i.invoice_number.as_str(), "0013833070");
    assert_eq!(i.po_number.as_ref().unwrap().as_str(), "V8748745");
    assert_eq!(i.supplier.as_str(), "ADUS"); // N1*SE
    assert_eq!(i.due_on, Some(date(2007, 3, 5))); // ITD07: 35 days
    assert_eq!(i.total.amount, d("160"));
    assert_eq!(i.lines[0].line, 10);
    assert_eq!(i.lines[0].item.sku.as_ref().unwrap().as_str(), "7167946"); // BP
}

#[test]
fn x12_types_810_005010() {
    let p = read(&sample("x12-types/x12types_810_005010_2.edi"));
    let i = invoice(&p);
    assert_eq!(i.invoice_number.as_str(), "I-0042537");
    assert_eq!(i.lines.len(), 5);
    assert_eq!(i.total.amount, d("57.70"));
    let net: Decimal = i.lines.iter().map(|l| l.net_amount.amount).sum();
    assert_eq!(net, d("57.70"));
    assert_eq!(i.supplier.as_str(), "5141231234"); // GS02: no N1*SE
}

#[test]
fn x12_types_850_004010_cases() {
    let p = read(&sample("x12-types/x12types_850_004010_0.edi"));
    let o = order(&p);
    assert_eq!(o.po_number.as_str(), "A99999-01");
    assert_eq!(o.ship_to.as_str(), "1223334445");
    assert_eq!(o.lines.len(), 7);
    // CA (case) is CS in Rec 20; lines without PO101 are numbered by position.
    assert!(o.lines.iter().all(|l| l.quantity.unit.as_str() == "CS"));
    assert_eq!(o.lines.iter().map(|l| l.quantity.value).sum::<Decimal>(), d("207"));
    assert_eq!(o.lines[6].line, 7);
}

#[test]
fn x12_types_850_005010_pipe_repetition_colon_component() {
    let p = read(&sample("x12-types/x12types_850_005010_1.edi"));
    let o = order(&p);
    assert_eq!(o.po_number.as_str(), "05832797OD000ZZZ04269");
    assert_eq!(o.ship_to.as_str(), "ATL00069");
    assert_eq!(o.lines.len(), 4);
    // Only line 4 has a price (CTP03); the others leave it to the catalogue.
    let prices: Vec<Decimal> = o.lines.iter().map(|l| l.unit_price.amount).collect();
    assert_eq!(prices, vec![d("0"), d("0"), d("0"), d("96")]);
    let ack = x12::read_997(p.replies[0].body.as_bytes()).unwrap();
    assert_eq!(ack.version.as_deref(), Some("005010"));
    let p = read(&sample("x12-types/x12types_850_005010_2.edi"));
    let o = order(&p);
    assert_eq!(o.supplier.as_str(), "BIN");
    assert_eq!(o.lines[0].unit_price.amount, d("37.93"));
    let p = read(&sample("x12-types/x12types_850_005010_3.edi"));
    assert_eq!(order(&p).lines.iter().map(|l| l.quantity.value).sum::<Decimal>(), d("5"));
}

#[test]
fn x12_types_850_005010_empty_isa16() {
    // `…*T*~⏎`: ISA16 left empty, `~` ends every line. Read; only SE01 (28 for 29) is wrong.
    let p = rejected(&sample("x12-types/x12types_850_005010_4.edi"));
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].location, at(31, "SE", Some(1)));
}

#[test]
fn x12_types_855_misaligned_qualifiers() {
    let p = rejected(&sample("x12-types/x12types_855_004010_1.edi"));
    assert_eq!(problem_with(&p, "names no item").location, at(5, "PO1", Some(6)));
    assert_eq!(problem_with(&p, "SE01 says 10").location, at(8, "SE", Some(1)));
}

#[test]
fn x12_types_856_samples() {
    let p = rejected(&sample("x12-types/x12types_856_004010_1.edi"));
    problem_with(&p, "ships no item");
    for (name, index) in [("2", 20), ("4", 16), ("5", 20), ("6", 19)] {
        let p = rejected(&sample(&format!("x12-types/x12types_856_004010_{name}.edi")));
        assert_eq!(p.len(), 1, "{name}: {p:#?}");
        assert_eq!(p[0].location, at(index, "SE", Some(1)), "{name}");
    }
    for name in ["3", "7"] {
        let p = rejected(&sample(&format!("x12-types/x12types_856_004010_{name}.edi")));
        assert_eq!(problem_with(&p, "belongs in a functional group SH").location, at(3, "ST", Some(1)));
        assert_eq!(problem_with(&p, "\"200\" is not a date").location, at(12, "DTM", Some(2)));
        assert_eq!(problem_with(&p, "GE01 says 2").location, at(47, "GE", Some(1)));
    }
    let p = read(&sample("x12-types/x12types_856_004010_8.edi"));
    let a = despatch(&p);
    assert_eq!(a.despatch_number.as_str(), "222253");
    assert_eq!(a.po_number.as_ref().unwrap().as_str(), "DR3469500");
    assert_eq!(a.lines[0].item, ItemRef::sku("25901"));
    assert_eq!(a.lines[0].quantity.value, d("2"));
    // Same shipment as node-x12/856.edi, in 004060 with line feeds and no final terminator.
    check_node_856(&read(&sample("x12-types/x12types_856_004060_0.edi")));
}

#[test]
fn every_sample_is_covered() {
    let known = [
        "node-x12/850.edi",
        "node-x12/850_2.edi",
        "node-x12/850_3.edi",
        "node-x12/850_fat.edi",
        "node-x12/855.edi",
        "node-x12/856.edi",
        "edi-net/x12.810a.edi",
        "edi-net/x12.810b.edi",
        "edi-net/x12.810c.edi",
        "edi-net/x12.810d.edi",
        "edi-net/x12.820.issue140.edi",
        "edi-net/x12.832.edi",
        "edi-net/x12.850.edi",
        "edi-net/x12.850.issue135.edi",
        "edi-net/x12.850a.edi",
        "x12-types/x12types_810_004010_1.edi",
        "x12-types/x12types_810_005010_2.edi",
        "x12-types/x12types_850_004010_0.edi",
        "x12-types/x12types_850_005010_1.edi",
        "x12-types/x12types_850_005010_2.edi",
        "x12-types/x12types_850_005010_3.edi",
        "x12-types/x12types_850_005010_4.edi",
        "x12-types/x12types_855_004010_1.edi",
        "x12-types/x12types_856_004010_1.edi",
        "x12-types/x12types_856_004010_2.edi",
        "x12-types/x12types_856_004010_3.edi",
        "x12-types/x12types_856_004010_4.edi",
        "x12-types/x12types_856_004010_5.edi",
        "x12-types/x12types_856_004010_6.edi",
        "x12-types/x12types_856_004010_7.edi",
        "x12-types/x12types_856_004010_8.edi",
        "x12-types/x12types_856_004060_0.edi",
    ];
    let mut found = Vec::new();
    for dir in ["node-x12", "edi-net", "x12-types"] {
        for entry in std::fs::read_dir(format!("{SAMPLES}/{dir}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".edi") {
                found.push(format!("{dir}/{name}"));
            }
        }
    }
    found.sort();
    let mut known: Vec<String> = known.iter().map(|s| (*s).to_owned()).collect();
    known.sort();
    assert_eq!(found, known, "a sample was added or removed: give it a test");
    for name in &known {
        // Every sample is recognised as X12 and read or rejected as a whole, never half.
        let bytes = sample(name);
        assert_eq!(backroom_formats::detect(&bytes), Some(Format::X12), "{name}");
        match parse(&bytes, &cx()) {
            Ok(p) => assert!(!p.events.is_empty() && !p.replies.is_empty(), "{name}"),
            Err(e) => assert!(!e.problems.is_empty(), "{name}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope errors

#[test]
fn wrong_se01_count_is_located() {
    let p = rejected(&patched(&sample("node-x12/850.edi"), "SE*33*", "SE*32*"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].location, at(35, "SE", Some(1)));
    assert_eq!(p[0].message, "SE01 says 32 segments (ST and SE included), but there are 33");
    assert_eq!(
        p[0].to_string(),
        "segment 35 (SE), element SE01: SE01 says 32 segments (ST and SE included), but there are 33"
    );
}

#[test]
fn ge02_mismatch_is_located() {
    let p = rejected(&patched(&sample("node-x12/850.edi"), "GE*1*1421", "GE*1*1422"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].location, at(36, "GE", Some(2)));
    assert!(p[0].message.contains("GS06 \"1421\""));
}

#[test]
fn se02_and_iea01_mismatches_are_located() {
    let bytes = patched(&sample("node-x12/850.edi"), "SE*33*000000010", "SE*33*000000011");
    let p = rejected(&patched(&bytes, "IEA*1*", "IEA*2*"));
    let locations: Vec<&Location> = p.iter().map(|p| &p.location).collect();
    assert_eq!(locations, vec![&at(35, "SE", Some(2)), &at(37, "IEA", Some(1))]);
}

#[test]
fn missing_iea_is_reported_where_it_was_due() {
    let p = rejected(&patched(&sample("node-x12/850.edi"), "IEA*1*000003438~", ""));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].location, at(37, "IEA", None));
    assert!(p[0].message.contains("without its IEA trailer"));
}

#[test]
fn missing_se_and_ge_are_reported() {
    let p = rejected(&patched(&sample("node-x12/850.edi"), "SE*33*000000010~\nGE*1*1421~\n", ""));
    let locations: Vec<&Location> = p.iter().map(|p| &p.location).collect();
    assert_eq!(locations, vec![&at(35, "SE", None), &at(35, "GE", None)]);
}

#[test]
fn not_isa_and_broken_isa() {
    let e = parse(b"ISA*00*", &cx()).unwrap_err();
    assert_eq!(e.problems[0].location, at(1, "ISA", None));
    assert!(e.problems[0].message.contains("cut short"));
    let p = x12::parse(b"GS*PO~", &cx()).unwrap_err();
    assert!(p[0].message.contains("does not start with an ISA"));
}

#[test]
fn unsupported_version_is_rejected() {
    let p = rejected(&patched(&sample("node-x12/850.edi"), "*X*004010VICS", "*X*003040"));
    assert_eq!(p[0].location, at(2, "GS", Some(8)));
}

// ---------------------------------------------------------------------------------------------
// Delimiter variety

/// The node 850 rewritten with other delimiters (element, component, terminator, version).
fn redelimited(element: char, component: char, repetition: char, terminator: &str) -> Vec<u8> {
    let text = String::from_utf8(sample("node-x12/850.edi")).unwrap();
    let text = text.replace("*U*00400*", &format!("*{repetition}*00501*")).replace("004010VICS", "005010");
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_end_matches('~');
        let line = if line.starts_with("ISA") { &line[..line.len() - 1] } else { line };
        out.push_str(&line.replace('*', &element.to_string()));
        if line.starts_with("ISA") {
            out.push(component);
        }
        out.push_str(terminator);
    }
    out.into_bytes()
}

#[test]
fn delimiter_variety() {
    for (element, component, repetition, terminator) in [
        ('*', '>', '^', "~\n"),
        ('*', '>', '^', "~"),
        ('*', ':', '|', "~\r\n"),
        ('|', '>', '^', "~"),
        ('^', ':', '!', "\n"),
        ('*', '\\', '^', "'"),
    ] {
        let bytes = redelimited(element, component, repetition, terminator);
        let p = parse(&bytes, &cx()).unwrap_or_else(|e| panic!("{element} {component} {terminator:?}: {e}"));
        let o = order(&p);
        assert_eq!((o.po_number.as_str(), o.lines.len()), ("08292233294", 6));
        assert_eq!(o.total().amount, d("13045.94"));
    }
}

#[test]
fn clashing_delimiters_are_refused() {
    let bytes = redelimited('*', '*', '^', "~");
    let e = parse(&bytes, &cx()).unwrap_err();
    assert_eq!(e.problems[0].location, at(1, "ISA", Some(16)));
}

// ---------------------------------------------------------------------------------------------
// 997

#[test]
fn acknowledgement_of_the_node_850() {
    let mut context = cx();
    context.control_number = 42;
    context.sender_id = "999999999".into();
    let p = parse(&sample("node-x12/850.edi"), &context).unwrap();
    let body = &p.replies[0].body;
    // Sender and receiver swapped; our qualifier is the one we were addressed with (01).
    assert!(body.starts_with("ISA*00*          *00*          *01*999999999      *12*4405197800     *240501*1200*U*00401*000000042*0*P*>~\n"), "{body}");
    assert!(body.contains("GS*FA*999999999*4405197800*20240501*1200*42*X*004010VICS~"), "{body}");
    assert!(body.contains("ST*997*0042~"), "{body}");
    let ack = x12::read_997(body.as_bytes()).unwrap();
    assert_eq!(
        ack,
        FunctionalAck {
            group_code: "PO".into(),
            group_control: "1421".into(),
            version: None,
            sets: vec![SetAck {
                set_code: "850".into(),
                control: "000000010".into(),
                status: AckStatus::Accepted,
                errors: vec![],
                segments: vec![],
            }],
            status: AckStatus::Accepted,
            included: 1,
            received: 1,
            accepted: 1,
            errors: vec![],
        }
    );
}

#[test]
fn acknowledgements_of_the_samples() {
    for (name, group, set) in [
        ("node-x12/855.edi", "PR", "855"),
        ("node-x12/856.edi", "SH", "856"),
        ("edi-net/x12.810a.edi", "IN", "810"),
        ("x12-types/x12types_850_005010_1.edi", "PO", "850"),
    ] {
        let p = read(&sample(name));
        let ack = x12::read_997(p.replies[0].body.as_bytes()).unwrap();
        assert_eq!((ack.group_code.as_str(), ack.sets[0].set_code.as_str()), (group, set), "{name}");
        assert_eq!((ack.status, ack.accepted), (AckStatus::Accepted, 1), "{name}");
    }
}

#[test]
fn rejected_document_is_acknowledged_with_reasons() {
    let replies = x12::acknowledge(&sample("x12-types/x12types_856_004010_4.edi"), &cx()).unwrap();
    assert_eq!(replies.len(), 1);
    let ack = x12::read_997(replies[0].body.as_bytes()).unwrap();
    assert_eq!(ack.status, AckStatus::Rejected);
    assert_eq!((ack.included, ack.received, ack.accepted), (1, 1, 0));
    assert_eq!(ack.sets[0].status, AckStatus::Rejected);
    assert_eq!(ack.sets[0].errors, vec!["4".to_owned()]); // segment count wrong
    let replies = x12::acknowledge(&sample("edi-net/x12.810c.edi"), &cx()).unwrap();
    let ack = x12::read_997(replies[0].body.as_bytes()).unwrap();
    assert_eq!(ack.sets[0].errors, vec!["5".to_owned()]);
    assert_eq!(ack.sets[0].segments[0].tag, "IT1");
    assert_eq!(ack.sets[0].segments[0].position, 19); // segment 21 of the file, ST is segment 3
    assert_eq!(ack.sets[0].segments[0].elements[0].position, 6);
}

#[test]
fn acknowledgement_round_trip() {
    let ack = FunctionalAck {
        group_code: "IN".into(),
        group_control: "77".into(),
        version: Some("005010".into()),
        sets: vec![
            SetAck {
                set_code: "810".into(),
                control: "0001".into(),
                status: AckStatus::Accepted,
                errors: vec![],
                segments: vec![],
            },
            SetAck {
                set_code: "810".into(),
                control: "0002".into(),
                status: AckStatus::Rejected,
                errors: vec!["5".into(), "4".into()],
                segments: vec![SegmentNote {
                    tag: "IT1".into(),
                    position: 7,
                    loop_id: Some("IT1".into()),
                    error: Some("8".into()),
                    elements: vec![
                        ElementNote {
                            position: 2,
                            component: None,
                            reference: Some("358".into()),
                            error: "6".into(),
                            value: Some("1O".into()),
                        },
                        ElementNote {
                            position: 6,
                            component: Some(1),
                            reference: None,
                            error: "7".into(),
                            value: None,
                        },
                    ],
                }],
            },
        ],
        status: AckStatus::PartiallyAccepted,
        included: 2,
        received: 2,
        accepted: 1,
        errors: vec![],
    };
    let envelope = Envelope {
        sender_qualifier: "ZZ".into(),
        sender_id: "BACKROOM".into(),
        sender_application: "BACKROOM".into(),
        receiver_qualifier: "01".into(),
        receiver_id: "123456789".into(),
        receiver_application: "SUPPLIER".into(),
        control_number: 5,
        version: "005010".into(),
        test: true,
        at: Utc.with_ymd_and_hms(2024, 5, 1, 8, 30, 0).unwrap(),
    };
    let text = x12::write_997(&ack, &envelope);
    assert!(text.contains("AK4*6>1**7~"), "{text}");
    assert!(text.contains("*^*00501*000000005*0*T*>~"), "{text}");
    assert_eq!(x12::read_997(text.as_bytes()).unwrap(), ack);
}

#[test]
fn a_997_given_to_parse_is_refused_with_a_pointer() {
    let p = read(&sample("node-x12/850.edi"));
    let e = parse(p.replies[0].body.as_bytes(), &cx()).unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert!(e.problems[0].message.contains("a 997 is an acknowledgement"));
    assert!(e.problems[0].message.contains("read_997"));
}

// ---------------------------------------------------------------------------------------------
// 855 out

fn envelope_855() -> Envelope {
    Envelope {
        sender_qualifier: "ZZ".into(),
        sender_id: "SUPPLIER01".into(),
        sender_application: "SUPPLIER01".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "RETAILER".into(),
        receiver_application: "RETAILER".into(),
        control_number: 1234,
        version: "004010".into(),
        test: false,
        at: Utc.with_ymd_and_hms(2024, 5, 2, 9, 15, 0).unwrap(),
    }
}

#[test]
fn po_acknowledgement_round_trip() {
    let response = PurchaseOrderResponse {
        po_number: "PO-4500012345".into(),
        supplier: Some("SUPPLIER01".into()),
        responded_on: date(2024, 5, 2),
        status: ResponseStatus::Changed,
        lines: vec![
            ResponseLine {
                po_line: 1,
                item: ItemRef { gtin: Some(backroom_model::Gtin("4006381333931".into())), sku: Some("SKU-1".into()) },
                status: ResponseStatus::Accepted,
                quantity: Quantity { value: d("12"), unit: UnitCode("EA".into()) },
                unit_price: Some(Money::new(d("4.25"), "USD")),
                delivery_on: Some(date(2024, 5, 9)),
            },
            ResponseLine {
                po_line: 2,
                item: ItemRef::gtin("036000291452"),
                status: ResponseStatus::Changed,
                quantity: Quantity { value: d("3.5"), unit: UnitCode("CS".into()) },
                unit_price: Some(Money::new(d("19.99"), "USD")),
                delivery_on: None,
            },
            ResponseLine {
                po_line: 3,
                item: ItemRef::sku("SKU-3"),
                status: ResponseStatus::Rejected,
                quantity: Quantity { value: d("0"), unit: UnitCode("DZN".into()) },
                unit_price: None,
                delivery_on: None,
            },
        ],
        note: Some("Line 2 ships in cases of 12 from our Reno warehouse; line 3 is discontinued.".into()),
    };
    let text = x12::write_855(&response, &envelope_855());
    assert!(text.contains("BAK*00*AC*PO-4500012345*20240502*****20240502~"), "{text}");
    assert!(text.contains("PO1*2*3.5*CA*19.99**UP*036000291452~"), "{text}");
    assert!(text.contains("ACK*IA*12*EA*067*20240509~"), "{text}");
    let p = read(text.as_bytes());
    assert_eq!(po_response(&p), &response);
    assert_eq!(p.events[0].id, "SUPPLIER01/000001234/1234/1234");
    // And the 855 is acknowledged in turn.
    let ack = x12::read_997(p.replies[0].body.as_bytes()).unwrap();
    assert_eq!((ack.group_code.as_str(), ack.sets[0].set_code.as_str()), ("PR", "855"));
}

#[test]
fn po_rejection_without_lines_round_trip() {
    let response = PurchaseOrderResponse {
        po_number: "PO-77".into(),
        supplier: Some("SUPPLIER01".into()),
        responded_on: date(2024, 5, 2),
        status: ResponseStatus::Rejected,
        lines: vec![],
        note: None,
    };
    let text = x12::write_855(&response, &envelope_855());
    assert!(text.contains("BAK*00*RJ*PO-77*"), "{text}");
    assert_eq!(po_response(&read(text.as_bytes())), &response);
}

// ---------------------------------------------------------------------------------------------
// 846 (no public sample: hand-written from the segment layout)

const INVENTORY_004010: &str =
    "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*BACKROOM       *240430*2300*U*00401*000000701*0*P*>~
GS*IB*ACMESUPPLY*BACKROOM*20240430*2300*701*X*004010~
ST*846*0001~
BIA*00*DD*INV-20240430*20240430*2200~
CUR*SE*USD~
N1*SU*ACME SUPPLY CO*92*ACME~
N1*WH*ACME RENO DC*92*RENO-DC~
LIN*1*UP*036000291452*VN*AC-100~
PID*F****PAPER TOWELS 6 ROLL~
QTY*33*480*EA~
QTY*17*520*EA~
QTY*63*1200*EA~
LIN*2*EN*4006381333931*VN*AC-200~
QTY*33*0*CA~
LIN*3*VN*AC-300~
QTY*17*36*DZ~
CTT*3~
SE*16*0001~
GE*1*701~
IEA*1*000000701~
";

const INVENTORY_005010: &str = "ISA*00*          *00*          *01*123456789      *ZZ*BACKROOM       *240430*2300*^*00501*000000702*0*T*:~GS*IB*123456789*BACKROOM*20240430*230012*702*X*005010~ST*846*0702~BIA*00*MM*ADV 702*20240430~DTM*007*20240430~LIN**UK*10614141000415*BP*SKU-9~QTY*33*12.5*KG~CTT*1~SE*7*0702~GE*1*702~IEA*1*000000702~";

#[test]
fn inventory_advice_004010() {
    let p = read(INVENTORY_004010.as_bytes());
    assert_eq!(p.events[0].event_type, EventType::InventoryAdvised);
    assert_eq!(p.events[0].occurred_at, Utc.with_ymd_and_hms(2024, 4, 30, 22, 0, 0).unwrap());
    let a = advice(&p);
    assert_eq!(a.advice_number.as_str(), "INV-20240430");
    assert_eq!(a.advised_by.as_str(), "ACME");
    assert_eq!(a.location.as_ref().unwrap().as_str(), "RENO-DC");
    assert_eq!(a.as_of, date(2024, 4, 30));
    assert_eq!(a.lines.len(), 3);
    assert_eq!(a.lines[0].item.gtin.as_ref().unwrap().0, "036000291452");
    assert_eq!(a.lines[0].item.sku.as_ref().unwrap().as_str(), "AC-100");
    assert_eq!(a.lines[0].available.value, d("480")); // QTY*33, not the 520 on hand
    assert_eq!(a.lines[0].on_order.as_ref().unwrap().value, d("1200"));
    assert_eq!(a.lines[1].available, Quantity { value: d("0"), unit: UnitCode("CS".into()) });
    // No QTY*33: on hand stands in.
    assert_eq!(a.lines[2].available, Quantity { value: d("36"), unit: UnitCode("DZN".into()) });
    let ack = x12::read_997(p.replies[0].body.as_bytes()).unwrap();
    assert_eq!((ack.group_code.as_str(), ack.group_control.as_str()), ("IB", "701"));
}

#[test]
fn inventory_advice_005010() {
    let p = read(INVENTORY_005010.as_bytes());
    let a = advice(&p);
    assert_eq!(a.advice_number.as_str(), "ADV-702");
    assert_eq!(a.advised_by.as_str(), "123456789"); // GS02
    assert_eq!(a.location, None);
    assert_eq!(a.lines[0].item.gtin.as_ref().unwrap().0, "10614141000415");
    assert_eq!(a.lines[0].available, Quantity { value: d("12.5"), unit: UnitCode("KGM".into()) });
    assert!(p.replies[0].body.contains("*T*>~"), "a test interchange is answered as a test");
}

#[test]
fn inventory_advice_without_quantity_is_rejected() {
    let bytes = INVENTORY_004010.replace("QTY*17*36*DZ~\n", "").replace("SE*16*", "SE*15*");
    let p = rejected(bytes.as_bytes());
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].location, at(15, "LIN", None));
}

// ---------------------------------------------------------------------------------------------
// Robustness

fn all_samples() -> Vec<Vec<u8>> {
    let mut out = vec![INVENTORY_004010.as_bytes().to_vec(), INVENTORY_005010.as_bytes().to_vec()];
    for dir in ["node-x12", "edi-net", "x12-types"] {
        for entry in std::fs::read_dir(format!("{SAMPLES}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "edi") {
                out.push(std::fs::read(path).unwrap());
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = x12::parse(&bytes, &cx());
        let mut isa = b"ISA*".to_vec();
        isa.extend(&bytes);
        let _ = x12::parse(&isa, &cx());
        let _ = x12::acknowledge(&isa, &cx());
        let _ = x12::read_997(&isa);
    }

    #[test]
    fn mutated_samples_never_panic(
        which in 0usize..34,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let samples = all_samples();
        let mut bytes = samples[which % samples.len()].clone();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = parse(&bytes, &cx());
        let _ = x12::acknowledge(&bytes, &cx());
        let truncated = &bytes[..cut.index(bytes.len() + 1).min(bytes.len())];
        let _ = parse(truncated, &cx());
        let _ = x12::read_997(truncated);
    }

    #[test]
    fn written_acknowledgements_read_back(control in 0u32..2_000_000_000, count in 0u32..50) {
        let ack = FunctionalAck {
            group_code: "PO".into(),
            group_control: control.to_string(),
            version: None,
            sets: vec![],
            status: AckStatus::Accepted,
            included: count,
            received: count,
            accepted: count,
            errors: vec![],
        };
        let mut envelope = envelope_855();
        envelope.control_number = control;
        prop_assert_eq!(x12::read_997(x12::write_997(&ack, &envelope).as_bytes()).unwrap(), ack);
    }
}
