//! OASIS UBL 2.1 documents, as Peppol BIS 3.0 and Peppol logistics exchange them.
//!
//! A document is recognised by its root element in a UBL document namespace
//! (`urn:oasis:names:specification:ubl:schema:xsd:<Document>-2`) and read with the shared
//! [`crate::xml`] tree, so every problem names its line, column and XPath.
//!
//! | UBL document | canonical event | read in |
//! |---|---|---|
//! | `Invoice`, `CreditNote` | `invoice.received` [`SupplierInvoice`](backroom_model::SupplierInvoice), through the EN 16931 [`SemanticInvoice`](crate::en16931::SemanticInvoice) | [`invoice`] |
//! | `Order` | `po.created` [`PurchaseOrder`](backroom_model::PurchaseOrder) | [`order`] |
//! | `OrderResponse` (order response, order agreement), `OrderResponseSimple` | `po.acknowledged` [`PurchaseOrderResponse`](backroom_model::PurchaseOrderResponse) | [`order_response`] |
//! | `DespatchAdvice` | `despatch.advised` [`DespatchAdvice`](backroom_model::DespatchAdvice) | [`despatch`] |
//! | `ReceiptAdvice` | `receipt.posted` [`GoodsReceipt`](backroom_model::GoodsReceipt) | [`receipt`] |
//!
//! Each reading module documents its element-to-field mapping. In short: document numbers are
//! `cbc:ID`; parties are known by their party identifier, else VAT number, registration or
//! Peppol endpoint ([`Party::code`](crate::en16931::Party::code)); items by a GTIN when the
//! standard item identifier is one (scheme `0160`) and by the buyer's, else the seller's, item
//! identifier as SKU (an invoice line without any identifier takes its item name, BT-153, as a
//! code: [`SemanticLine::item`](crate::en16931::SemanticLine::item)); line numbers are the line identifiers when all are whole numbers, else
//! positions; quantities keep their `unitCode` (`EA` when absent) and unit prices are
//! `PriceAmount ÷ BaseQuantity`, rounded to six decimals.
//!
//! Event ids are stable. Invoices and credit notes get the ids every EN 16931 syntax gives them
//! ([`received_event`](crate::en16931::received_event)): `invoice/<supplier>/<number>`
//! (`credit-note/<supplier>/<number>`), source `supplier/<supplier>`. The other documents get
//! `ubl/order/<buyer>/<number>`, `ubl/order-response/<supplier>/<order>/<response>`,
//! `ubl/despatch/<supplier>/<number>`, `ubl/receipt/<location>/<number>`, source
//! `ubl/<sender code>`. A source set in the context wins. Invoices occur at their issue date,
//! midnight UTC; other documents at `cbc:IssueDate` and `cbc:IssueTime` (a time without offset
//! is in the context's default time zone).
//!
//! Invoices and credit notes are validated before they are read ([`invoice::parse`]): a Peppol
//! BIS Billing 3.0 document (`cbc:CustomizationID` naming `peppol.eu`) against every rule of
//! [`crate::peppol`], any other against the EN 16931 rules (`BR-…`) only. A fatal violation
//! rejects the document, each problem naming its rule and XPath.
//!
//! Going out, [`invoice_response`] writes (and reads back) Peppol Invoice Responses 3.0, the
//! answer Backroom gives a supplier about an invoice. An invoice response given to [`parse`] is
//! rejected: Backroom sends them and never ingests them (its statuses describe the *buyer's*
//! handling of an invoice, which is Backroom's own decision, not a partner's event).
//!
//! Rejected, with the document type named: catalogues and catalogue responses, order changes
//! and cancellations, message level responses, punch-outs and every other UBL document.

pub mod common;
pub mod despatch;
pub mod invoice;
pub mod invoice_response;
pub mod order;
pub mod order_response;
pub mod receipt;

pub use invoice::semantic_invoice;
pub use invoice_response::{
    InvoiceResponse, ResponseCode, ResponseParty, invoice_response_for, read_invoice_response, write_invoice_response,
};

