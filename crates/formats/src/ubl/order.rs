//! UBL `Order` (Peppol BIS Ordering / Order only 3.0) → `po.created` [`PurchaseOrder`].

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, LocationId, Money, NewEvent, PurchaseOrder, PurchaseOrderLine,
    SupplierId,
};

use super::common::{Reader, per_unit};
use crate::xml::{Document, ElementId};
use crate::{Context, Problem, to_code};

/// Reads an order into its `po.created` event.
///
/// - `po_number` ← `cbc:ID`; `ordered_on` ← `cbc:IssueDate`; `currency` ←
///   `cbc:DocumentCurrencyCode`;
/// - `supplier` ← `cac:SellerSupplierParty/cac:Party` (party id, else VAT, registration, endpoint);
/// - `ship_to` ← `cac:Delivery/cac:DeliveryLocation/cbc:ID`, else
///   `cac:BuyerCustomerParty/cac:Party` (party id, else endpoint);
/// - `expected_on` ← `cac:Delivery/cac:RequestedDeliveryPeriod/cbc:StartDate` (else `EndDate`),
///   left out when it is before the order day (a stale example date cannot be a delivery day);
/// - `buyer` ← `cac:BuyerCustomerParty/cac:Party/cac:Contact/cbc:Name`;
/// - lines ← `cac:OrderLine/cac:LineItem`: `cbc:ID` (line number when all are whole numbers,
///   else position), `cbc:Quantity@unitCode`, item from `cac:Item`, unit price
///   `cac:Price/cbc:PriceAmount ÷ cbc:BaseQuantity`, else `cbc:LineExtensionAmount ÷ quantity`,
///   else zero (a Peppol order may leave prices out).
pub fn parse(doc: &Document, ctx: &Context) -> Result<Vec<NewEvent>, Vec<Problem>> {
    let mut r = Reader::new(doc);
    let root = doc.root();
    let po_number = r.required_code(root, "ID", "order number");
    let ordered_on = r.date(root, "IssueDate");
    if ordered_on.is_none() && r.cbc(root, "IssueDate").is_none() {
        r.problem(root, "the order has no cbc:IssueDate; the order day is required");
    }
    let supplier = r.role_code(root, "SellerSupplierParty");
    if supplier.is_none() {
        r.problem(root, "the order names no supplier: cac:SellerSupplierParty/cac:Party needs a party identifier, VAT number, registration or endpoint");
    }
    let buyer_party = r.path(root, &["BuyerCustomerParty", "Party"]);
    let delivery = r.cac(root, "Delivery");
    let ship_to = delivery
        .and_then(|d| r.reference(d, &["DeliveryLocation"], "ID"))
        .and_then(|t| to_code(&t))
        .or_else(|| buyer_party.and_then(|p| r.place_code(p)));
    if ship_to.is_none() {
        r.problem(root, "the order names no delivery place: give cac:Delivery/cac:DeliveryLocation/cbc:ID or identify cac:BuyerCustomerParty");
    }
    let expected = delivery.and_then(|d| r.path(d, &["RequestedDeliveryPeriod"])).and_then(|p| {
        let start = r.date(p, "StartDate");
        let end = r.date(p, "EndDate");
        start.or(end)
    });
    let expected_on = expected.filter(|e| ordered_on.is_none_or(|o| *e >= o));
    let currency = currency(&mut r, root);
    let buyer = buyer_party
        .and_then(|p| r.text_in(p, &["Contact"], "Name"))
        .or_else(|| buyer_party.and_then(|p| r.party(p).name));

    let order_lines = r.cacs(root, "OrderLine");
    if order_lines.is_empty() {
        r.problem(root, "the order has no cac:OrderLine; at least one line is required");
    }
    let items: Vec<Option<ElementId>> = order_lines.iter().map(|&l| r.cac(l, "LineItem")).collect();
    let ids: Vec<Option<String>> = items.iter().map(|i| i.and_then(|i| r.text(i, "ID"))).collect();
    let numbers = r.line_numbers(&ids);
    let mut lines = Vec::new();
    for ((&order_line, item), line) in order_lines.iter().zip(&items).zip(numbers) {
        let Some(li) = *item else {
            r.problem(order_line, "cac:OrderLine has no cac:LineItem");
            continue;
        };
        let what = format!("order line {line}");
        let quantity = r.quantity(li, "Quantity");
        if quantity.is_none() && r.cbc(li, "Quantity").is_none() {
            r.problem(li, format!("{what} has no cbc:Quantity; the ordered quantity is required"));
        }
        let item = r.line_item(li, &what);
        let price = match r.cac(li, "Price") {
            Some(p) if r.cbc(p, "PriceAmount").is_some() => r.unit_price(p, &currency),
            _ => {
                let net = r.amount(li, "LineExtensionAmount", &currency);
                match (net, &quantity) {
                    (Some(n), Some(q)) if !q.value.is_zero() => per_unit(n, q.value),
                    _ => Some(rust_decimal::Decimal::ZERO),
                }
            }
        };
        if let (Some(item), Some(quantity), Some(price)) = (item, quantity, price) {
            lines.push(PurchaseOrderLine {
                line,
                item,
                quantity,
                unit_price: Money { amount: price, currency: Currency(currency.clone()) },
            });
        }
    }
    match (po_number, supplier, ship_to, ordered_on) {
        (Some(po), Some(supplier), Some(ship_to), Some(ordered_on)) if r.problems.is_empty() => {
            let buyer_code = buyer_party.and_then(|p| r.party(p).code()).unwrap_or_else(|| ship_to.clone());
            let occurred_at = r.issued_at(root, ordered_on, ctx);
            if !r.problems.is_empty() {
                return Err(r.problems);
            }
            let order = PurchaseOrder {
                po_number: DocumentNumber(po.clone()),
                supplier: SupplierId(supplier),
                ship_to: LocationId(ship_to),
                ordered_on,
                expected_on,
                currency: Currency(currency),
                buyer,
                lines,
            };
            Ok(vec![NewEvent::new(
                format!("ubl/order/{buyer_code}/{po}"),
                EventType::PoCreated,
                ctx.source_or(|| format!("ubl/{buyer_code}")),
                occurred_at,
                EventPayload::PurchaseOrder(order),
            )])
        }
        _ => Err(r.problems),
    }
}

/// The document currency: `cbc:DocumentCurrencyCode`, else the `currencyID` of the first price
/// or line amount; a problem when there is none.
pub(super) fn currency(r: &mut Reader<'_>, root: ElementId) -> String {
    match find_currency(r, root) {
        Some(c) => c,
        None => {
            r.problem(
                root,
                "the document has no cbc:DocumentCurrencyCode and no amount with a currencyID; an ISO 4217 currency is required",
            );
            String::new()
        }
    }
}

/// `cbc:DocumentCurrencyCode`, else the `currencyID` of the first line price or amount.
pub(super) fn find_currency(r: &Reader<'_>, root: ElementId) -> Option<String> {
    if let Some(c) = r.text(root, "DocumentCurrencyCode") {
        return Some(c);
    }
    r.cacs(root, "OrderLine").into_iter().find_map(|l| {
        let li = r.cac(l, "LineItem")?;
        let amount =
            r.cac(li, "Price").and_then(|p| r.cbc(p, "PriceAmount")).or_else(|| r.cbc(li, "LineExtensionAmount"))?;
        r.doc.attribute(amount, "currencyID").map(|c| c.trim().to_owned())
    })
}
