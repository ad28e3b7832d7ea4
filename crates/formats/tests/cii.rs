//! CII and Factur-X / ZUGFeRD: every sample invoice read or rejected for its reason, every
//! Factur-X PDF against its CII twin, every UBL/CII twin against each other (the same invoice in
//! either syntax gives the same canonical invoice, or the table says why not), hand-made PDFs
//! (CII and UBL inside), damaged PDFs and arbitrary bytes.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use backroom_formats::{Context, Format, FormatError, Location, Parsed, Problem, facturx, parse, to_code};
use backroom_model::{EventPayload, InvoiceKind, SupplierInvoice};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

const CORPUS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/invoices-pdf/zugferd-corpus/XML-Rechnung");
const CEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/ubl/cen-en16931/cii");
const CEN_UBL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/ubl/cen-en16931/ubl");

fn cx() -> Context {
    Context::new(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap())
}

/// A sample, gunzipped when its name ends in `.gz`.
fn read(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        bytes
    }
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap()
}

fn invoice(parsed: &Parsed) -> &SupplierInvoice {
    assert_eq!(parsed.events.len(), 1);
    match &parsed.events[0].payload {
        EventPayload::SupplierInvoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// What a sample must give.
enum Expect {
    /// An invoice, as the XML says: number (BT-1), supplier (the seller's BT-29, else BT-31, BT-30),
    /// issue day, line count, total with VAT (BT-112), VAT total (BT-110), PO (BT-13), due day
    /// (BT-9). Number and supplier are compared as codes ([`to_code`]).
    Invoice(
        &'static str,
        &'static str,
        &'static str,
        usize,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    ),
    /// Read, then refused by the canonical model's rule that payment is not due before the
    /// invoice is issued: due day, issue day (both so in the sample).
    DueBeforeIssue(&'static str, &'static str),
}
use Expect::{DueBeforeIssue, Invoice};

/// Lines that name their item only in words (services, rent, insurance, travel, energy) take
/// the item name as SKU, so those invoices are read like the others.
const SAMPLES: &[(&str, Expect)] = &[
    (
        "EN16931_1_Teilrechnung.cii.xml",
        Invoice("471102", "4000001123452", "2018-06-05", 4, "197.65", "20.16", Some("2018-471331"), None),
    ),
    (
        "EN16931_2_Teilrechnung.cii.xml",
        Invoice("471113", "4000001123452", "2018-06-13", 1, "23.54", "1.54", Some("2018-471331"), None),
    ),
    (
        "EN16931_AbweichenderZahlungsempf.cii.xml",
        Invoice("471102", "4000001123452", "2018-03-05", 2, "529.87", "56.87", None, None),
    ),
    (
        "EN16931_Betriebskostenabrechnung.cii.xml",
        Invoice("471102", "DE136695976", "2018-03-05", 1, "18310.63", "2923.55", None, Some("2018-04-04")),
    ),
    ("EN16931_Einfach.cii.xml", Invoice("471102", "4000001123452", "2018-03-05", 2, "529.87", "56.87", None, None)),
    (
        "EN16931_Einfach_DueDate.cii.xml",
        Invoice("471102", "4000001123452", "2018-03-05", 2, "529.87", "56.87", None, Some("2019-03-05")),
    ),
    (
        "EN16931_Einfach_negativePaymentDue.cii.xml",
        Invoice("471102", "4000001123452", "2018-03-05", 2, "529.87", "56.87", None, None),
    ),
    // Seller ram:ID 549910 (no GlobalID); type code 204.
    ("EN16931_Elektron.cii.xml", Invoice("181301674", "549910", "2018-04-25", 2, "300", "47.9", None, None)),
    // Seller GlobalID 4333741000005 before its ram:ID 549910; type code 387 (hire invoice).
    (
        "EN16931_ElektronischeAdresse.cii.xml",
        Invoice("9314110911/00/M/00/N", "4333741000005", "2018-10-01", 6, "340.96", "54.44", Some("B123456789"), None),
    ),
    ("EN16931_Gutschrift.cii.xml", Invoice("471102", "4000001123452", "2018-03-05", 2, "529.87", "56.87", None, None)),
    // Type code 575 (insurer's invoice); insurance tax is not VAT: VAT total 0.00.
    (
        "EN16931_Haftpflichtversicherung_Versicherungssteuer.cii.xml",
        Invoice("01.234.567.8-2018-1", "549910", "2018-12-06", 2, "50.00", "0.00", None, None),
    ),
    (
        "EN16931_Innergemeinschaftliche_Lieferungen.cii.xml",
        Invoice("47110818", "12345676", "2018-10-31", 2, "2000.00", "0.00", None, Some("2018-11-30")),
    ),
    (
        "EN16931_Kraftfahrversicherung_Bruttopreise.cii.xml",
        Invoice("00.123.456.7-2018-1", "549910", "2018-03-11", 2, "220.00", "0.00", None, None),
    ),
    (
        "EN16931_Miete.cii.xml",
        Invoice("9314110911/00/M/00/N", "4333741000005", "2018-10-01", 6, "340.96", "54.44", Some("B123456789"), None),
    ),
    (
        "EN16931_OEPNV.cii.xml",
        Invoice("E2018092011804", "549910", "2018-09-20", 1, "9.00", "0.59", Some("2018092011804"), Some("2018-10-03")),
    ),
    // No seller identifier but the VAT number; empty ram:SellerAssignedID on both lines.
    (
        "EN16931_Physiotherapeut.cii.xml",
        Invoice("R18-31", "DE136695976", "2018-10-03", 2, "380.00", "0", None, Some("2018-11-21")),
    ),
    (
        "EN16931_Rabatte.cii.xml",
        Invoice("471102", "4000001123452", "2018-06-05", 4, "215.07", "21.30", Some("2013-471331"), None),
    ),
    (
        "EN16931_RechnungsUebertragung.cii.xml",
        Invoice("9314110911/00/M/00/N", "4333741000005", "2018-10-01", 6, "340.96", "54.44", Some("B123456789"), None),
    ),
    (
        "EN16931_Rechnungskorrektur.cii.xml",
        Invoice("RK21012345", "4333741000005", "2018-09-16", 2, "-8.79", "-1.12", Some("B123456789"), None),
    ),
    (
        "EN16931_Reisekostenabrechnung.cii.xml",
        Invoice("280081", "4000001123452", "2018-07-13", 4, "230.48", "16.39", None, None),
    ),
    (
        "EN16931_SEPA_Prenotification.cii.xml",
        Invoice("471102", "4000001123452", "2018-03-05", 2, "529.87", "56.87", None, None),
    ),
    (
        "EN16931_Sachversicherung_berechneter_Steuersatz.cii.xml",
        Invoice("00.123.456.7-2018-1", "1234567890128", "2018-04-18", 1, "1163.40", "0.00", None, None),
    ),
    (
        "XRECHNUNG_Betriebskostenabrechnung.cii.xml.gz",
        Invoice("471102", "4000001123452", "2024-11-15", 1, "18310.63", "2923.55", None, Some("2024-12-15")),
    ),
    ("XRECHNUNG_Einfach.cii.xml", Invoice("471102", "4000001123452", "2024-11-15", 2, "529.87", "56.87", None, None)),
    // Type code 877 here; the seller is known by its GlobalID, unlike in EN16931_Elektron.
    (
        "XRECHNUNG_Elektron.cii.xml.gz",
        Invoice("181301674", "4000001123452", "2024-11-15", 2, "300", "47.9", None, None),
    ),
    (
        "XRECHNUNG_Reisekostenabrechnung.cii.xml.gz",
        Invoice("280081", "4000001123452", "2024-11-15", 4, "230.48", "16.39", None, None),
    ),
    // Its lines are consistent (10 × 10.00 = 100.00); the VAT total in EUR is 5.00 (4.60 is
    // the NOK VAT accounting total, BT-111).
    (
        "not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.cii.xml",
        Invoice(
            "Test_EeISI_100",
            "Seller identifier 1",
            "2018-11-12",
            2,
            "205.00",
            "5.00",
            Some("abc"),
            Some("2018-11-30"),
        ),
    ),
    // CEN/TC 434 examples.
    (
        "CII-BR-CO-10-RoundingIssue.xml",
        Invoice("0", "DE-123-456-789", "2021-03-26", 4, "0.00", "0.00", None, Some("2021-03-26")),
    ),
    (
        "CII_business_example_01.xml",
        Invoice("TOSL108", "1238764941386", "2013-06-30", 5, "1801.78", "365.28", Some("123"), Some("2013-07-20")),
    ),
    ("CII_business_example_02.xml", DueBeforeIssue("2013-05-10", "2013-08-25")),
    (
        "CII_business_example_Z.xml",
        Invoice("2016166", "DE37/302/30168", "2015-01-09", 3, "11693.87", "0.0", None, Some("2015-01-09")),
    ),
    (
        "CII_example1.xml",
        Invoice("12115118", "NL8200.98.395.B.01", "2015-01-09", 20, "250.33", "20.73", None, Some("2015-01-09")),
    ),
    (
        "CII_example2.xml",
        Invoice("TOSL108", "1238764941386", "2013-06-30", 5, "1801.78", "365.28", Some("123"), Some("2013-07-20")),
    ),
    // No seller identifier; VAT number and legal registration both DK16356706.
    ("CII_example3.xml", Invoice("TOSL108", "DK16356706", "2013-04-10", 1, "1125", "225", None, Some("2013-05-10"))),
    (
        "CII_example4.xml",
        Invoice("TOSL110", "5790000436101", "2013-04-10", 3, "4675", "675", Some("123"), Some("2013-05-10")),
    ),
    (
        "CII_example5.xml",
        Invoice("TOSL110", "5790000436101", "2013-04-10", 3, "4675", "675.00", Some("PO4711"), Some("2013-05-10")),
    ),
    (
        "CII_example6.xml",
        Invoice("TOSL110", "DK123456789MVA", "2013-04-10", 3, "4675", "675", None, Some("2013-05-10")),
    ),
    (
        "CII_example7.xml",
        Invoice("INVOICE_test_7", "5532331183", "2013-05-13", 2, "3200", "0", Some("Order_9988_x"), None),
    ),
    // VAT number NL809561074B01 before the legal registration 17131139.
    (
        "CII_example8.xml",
        Invoice("1100512149", "NL809561074B01", "2014-11-10", 10, "1099.78", "190.87", None, Some("2014-11-24")),
    ),
    (
        "CII_example9.xml",
        Invoice("20150483", "NL809163160B01", "2015-04-01", 1, "177.87", "30.87", None, Some("2015-04-15")),
    ),
    ("XRechnung-O.xml", DueBeforeIssue("2021-01-01", "2021-01-14")),
    (
        "huf_example_cii.xml",
        Invoice("21/001003559/996", "5201", "2021-10-05", 3, "87859.00", "18679.00", None, Some("2021-11-01")),
    ),
];

fn cii_samples() -> Vec<PathBuf> {
    let mut all = files(&format!("{CORPUS}/CII"));
    all.extend(files(CEN));
    all
}

#[test]
fn every_cii_sample_is_read_or_rejected_for_its_reason() {
    let samples = cii_samples();
    assert_eq!(samples.len(), SAMPLES.len(), "a sample without expectation, or one missing");
    for path in &samples {
        let file = name(path);
        let (_, expect) =
            SAMPLES.iter().find(|(n, _)| *n == file).unwrap_or_else(|| panic!("no expectation for {file}"));
        let bytes = read(path);
        let result = parse(&bytes, &cx());
        match expect {
            Invoice(number, supplier, issued, lines, total, tax, po, due) => {
                let parsed = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(parsed.format, Format::Cii, "{file}");
                let inv = invoice(&parsed);
                let (number, supplier) = (to_code(number).unwrap(), to_code(supplier).unwrap());
                let event = &parsed.events[0];
                assert_eq!(event.id, format!("invoice/{supplier}/{number}"), "{file}");
                assert_eq!(event.source, format!("supplier/{supplier}"), "{file}");
                assert_eq!(event.occurred_at.date_naive().to_string(), *issued, "{file}");
                assert_eq!(event.occurred_at.time(), chrono::NaiveTime::MIN, "{file}");
                assert_eq!(inv.invoice_number.0, number, "{file}");
                assert_eq!(inv.supplier.0, supplier, "{file}");
                assert_eq!(inv.issued_on.to_string(), *issued, "{file}");
                assert_eq!(inv.lines.len(), *lines, "{file}");
                assert_eq!(inv.total.amount, dec(total), "{file}");
                assert_eq!(inv.tax_total.amount, dec(tax), "{file}");
                assert_eq!(inv.po_number.as_ref().map(|p| p.0.as_str()), *po, "{file}");
                assert_eq!(inv.due_on.map(|d| d.to_string()).as_deref(), *due, "{file}");
                assert_eq!(inv.kind, InvoiceKind::Invoice, "{file}");
                let text = String::from_utf8_lossy(&bytes);
                let currency = text.split("InvoiceCurrencyCode>").nth(1).and_then(|t| t.get(..3));
                assert_eq!(Some(inv.currency.0.as_str()), currency, "{file}");
                assert!(inv.lines.iter().all(|l| l.net_amount.currency == inv.currency), "{file}");
                assert!(inv.lines.iter().all(|l| l.item.gtin.is_some() || l.item.sku.is_some()), "{file}");
            }
            DueBeforeIssue(due, issued) => {
                let err = result.err().unwrap_or_else(|| panic!("{file} was accepted"));
                assert_eq!(err.format, Some(Format::Cii), "{file}");
                assert_eq!(err.problems.len(), 1, "{file}: {err}");
                let p = &err.problems[0];
                assert!(p.message.contains("due_on"), "{file}: {p}");
                assert!(p.message.contains(&format!("due day {due} is before the issue day {issued}")), "{file}: {p}");
            }
        }
    }
}

#[test]
fn service_lines_take_the_item_name_as_sku() {
    // Car hire: six lines, each with only a ram:Name.
    let parsed = parse(&read(&Path::new(CORPUS).join("CII/EN16931_Miete.cii.xml")), &cx()).unwrap();
    let skus: Vec<_> =
        invoice(&parsed).lines.iter().map(|l| (l.item.gtin.clone(), l.item.sku.clone().unwrap().0)).collect();
    let expected = [
        "Miettage",
        "Navigationssystem---Garantie",
        "Vollkasko",
        "minimale-Selbstbeteiligung",
        "Personen-Unfallversicherung",
        "Choice-Upgrade",
    ];
    assert_eq!(skus, expected.map(|s| (None, s.to_owned())));
    // Physiotherapy: an empty ram:SellerAssignedID is no identifier; the name stands in.
    let parsed = parse(&read(&Path::new(CORPUS).join("CII/EN16931_Physiotherapeut.cii.xml")), &cx()).unwrap();
    let inv = invoice(&parsed);
    let skus: Vec<_> = inv.lines.iter().map(|l| l.item.sku.as_ref().unwrap().0.as_str()).collect();
    assert_eq!(skus, ["Physiotherapie", "Hausbesuch"]);
    // A line with an identifier keeps it: the buyer's before the seller's and the GTIN.
    let parsed = parse(
        &read(&Path::new(CORPUS).join("CII/not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.cii.xml")),
        &cx(),
    )
    .unwrap();
    let skus: Vec<_> = invoice(&parsed).lines.iter().map(|l| l.item.sku.as_ref().unwrap().0.as_str()).collect();
    assert_eq!(skus, ["Item-buyer-s-identifier", "Item-name-2"]);
}

#[test]
fn einfach_lines_carry_items_quantities_prices_and_rates() {
    let parsed = parse(&read(&Path::new(CORPUS).join("CII/EN16931_Einfach.cii.xml")), &cx()).unwrap();
    let inv = invoice(&parsed);
    assert_eq!(inv.currency.0, "EUR");
    let l = &inv.lines[0];
    assert_eq!(l.line, 1);
    assert_eq!(l.item.gtin.as_ref().map(|g| g.0.as_str()), Some("4012345001235"));
    assert_eq!(l.item.sku.as_ref().map(|s| s.0.as_str()), Some("TB100A4"));
    assert_eq!((l.quantity.value, l.quantity.unit.0.as_str()), (dec("20"), "H87"));
    assert_eq!(l.unit_price.amount, dec("9.9"));
    assert_eq!(l.net_amount.amount, dec("198.00"));
    assert_eq!(l.tax_rate_percent, Some(dec("19.00")));
    let l = &inv.lines[1];
    assert_eq!(l.item.gtin.as_ref().map(|g| g.0.as_str()), Some("4000050986428"));
    assert_eq!((l.quantity.value, l.unit_price.amount, l.net_amount.amount), (dec("50"), dec("5.5"), dec("275.00")));
    assert_eq!(l.tax_rate_percent, Some(dec("7.00")));
}

#[test]
fn price_base_quantity_and_order_lines() {
    // CII_example1: 20 lines, several with a price base quantity.
    let parsed = parse(&read(&Path::new(CEN).join("CII_example1.xml")), &cx()).unwrap();
    let inv = invoice(&parsed);
    for l in &inv.lines {
        assert_eq!(l.unit_price.currency.0, "EUR");
        assert!(l.unit_price.amount.scale() <= 6);
    }
    // The rounding-issue example repeats line ids 1, 1, 2, 2: lines are numbered by position.
    let parsed = parse(&read(&Path::new(CEN).join("CII-BR-CO-10-RoundingIssue.xml")), &cx()).unwrap();
    assert_eq!(invoice(&parsed).lines.iter().map(|l| l.line).collect::<Vec<_>>(), [1, 2, 3, 4]);
}

#[test]
fn the_context_source_overrides_the_supplier() {
    let mut cx = cx();
    cx.source = Some("edi-gateway".into());
    let parsed = parse(&read(&Path::new(CORPUS).join("CII/EN16931_Einfach.cii.xml")), &cx).unwrap();
    assert_eq!(parsed.events[0].source, "edi-gateway");
    assert_eq!(parsed.events[0].id, "invoice/4000001123452/471102");
}

/// The CII twin of a Factur-X PDF.
fn twin(pdf: &Path) -> PathBuf {
    let stem = pdf.file_stem().and_then(|s| s.to_str()).unwrap();
    let plain = Path::new(CORPUS).join(format!("CII/{stem}.cii.xml"));
    if plain.exists() { plain } else { Path::new(CORPUS).join(format!("CII/{stem}.cii.xml.gz")) }
}

/// The problems of a PDF without the `in the embedded <file>: ` that names the embedded file.
fn strip_embedded(mut e: FormatError) -> Vec<Problem> {
    for p in &mut e.problems {
        if let Some(rest) = p.message.strip_prefix("in the embedded ")
            && let Some((file, rest)) = rest.split_once(": ")
        {
            assert!(facturx::attachment::INVOICE_FILE_NAMES.contains(&file.to_lowercase().as_str()), "{file}");
            p.message = rest.to_owned();
        }
    }
    e.problems
}

/// The issue days of the xrechnung.xml inside the corpus' XRECHNUNG PDFs (XRechnung 2.1 CII,
/// `rsm:ExchangedDocument/ram:IssueDateTime`).
const XRECHNUNG_PDF_ISSUED: [(&str, &str); 4] = [
    ("XRECHNUNG_Betriebskostenabrechnung.pdf", "2018-03-05"),
    ("XRECHNUNG_Einfach.pdf", "2018-03-05"),
    ("XRECHNUNG_Elektron.pdf", "2018-04-25"),
    ("XRECHNUNG_Reisekostenabrechnung.pdf", "2018-07-13"),
];

#[test]
fn every_facturx_pdf_gives_the_events_of_its_cii_twin() {
    let pdfs = files(&format!("{CORPUS}/FX"));
    assert_eq!(pdfs.len(), 26);
    for pdf in &pdfs {
        let file = name(pdf);
        let from_pdf = parse(&read(pdf), &cx());
        let from_xml = parse(&read(&twin(pdf)), &cx());
        if let Some((_, issued)) = XRECHNUNG_PDF_ISSUED.iter().find(|(f, _)| *f == file) {
            // The corpus' XRECHNUNG CII files were regenerated later (ZUGFeRD 2.3, XRechnung 3.0,
            // issued 2024-11-15) than the xrechnung.xml inside the PDFs (XRechnung 2.1, issued
            // in 2018): same invoice, other dates.
            let (p, x) = (from_pdf.unwrap_or_else(|e| panic!("{file}: {e}")), from_xml.unwrap());
            assert_eq!(p.format, Format::FacturX);
            let (p, x) = (invoice(&p), invoice(&x));
            assert_eq!(
                (&p.invoice_number, &p.supplier, p.lines.len()),
                (&x.invoice_number, &x.supplier, x.lines.len()),
                "{file}"
            );
            assert_eq!((&p.total, &p.tax_total), (&x.total, &x.tax_total), "{file}");
            assert_eq!(p.issued_on.to_string(), *issued, "{file}");
            assert_eq!(x.issued_on.to_string(), "2024-11-15", "{file}");
            continue;
        }
        assert!(!file.starts_with("XRECHNUNG_"), "{file}: issue day of its xrechnung.xml not listed");
        match (from_pdf, from_xml) {
            (Ok(p), Ok(x)) => {
                assert_eq!(p.format, Format::FacturX);
                assert_eq!(p.events, x.events, "{file}");
            }
            (Err(p), Err(x)) => {
                assert_eq!(p.format, Some(Format::FacturX));
                assert_eq!(strip_embedded(p), x.problems, "{file}");
            }
            (p, x) => panic!("{file}: PDF {p:?} but CII {x:?}"),
        }
    }
}

#[test]
fn the_embedded_invoice_is_the_cii_file() {
    let pdf = read(&Path::new(CORPUS).join("FX/EN16931_Einfach.pdf"));
    let embedded = facturx::attachment::embedded_invoice(&pdf).unwrap();
    assert_eq!(embedded.name, "factur-x.xml");
    let xml = read(&Path::new(CORPUS).join("CII/EN16931_Einfach.cii.xml"));
    let normalise = |b: &[u8]| String::from_utf8_lossy(b).replace('\r', "");
    assert_eq!(normalise(&embedded.content), normalise(&xml));
    let pdf = read(&Path::new(CORPUS).join("FX/XRECHNUNG_Einfach.pdf"));
    assert_eq!(facturx::attachment::embedded_invoice(&pdf).unwrap().name, "xrechnung.xml");
}

// ---------------------------------------------------------------- hand-made documents

const EINFACH_MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>PROFILE</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>INV-1</ram:ID>
    <ram:TypeCode>TYPE</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">ISSUED</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>LINES
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Seller</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-7</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery>
      <ram:DespatchAdviceReferencedDocument><ram:IssuerAssignedID>DES-3</ram:IssuerAssignedID></ram:DespatchAdviceReferencedDocument>
      <ram:ReceivingAdviceReferencedDocument><ram:IssuerAssignedID>REC-4</ram:IssuerAssignedID></ram:ReceivingAdviceReferencedDocument>
    </ram:ApplicableHeaderTradeDelivery>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:InvoiceReferencedDocument><ram:IssuerAssignedID>INV-0</ram:IssuerAssignedID></ram:InvoiceReferencedDocument>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>30.00</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>30.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="CHF">5.55</ram:TaxTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">5.70</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>GRAND</ram:GrandTotalAmount>
        <ram:DuePayableAmount>35.70</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"#;

const LINE: &str = r#"
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:BuyerAssignedID>SKU-9</ram:BuyerAssignedID><ram:Name>Tea</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:BuyerOrderReferencedDocument><ram:LineID>20</ram:LineID></ram:BuyerOrderReferencedDocument>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount><ram:BasisQuantity unitCode="C62">3</ram:BasisQuantity></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">QTY</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>30.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>"#;

fn hand_made(profile: &str, type_code: &str, issued: &str, grand: &str, quantity: &str, lines: bool) -> String {
    EINFACH_MINIMAL
        .replace("PROFILE", profile)
        .replace("TYPE", type_code)
        .replace("ISSUED", issued)
        .replace("GRAND", grand)
        .replace("LINES", if lines { LINE } else { "" })
        .replace("QTY", quantity)
}

fn good(type_code: &str) -> String {
    hand_made("urn:cen.eu:en16931:2017", type_code, "20240131", "35.70", "9", true)
}

#[test]
fn a_hand_made_invoice_maps_every_reference() {
    let parsed = parse(good("380").as_bytes(), &cx()).unwrap();
    let inv = invoice(&parsed);
    assert_eq!(parsed.events[0].id, "invoice/DE123456789/INV-1");
    assert_eq!(inv.po_number.as_ref().unwrap().0, "PO-7");
    assert_eq!(inv.despatch_advice.as_ref().unwrap().0, "DES-3");
    assert_eq!(inv.receipt_number.as_ref().unwrap().0, "REC-4");
    assert_eq!(inv.credited_invoice, None);
    assert_eq!(inv.tax_total.amount, dec("5.70"), "the VAT total in the invoice currency");
    assert_eq!(inv.total.amount, dec("35.70"));
    let l = &inv.lines[0];
    assert_eq!((l.po_line, l.item.sku.as_ref().unwrap().0.as_str()), (Some(20), "SKU-9"));
    assert_eq!(l.unit_price.amount, dec("3.333333"), "10.00 per 3, to 6 places");
    // A credit note refers to the invoice it corrects.
    let parsed = parse(good("381").as_bytes(), &cx()).unwrap();
    assert_eq!(parsed.events[0].id, "credit-note/DE123456789/INV-1");
    let inv = invoice(&parsed);
    assert_eq!(inv.kind, InvoiceKind::CreditNote);
    assert_eq!(inv.credited_invoice.as_ref().unwrap().0, "INV-0");
}

#[test]
fn a_line_is_known_by_its_item_name_when_it_has_no_identifier_and_refused_without_either() {
    let product = concat!(
        "<ram:SpecifiedTradeProduct><ram:BuyerAssignedID>SKU-9</ram:BuyerAssignedID>",
        "<ram:Name>Tea</ram:Name></ram:SpecifiedTradeProduct>"
    );
    assert!(LINE.contains(product));
    let named = good("380").replace(
        product,
        "<ram:SpecifiedTradeProduct><ram:Name>Earl Grey, loose</ram:Name></ram:SpecifiedTradeProduct>",
    );
    let parsed = parse(named.as_bytes(), &cx()).unwrap();
    let item = &invoice(&parsed).lines[0].item;
    assert_eq!((item.gtin.as_ref(), item.sku.as_ref().map(|s| s.0.as_str())), (None, Some("Earl-Grey-loose")));
    // A standard identifier that is no GTIN is the SKU before the name.
    let other_scheme = good("380").replace(
        product,
        concat!(
            r#"<ram:SpecifiedTradeProduct><ram:GlobalID schemeID="0088">ABC-1</ram:GlobalID>"#,
            "<ram:Name>Tea</ram:Name></ram:SpecifiedTradeProduct>"
        ),
    );
    let parsed = parse(other_scheme.as_bytes(), &cx()).unwrap();
    assert_eq!(invoice(&parsed).lines[0].item.sku.as_ref().unwrap().0, "ABC-1");
    // Neither identifier nor name (BR-25), or a name without letters or digits: refused at the product.
    for (replacement, rule, says) in [
        ("<ram:SpecifiedTradeProduct/>", Some("BR-25"), "no item name"),
        (
            "<ram:SpecifiedTradeProduct><ram:Name>--</ram:Name></ram:SpecifiedTradeProduct>",
            None,
            "\"--\" has no letters or digits",
        ),
    ] {
        let doc = good("380").replace(product, replacement);
        let problems = text_problems(doc.as_bytes());
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let (_, path, found_rule, message) = &problems[0];
        assert!(path.ends_with("ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedTradeProduct"), "{path}");
        assert_eq!(found_rule.as_deref(), rule, "{message}");
        assert!(message.contains("line \"1\" has no item identifier") && message.contains(says), "{message}");
    }
}

fn text_problems(bytes: &[u8]) -> Vec<(usize, String, Option<String>, String)> {
    let err = parse(bytes, &cx()).unwrap_err();
    err.problems
        .into_iter()
        .map(|p| match p.location {
            Location::Text { line, path, .. } => (line, path, p.rule, p.message),
            other => panic!("{other:?}: {}", p.message),
        })
        .collect()
}

#[test]
fn every_problem_is_reported_with_line_path_and_rule() {
    let doc = hand_made("urn:cen.eu:en16931:2017", "380", "2024-01-31", "35,70", "nine", true);
    let problems = text_problems(doc.as_bytes());
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let (line, path, rule, message) = &problems[0];
    assert_eq!(*line, 11);
    assert!(path.ends_with("ram:IssueDateTime/udt:DateTimeString"), "{path}");
    assert_eq!(*rule, None);
    assert!(message.contains("BT-2") && message.contains("YYYYMMDD"), "{message}");
    assert!(problems[1].1.ends_with("ram:GrandTotalAmount") && problems[1].3.contains("35,70"), "{problems:#?}");
    assert!(problems[2].1.ends_with("ram:BilledQuantity") && problems[2].3.contains("BT-129"), "{problems:#?}");

    let doc = good("380").replace("<ram:ID>INV-1</ram:ID>", "").replace(r#"format="102""#, r#"format="610""#);
    let problems = text_problems(doc.as_bytes());
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0].1, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument");
    assert_eq!(problems[0].2.as_deref(), Some("BR-2"));
    assert!(problems[1].3.contains("\"610\""), "{problems:#?}");

    let doc = good("380").replace("<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>", "");
    let problems = text_problems(doc.as_bytes());
    assert_eq!(problems[0].2.as_deref(), Some("BR-5"), "{problems:#?}");
}

#[test]
fn minimum_and_basic_wl_profiles_are_rejected_by_name() {
    for (profile, name) in [
        ("urn:factur-x.eu:1p0:minimum", "MINIMUM"),
        ("urn:factur-x.eu:1p0:basicwl", "BASIC WL"),
        ("urn:zugferd.de:2p0:minimum", "MINIMUM"),
    ] {
        let doc = hand_made(profile, "380", "20240131", "35.70", "9", false);
        let err = parse(doc.as_bytes(), &cx()).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        let p = &err.problems[0];
        assert_eq!(p.rule.as_deref(), Some("BR-16"));
        assert!(p.message.contains(name) && p.message.contains(profile), "{p}");
        assert!(p.message.contains("EN 16931") && p.message.contains("BASIC"), "{p}");
    }
    let doc = hand_made("urn:cen.eu:en16931:2017", "380", "20240131", "35.70", "9", false);
    let err = parse(doc.as_bytes(), &cx()).unwrap_err();
    assert!(err.problems[0].message.contains("at least one invoice line"), "{}", err.problems[0]);
}

#[test]
fn zugferd_1_is_recognised_and_rejected() {
    let doc = r#"<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>"#;
    let err = parse(doc.as_bytes(), &cx()).unwrap_err();
    assert_eq!(err.format, Some(Format::Cii));
    assert!(err.problems[0].message.contains("ZUGFeRD 1.0"), "{err}");
}

/// A PDF built by hand: its objects in order, with a correct cross-reference table.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).unwrap();
    for o in offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    write!(out, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).unwrap();
    out
}

fn page_objects(catalog_extra: &str) -> Vec<Vec<u8>> {
    vec![
        format!("<< /Type /Catalog /Pages 2 0 R {catalog_extra} >>").into_bytes(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
    ]
}

fn stream(dict: &str, content: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict} /Length {} >>\nstream\n", content.len()).into_bytes();
    out.extend_from_slice(content);
    out.extend_from_slice(b"\nendstream");
    out
}

#[test]
fn a_pdf_without_an_embedded_invoice_is_rejected() {
    let bytes = pdf(&page_objects(""));
    let err = parse(&bytes, &cx()).unwrap_err();
    assert_eq!(err.format, Some(Format::FacturX));
    assert_eq!(err.problems.len(), 1);
    let p = &err.problems[0];
    assert_eq!(p.location, Location::Document);
    assert!(p.message.contains("no embedded invoice") && p.message.contains("no embedded files"), "{p}");
    assert!(p.message.contains("factur-x.xml") && p.message.contains("visible pages are not read"), "{p}");

    // Another attachment is named in the message.
    let mut objects = page_objects("/Names << /EmbeddedFiles << /Names [(notes.txt) 4 0 R] >> >>");
    objects.push(b"<< /Type /Filespec /F (notes.txt) /UF (notes.txt) /EF << /F 5 0 R >> >>".to_vec());
    objects.push(stream("/Type /EmbeddedFile", b"hello"));
    let err = parse(&pdf(&objects), &cx()).unwrap_err();
    assert!(err.problems[0].message.contains("\"notes.txt\""), "{}", err.problems[0]);
}

#[test]
fn hand_made_pdfs_with_an_embedded_invoice_are_read() {
    let xml = good("380");
    let expected = parse(xml.as_bytes(), &cx()).unwrap().events;
    let mut compressed = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    compressed.write_all(xml.as_bytes()).unwrap();
    let compressed = compressed.finish().unwrap();
    let variants = [
        // Name tree with kids, plain stream, ZUGFeRD 2.0 name.
        (
            "/Names << /EmbeddedFiles 6 0 R >>",
            b"<< /Type /Filespec /F (ZUGFeRD-invoice.xml) /EF << /F 5 0 R >> >>".to_vec(),
            stream("/Type /EmbeddedFile /Subtype /text#2Fxml", xml.as_bytes()),
        ),
        // Only the PDF/A-3 associated files, Flate-compressed, UTF-16 name.
        (
            "/AF [4 0 R]",
            b"<< /Type /Filespec /F (x) /UF <FEFF006600610063007400750072002D0078002E0078006D006C> /EF << /UF 5 0 R >> >>"
                .to_vec(),
            stream("/Type /EmbeddedFile /Filter /FlateDecode", &compressed),
        ),
    ];
    for (i, (catalog, spec, file)) in variants.into_iter().enumerate() {
        let mut objects = page_objects(catalog);
        objects.push(spec);
        objects.push(file);
        objects.push(b"<< /Kids [7 0 R] >>".to_vec());
        objects.push(b"<< /Names [(ZUGFeRD-invoice.xml) 4 0 R] /Limits [(A) (z)] >>".to_vec());
        let bytes = pdf(&objects);
        let parsed = parse(&bytes, &cx()).unwrap_or_else(|e| panic!("variant {i}: {e}"));
        assert_eq!(parsed.format, Format::FacturX);
        assert_eq!(parsed.events, expected, "variant {i}");
    }
}

/// A PDF/A-3 with one embedded file, listed among the associated files.
fn pdf_with(file_name: &str, content: &[u8]) -> Vec<u8> {
    let mut objects = page_objects("/AF [4 0 R]");
    objects.push(format!("<< /Type /Filespec /F ({file_name}) /UF ({file_name}) /EF << /F 5 0 R >> >>").into_bytes());
    objects.push(stream("/Type /EmbeddedFile /Subtype /text#2Fxml", content));
    pdf(&objects)
}

#[test]
fn a_pdf_with_an_embedded_ubl_invoice_gives_the_events_of_the_ubl_file() {
    // An XRechnung UBL invoice in a ZUGFeRD PDF is read by the UBL reader.
    let ubl = read(&Path::new(CEN_UBL).join("ubl-tc434-example1.xml"));
    let expected = parse(&ubl, &cx()).unwrap();
    assert_eq!(expected.format, Format::Ubl);
    let parsed = parse(&pdf_with("xrechnung.xml", &ubl), &cx()).unwrap();
    assert_eq!(parsed.format, Format::FacturX);
    assert_eq!(parsed.events, expected.events);
    assert_eq!(parsed.events[0].id, "invoice/NL8200.98.395.B.01/12115118");
    // The UBL reader's rejections, its validation included, come out of the PDF unchanged but
    // for the embedded file's name.
    let ubl = read(&Path::new(CORPUS).join("UBL/EN16931_Einfach.ubl.xml"));
    let expected = parse(&ubl, &cx()).unwrap_err();
    let err = parse(&pdf_with("xrechnung.xml", &ubl), &cx()).unwrap_err();
    assert_eq!(err.format, Some(Format::FacturX));
    assert!(err.problems.iter().all(|p| p.message.starts_with("in the embedded xrechnung.xml: ")), "{err}");
    assert_eq!(strip_embedded(err), expected.problems);
    // Other UBL documents are not invoices.
    let order = r#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>"#;
    let err = parse(&pdf_with("factur-x.xml", order.as_bytes()), &cx()).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    let message = &err.problems[0].message;
    assert!(message.contains("factur-x.xml is a UBL Order") && message.contains("not an invoice"), "{message}");
    assert!(message.contains("rsm:CrossIndustryInvoice") && message.contains("UBL Invoice or CreditNote"), "{message}");
}

#[test]
fn truncated_and_garbled_pdfs_never_panic_and_never_give_another_invoice() {
    let original = read(&Path::new(CORPUS).join("FX/EN16931_Einfach.pdf"));
    let expected = parse(&original, &cx()).unwrap().events;
    let check = |bytes: &[u8], what: &str| -> bool {
        match parse(bytes, &cx()) {
            Ok(p) => {
                assert_eq!(p.events, expected, "{what} gave another invoice");
                false
            }
            Err(e) => {
                assert!(!e.problems.is_empty(), "{what}: rejected without a reason");
                true
            }
        }
    };
    let mut rejected = 0;
    for tenth in 1..10 {
        let cut = original.len() * tenth / 10;
        rejected += usize::from(check(&original[..cut], &format!("cut at {cut}")));
    }
    assert!(check(&original[..original.len() / 4], "cut to a quarter"));
    assert!(check(&original[..64], "cut to 64 bytes"));
    assert!(rejected >= 1, "no truncation was rejected");
    // Flip bytes all over the file, a few at a time.
    let mut state = 0x2545_F491_u64;
    for round in 0..60 {
        let mut bytes = original.clone();
        for _ in 0..(1 + round % 7) {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let at = usize::try_from(state >> 33).unwrap() % bytes.len();
            bytes[at] ^= u8::try_from((state >> 20) & 0xFF).unwrap() | 1;
        }
        check(&bytes, &format!("flip round {round}"));
    }
}

// ---------------------------------------------------------------- UBL / CII twins

/// A UBL/CII twin pair that does not give the same invoice through [`parse`]: every difference
/// lies in the sample conversion itself (the two files do not say the same thing, or the UBL
/// file breaks a rule it has signed up to, Peppol's by its `cbc:CustomizationID`).
struct Differ {
    /// The CII file.
    cii: &'static str,
    /// The rules whose fatal violations reject the UBL twin (none: it is accepted).
    rejected_by: &'static [&'static str],
    /// The canonical fields in which the UBL file's invoice, read without validation, differs
    /// from the CII one (none: the same invoice, and the same EN 16931 business terms).
    fields: &'static [&'static str],
    /// Why, in the samples.
    why: &'static str,
}