use crate::xml::Document;
use crate::{Context, Format, Parsed, Problem, Sniff};
use common::{CBC, DOCUMENT_NS_PREFIX};

/// The documents Backroom reads, for messages.
const ACCEPTED: &str =
    "Invoice, CreditNote, Order, OrderResponse, OrderResponseSimple, DespatchAdvice or ReceiptAdvice";

/// Whether the document's root element is a UBL 2 document
/// (`urn:oasis:names:specification:ubl:schema:xsd:<Document>-2`, the root named `<Document>`).
pub fn detect(sniff: &Sniff<'_>) -> bool {
    sniff.xml_root.as_ref().is_some_and(|(ns, name)| is_ubl_root(ns, name))
}

fn is_ubl_root(ns: &str, name: &str) -> bool {
    ns.strip_prefix(DOCUMENT_NS_PREFIX).and_then(|rest| rest.strip_suffix("-2")).is_some_and(|doc| doc == name)
}

/// Reads a UBL document into canonical events, or every problem found in it.
pub fn parse(bytes: &[u8], ctx: &Context) -> Result<Parsed, Vec<Problem>> {
    let doc = Document::parse(&common::utf8(bytes)).map_err(|p| vec![p])?;
    let root = doc.root();
    let el = doc.get(root);
    if !is_ubl_root(&el.namespace, &el.name) {
        return Err(vec![doc.problem(
            root,
            format!(
                "the root element <{}> in namespace {:?} is not a UBL 2 document; expected one of {ACCEPTED} in urn:oasis:names:specification:ubl:schema:xsd:<Document>-2",
                el.name, el.namespace
            ),
        )]);
    }
    let events = match el.name.as_str() {
        "Invoice" | "CreditNote" => invoice::parse(&doc, ctx)?,
        "Order" => order::parse(&doc, ctx)?,
        "OrderResponse" | "OrderResponseSimple" => order_response::parse(&doc, ctx)?,
        "DespatchAdvice" => despatch::parse(&doc, ctx)?,
        "ReceiptAdvice" => receipt::parse(&doc, ctx)?,
        "ApplicationResponse" => return Err(vec![application_response(&doc)]),
        other => {
            let customization = doc.text_at(root, &[(CBC, "CustomizationID")]).unwrap_or("");
            return Err(vec![doc.problem(
                root,
                format!(
                    "UBL {} documents are not read by Backroom; it reads {ACCEPTED}",
                    describe(other, customization)
                ),
            )]);
        }
    };
    Ok(Parsed { format: Format::Ubl, events, replies: Vec::new() })
}

/// The problem for an `ApplicationResponse`: an invoice response, a message level response or
/// a catalogue response, none of which Backroom ingests.
fn application_response(doc: &Document) -> Problem {
    let root = doc.root();
    let customization = doc.text_at(root, &[(CBC, "CustomizationID")]).unwrap_or("");
    if customization.starts_with(invoice_response::CUSTOMIZATION_ID) {
        return invoice_response::not_ingested(doc);
    }
    let kind = if customization.contains(":mlr:") {
        "a Peppol message level response (MLR)"
    } else if customization.contains(":catalogue_response:") {
        "a Peppol catalogue response"
    } else {
        "a UBL ApplicationResponse"
    };
    Problem::new(
        doc.location(root),
        format!("this is {kind}: Backroom does not ingest application responses; it reads {ACCEPTED}"),
    )
}

/// A document type as people name it.
fn describe(name: &str, customization: &str) -> String {
    match name {
        "Catalogue" if customization.contains(":punch_out:") => "Catalogue (Peppol punch-out)".to_owned(),
        "Catalogue" => "Catalogue (product catalogue)".to_owned(),
        "OrderChange" => "OrderChange (order change)".to_owned(),
        "OrderCancellation" => "OrderCancellation (order cancellation)".to_owned(),
        other => other.to_owned(),
    }
}
