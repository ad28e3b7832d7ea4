//! Factur-X / ZUGFeRD 2.x PDFs: the invoice is the XML file embedded in the PDF/A-3, not the
//! visible page.
//!
//! [`attachment`] finds the embedded file named `factur-x.xml` (Factur-X, ZUGFeRD 2.1+),
//! `zugferd-invoice.xml` / `ZUGFeRD-invoice.xml` (ZUGFeRD 2.0) or `xrechnung.xml` (XRechnung in
//! a ZUGFeRD PDF) among the catalog's associated files (`/AF`) and its `/EmbeddedFiles` name
//! tree, and decodes its stream filters. The XML is then read exactly as a file of its own: a
//! CII invoice by [`crate::cii`], a UBL `Invoice` or `CreditNote` (some senders embed their
//! XRechnung or Peppol UBL the same way) by [`crate::ubl::parse`], with its EN 16931 and, for
//! Peppol documents, Peppol validation. So a PDF gives the same events as its embedded XML on its own; only
//! [`Parsed::format`] differs.
//!
//! Rejected: a PDF that cannot be read (damaged structure, or one that makes the PDF library
//! fail — its panics are caught), a PDF without an embedded invoice (the visible pages are
//! never read), an embedded file that is neither a CII invoice nor a UBL invoice or credit note,
//! and everything the CII or UBL reader rejects — those problems keep their line and column,
//! which count in the embedded XML, and their message names the embedded file.

use backroom_model::NewEvent;

use crate::{Context, Format, Location, Parsed, Problem, Sniff, cii, ubl};

pub mod attachment;

/// The UBL documents read from a PDF: the invoice documents.
const UBL_INVOICE_ROOTS: [&str; 2] = ["Invoice", "CreditNote"];

/// Whether the document is a PDF (`%PDF-` header).
pub fn detect(sniff: &Sniff<'_>) -> bool {
    sniff.head.starts_with(b"%PDF-")
}

/// Reads the invoice embedded in a Factur-X / ZUGFeRD PDF into its `invoice.received` event.
pub fn parse(bytes: &[u8], cx: &Context) -> Result<Parsed, Vec<Problem>> {
    let embedded = attachment::embedded_invoice(bytes).map_err(|p| vec![p])?;
    let name = embedded.name;
    let sniff = Sniff::new(&embedded.content);
    let read: Result<Vec<NewEvent>, Vec<Problem>> = if cii::detect(&sniff) {
        cii::invoice_event(&embedded.content, cx).map(|event| vec![event])
    } else if ubl::detect(&sniff)
        && sniff.xml_root.as_ref().is_some_and(|(_, r)| UBL_INVOICE_ROOTS.contains(&r.as_str()))
    {
        ubl::parse(&embedded.content, cx).map(|parsed| parsed.events)
    } else {
        let what = match &sniff.xml_root {
            Some((ns, root)) if ubl::detect(&sniff) => {
                format!("the embedded {name} is a UBL {root} (in {ns:?}), not an invoice")
            }
            Some((ns, root)) => format!("the embedded {name} has root element <{root}> in namespace {ns:?}"),
            None => format!("the embedded {name} is not XML"),
        };
        let message = format!(
            "{what}: expected a CII invoice (rsm:CrossIndustryInvoice in {}) or a UBL Invoice or CreditNote",
            cii::RSM
        );
        return Err(vec![Problem::new(Location::Document, message)]);
    };
    let events = read.map_err(|problems| {
        problems
            .into_iter()
            .map(|p| Problem { message: format!("in the embedded {name}: {}", p.message), ..p })
            .collect::<Vec<_>>()
    })?;
    Ok(Parsed { format: Format::FacturX, events, replies: Vec::new() })
}
