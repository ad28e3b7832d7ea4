//! ARTS / NRF POSLog 2.x and 6.0: till transactions as `pos.sale`, `pos.return` and `pos.control`.
//!
//! A POSLog document (root `POSLog` in the ARTS namespace `http://www.nrf-arts.org/IXRetail/namespace/`,
//! or in no namespace) holds `Transaction` elements. Every `Transaction` becomes one canonical
//! event, except a transaction with both sale and return lines, which becomes two.
//! Elements are read in the namespace of the root; vendor extension elements and attributes in
//! other namespaces (Visma's `VRArtsPoslogExt:`, for instance) are ignored.
//!
//! # Identity (every transaction)
//!
//! | POSLog | canonical |
//! |---|---|
//! | `RetailStoreID` (2.x) or `BusinessUnit/UnitID` (6.0) | `location` (through [`crate::to_code`]) |
//! | `WorkstationID` | `workstation` |
//! | `SequenceNumber` (the transaction's own, not a line's) | part of the id |
//! | `BusinessDayDate` | `business_day`; when absent (the Visma 6.0 samples) the store-local date of `BeginDateTime`, else of `EndDateTime` |
//! | `OperatorID` (else its `@OperatorName`) | `cashier` |
//! | `EndDateTime`, else `BeginDateTime`, else the business day's local midnight | event `occurred_at` |
//!
//! `transaction_id` and the event id are `<store>-<workstation>-<business day>-<sequence>`
//! (`3004-1-2019-07-22-3619`), so re-reading a document yields the same ids. The event source is
//! `poslog/<store>` unless the context overrides it. A store, workstation, sequence number and
//! business day are required; a transaction without them is rejected.
//!
//! Times without an offset are local times of the store: they are read in
//! `Context::time_zone(<store code>)`. A local time that occurs twice (the autumn fold) is taken
//! as its first occurrence (summer time); a local time that does not exist (the spring gap) is
//! read with the offset in force before the gap, as a till whose clock had not yet been moved
//! would mean it. Times with an offset (`Z`, `+02:00`) are taken as given.
//!
//! # Retail transactions
//!
//! `RetailTransaction` with item lines becomes a `SalesTransaction`:
//!
//! - `LineItem/Sale` lines make a `pos.sale`; `LineItem/Return` lines (also `Sale` lines whose
//!   `@ItemType` says `Return`, `Sale` lines with a negative quantity, and every line of a
//!   `RetailTransaction` whose `@TransactionType`/`@TypeCode` or `TransactionType` child says
//!   `Return`/`Refund`) make a `pos.return`. Returned quantities and amounts are made positive;
//!   the event type says which way the goods went.
//! - A transaction with both makes two events, their event ids suffixed `/sale` and `/return`
//!   (both keep the transaction's own `transaction_id`, the receipt number). Each carries
//!   its own lines and, as its total, the sum of its lines' net amounts; tenders with
//!   `@TypeCode="Refund"` go with the return, all others with the sale.
//! - `customer`: `RetailTransaction/Customer/CustomerID`, else a `LoyaltyAccount/LoyaltyAccountID`.
//! - `original`: the first `TransactionLink` under a `Return` line, else under the
//!   `RetailTransaction` or `Transaction`. Its store (`RetailStoreID` or `BusinessUnit/UnitID`,
//!   default the returning store), workstation, business day and sequence number make the same
//!   id as above; a link without them but with a `TransactionID` uses that.
//! - `LineItem@VoidFlag="true"` or `LineItem@CancelFlag="true"` lines are voided and dropped: they
//!   are not demand. A retail transaction whose lines are all voided (or that has none) becomes a
//!   `pos.control` (`voided_lines` or `no_items`).
//!
//! Per line (`Sale` or `Return`):
//!
//! - `line`: `LineItem/SequenceNumber`, else the line's position.
//! - `item`: the GTIN is the first `ItemID` (typed `GTIN`/`EAN`/`UPC` or untyped) or
//!   `POSIdentity/POSItemID` (`@POSIDType` likewise) that is a valid GTIN; the SKU is the first
//!   other identifier (an untyped or SKU-typed `ItemID`, a `POSIdentity` of another type such as
//!   Visma's `RSID`, else an identifier typed GTIN that is not a valid one).
//! - `quantity`: the first `Quantity` with its `@UnitOfMeasureCode` (UN/ECE Rec 20; `KG`, `LB`,
//!   `G`, `L`, `M`, `EACH` are translated; absent means `EA`). Required and non-zero.
//! - `unit_price`: `RegularSalesUnitPrice`, else `ActualSalesUnitPrice`, else derived from the
//!   extended amount before discount divided by the quantity (the Visma samples give only
//!   `ExtendedAmount`).
//! - `discount`: the sum of the line's `RetailPriceModifier/Amount` (`@Action="Add"` counts as a
//!   negative discount, a surcharge); without modifiers the difference between the extended
//!   amounts (2.x) or `ExtendedDiscountAmount` (6.0), else `DiscountAmount`. `promotion`: the first
//!   modifier's `PromotionID`.
//! - `net_amount`: POSLog changed the meaning of the extended amounts between versions. For
//!   `@MajorVersion` below 6, `ExtendedAmount` is quantity times price before discounts and
//!   `ExtendedDiscountAmount` the amount after them, so the net is `ExtendedDiscountAmount`, else
//!   `ExtendedAmount` minus the discount. From 6.0 (and when the root gives no version) the
//!   `ExtendedAmount` is what the item sold for after modifiers and `ExtendedDiscountAmount` the
//!   discount, so the net is `ExtendedAmount`. Without extended amounts: unit price × quantity −
//!   discount. A line with neither a unit price nor an extended amount is rejected.
//! - `tax`: the sum of the line's `Tax/Amount`. Transaction-level tax (`LineItem/Tax` outside a
//!   line) cannot be attributed to a line and is only reflected in the total.
//!
//! Tenders (`LineItem/Tender` that is not voided): `@TenderType` (else a child `TenderType`, else
//! the name of a child such as `CreditDebit`) gives the method: `Cash` → cash; `CreditDebit`,
//! `CheckCard`, `Maestro` … → card; `GiftCard`, `StoredValue` → gift card; `Voucher`, `Coupon`,
//! `GiftCertificate` → voucher; `CustomerAccount`, `HouseAccount`, `StoreAccount` … → store credit;
//! `Mobile` → mobile; anything else → other. The amount is `Amount` less `TenderChange/Amount`
//! (the cash kept). The reference is `****` and the last four digits of a card, account or serial
//! number in the tender, never the full number. Tender lines without an amount (Visma's
//! `Tender/Rounding`) are not tenders and are skipped; the total stays unrounded.
//!
//! Total: `Total[@TotalType="TransactionGrandAmount"]`, else `TransactionNetAmount` (which the
//! ARTS schema describes as including VAT, and which is the amount due in the Visma samples),
//! else the sum of the line net amounts. A till that adds sales tax on top of the net amount and
//! sends no grand amount is therefore under-reported by the tax.
//!
//! Currency: the transaction's `CurrencyCode` child, else the first `@CurrencyCode` attribute in
//! the transaction (a `Total`, an `Amount`). POSLog has no document-level currency and the
//! context has no default, so a retail transaction (or a control transaction with an amount)
//! stating none is rejected, naming `Transaction/CurrencyCode` as the place for it.
//!
//! # Control transactions (`pos.control`, kept for till reconciliation, never demand)
//!
//! - A cancelled or voided transaction: `Transaction@CancelFlag="true"`, or
//!   `RetailTransaction@TransactionStatus` of `Canceled`/`Cancelled` (the Visma sample),
//!   `Voided`, `TransactionVoided`, `PostVoided`, `Suspended`, `SuspendedDeleted` → kind
//!   `cancelled`, `voided`, `post_voided`, `suspended`, `suspended_deleted`; the amount is the
//!   grand (else net) total when given. Its lines are not read.
//! - `Transaction@TrainingModeFlag="true"` → kind `training`.
//! - `ControlTransaction`: the kind comes from its first child naming an action:
//!   `OperatorSignOn` → `sign_on`, `OperatorSignOff`/`AutoSignoff` → `sign_off`, `TillSOD`/`POSSOD` →
//!   `till_open`, `TillEOD`/`POSEOD` → `till_close`, `BusinessSOD`/`BusinessEOD` →
//!   `business_day_open`/`business_day_close`, `NoSale` → `no_sale`, `ApplicationEvent` → its text
//!   (`CashDrawerOpen` → `cash_drawer_open`), any other → the element name in snake case.
//! - `TenderControlTransaction`: `TenderPickup` → `tender_pickup`, `TenderLoan` → `tender_loan`,
//!   `PaidIn`/`PaidOut`, `SafeDrop`, `TillSettle`, … in snake case. The amount is the sum of the
//!   `Amount` elements directly under the action or under its `Tender` elements.
//! - Any other transaction kind (`InventoryControlTransaction`, `FoodServiceTransaction`, …)
//!   becomes a control event named after it (`inventory_control`), so nothing is lost and nothing
//!   counts as demand.
//!
//! A `ControlTransaction` inside a `Transaction` that also has a `RetailTransaction` (the drawer
//! opening Visma logs with each receipt) belongs to the sale and is not a separate event.
//!
//! Every problem found in any transaction is reported with its line, column and XPath; one
//! problem rejects the whole document.

