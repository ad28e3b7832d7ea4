//! The CSV mapping on real data: the first 20,000 lines of the UCI Online Retail export, mapped
//! with the example mappings in `examples/mappings/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::str::FromStr;
use std::sync::OnceLock;

use backroom_formats::csv::{CsvMapping, MappedEvent, map_csv};
use flate2::read::GzDecoder;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/demand/uci-online-retail-I/online_retail_I_2010-12-01_2011-12-09.csv.gz"
);
const SALES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mappings/uci-online-retail-sales.toml");
const RETURNS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mappings/uci-online-retail-returns.toml");

/// Lines of the file used (the header and 19,999 rows: 2010-12-01 to 2010-12-10).
const SLICE_LINES: usize = 20_000;

/// The first [`SLICE_LINES`] lines of the decompressed file, cut at a line boundary.
fn slice() -> &'static [u8] {
    static SLICE: OnceLock<Vec<u8>> = OnceLock::new();
    SLICE.get_or_init(|| {
        let file = File::open(DATA).unwrap_or_else(|e| panic!("{DATA}: {e}"));
        let mut reader = BufReader::new(GzDecoder::new(file));
        let mut out = Vec::new();
        for _ in 0..SLICE_LINES {
            if reader.read_until(b'\n', &mut out).unwrap() == 0 {
                break;
            }
        }
        assert!(out.ends_with(b"\n"));
        out
    })
}

fn mapping(path: &str) -> CsvMapping {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    CsvMapping::from_toml(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sales() -> &'static [MappedEvent] {
    static EVENTS: OnceLock<Vec<MappedEvent>> = OnceLock::new();
    EVENTS.get_or_init(|| map_csv(slice(), &mapping(SALES)).unwrap_or_else(|e| panic!("{e}")))
}

fn returns() -> &'static [MappedEvent] {
    static EVENTS: OnceLock<Vec<MappedEvent>> = OnceLock::new();
    EVENTS.get_or_init(|| map_csv(slice(), &mapping(RETURNS)).unwrap_or_else(|e| panic!("{e}")))
}

/// One row of the slice, read with the csv crate directly (not through the mapping).
struct UciRow {
    invoice: String,
    stock_code: String,
    quantity: Decimal,
    unit_price: Decimal,
}

fn uci_rows() -> Vec<UciRow> {
    let mut reader = csv::Reader::from_reader(slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            UciRow {
                invoice: r[0].to_owned(),
                stock_code: r[1].to_owned(),
                quantity: Decimal::from_str(&r[3]).unwrap(),
                unit_price: Decimal::from_str(&r[5]).unwrap(),
            }
        })
        .collect()
}

fn by_id(events: &[MappedEvent], id: &str) -> MappedEvent {
    events.iter().find(|e| e.event["id"] == id).unwrap_or_else(|| panic!("no event {id}")).clone()
}

fn amount(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("{v} is not a decimal string"))).unwrap()
}

fn events_json(events: &[MappedEvent]) -> Vec<Value> {
    events.iter().map(|e| e.event.clone()).collect()
}

#[test]
fn sales_make_one_event_per_invoice_of_the_slice() {
    // Counted independently: the sales rows are those that are not cancellations (C…), not bad
    // debt adjustments (A…), have a positive quantity and are not bank charges; every distinct
    // InvoiceNo among them is one sale.
    let rows = uci_rows();
    let is_sale = |r: &&UciRow| {
        !r.invoice.starts_with('C')
            && !r.invoice.starts_with('A')
            && r.quantity > Decimal::ZERO
            && r.stock_code != "BANK CHARGES"
    };
    let sale_rows: Vec<&UciRow> = rows.iter().filter(is_sale).collect();
    let invoices: BTreeSet<&str> = sale_rows.iter().map(|r| r.invoice.as_str()).collect();
    let non_c: BTreeSet<&str> =
        rows.iter().filter(|r| !r.invoice.starts_with('C')).map(|r| r.invoice.as_str()).collect();
    // In this slice the non-sales rows on ordinary invoices make whole invoices: 48 of stock
    // write-offs (quantity < 0, price 0) and 1 of bank charges, so 833 non-C invoices make 784
    // sales.
    assert_eq!((non_c.len(), invoices.len()), (833, 784));

    let events = sales();
    assert_eq!(events.len(), invoices.len());
    let ids: BTreeSet<&str> = events.iter().map(|e| e.event["id"].as_str().unwrap()).collect();
    assert_eq!(ids, invoices);
    let lines: usize = events.iter().map(|e| e.event["data"]["lines"].as_array().unwrap().len()).sum();
    assert_eq!(lines, sale_rows.len());
    for e in events {
        assert_eq!(e.event["type"], "pos.sale");
        assert_eq!(e.event["source"], "uci-online-retail");
        assert!(e.first_row >= 2 && e.first_row <= e.last_row && e.last_row <= SLICE_LINES, "{e:?}");
    }
    assert!(events.windows(2).all(|w| w[0].last_row < w[1].first_row));
}

