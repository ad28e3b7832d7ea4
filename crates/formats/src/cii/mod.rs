//! UN/CEFACT Cross Industry Invoice (CII D16B, the EN 16931 syntax of Factur-X / ZUGFeRD 2.x
//! and XRechnung CII) into one `invoice.received` event.
//!
//! The document (root `rsm:CrossIndustryInvoice` in
//! `urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100`) is read into the EN 16931
//! business terms ([`semantic_invoice`], per the CII syntax binding EN 16931-3-3), which the
//! mapping shared with UBL ([`SemanticInvoice::to_canonical`](crate::en16931::SemanticInvoice::to_canonical)) turns into a
//! [`backroom_model::SupplierInvoice`]:
//!
//! | business term | CII | canonical |
//! |---|---|---|
//! | BT-1 invoice number | `rsm:ExchangedDocument/ram:ID` | `invoice_number` |
//! | BT-3 type code | `rsm:ExchangedDocument/ram:TypeCode` | `kind` (381, 81, 83, 396, 532: credit note) |
//! | BT-2 issue date | `ram:IssueDateTime/udt:DateTimeString[@format=102]` | `issued_on` |
//! | BT-5 currency | `ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode` | `currency` |
//! | BT-9 due date | `ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime` | `due_on` |
//! | BT-13 order | `ram:ApplicableHeaderTradeAgreement/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID` | `po_number` |
//! | BT-16 despatch advice | `ram:ApplicableHeaderTradeDelivery/ram:DespatchAdviceReferencedDocument` | `despatch_advice` |
//! | BT-15 receiving advice | `ram:ApplicableHeaderTradeDelivery/ram:ReceivingAdviceReferencedDocument` | `receipt_number` |
//! | BT-25 preceding invoice | `ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument` | `credited_invoice` (credit notes) |
//! | BG-4 seller | `ram:SellerTradeParty`: `ram:GlobalID`, else `ram:ID` (BT-29); VAT `ram:SpecifiedTaxRegistration/ram:ID[@schemeID=VA]` (BT-31); `ram:SpecifiedLegalOrganization/ram:ID` (BT-30); `ram:URIUniversalCommunication/ram:URIID` (BT-34) | `supplier`: the first of BT-29, BT-31, BT-30, BT-34 |
//! | BT-110 total VAT | `ram:TaxTotalAmount[@currencyID = BT-5]` | `tax_total` |
//! | BT-112 total with VAT | `ram:GrandTotalAmount` | `total` |
//! | BG-25 line | `ram:IncludedSupplyChainTradeLineItem` | `lines[]` |
//! | BT-126 line id | `ram:AssociatedDocumentLineDocument/ram:LineID` | `line` (position when not all numeric) |
//! | BT-129/130 quantity | `ram:SpecifiedLineTradeDelivery/ram:BilledQuantity[@unitCode]` | `quantity` |
//! | BT-131 net amount | `ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount` | `net_amount` |
//! | BT-146/149 price | `ram:NetPriceProductTradePrice/ram:ChargeAmount` / `ram:BasisQuantity` | `unit_price` = price / base |
//! | BT-132 order line | `ram:SpecifiedLineTradeAgreement/ram:BuyerOrderReferencedDocument/ram:LineID` | `po_line` |
//! | BT-157/156/155/153 item | `ram:SpecifiedTradeProduct/ram:GlobalID[@schemeID]`, `ram:BuyerAssignedID`, `ram:SellerAssignedID`, `ram:Name` | `item`: GTIN (scheme 0160), SKU buyer's else seller's, else the standard identifier, else the item name as a code (service lines) |
//! | BT-152 VAT rate | `ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent` | `tax_rate_percent` |
//!
//! The event: id `invoice/<supplier>/<invoice number>`, occurred at the issue day 00:00 UTC,
//! source `supplier/<supplier>` unless the context names one ([`received_event`](crate::en16931::received_event)).
//!
//! Rejected, with every problem found: missing mandatory terms (BR-2 number, BR-3 issue date,
//! BR-4 type code, BR-5 currency, BR-6 seller, BR-12 to BR-15 totals, BR-21 to BR-26 line terms),
//! amounts that are not decimal numbers, dates not in format 102, a seller without any
//! identifier, lines whose item has neither an identifier nor a name (BR-25), and invoices
//! without lines (BR-16) — Factur-X MINIMUM and
//! BASIC WL invoices, which carry only totals, are named as such. ZUGFeRD 1.0
//! (`rsm:CrossIndustryDocument`) is recognised and rejected: its vocabulary differs throughout
//! (`HeaderExchangedDocument`, `ApplicableSupplyChainTradeAgreement`, …) and no sample is at hand
//! to verify a mapping against.

use backroom_model::NewEvent;

use crate::xml::Document;
use crate::{Context, Format, Parsed, Problem, Sniff};

mod canonical;
mod header;
mod lines;
mod party;
mod profile;
mod summation;
mod terms;

pub use header::semantic_invoice;

/// The CII root namespace (`rsm`).
pub const RSM: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
/// The reusable aggregate business information entities (`ram`).
pub const RAM: &str = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
/// The unqualified data types (`udt`).
pub const UDT: &str = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
/// The ZUGFeRD 1.0 root namespace (`rsm:CrossIndustryDocument`), recognised to be rejected.
pub const ZUGFERD_1_RSM: &str = "urn:ferd:CrossIndustryDocument:invoice:1p0";

/// Whether the document is a CII invoice (or a ZUGFeRD 1.0 one, to reject it by name).
pub fn detect(sniff: &Sniff<'_>) -> bool {
    sniff.xml_root.as_ref().is_some_and(|(ns, name)| {
        (ns == RSM && name == "CrossIndustryInvoice") || (ns == ZUGFERD_1_RSM && name == "CrossIndustryDocument")
    })
}

/// Reads a CII invoice into its `invoice.received` event.
pub fn parse(bytes: &[u8], cx: &Context) -> Result<Parsed, Vec<Problem>> {
    let event = invoice_event(bytes, cx)?;
    Ok(Parsed { format: Format::Cii, events: vec![event], replies: Vec::new() })
}

/// Reads CII bytes (a file of its own or the XML embedded in a Factur-X PDF) into the event.
pub(crate) fn invoice_event(bytes: &[u8], cx: &Context) -> Result<NewEvent, Vec<Problem>> {
    let doc = Document::parse(bytes).map_err(|p| vec![p])?;
    let root = doc.get(doc.root());
    if root.namespace == ZUGFERD_1_RSM && root.name == "CrossIndustryDocument" {
        let message = "ZUGFeRD 1.0 invoices (rsm:CrossIndustryDocument) are not supported: \
                       send ZUGFeRD 2.x / Factur-X (rsm:CrossIndustryInvoice, CII D16B)";
        return Err(vec![doc.problem(doc.root(), message)]);
    }
    if root.namespace != RSM || root.name != "CrossIndustryInvoice" {
        let message = format!(
            "root element <{}> in namespace {:?} is not a CII invoice: expected rsm:CrossIndustryInvoice in {RSM}",
            root.name, root.namespace
        );
        return Err(vec![doc.problem(doc.root(), message)]);
    }
    canonical::invoice_event(&doc, cx)
}