/// Why the corpus' UBL conversions claiming Peppol are refused; each entry adds its own rules.
macro_rules! peppol {
    ($($more:literal),*) => {
        concat!(
            "the UBL conversion declares Peppol BIS Billing 3.0 (cbc:CustomizationID), so the Peppol rules apply, ",
            "but gives neither seller nor buyer a cbc:EndpointID (R020, R010)" $(, "; ", $more)*
        )
    };
}

const R: &str = "PEPPOL-EN16931-R";

/// Every twin pair that does not give the same invoice, and why. Each pair's fields and rules
/// are checked to be exactly these, and every other pair must give equal events.
const TWINS_DIFFER: &[Differ] = &[
    Differ {
        cii: "EN16931_1_Teilrechnung.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020", "PEPPOL-EN16931-R042", "PEPPOL-EN16931-R120"],
        fields: &[],
        why: peppol!(
            "document allowances give a base amount without a percentage (R042)",
            "line 4's net amount 55.46 is not 20 × 2.77 = 55.40 (R120), in the CII file too"
        ),
    },
    Differ {
        cii: "EN16931_2_Teilrechnung.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!(),
    },
    Differ {
        cii: "EN16931_AbweichenderZahlungsempf.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Betriebskostenabrechnung.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R008", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)", "an empty cbc:EmbeddedDocumentBinaryObject (R008)"),
    },
    Differ {
        cii: "EN16931_Einfach.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Einfach_DueDate.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Einfach_negativePaymentDue.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Elektron.cii.xml",
        rejected_by: &["PEPPOL-EN16931-P0100", "PEPPOL-EN16931-R008", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("type code 204 is no Peppol invoice type (P0100)", "an empty cac:OrderReference/cbc:ID (R008)"),
    },
    Differ {
        cii: "EN16931_ElektronischeAdresse.cii.xml",
        rejected_by: &["BR-CL-25", "PEPPOL-EN16931-CL008", "PEPPOL-EN16931-P0100"],
        fields: &[],
        why: "the UBL conversion declares Peppol; its type code 387 is no Peppol invoice type (P0100), \
              and the buyer's endpoint scheme 9958 (the German Leitweg-ID's code, since withdrawn for 0204) is in \
              no EAS list (BR-CL-25, CL008)",
    },
    Differ {
        cii: "EN16931_Gutschrift.cii.xml",
        rejected_by: &["PEPPOL-EN16931-P0100", "PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!(
            "no buyer or order reference (R003)",
            "type code 389 (self-billed invoice) is not in the billing profile (P0100)"
        ),
    },
    Differ {
        cii: "EN16931_Haftpflichtversicherung_Versicherungssteuer.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Innergemeinschaftliche_Lieferungen.cii.xml",
        rejected_by: &["PEPPOL-EN16931-P0100", "PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)", "type code 389 is not in the billing profile (P0100)"),
    },
    Differ {
        cii: "EN16931_Kraftfahrversicherung_Bruttopreise.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020", "PEPPOL-EN16931-R120"],
        fields: &[],
        why: peppol!(
            "no buyer or order reference (R003)",
            "the line net amounts 80 and 140 are the gross prices, the net prices 67.2244 and 117.6471 (R120), \
             in the CII file too"
        ),
    },
    Differ {
        cii: "EN16931_Miete.cii.xml",
        rejected_by: &["PEPPOL-EN16931-P0100", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("type code 387 is no Peppol invoice type (P0100)"),
    },
    Differ {
        cii: "EN16931_OEPNV.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!(),
    },
    Differ {
        cii: "EN16931_Physiotherapeut.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Rabatte.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020", "PEPPOL-EN16931-R042"],
        fields: &[],
        why: peppol!("document allowances give a base amount without a percentage (R042)"),
    },
    Differ {
        cii: "EN16931_RechnungsUebertragung.cii.xml",
        rejected_by: &["BR-CL-25", "PEPPOL-EN16931-CL008"],
        fields: &[],
        why: "the buyer's endpoint scheme 9958 (the German Leitweg-ID's code, since withdrawn for 0204) is in no \
              EAS list (BR-CL-25, CL008)",
    },
    Differ {
        cii: "EN16931_Rechnungskorrektur.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!(),
    },
    Differ {
        cii: "EN16931_Reisekostenabrechnung.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_SEPA_Prenotification.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020"],
        fields: &[],
        why: peppol!("no buyer or order reference (R003)"),
    },
    Differ {
        cii: "EN16931_Sachversicherung_berechneter_Steuersatz.cii.xml",
        rejected_by: &["PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020", "PEPPOL-EN16931-R120"],
        fields: &[],
        why: peppol!(
            "no buyer or order reference (R003)",
            "the line net amount 1163.40 includes the insurance tax on the net price 1000 (R120), in the CII file too"
        ),
    },
    Differ {
        cii: "not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.cii.xml",
        rejected_by: &[
            "BR-CO-10",
            "BR-CO-15",
            "PEPPOL-EN16931-CL008",
            "PEPPOL-EN16931-P0105",
            "PEPPOL-EN16931-R002",
            "PEPPOL-EN16931-R120",
        ],
        fields: &["lines[].net_amount", "tax_total"],
        why: "the UBL conversion bills each line at 1000 (10 × 10.00 is 100.00, as the CII file says) and its VAT \
              total is 50 (the CII file's 5.00), which BR-CO-10, BR-CO-15 and R120 catch; besides, as its name \
              says, it breaks Peppol rules (several notes, R002; exemption reason VATEX-EU-O on category E, P0105; \
              e-mail endpoints, CL008)",
    },
    // CEN/TC 434: CII_example<n>.xml and ubl-tc434-example<n>.xml, the same invoice numbers, written apart.
    Differ {
        cii: "CII_example1.xml",
        rejected_by: &[],
        fields: &["lines[].unit"],
        why: "the CII example bills its 20 lines in H87 (piece), the UBL one in EA (each)",
    },
    Differ {
        cii: "CII_example2.xml",
        rejected_by: &[],
        fields: &["lines[].po_line", "lines[].quantity", "lines[].unit", "lines[].unit_price"],
        why: "the CII example gives each net price its own amount as ram:BasisQuantity (1273 per 1273: 1 a unit), \
              bills line 1 as 1 NAR where the UBL one has 2 EA, NAR (number of articles) against EA throughout, \
              and refers line 5 to order line 4 where the UBL cbc:LineID is empty",
    },
    Differ {
        cii: "CII_example3.xml",
        rejected_by: &[],
        fields: &["lines", "lines[].quantity", "lines[].unit", "supplier", "tax_total", "total"],
        why: "the CII seller has no party identifier (its VAT number DK16356706 is the supplier; the UBL seller has \
              GLN 1238764941386), and the CII example bills one subscription of 1 C62 (1125 DKK) where the UBL one \
              bills two lines of 2 EA (2005 DKK)",
    },
    Differ {
        cii: "CII_example4.xml",
        rejected_by: &[],
        fields: &["lines[].unit"],
        why: "C62 (one) in the CII example, EA (each) in the UBL one",
    },
    Differ {
        cii: "CII_example5.xml",
        rejected_by: &[],
        fields: &["lines[].unit"],
        why: "C62 (one) in the CII example, EA (each) in the UBL one",
    },
    Differ {
        cii: "CII_example6.xml",
        rejected_by: &[],
        fields: &["lines[].unit"],
        why: "C62 (one) in the CII example, EA (each) in the UBL one",
    },
    Differ {
        cii: "CII_example7.xml",
        rejected_by: &[],
        fields: &["issued_on", "lines[].unit"],
        why: "issued 2013-05-13 in the CII example, 2013-03-11 in the UBL one; C62 against EA",
    },
    Differ {
        cii: "CII_example8.xml",
        rejected_by: &[],
        fields: &["lines[].unit", "lines[].unit_price"],
        why: "the CII example gives each net price its own amount as ram:BasisQuantity (0.00880 per 0.00880 kWh: \
              1 a unit; the UBL one 0.00880 per 1, and 15.24 per 12 kW), and bills lines 3 and 4 in KWT where the \
              UBL one has KW",
    },
    Differ {
        cii: "CII_example9.xml",
        rejected_by: &[],
        fields: &["due_on", "lines[].unit_price"],
        why: "due 2015-04-15 in the CII example, 2015-04-14 in the UBL one, and the CII price 49 per 49 months \
              (1 a month) against 49 per month",
    },
];