mod control;
mod lines;
mod retail;
mod tenders;
mod time;
mod transaction;
mod values;

use crate::xml::{Document, ElementId};
use crate::{Context, Format, Parsed, Problem, Sniff};

/// The namespace of ARTS IXRetail documents, POSLog 2.x and 6.0 alike.
pub const ARTS_NAMESPACE: &str = "http://www.nrf-arts.org/IXRetail/namespace/";

/// Whether the document is a POSLog: root `POSLog` in the ARTS namespace or in none.
pub fn detect(sniff: &Sniff<'_>) -> bool {
    sniff.xml_root.as_ref().is_some_and(|(ns, name)| name == "POSLog" && is_arts_namespace(ns))
}

fn is_arts_namespace(ns: &str) -> bool {
    ns.is_empty() || ns.starts_with(ARTS_NAMESPACE.trim_end_matches('/')) || ns.contains("nrf-arts.org")
}

/// Reads a POSLog document into one canonical event per transaction (two for a transaction
/// with sales and returns), or every problem found.
pub fn parse(bytes: &[u8], ctx: &Context) -> Result<Parsed, Vec<Problem>> {
    let doc = Document::parse(bytes).map_err(|p| vec![p])?;
    let root = doc.root();
    let root_element = doc.get(root);
    if root_element.name != "POSLog" || !is_arts_namespace(&root_element.namespace) {
        return Err(vec![doc.problem(
            root,
            format!(
                "the root element is <{}> in namespace {:?}; a POSLog document has root <POSLog> in {ARTS_NAMESPACE} or in no namespace",
                root_element.name, root_element.namespace
            ),
        )]);
    }
    let major_version =
        doc.attribute(root, "MajorVersion").and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(CURRENT_MAJOR_VERSION);
    let arts = Arts { doc: &doc, ns: &root_element.namespace, major_version };
    let mut problems = Vec::new();
    let mut events = Vec::new();
    let mut any = false;
    for t in arts.children(root, "Transaction") {
        any = true;
        events.extend(transaction::read(&arts, t, ctx, &mut problems));
    }
    if !any {
        problems.push(
            doc.problem(root, "the POSLog holds no Transaction element; expected one or more POSLog/Transaction"),
        );
    }
    if problems.is_empty() { Ok(Parsed { format: Format::PosLog, events, replies: Vec::new() }) } else { Err(problems) }
}