#[test]
fn every_sales_and_returns_event_passes_model_validation() {
    for (name, events) in [("sales", sales()), ("returns", returns())] {
        let valid = backroom_model::validate_events(&events_json(events))
            .unwrap_or_else(|errors| panic!("{name}: {} problems, first: {:?}", errors.len(), errors.first()));
        assert_eq!(valid.len(), events.len(), "{name}");
    }
}

#[test]
fn first_invoice_536365_totals_139_12_gbp() {
    // Hand-computed from rows 2-8: 6 × 2.55 + 6 × 3.39 + 8 × 2.75 + 6 × 3.39 + 6 × 3.39 + 2 × 7.65
    // + 6 × 4.25 = 15.30 + 20.34 + 22.00 + 20.34 + 20.34 + 15.30 + 25.50 = 139.12.
    let e = by_id(sales(), "536365");
    assert_eq!((e.first_row, e.last_row), (2, 8));
    let data = &e.event["data"];
    assert_eq!(data["total"]["currency"], "GBP");
    assert_eq!(amount(&data["total"]["amount"]), Decimal::new(13912, 2));
    assert_eq!(data["transaction_id"], "536365");
    assert_eq!(data["customer"], "17850.0");
    assert_eq!(data["location"], "UK-WEB");
    let lines = data["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 7);
    assert_eq!(
        lines[0],
        json!({
            "line": 1,
            "item": {"sku": "85123A"},
            "quantity": {"value": "6", "unit": "EA"},
            "unit_price": {"amount": "2.55", "currency": "GBP"},
            "net_amount": {"amount": "15.3", "currency": "GBP"},
        })
    );
    assert_eq!(lines[6]["line"], 7);
    assert_eq!(lines[6]["item"]["sku"], "21730");

    // The same sale, typed by the model.
    let typed = backroom_model::validate_event(&e.event).unwrap();
    let backroom_model::EventPayload::SalesTransaction(sale) = typed.payload else { panic!("not a sale") };
    assert_eq!(sale.total, backroom_model::Money::new(Decimal::new(13912, 2), "GBP"));
}

#[test]
fn every_total_is_the_sum_of_its_lines() {
    for e in sales().iter().chain(returns()) {
        let data = &e.event["data"];
        let lines: Decimal = data["lines"].as_array().unwrap().iter().map(|l| amount(&l["net_amount"]["amount"])).sum();
        assert_eq!(amount(&data["total"]["amount"]), lines, "{}", e.event["id"]);
    }
}

#[test]
fn times_are_read_as_london_time_and_written_in_utc() {
    // December 2010 is GMT: the local time is the UTC time.
    let e = by_id(sales(), "536365");
    assert_eq!(e.event["occurred_at"], "2010-12-01T08:26:00Z");
    assert_eq!(e.event["data"]["business_day"], "2010-12-01");
    let last = sales().last().unwrap();
    assert_eq!(last.event["occurred_at"].as_str().unwrap().get(..10), last.event["data"]["business_day"].as_str());

    // July 2011 is BST (UTC+1): rows of invoice 558638 from line 245,905 of the same file.
    let july = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n\
        558638,84836,ZINC METAL HEART DECORATION,12,2011-07-01 08:16:00,1.25,16317.0,United Kingdom\n\
        558638,71459,HANGING JAM JAR T-LIGHT HOLDER,24,2011-07-01 08:16:00,0.85,16317.0,United Kingdom\n";
    let events = map_csv(july.as_bytes(), &mapping(SALES)).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event["occurred_at"], "2011-07-01T07:16:00Z");
    assert_eq!(events[0].event["data"]["business_day"], "2011-07-01");
    assert_eq!(events[0].event["data"]["total"]["amount"], "35.4");
}