/// Every UBL/CII twin pair: the corpus' CII/<stem>.cii.xml(.gz) and UBL/<stem>.ubl.xml(.gz),
/// and CEN/TC 434's CII_example<n>.xml and ubl-tc434-example<n>.xml (ubl-tc434-example10 and the
/// corpus' ubl-tc434-creditnote1 have no CII twin).
fn twins() -> Vec<(PathBuf, PathBuf)> {
    let mut pairs = Vec::new();
    for cii in files(&format!("{CORPUS}/CII")) {
        let stem = name(&cii).split(".cii.xml").next().unwrap().to_owned();
        let ubl = ["xml", "xml.gz"]
            .into_iter()
            .map(|ext| Path::new(CORPUS).join(format!("UBL/{stem}.ubl.{ext}")))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no UBL twin of {stem}"));
        pairs.push((cii, ubl));
    }
    for n in 1..=9 {
        pairs.push((
            Path::new(CEN).join(format!("CII_example{n}.xml")),
            Path::new(CEN_UBL).join(format!("ubl-tc434-example{n}.xml")),
        ));
    }
    pairs
}

/// The canonical fields in which two invoices differ (amounts and quantities by value:
/// `198.00` is `198`), with both values; line fields named `lines[].<field>`, compared
/// position by position.
fn differences(c: &SupplierInvoice, u: &SupplierInvoice) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push((name.to_owned(), format!("CII {a} / UBL {b}")));
        }
    };
    let n = |d: Decimal| d.normalize().to_string();
    field("invoice_number", c.invoice_number.0.clone(), u.invoice_number.0.clone());
    field("kind", format!("{:?}", c.kind), format!("{:?}", u.kind));
    field("supplier", c.supplier.0.clone(), u.supplier.0.clone());
    field("issued_on", c.issued_on.to_string(), u.issued_on.to_string());
    field("due_on", format!("{:?}", c.due_on), format!("{:?}", u.due_on));
    field("currency", c.currency.0.clone(), u.currency.0.clone());
    field("po_number", format!("{:?}", c.po_number), format!("{:?}", u.po_number));
    field("despatch_advice", format!("{:?}", c.despatch_advice), format!("{:?}", u.despatch_advice));
    field("receipt_number", format!("{:?}", c.receipt_number), format!("{:?}", u.receipt_number));
    field("credited_invoice", format!("{:?}", c.credited_invoice), format!("{:?}", u.credited_invoice));
    field("lines", c.lines.len().to_string(), u.lines.len().to_string());
    for (a, b) in c.lines.iter().zip(&u.lines) {
        field("lines[].line", a.line.to_string(), b.line.to_string());
        field("lines[].po_line", format!("{:?}", a.po_line), format!("{:?}", b.po_line));
        field("lines[].item", format!("{:?}", a.item), format!("{:?}", b.item));
        field("lines[].quantity", n(a.quantity.value), n(b.quantity.value));
        field("lines[].unit", a.quantity.unit.0.clone(), b.quantity.unit.0.clone());
        field("lines[].unit_price", n(a.unit_price.amount), n(b.unit_price.amount));
        field("lines[].net_amount", n(a.net_amount.amount), n(b.net_amount.amount));
        field("lines[].currency", a.net_amount.currency.0.clone(), b.net_amount.currency.0.clone());
        field(
            "lines[].tax_rate",
            format!("{:?}", a.tax_rate_percent.map(n)),
            format!("{:?}", b.tax_rate_percent.map(n)),
        );
    }
    field("tax_total", n(c.tax_total.amount), n(u.tax_total.amount));
    field("total", n(c.total.amount), n(u.total.amount));
    out
}