/// The major version assumed when the root does not say (the extended amounts mean what 6.0 says).
const CURRENT_MAJOR_VERSION: u32 = 6;

/// A POSLog document being read: the tree, the ARTS namespace its elements are in, and the
/// version its root declares.
pub(crate) struct Arts<'a> {
    doc: &'a Document,
    ns: &'a str,
    major_version: u32,
}

impl<'a> Arts<'a> {
    /// The ARTS children of `id` named `name`.
    fn children<'s>(&'s self, id: ElementId, name: &'s str) -> impl Iterator<Item = ElementId> + 's {
        self.doc.children(id, self.ns, name)
    }

    /// The first ARTS child of `id` named `name`.
    fn child(&self, id: ElementId, name: &str) -> Option<ElementId> {
        self.doc.child(id, self.ns, name)
    }

    /// The non-empty trimmed text of the ARTS child `name` of `id`.
    fn text(&self, id: ElementId, name: &str) -> Option<&'a str> {
        self.doc.child(id, self.ns, name).map(|e| self.doc.text(e)).filter(|t| !t.is_empty())
    }

    /// The non-empty trimmed text at a chain of ARTS children.
    fn text_at(&self, id: ElementId, names: &[&str]) -> Option<&'a str> {
        let mut at = id;
        for name in names {
            at = self.child(at, name)?;
        }
        Some(self.doc.text(at)).filter(|t| !t.is_empty())
    }

    /// The trimmed value of an attribute without namespace, when not empty.
    fn attribute(&self, id: ElementId, name: &str) -> Option<&'a str> {
        self.doc.attribute(id, name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Whether a boolean attribute is set (`true` or `1`).
    fn flag(&self, id: ElementId, name: &str) -> bool {
        self.attribute(id, name).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }

    /// The ARTS child elements of `id`, in document order.
    fn element_children(&self, id: ElementId) -> impl Iterator<Item = ElementId> + '_ {
        self.doc.get(id).children.iter().copied().filter(|&c| self.doc.get(c).namespace == self.ns)
    }

    /// The local name of an element.
    fn name(&self, id: ElementId) -> &'a str {
        &self.doc.get(id).name
    }

    /// Every element below `id` (any namespace), in document order.
    fn descendants(&self, id: ElementId) -> Vec<ElementId> {
        let mut out = Vec::new();
        let mut stack: Vec<ElementId> = self.doc.get(id).children.iter().rev().copied().collect();
        while let Some(e) = stack.pop() {
            out.push(e);
            stack.extend(self.doc.get(e).children.iter().rev().copied());
        }
        out
    }

    /// A problem at an element.
    fn problem(&self, id: ElementId, message: impl Into<String>) -> Problem {
        self.doc.problem(id, message)
    }
}
