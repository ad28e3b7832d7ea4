//! ARTS POSLog: the Visma Retail 6.0 samples and hand-made POSLog 2.x documents (no public 2.x
//! sample is in the data folder) read into `pos.sale`, `pos.return` and `pos.control` events.

use std::str::FromStr;

use backroom_formats::{Context, Format, Location, Parsed, detect, parse};
use backroom_model::{EventPayload, EventType, NewEvent, SalesTransaction, TenderMethod, TillControl};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use rust_decimal::Decimal;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/poslog/arts-v6-visma-retail");

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

/// The stores of the samples and fixtures, each in its time zone.
fn ctx() -> Context {
    let mut c = Context::new(now());
    c.time_zones.insert("3000".into(), chrono_tz::Europe::Stockholm);
    c.time_zones.insert("3004".into(), chrono_tz::Europe::Stockholm);
    c.time_zones.insert("NL-0042".into(), chrono_tz::Europe::Amsterdam);
    c
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn read(bytes: &[u8], c: &Context) -> Parsed {
    match parse(bytes, c) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn sales(e: &NewEvent) -> &SalesTransaction {
    match &e.payload {
        EventPayload::SalesTransaction(s) => s,
        other => panic!("not a sales transaction: {other:?}"),
    }
}

fn till(e: &NewEvent) -> &TillControl {
    match &e.payload {
        EventPayload::TillControl(t) => t,
        other => panic!("not a till control: {other:?}"),
    }
}

/// One finished Visma receipt: one line, one cash tender, SEK, VAT 0 %.
struct Receipt {
    file: &'static str,
    id: &'static str,
    store: &'static str,
    workstation: &'static str,
    cashier: &'static str,
    sku: &'static str,
    price: &'static str,
    cash: &'static str,
    /// EndDateTime, Stockholm summer time, in UTC.
    occurred_at: &'static str,
}

const RECEIPTS: &[Receipt] = &[
    Receipt {
        file: "arts1.xml",
        id: "3004-1-2019-07-22-3619",
        store: "3004",
        workstation: "1",
        cashier: "1234",
        sku: "100000",
        price: "22041.88",
        cash: "22042.00",
        occurred_at: "2019-07-22T13:53:21Z",
    },
    Receipt {
        file: "arts2.xml",
        id: "3004-1-2019-07-22-3622",
        store: "3004",
        workstation: "1",
        cashier: "1234",
        sku: "100000",
        price: "196.89",
        cash: "197.00",
        occurred_at: "2019-07-22T14:39:02Z",
    },
    Receipt {
        file: "arts3.xml",
        id: "3000-10-2019-07-22-2536",
        store: "3000",
        workstation: "10",
        cashier: "cashierid",
        sku: "100060",
        price: "384.15",
        cash: "384.00",
        occurred_at: "2019-07-22T14:57:00Z",
    },
    Receipt {
        file: "arts5.xml",
        id: "3000-10-2019-07-22-2541",
        store: "3000",
        workstation: "10",
        cashier: "cashierid",
        sku: "100060",
        price: "79.00",
        cash: "79.00",
        occurred_at: "2019-07-22T15:14:58Z",
    },
];

#[test]
fn every_sample_file_is_covered() {
    let mut files: Vec<String> = std::fs::read_dir(SAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    files.sort();
    assert_eq!(files, ["arts1.xml", "arts2.xml", "arts3.xml", "arts4.xml", "arts5.xml"]);
    for f in &files {
        assert_eq!(detect(&sample(f)), Some(Format::PosLog), "{f}");
    }
}

#[test]
fn finished_visma_receipts_are_sales() {
    for r in RECEIPTS {
        let parsed = read(&sample(r.file), &ctx());
        assert_eq!(parsed.format, Format::PosLog);
        assert!(parsed.replies.is_empty());
        assert_eq!(parsed.events.len(), 1, "{}", r.file);
        let e = &parsed.events[0];
        assert_eq!(e.event_type, EventType::PosSale, "{}", r.file);
        assert_eq!(e.id, r.id);
        assert_eq!(e.source, format!("poslog/{}", r.store));
        assert_eq!(e.occurred_at, utc(r.occurred_at), "{}: EndDateTime read in Europe/Stockholm", r.file);
        let s = sales(e);
        assert_eq!(s.transaction_id.as_str(), r.id);
        assert_eq!(s.location.as_str(), r.store);
        assert_eq!(s.workstation.as_deref(), Some(r.workstation));
        assert_eq!(s.cashier.as_deref(), Some(r.cashier));
        // No BusinessDayDate in the samples: the local date of BeginDateTime.
        assert_eq!(s.business_day, day("2019-07-22"));
        assert_eq!(s.currency.as_str(), "SEK");
        assert!(s.original.is_none());
        assert_eq!(s.lines.len(), 1);
        let l = &s.lines[0];
        assert_eq!(l.line, 1);
        // POSIDType="GTIN" holds a 6-digit in-house code, not a valid GTIN: the RSID is the SKU.
        assert!(l.item.gtin.is_none(), "{}", r.file);
        assert_eq!(l.item.sku.as_ref().map(|s| s.as_str()), Some(r.sku));
        assert_eq!(l.quantity.value, dec("1"));
        assert_eq!(l.quantity.unit.as_str(), "EA");
        assert_eq!(l.unit_price.amount, dec(r.price));
        assert_eq!(l.unit_price.currency.as_str(), "SEK");
        assert_eq!(l.net_amount.amount, dec(r.price));
        assert_eq!(l.tax.as_ref().map(|t| t.amount), Some(Decimal::ZERO));
        assert!(l.discount.is_none());
        assert!(l.promotion.is_none());
        assert_eq!(s.total.amount, dec(r.price), "{}: TransactionNetAmount", r.file);
        // The rounding line is not a tender.
        assert_eq!(s.tenders.len(), 1);
        assert_eq!(s.tenders[0].method, TenderMethod::Cash);
        assert_eq!(s.tenders[0].amount.amount, dec(r.cash));
        assert!(s.tenders[0].reference.is_none());
    }
}

#[test]
fn local_times_follow_the_store_time_zone() {
    let bytes = sample("arts1.xml");
    // Without a zone for the store, local times are read in the default zone (UTC).
    let plain = read(&bytes, &Context::new(now()));
    assert_eq!(plain.events[0].occurred_at, utc("2019-07-22T15:53:21Z"));
    let stockholm = read(&bytes, &ctx());
    assert_eq!(stockholm.events[0].occurred_at, utc("2019-07-22T13:53:21Z"));
    // Winter time is one hour ahead of UTC.
    let winter =
        String::from_utf8(bytes.clone()).unwrap().replace("2019-07-22T15:53:21</End", "2019-01-22T15:53:21</End");
    assert_eq!(read(winter.as_bytes(), &ctx()).events[0].occurred_at, utc("2019-01-22T14:53:21Z"));
    // The autumn fold: 02:30 happens twice; the first (summer time) is taken.
    let fold =
        String::from_utf8(bytes.clone()).unwrap().replace("2019-07-22T15:53:21</End", "2019-10-27T02:30:00</End");
    assert_eq!(read(fold.as_bytes(), &ctx()).events[0].occurred_at, utc("2019-10-27T00:30:00Z"));
    // The spring gap: 02:30 does not exist; read with the winter offset in force before it.
    let gap = String::from_utf8(bytes).unwrap().replace("2019-07-22T15:53:21</End", "2019-03-31T02:30:00</End");
    assert_eq!(read(gap.as_bytes(), &ctx()).events[0].occurred_at, utc("2019-03-31T01:30:00Z"));
}

#[test]
fn the_canceled_visma_receipt_is_a_till_control_record() {
    let parsed = read(&sample("arts4.xml"), &ctx());
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!(e.event_type, EventType::PosControl);
    assert_eq!(e.id, "3000-37-2019-07-22-4");
    assert_eq!(e.occurred_at, utc("2019-07-22T11:36:54Z"));
    let t = till(e);
    assert_eq!(t.kind, "cancelled");
    assert_eq!(t.location.as_str(), "3000");
    assert_eq!(t.workstation.as_deref(), Some("37"));
    assert_eq!(t.business_day, day("2019-07-22"));
    assert_eq!(t.cashier.as_deref(), Some("xstse04"));
    // Only a vendor total (VRExt:TransactionVatRateAmount) is given: no amount.
    assert!(t.amount.is_none());
}

#[test]
fn parsing_twice_gives_the_same_events() {
    for f in ["arts1.xml", "arts4.xml"] {
        assert_eq!(read(&sample(f), &ctx()), read(&sample(f), &ctx()));
    }
    assert_eq!(read(SALE_2X.as_bytes(), &ctx()), read(SALE_2X.as_bytes(), &ctx()));
}

#[test]
fn the_document_currency_element_or_an_attribute_is_required() {
    let text = String::from_utf8(sample("arts5.xml")).unwrap();
    // Without Transaction/CurrencyCode the Total@CurrencyCode attributes still say SEK.
    let attribute_only = text.replace("<CurrencyCode>SEK</CurrencyCode>", "");
    assert_eq!(sales(&read(attribute_only.as_bytes(), &ctx()).events[0]).currency.as_str(), "SEK");
    let none = attribute_only.replace(" CurrencyCode=\"SEK\"", "");
    let err = parse(none.as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = &err.problems[0];
    assert!(p.message.contains("Transaction/CurrencyCode"), "{p}");
    assert!(matches!(&p.location, Location::Text { line: 3, path, .. } if path == "/POSLog/Transaction"), "{p}");
}

const SALE_2X: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/" xmlns:acme="http://www.example.com/acme/poslog" MajorVersion="2" MinorVersion="2" FixVersion="0">
  <Transaction CancelFlag="false" TrainingModeFlag="false">
    <RetailStoreID>NL 0042</RetailStoreID>
    <WorkstationID>3</WorkstationID>
    <SequenceNumber>1187</SequenceNumber>
    <BusinessDayDate>2024-03-15</BusinessDayDate>
    <BeginDateTime>2024-03-15T10:14:05</BeginDateTime>
    <EndDateTime>2024-03-15T10:15:42+01:00</EndDateTime>
    <OperatorID OperatorName="J. de Vries">207</OperatorID>
    <CurrencyCode>EUR</CurrencyCode>
    <RetailTransaction Version="2.2" TransactionStatus="Finished">
      <LineItem>
        <Sale ItemType="Stock">
          <POSIdentity POSIDType="GTIN">
            <POSItemID>4006381333931</POSItemID>
          </POSIdentity>
          <ItemID>100-2231</ItemID>
          <Description>Textmarker 4er</Description>
          <RegularSalesUnitPrice>2.49</RegularSalesUnitPrice>
          <ActualSalesUnitPrice>2.24</ActualSalesUnitPrice>
          <ExtendedAmount>4.98</ExtendedAmount>
          <ExtendedDiscountAmount>4.48</ExtendedDiscountAmount>
          <Quantity UnitOfMeasureCode="EA">2</Quantity>
          <RetailPriceModifier>
            <SequenceNumber>1</SequenceNumber>
            <Amount Action="Subtract">0.50</Amount>
            <PromotionID>SPRING 24</PromotionID>
            <ReasonCode>Promotion</ReasonCode>
          </RetailPriceModifier>
          <Tax TaxType="VAT">
            <TaxAuthority>NL</TaxAuthority>
            <TaxableAmount TaxIncludedInTaxableAmountFlag="true">4.48</TaxableAmount>
            <Amount>0.37</Amount>
            <Percent>9.00</Percent>
          </Tax>
        </Sale>
        <SequenceNumber>1</SequenceNumber>
      </LineItem>
      <LineItem>
        <Sale ItemType="Stock">
          <ItemID>SKU-1001</ItemID>
          <Description>Appels Elstar</Description>
          <RegularSalesUnitPrice>3.20</RegularSalesUnitPrice>
          <ExtendedAmount>4.80</ExtendedAmount>
          <Quantity UnitOfMeasureCode="KG">1.5</Quantity>
          <Tax TaxType="VAT">
            <Amount>0.40</Amount>
            <Percent>9.00</Percent>
          </Tax>
        </Sale>
        <SequenceNumber>2</SequenceNumber>
      </LineItem>
      <LineItem VoidFlag="true">
        <Sale ItemType="Stock">
          <ItemID>SKU-2002</ItemID>
          <RegularSalesUnitPrice>12.95</RegularSalesUnitPrice>
          <ExtendedAmount>12.95</ExtendedAmount>
          <Quantity>1</Quantity>
        </Sale>
        <SequenceNumber>3</SequenceNumber>
      </LineItem>
      <LineItem>
        <Tax TaxType="VAT">
          <TaxableAmount TaxIncludedInTaxableAmountFlag="true">9.28</TaxableAmount>
          <Amount>0.77</Amount>
          <Percent>9.00</Percent>
        </Tax>
        <SequenceNumber>4</SequenceNumber>
      </LineItem>
      <LineItem>
        <Tender TenderType="Cash" TypeCode="Sale">
          <Amount>10.00</Amount>
          <TenderChange>
            <Amount>5.00</Amount>
          </TenderChange>
        </Tender>
        <SequenceNumber>5</SequenceNumber>
      </LineItem>
      <LineItem>
        <Tender TenderType="CreditDebit" TypeCode="Sale">
          <Amount>4.28</Amount>
          <CreditDebit CardType="Debit">
            <PrimaryAccountNumber>************4421</PrimaryAccountNumber>
          </CreditDebit>
        </Tender>
        <SequenceNumber>6</SequenceNumber>
      </LineItem>
      <Total TotalType="TransactionGrossAmount">9.78</Total>
      <Total TotalType="TransactionNetAmount">9.28</Total>
      <Total TotalType="TransactionTaxAmount">0.77</Total>
      <Total TotalType="TransactionGrandAmount">9.28</Total>
    </RetailTransaction>
    <acme:LoyaltyTier>gold</acme:LoyaltyTier>
  </Transaction>
</POSLog>
"#;

const RETURN_2X: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/" MajorVersion="2" MinorVersion="2" FixVersion="0">
  <Transaction>
    <RetailStoreID>NL 0042</RetailStoreID>
    <WorkstationID>1</WorkstationID>
    <SequenceNumber>88</SequenceNumber>
    <BusinessDayDate>2024-03-16</BusinessDayDate>
    <BeginDateTime>2024-03-16T09:02:10</BeginDateTime>
    <EndDateTime>2024-03-16T09:03:55</EndDateTime>
    <OperatorID>311</OperatorID>
    <CurrencyCode>EUR</CurrencyCode>
    <RetailTransaction Version="2.2" TransactionStatus="Finished">
      <LineItem>
        <Return ItemType="Stock">
          <POSIdentity POSIDType="GTIN">
            <POSItemID>4006381333931</POSItemID>
          </POSIdentity>
          <ItemID>100-2231</ItemID>
          <RegularSalesUnitPrice>2.49</RegularSalesUnitPrice>
          <ActualSalesUnitPrice>2.24</ActualSalesUnitPrice>
          <ExtendedAmount>2.49</ExtendedAmount>
          <ExtendedDiscountAmount>2.24</ExtendedDiscountAmount>
          <Quantity UnitOfMeasureCode="EA">1</Quantity>
          <TransactionLink ReasonCode="Return">
            <RetailStoreID>NL 0042</RetailStoreID>
            <WorkstationID>3</WorkstationID>
            <SequenceNumber>1187</SequenceNumber>
            <BusinessDayDate>2024-03-15</BusinessDayDate>
          </TransactionLink>
          <Disposal Method="Restock"/>
          <Reason>ChangedMind</Reason>
        </Return>
        <SequenceNumber>1</SequenceNumber>
      </LineItem>
      <LineItem>
        <Tender TenderType="Cash" TypeCode="Refund">
          <Amount>-2.24</Amount>
        </Tender>
        <SequenceNumber>2</SequenceNumber>
      </LineItem>
      <Total TotalType="TransactionGrandAmount">-2.24</Total>
    </RetailTransaction>
  </Transaction>
</POSLog>
"#;

const CONTROL_2X: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/" MajorVersion="2" MinorVersion="2" FixVersion="0">
  <Transaction>
    <RetailStoreID>NL 0042</RetailStoreID>
    <WorkstationID>3</WorkstationID>
    <SequenceNumber>1180</SequenceNumber>
    <BusinessDayDate>2024-03-15</BusinessDayDate>
    <BeginDateTime>2024-03-15T08:58:00</BeginDateTime>
    <EndDateTime>2024-03-15T08:58:02</EndDateTime>
    <OperatorID>207</OperatorID>
    <ControlTransaction Version="2.2">
      <ReasonCode>ShiftStart</ReasonCode>
      <OperatorSignOn/>
    </ControlTransaction>
  </Transaction>
  <Transaction>
    <RetailStoreID>NL 0042</RetailStoreID>
    <WorkstationID>3</WorkstationID>
    <SequenceNumber>1201</SequenceNumber>
    <BusinessDayDate>2024-03-15</BusinessDayDate>
    <EndDateTime>2024-03-15T13:30:00</EndDateTime>
    <OperatorID>9001</OperatorID>
    <CurrencyCode>EUR</CurrencyCode>
    <TenderControlTransaction Version="2.2">
      <TenderPickup>
        <Tender TenderType="Cash">
          <Amount>200.00</Amount>
        </Tender>
      </TenderPickup>
    </TenderControlTransaction>
  </Transaction>
  <Transaction>
    <RetailStoreID>NL 0042</RetailStoreID>
    <WorkstationID>3</WorkstationID>
    <SequenceNumber>1202</SequenceNumber>
    <BusinessDayDate>2024-03-15</BusinessDayDate>
    <OperatorID>207</OperatorID>
    <ControlTransaction Version="2.2">
      <NoSale/>
    </ControlTransaction>
  </Transaction>
</POSLog>
"#;

const MIXED_2X: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/" MajorVersion="2" MinorVersion="2" FixVersion="0">
  <Transaction>
    <RetailStoreID>NL 0042</RetailStoreID>
    <WorkstationID>2</WorkstationID>
    <SequenceNumber>1190</SequenceNumber>
    <BusinessDayDate>2024-03-15</BusinessDayDate>
    <EndDateTime>2024-03-15T11:00:00</EndDateTime>
    <OperatorID>207</OperatorID>
    <CurrencyCode>EUR</CurrencyCode>
    <RetailTransaction Version="2.2">
      <LineItem>
        <Sale ItemType="Stock">
          <ItemID>SKU-3003</ItemID>
          <RegularSalesUnitPrice>19.95</RegularSalesUnitPrice>
          <ExtendedAmount>19.95</ExtendedAmount>
          <Quantity>1</Quantity>
        </Sale>
        <SequenceNumber>1</SequenceNumber>
      </LineItem>
      <LineItem>
        <Return ItemType="Stock">
          <ItemID>SKU-3001</ItemID>
          <RegularSalesUnitPrice>17.95</RegularSalesUnitPrice>
          <ExtendedAmount>17.95</ExtendedAmount>
          <Quantity>1</Quantity>
          <TransactionLink ReasonCode="Return">
            <WorkstationID>2</WorkstationID>
            <SequenceNumber>1100</SequenceNumber>
            <BusinessDayDate>2024-03-10</BusinessDayDate>
          </TransactionLink>
        </Return>
        <SequenceNumber>2</SequenceNumber>
      </LineItem>
      <LineItem>
        <Tender TenderType="Cash" TypeCode="Sale">
          <Amount>2.00</Amount>
        </Tender>
        <SequenceNumber>3</SequenceNumber>
      </LineItem>
      <Total TotalType="TransactionGrandAmount">2.00</Total>
    </RetailTransaction>
  </Transaction>
</POSLog>
"#;

#[test]
fn a_2x_sale_with_discount_tax_void_and_two_tenders() {
    for fixture in [SALE_2X, RETURN_2X, CONTROL_2X, MIXED_2X] {
        assert_eq!(detect(fixture.as_bytes()), Some(Format::PosLog));
    }
    let parsed = read(SALE_2X.as_bytes(), &ctx());
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!(e.event_type, EventType::PosSale);
    assert_eq!(e.id, "NL-0042-3-2024-03-15-1187");
    assert_eq!(e.source, "poslog/NL-0042");
    // EndDateTime has an offset: taken as given.
    assert_eq!(e.occurred_at, utc("2024-03-15T09:15:42Z"));
    let s = sales(e);
    assert_eq!(s.business_day, day("2024-03-15"));
    assert_eq!(s.workstation.as_deref(), Some("3"));
    assert_eq!(s.cashier.as_deref(), Some("207"));
    assert_eq!(s.currency.as_str(), "EUR");
    // The voided line 3 is not demand.
    assert_eq!(s.lines.len(), 2);
    let l1 = &s.lines[0];
    assert_eq!(l1.line, 1);
    assert_eq!(l1.item.gtin.as_ref().map(|g| g.0.as_str()), Some("4006381333931"));
    assert_eq!(l1.item.sku.as_ref().map(|s| s.as_str()), Some("100-2231"));
    assert_eq!(l1.quantity.value, dec("2"));
    assert_eq!(l1.unit_price.amount, dec("2.49"));
    assert_eq!(l1.discount.as_ref().map(|d| d.amount), Some(dec("0.50")));
    assert_eq!(l1.promotion.as_ref().map(|p| p.as_str()), Some("SPRING-24"));
    assert_eq!(l1.tax.as_ref().map(|t| t.amount), Some(dec("0.37")));
    // 2.x: ExtendedDiscountAmount is the amount after the discount.
    assert_eq!(l1.net_amount.amount, dec("4.48"));
    let l2 = &s.lines[1];
    assert_eq!(l2.line, 2);
    assert!(l2.item.gtin.is_none());
    assert_eq!(l2.item.sku.as_ref().map(|s| s.as_str()), Some("SKU-1001"));
    assert_eq!(l2.quantity.value, dec("1.5"));
    assert_eq!(l2.quantity.unit.as_str(), "KGM");
    assert_eq!(l2.unit_price.amount, dec("3.20"));
    assert!(l2.discount.is_none());
    assert_eq!(l2.net_amount.amount, dec("4.80"));
    assert_eq!(l2.tax.as_ref().map(|t| t.amount), Some(dec("0.40")));
    assert_eq!(s.total.amount, dec("9.28"));
    assert_eq!(s.tenders.len(), 2);
    assert_eq!(s.tenders[0].method, TenderMethod::Cash);
    assert_eq!(s.tenders[0].amount.amount, dec("5.00"), "cash less change");
    assert_eq!(s.tenders[1].method, TenderMethod::Card);
    assert_eq!(s.tenders[1].amount.amount, dec("4.28"));
    assert_eq!(s.tenders[1].reference.as_deref(), Some("****4421"));
    // A time with an offset ignores the store's zone.
    let mut tokyo = ctx();
    tokyo.time_zones.insert("NL-0042".into(), chrono_tz::Asia::Tokyo);
    assert_eq!(read(SALE_2X.as_bytes(), &tokyo).events[0].occurred_at, utc("2024-03-15T09:15:42Z"));
}

#[test]
fn a_2x_return_references_its_original_sale() {
    let parsed = read(RETURN_2X.as_bytes(), &ctx());
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!(e.event_type, EventType::PosReturn);
    assert_eq!(e.id, "NL-0042-1-2024-03-16-88");
    // Amsterdam winter time.
    assert_eq!(e.occurred_at, utc("2024-03-16T08:03:55Z"));
    let s = sales(e);
    let original = s.original.as_ref().expect("original sale");
    let sale = read(SALE_2X.as_bytes(), &ctx());
    assert_eq!(original.transaction_id.as_str(), sale.events[0].id);
    assert_eq!(original.location.as_str(), "NL-0042");
    assert_eq!(original.business_day, Some(day("2024-03-15")));
    assert_eq!(s.lines.len(), 1);
    let l = &s.lines[0];
    assert_eq!(l.item.gtin.as_ref().map(|g| g.0.as_str()), Some("4006381333931"));
    assert_eq!(l.quantity.value, dec("1"));
    assert_eq!(l.unit_price.amount, dec("2.49"));
    assert_eq!(l.discount.as_ref().map(|d| d.amount), Some(dec("0.25")));
    assert_eq!(l.net_amount.amount, dec("2.24"));
    // The refund is recorded with positive amounts; the event type gives the direction.
    assert_eq!(s.total.amount, dec("2.24"));
    assert_eq!(s.tenders.len(), 1);
    assert_eq!(s.tenders[0].method, TenderMethod::Cash);
    assert_eq!(s.tenders[0].amount.amount, dec("2.24"));
}

#[test]
fn control_transactions_of_2x_are_till_control_records() {
    let parsed = read(CONTROL_2X.as_bytes(), &ctx());
    let got: Vec<(EventType, &str, &str, Option<Decimal>)> = parsed
        .events
        .iter()
        .map(|e| {
            let t = till(e);
            (e.event_type, e.id.as_str(), t.kind.as_str(), t.amount.as_ref().map(|m| m.amount))
        })
        .collect();
    assert_eq!(
        got,
        [
            (EventType::PosControl, "NL-0042-3-2024-03-15-1180", "sign_on", None),
            (EventType::PosControl, "NL-0042-3-2024-03-15-1201", "tender_pickup", Some(dec("200.00"))),
            (EventType::PosControl, "NL-0042-3-2024-03-15-1202", "no_sale", None),
        ]
    );
    assert_eq!(parsed.events[0].occurred_at, utc("2024-03-15T07:58:02Z"));
    assert_eq!(till(&parsed.events[1]).amount.as_ref().map(|m| m.currency.as_str()), Some("EUR"));
    assert_eq!(till(&parsed.events[1]).cashier.as_deref(), Some("9001"));
    // No time at all: the business day's local midnight.
    assert_eq!(parsed.events[2].occurred_at, utc("2024-03-14T23:00:00Z"));
}

#[test]
fn a_mixed_transaction_is_split_into_a_sale_and_a_return() {
    let parsed = read(MIXED_2X.as_bytes(), &ctx());
    assert_eq!(parsed.events.len(), 2);
    let (sale, ret) = (&parsed.events[0], &parsed.events[1]);
    assert_eq!((sale.event_type, sale.id.as_str()), (EventType::PosSale, "NL-0042-2-2024-03-15-1190/sale"));
    assert_eq!((ret.event_type, ret.id.as_str()), (EventType::PosReturn, "NL-0042-2-2024-03-15-1190/return"));
    let (s, r) = (sales(sale), sales(ret));
    assert_eq!(s.transaction_id.as_str(), "NL-0042-2-2024-03-15-1190");
    assert_eq!(r.transaction_id.as_str(), "NL-0042-2-2024-03-15-1190");
    assert_eq!(s.lines.len(), 1);
    assert_eq!(s.lines[0].item.sku.as_ref().map(|x| x.as_str()), Some("SKU-3003"));
    assert_eq!(s.total.amount, dec("19.95"));
    assert_eq!(s.tenders.len(), 1);
    assert_eq!(s.tenders[0].amount.amount, dec("2.00"));
    assert!(s.original.is_none());
    assert_eq!(r.lines.len(), 1);
    assert_eq!(r.lines[0].line, 2);
    assert_eq!(r.lines[0].item.sku.as_ref().map(|x| x.as_str()), Some("SKU-3001"));
    assert_eq!(r.total.amount, dec("17.95"));
    assert!(r.tenders.is_empty());
    let original = r.original.as_ref().unwrap();
    // The link names no store: the returning store.
    assert_eq!(original.transaction_id.as_str(), "NL-0042-2-2024-03-10-1100");
    assert_eq!(original.location.as_str(), "NL-0042");
}

/// The 1-based line of the `n`th (1-based) occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str, n: usize) -> usize {
    let (offset, _) = text.match_indices(needle).nth(n - 1).unwrap();
    text[..offset].matches('\n').count() + 1
}

#[test]
fn a_line_without_quantity_is_rejected_with_its_place() {
    let bad = SALE_2X.replace(r#"<Quantity UnitOfMeasureCode="KG">1.5</Quantity>"#, "");
    let err = parse(bad.as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.format, Some(Format::PosLog));
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = &err.problems[0];
    assert!(p.message.contains("line 2 (Sale) has no Quantity"), "{p}");
    match &p.location {
        Location::Text { line, path, .. } => {
            assert_eq!(path, "/POSLog/Transaction/RetailTransaction/LineItem[2]/Sale");
            assert_eq!(*line, line_of(&bad, "<Sale ", 2));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_line_without_price_is_rejected_with_its_place() {
    let bad = SALE_2X
        .replace("<RegularSalesUnitPrice>3.20</RegularSalesUnitPrice>", "")
        .replace("<ExtendedAmount>4.80</ExtendedAmount>", "");
    let err = parse(bad.as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = &err.problems[0];
    assert!(p.message.contains("line 2 (Sale) has no price"), "{p}");
    assert!(p.message.contains("RegularSalesUnitPrice"), "{p}");
    assert!(
        matches!(&p.location, Location::Text { path, .. } if path == "/POSLog/Transaction/RetailTransaction/LineItem[2]/Sale"),
        "{p}"
    );
}

#[test]
fn every_problem_is_reported() {
    let bad = SALE_2X
        .replace(r#"<Quantity UnitOfMeasureCode="KG">1.5</Quantity>"#, "")
        .replace(
            "<RegularSalesUnitPrice>2.49</RegularSalesUnitPrice>",
            "<RegularSalesUnitPrice>2,49</RegularSalesUnitPrice>",
        )
        .replace("<EndDateTime>2024-03-15T10:15:42+01:00</EndDateTime>", "<EndDateTime>15.03.2024</EndDateTime>");
    let err = parse(bad.as_bytes(), &ctx()).unwrap_err();
    let paths: Vec<String> = err
        .problems
        .iter()
        .map(|p| match &p.location {
            Location::Text { path, .. } => path.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/POSLog/Transaction/EndDateTime",
            "/POSLog/Transaction/RetailTransaction/LineItem[1]/Sale/RegularSalesUnitPrice",
            "/POSLog/Transaction/RetailTransaction/LineItem[2]/Sale",
        ],
        "{err}"
    );
}

#[test]
fn identity_is_required_and_other_roots_are_not_poslog() {
    let bad =
        SALE_2X.replace("<WorkstationID>3</WorkstationID>", "").replace("<SequenceNumber>1187</SequenceNumber>", "");
    let err = parse(bad.as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    assert!(err.problems[0].message.contains("WorkstationID"));
    assert!(err.problems[1].message.contains("SequenceNumber"));
    // No namespace is accepted; another namespace is another document.
    let bare = SALE_2X.replace(r#" xmlns="http://www.nrf-arts.org/IXRetail/namespace/""#, "");
    assert_eq!(detect(bare.as_bytes()), Some(Format::PosLog));
    assert_eq!(read(bare.as_bytes(), &ctx()).events[0].id, "NL-0042-3-2024-03-15-1187");
    let other = SALE_2X.replace("http://www.nrf-arts.org/IXRetail/namespace/", "urn:example:not-arts");
    assert_eq!(detect(other.as_bytes()), None);
    assert!(backroom_formats::poslog::parse(other.as_bytes(), &ctx()).is_err());
    assert!(
        backroom_formats::poslog::parse(b"<POSLog xmlns=\"http://www.nrf-arts.org/IXRetail/namespace/\"/>", &ctx())
            .is_err()
    );
}

#[test]
fn a_cancelled_flag_or_an_all_voided_receipt_is_not_demand() {
    let cancelled = SALE_2X.replace(r#"CancelFlag="false""#, r#"CancelFlag="true""#);
    let e = &read(cancelled.as_bytes(), &ctx()).events[0];
    assert_eq!((e.event_type, till(e).kind.as_str()), (EventType::PosControl, "cancelled"));
    assert_eq!(till(e).amount.as_ref().map(|m| m.amount), Some(dec("9.28")));
    let voided = MIXED_2X.replace("<LineItem>", r#"<LineItem VoidFlag="true">"#);
    let e = &read(voided.as_bytes(), &ctx()).events[0];
    assert_eq!((e.event_type, till(e).kind.as_str()), (EventType::PosControl, "voided_lines"));
}

#[test]
fn extreme_times_are_rejected_without_panicking() {
    let text = String::from_utf8(sample("arts1.xml")).unwrap();
    for stamp in
        ["+262143-12-31T23:59:59-23:59", "-262143-01-01T00:00:00", "262143-12-31T23:59:59", "1900-01-01T00:00:00Z"]
    {
        let bad = text.replace("2019-07-22T15:53:21</End", &format!("{stamp}</End"));
        assert!(parse(bad.as_bytes(), &ctx()).is_err(), "{stamp}");
    }
}

/// Replaces the text of the `pick`th text node with `with`, keeping the XML well formed enough
/// to reach the mapping.
fn replace_text(doc: &str, pick: usize, with: &str) -> String {
    let spans: Vec<(usize, usize)> = doc
        .match_indices('>')
        .filter_map(|(i, _)| {
            let start = i + 1;
            let end = start + doc[start..].find('<')?;
            (end > start && !doc[start..end].trim().is_empty()).then_some((start, end))
        })
        .collect();
    if spans.is_empty() {
        return doc.to_owned();
    }
    let (start, end) = spans[pick % spans.len()];
    format!("{}{}{}", &doc[..start], with, &doc[end..])
}

fn documents() -> Vec<Vec<u8>> {
    let mut docs: Vec<Vec<u8>> =
        ["arts1.xml", "arts2.xml", "arts3.xml", "arts4.xml", "arts5.xml"].iter().map(|f| sample(f)).collect();
    docs.extend([SALE_2X, RETURN_2X, CONTROL_2X, MIXED_2X].iter().map(|d| d.as_bytes().to_vec()));
    docs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes, &ctx());
        let _ = backroom_formats::poslog::parse(&bytes, &ctx());
    }

    #[test]
    fn mutated_documents_never_panic(
        which in 0usize..9,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = documents().swap_remove(which);
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at % bytes.len();
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        let _ = parse(&bytes, &ctx());
    }

    #[test]
    fn mutated_values_never_panic(
        which in 0usize..9,
        picks in proptest::collection::vec((any::<usize>(), "[-+0-9.a-zA-Z:T ]{0,40}"), 1..6),
    ) {
        let docs = documents();
        let mut text = String::from_utf8(docs[which].clone()).unwrap();
        for (pick, with) in picks {
            text = replace_text(&text, pick, &with);
        }
        let mut zones = ctx();
        zones.default_time_zone = Tz::America__New_York;
        if let Ok(parsed) = parse(text.as_bytes(), &zones) {
            prop_assert!(!parsed.events.is_empty());
        }
    }
}