#[test]
fn cancellations_become_returns_with_positive_quantities() {
    let rows = uci_rows();
    let return_rows: Vec<&UciRow> =
        rows.iter().filter(|r| r.invoice.starts_with('C') && r.stock_code != "BANK CHARGES").collect();
    let invoices: BTreeSet<&str> = return_rows.iter().map(|r| r.invoice.as_str()).collect();
    let events = returns();
    assert_eq!(events.len(), invoices.len());
    assert_eq!(events.iter().map(|e| e.event["id"].as_str().unwrap()).collect::<BTreeSet<_>>(), invoices);
    for e in events {
        assert_eq!(e.event["type"], "pos.return");
        for l in e.event["data"]["lines"].as_array().unwrap() {
            assert!(amount(&l["quantity"]["value"]) > Decimal::ZERO, "{l}");
            assert!(amount(&l["net_amount"]["amount"]) >= Decimal::ZERO, "{l}");
        }
    }

    // C536391, rows 237-243: 12 × 1.65 + 3 × (24 × 0.29) + 12 × 3.45 + 12 × 1.65 + 24 × 1.65
    // = 19.80 + 20.88 + 41.40 + 19.80 + 39.60 = 141.48.
    let e = by_id(events, "C536391");
    assert_eq!((e.first_row, e.last_row), (237, 243));
    assert_eq!(e.event["data"]["total"], json!({"amount": "141.48", "currency": "GBP"}));
    let first = &e.event["data"]["lines"][0];
    assert_eq!(first["item"]["sku"], "22556");
    assert_eq!(first["quantity"]["value"], "12");
    assert_eq!(first["unit_price"]["amount"], "1.65");
    assert_eq!(first["net_amount"]["amount"], "19.8");

    // Cross-check every return total against the rows read directly.
    let mut expected: BTreeMap<&str, Decimal> = BTreeMap::new();
    for r in &return_rows {
        *expected.entry(&r.invoice).or_default() += (r.quantity * r.unit_price).abs();
    }
    for e in events {
        let id = e.event["id"].as_str().unwrap();
        assert_eq!(amount(&e.event["data"]["total"]["amount"]), expected[id], "{id}");
    }
}

/// The first `n` lines of the slice, with `edit` applied to the text.
fn edited_head(n: usize, edit: impl Fn(String) -> String) -> String {
    let text = std::str::from_utf8(slice()).unwrap();
    let head: String = text.split_inclusive('\n').take(n).collect();
    let edited = edit(head.clone());
    assert_ne!(edited, head, "the edit changed nothing");
    edited
}

#[test]
fn a_column_missing_from_the_header_is_reported_at_row_1() {
    let csv = edited_head(10, |t| t.replacen("InvoiceDate", "Invoice Date", 1));
    let e = map_csv(csv.as_bytes(), &mapping(SALES)).unwrap_err();
    assert_eq!(e.row, 1, "{e}");
    assert_eq!(e.column.as_deref(), Some("InvoiceDate"), "{e}");
    assert!(e.message.contains("\"Invoice Date\""), "the message lists the header: {e}");
    assert!(e.to_string().starts_with("row 1, column \"InvoiceDate\": "), "{e}");
}

#[test]
fn a_bad_date_is_reported_with_its_row_column_and_expected_format() {
    // Row 9 is the first row of invoice 536366.
    let csv = edited_head(12, |t| t.replacen("2010-12-01 08:28:00", "12/1/2010 8:28", 1));
    let e = map_csv(csv.as_bytes(), &mapping(SALES)).unwrap_err();
    assert_eq!((e.row, e.column.as_deref()), (9, Some("InvoiceDate")), "{e}");
    assert!(e.message.contains("\"12/1/2010 8:28\""), "{e}");
    assert!(e.message.contains("\"%Y-%m-%d %H:%M:%S\""), "{e}");
    assert!(e.message.contains("\"2010-12-01 08:26:00\""), "an example of what is accepted: {e}");
}

