//! From the semantic invoice to the canonical `invoice.received` event.

use backroom_model::NewEvent;

use crate::en16931::{self, SemanticInvoice};
use crate::xml::{Document, ElementId};
use crate::{Context, Location, Problem};

use super::{RAM, RSM, header, profile};

/// Reads a parsed CII document into its one `invoice.received` event.
pub(super) fn invoice_event(doc: &Document, cx: &Context) -> Result<NewEvent, Vec<Problem>> {
    let invoice = header::semantic_invoice(doc)?;
    if invoice.lines.is_empty() {
        return Err(vec![no_lines(doc)]);
    }
    let mut problems = unmatchable_items(doc, &invoice);
    match invoice.to_canonical() {
        Ok(canonical) if problems.is_empty() => Ok(en16931::received_event(canonical, cx)),
        Ok(_) => Err(problems),
        Err(found) => {
            let found = found.into_iter().filter(|(term, _)| *term != "BT-157");
            problems.extend(found.map(|(term, message)| term_problem(doc, &invoice, term, message)));
            Err(problems)
        }
    }
}

/// Lines whose item has neither an identifier nor a name a canonical item can hold (GTIN or
/// SKU; the name stands in as SKU for items without identifiers), each reported at its
/// `ram:SpecifiedTradeProduct` (under BR-25, the rule requiring the item name, when it has none).
fn unmatchable_items(doc: &Document, invoice: &SemanticInvoice) -> Vec<Problem> {
    let Some(transaction) = doc.child(doc.root(), RSM, "SupplyChainTradeTransaction") else { return Vec::new() };
    let items = doc.children(transaction, RAM, "IncludedSupplyChainTradeLineItem");
    items
        .zip(&invoice.lines)
        .filter(|(_, line)| line.item().is_none())
        .map(|(item, line)| {
            let at = doc.child(item, RAM, "SpecifiedTradeProduct").unwrap_or(item);
            let name = match line.name.as_deref() {
                Some(n) => format!("its item name {n:?} has no letters or digits to match by"),
                None => "no item name (BT-153, required by BR-25)".to_owned(),
            };
            let mut problem = doc.problem(
                at,
                format!(
                    "line {:?} has no item identifier and {name}: expected ram:GlobalID (a GTIN, schemeID \
                     0160), ram:BuyerAssignedID or ram:SellerAssignedID (BT-157, BT-156, BT-155), or at least \
                     a ram:Name, in ram:SpecifiedTradeProduct",
                    line.id
                ),
            );
            problem.rule = line.name.is_none().then(|| "BR-25".to_owned());
            problem
        })
        .collect()
}

/// An invoice without lines: named by its profile when it is MINIMUM or BASIC WL.
fn no_lines(doc: &Document) -> Problem {
    let at = doc.child(doc.root(), RSM, "SupplyChainTradeTransaction").unwrap_or(doc.root());
    let guideline = profile::guideline(doc);
    let message = match guideline.and_then(|g| profile::lineless_profile(g).map(|name| (g, name))) {
        Some((id, name)) => format!(
            "the invoice follows the Factur-X / ZUGFeRD {name} profile ({id}), which carries no invoice lines; \
             a canonical supplier invoice needs its billed lines to match them against orders and receipts, \
             so Backroom accepts {}",
            profile::ACCEPTED
        ),
        None => format!(
            "the invoice has no ram:IncludedSupplyChainTradeLineItem: at least one invoice line is required; \
             Backroom accepts {}",
            profile::ACCEPTED
        ),
    };
    let mut problem = doc.problem(at, message);
    problem.rule = Some("BR-16".to_owned());
    problem
}

/// A problem from the shared mapping, placed at the element holding the business term.
fn term_problem(doc: &Document, invoice: &SemanticInvoice, term: &str, message: String) -> Problem {
    let root = doc.root();
    let exchanged = doc.child(root, RSM, "ExchangedDocument");
    let transaction = doc.child(root, RSM, "SupplyChainTradeTransaction");
    let at: Option<ElementId> = match term {
        "BT-1" => exchanged.and_then(|e| doc.child(e, RAM, "ID")).or(exchanged),
        "BT-2" => exchanged.and_then(|e| doc.child(e, RAM, "IssueDateTime")).or(exchanged),
        "BT-29" => transaction
            .and_then(|t| doc.descend(t, &[(RAM, "ApplicableHeaderTradeAgreement"), (RAM, "SellerTradeParty")])),
        "BT-146" => transaction.and_then(|t| {
            let items: Vec<ElementId> = doc.children(t, RAM, "IncludedSupplyChainTradeLineItem").collect();
            invoice
                .lines
                .iter()
                .position(|l| message.contains(&format!("{:?}", l.id)))
                .and_then(|i| items.get(i).copied())
        }),
        _ => None,
    };
    let message = format!("{term}: {message}");
    match at {
        Some(at) => doc.problem(at, message),
        None => Problem::new(Location::Document, message),
    }
}