#[test]
fn the_same_invoice_in_ubl_and_cii_gives_the_same_canonical_invoice() {
    use backroom_formats::{cii, en16931, ubl, xml::Document};
    let pairs = twins();
    assert_eq!(pairs.len(), 27 + 9);
    let mut equal = Vec::new();
    for (cii_path, ubl_path) in &pairs {
        let file = name(cii_path);
        let (cii_bytes, ubl_bytes) = (read(cii_path), read(ubl_path));
        let from_cii = parse(&cii_bytes, &cx()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(from_cii.format, Format::Cii, "{file}");
        let from_ubl = parse(&ubl_bytes, &cx());
        // The UBL file read into EN 16931 business terms and mapped, validation set aside.
        let cii_terms = cii::semantic_invoice(&Document::parse(&cii_bytes).unwrap()).unwrap();
        let ubl_terms = ubl::semantic_invoice(&Document::parse(&ubl_bytes).unwrap()).unwrap();
        let ubl_event = en16931::received_event(ubl_terms.to_canonical().unwrap(), &cx());
        let EventPayload::SupplierInvoice(ubl_invoice) = &ubl_event.payload else { unreachable!() };
        let found: BTreeSet<String> =
            differences(invoice(&from_cii), ubl_invoice).into_iter().map(|(f, _)| f).collect();
        let Some(differ) = TWINS_DIFFER.iter().find(|d| d.cii == file) else {
            let from_ubl = from_ubl.unwrap_or_else(|e| panic!("{file}: UBL twin rejected: {e}"));
            assert_eq!(from_ubl.format, Format::Ubl);
            let details = differences(invoice(&from_cii), invoice(&from_ubl));
            assert_eq!(from_ubl.events, from_cii.events, "{file}: {details:#?}");
            assert_eq!(cii_terms, ubl_terms, "{file}: the business terms differ");
            equal.push(file);
            continue;
        };
        assert!(!differ.why.is_empty(), "{file}");
        let rejected_by: BTreeSet<String> = match &from_ubl {
            Ok(parsed) => {
                // Accepted: validation changed nothing.
                assert_eq!(parsed.events, vec![ubl_event.clone()], "{file}");
                BTreeSet::new()
            }
            Err(e) => {
                assert_eq!(e.format, Some(Format::Ubl), "{file}");
                e.problems.iter().map(|p| p.rule.clone().unwrap_or_else(|| format!("no rule: {}", p.message))).collect()
            }
        };
        let listed: BTreeSet<String> = differ.rejected_by.iter().map(|r| (*r).to_owned()).collect();
        assert_eq!(rejected_by, listed, "{file}: the rules rejecting the UBL twin");
        let listed: BTreeSet<String> = differ.fields.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(found, listed, "{file}: {:#?}", differences(invoice(&from_cii), ubl_invoice));
        if differ.fields.is_empty() {
            // Only validation stands between the twins: the mappings agree on everything.
            assert_eq!(ubl_event, from_cii.events[0], "{file}");
            assert_eq!(cii_terms, ubl_terms, "{file}: the business terms differ");
        }
        if differ.rejected_by.iter().any(|r| r.starts_with(R)) && !differ.why.contains("Peppol") {
            panic!("{file}: Peppol rules reject it but the reason does not say why they apply");
        }
    }
    for d in TWINS_DIFFER {
        assert!(pairs.iter().any(|(c, _)| name(c) == d.cii), "{}: no such twin pair", d.cii);
    }
    assert_eq!(TWINS_DIFFER.len() + equal.len(), pairs.len(), "a pair listed twice");
    // XRechnung (a German EN 16931 profile, not Peppol) twins give the same invoice end to end.
    assert!(equal.iter().filter(|c| c.starts_with("XRECHNUNG_")).count() == 4, "{equal:?}");
}

/// With what Peppol requires supplied (endpoints, a buyer reference), the corpus' UBL twin of
/// EN16931_Einfach is accepted and gives the events of the CII file: `parse` end to end.
#[test]
fn a_peppol_complete_ubl_twin_gives_the_events_of_the_cii_file() {
    let cii = parse(&read(&Path::new(CORPUS).join("CII/EN16931_Einfach.cii.xml")), &cx()).unwrap();
    let ubl = String::from_utf8(read(&Path::new(CORPUS).join("UBL/EN16931_Einfach.ubl.xml"))).unwrap();
    let seller = "<cac:AccountingSupplierParty>\n    <cac:Party>";
    let buyer = "<cac:AccountingCustomerParty>\n    <cac:Party>";
    let currency = "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>";
    assert!(ubl.contains(seller) && ubl.contains(buyer) && ubl.contains(currency));
    let complete = ubl
        .replace(currency, &format!("{currency}<cbc:BuyerReference>GE2020211</cbc:BuyerReference>"))
        .replace(seller, &format!(r#"{seller}<cbc:EndpointID schemeID="0088">4000001123452</cbc:EndpointID>"#))
        .replace(buyer, &format!(r#"{buyer}<cbc:EndpointID schemeID="9930">DE987654321</cbc:EndpointID>"#));
    let from_ubl = parse(complete.as_bytes(), &cx()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_ubl.format, Format::Ubl);
    assert_eq!(from_ubl.events, cii.events);
    assert_eq!(from_ubl.events[0].id, "invoice/4000001123452/471102");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes, &cx());
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend_from_slice(&bytes);
        prop_assert!(facturx::parse(&pdf, &cx()).is_err());
        let _ = backroom_formats::cii::parse(&bytes, &cx());
    }

    #[test]
    fn pdf_like_bytes_never_panic(parts in proptest::collection::vec(
        prop_oneof![
            Just("obj".to_owned()), Just("endobj".to_owned()), Just("stream\n".to_owned()),
            Just("endstream".to_owned()), Just("<<".to_owned()), Just(">>".to_owned()), Just("[".to_owned()),
            Just("]".to_owned()), Just("/Names".to_owned()), Just("/EmbeddedFiles".to_owned()), Just("/Kids".to_owned()),
            Just("/AF".to_owned()), Just("/EF".to_owned()), Just("/F".to_owned()), Just("(factur-x.xml)".to_owned()),
            Just("/Filter /FlateDecode".to_owned()), Just("/Length 10".to_owned()), Just("1 0 R".to_owned()),
            Just("xref\n0 2\n".to_owned()), Just("trailer".to_owned()), Just("startxref\n9\n%%EOF".to_owned()),
            "[0-9]{1,3} 0".prop_map(|s| s), "[ -~]{0,12}".prop_map(|s| s),
        ],
        0..80,
    )) {
        let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Root 1 0 R ".to_vec();
        pdf.extend_from_slice(parts.join(" ").as_bytes());
        let _ = parse(&pdf, &cx());
    }

    #[test]
    fn mutated_cii_never_panics(at in 0usize..4000, byte in any::<u8>(), cut in 0usize..4000) {
        let mut doc = good("380").into_bytes();
        let at = at % doc.len();
        doc[at] = byte;
        let _ = parse(&doc, &cx());
        let _ = parse(&doc[..cut.min(doc.len())], &cx());
    }
}