#[test]
fn a_bad_decimal_is_reported_with_its_row_column_and_what_is_accepted() {
    let csv = edited_head(10, |t| {
        t.replacen(
            "WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39",
            "WHITE METAL LANTERN,6,2010-12-01 08:26:00,\"3,39\"",
            1,
        )
    });
    let e = map_csv(csv.as_bytes(), &mapping(SALES)).unwrap_err();
    assert_eq!((e.row, e.column.as_deref()), (3, Some("UnitPrice")), "{e}");
    assert!(e.message.contains("\"3,39\""), "{e}");
    assert!(e.message.contains("such as -12.5 or 3"), "{e}");
    assert!(e.message.contains("no thousands separators"), "{e}");

    let csv = edited_head(10, |t| {
        t.replacen("CREAM CUPID HEARTS COAT HANGER,8,", "CREAM CUPID HEARTS COAT HANGER,eight,", 1)
    });
    let e = map_csv(csv.as_bytes(), &mapping(SALES)).unwrap_err();
    assert_eq!((e.row, e.column.as_deref()), (4, Some("Quantity")), "{e}");
}

#[test]
fn an_unknown_event_type_in_the_mapping_is_refused_with_its_line() {
    let text = std::fs::read_to_string(SALES).unwrap().replacen("type = \"pos.sale\"", "type = \"pos.sales\"", 1);
    let line = text.lines().position(|l| l.starts_with("type = ")).unwrap() + 1;
    let e = CsvMapping::from_toml(&text).unwrap_err();
    assert_eq!((e.line, e.column), (line, 8), "{e}");
    assert!(e.message.contains("unknown event type \"pos.sales\""), "{e}");
    assert!(e.message.contains("pos.sale, pos.return, inventory.counted"), "lists the known types: {e}");
}

#[test]
fn an_unknown_key_in_the_mapping_is_refused_with_its_line() {
    let text = std::fs::read_to_string(SALES).unwrap().replacen("group_by = ", "group = ", 1);
    let line = text.lines().position(|l| l.starts_with("group = ")).unwrap() + 1;
    let e = CsvMapping::from_toml(&text).unwrap_err();
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("unknown field `group`"), "{e}");
    assert!(e.message.contains("`group_by`"), "names what is accepted: {e}");

    let text = std::fs::read_to_string(SALES).unwrap().replacen("number = \"line\"", "numbering = \"line\"", 1);
    let line = text.lines().position(|l| l.starts_with("numbering = ")).unwrap() + 1;
    let e = CsvMapping::from_toml(&text).unwrap_err();
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("unknown field `numbering`"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = map_csv(&bytes, &mapping(SALES));
        let _ = map_csv(&bytes, &mapping(RETURNS));
    }

    #[test]
    fn random_csv_like_text_never_panics(
        body in proptest::collection::vec(
            concat!(
                "[0-9C]{0,3},[A-Z0-9 ]{0,4},[a-z,\"]{0,3},-?[0-9.]{0,3},",
                "(2010-12-0[0-9] [0-2][0-9]:[0-6][0-9]:00|[0-9/: ]{0,8}),[0-9.,-]{0,4},[0-9.]{0,3},[A-Z]{0,2}",
            ),
            0..12,
        )
    ) {
        let text = format!(
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n{}",
            body.join("\n")
        );
        for m in [mapping(SALES), mapping(RETURNS)] {
            if let Ok(events) = map_csv(text.as_bytes(), &m) {
                for e in events {
                    prop_assert!(e.first_row >= 2 && e.first_row <= e.last_row);
                }
            }
        }
    }

    #[test]
    fn random_mapping_text_never_panics(text in "[a-z_ =\"{}\\[\\].,%0-9\n]{0,200}") {
        let _ = CsvMapping::from_toml(&text);
    }
}

#[test]
#[ignore = "maps all 541,909 rows; run with --release -- --ignored"]
fn the_whole_file_maps_and_validates() {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut GzDecoder::new(File::open(DATA).unwrap()), &mut bytes).unwrap();
    for (path, expected) in [(SALES, 20_714), (RETURNS, 3_811)] {
        let events = map_csv(&bytes, &mapping(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(events.len(), expected, "{path}");
        let valid = backroom_model::validate_events(&events_json(&events))
            .unwrap_or_else(|errors| panic!("{path}: {} problems, first: {:?}", errors.len(), errors.first()));
        assert_eq!(valid.len(), expected);
    }
}
