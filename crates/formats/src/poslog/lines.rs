//! Item lines (`LineItem/Sale`, `LineItem/Return`) and the links of returns to their original sale.

use backroom_model::{DocumentNumber, Gtin, ItemRef, LocationId, Money, Quantity, SaleLine, SaleRef, Sku, UnitCode};
use rust_decimal::Decimal;

use super::Arts;
use super::time::parse_date;
use super::transaction::Header;
use super::values::{Invalid, Read, decimal_at, decimal_of, unit_code};
use crate::xml::ElementId;
use crate::{Problem, to_code};

/// Identifier types that name a GTIN (`GTIN`, `EAN13`, `UPC-A`, …).
fn is_gtin_type(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    t.contains("GTIN") || t.contains("EAN") || t.contains("UPC")
}

/// One item line read from the document.
pub(crate) struct ItemLine {
    /// Whether the goods came back.
    pub is_return: bool,
    /// The line.
    pub line: SaleLine,
    /// The sale a returned line refunds, when the line links to it.
    pub original: Option<SaleRef>,
}

/// The item lines of a retail transaction.
pub(crate) struct Items {
    /// The lines kept, in document order.
    pub lines: Vec<ItemLine>,
    /// How many item lines were voided and dropped.
    pub voided: usize,
}

/// Whether a line item was voided or cancelled at the till.
pub(crate) fn is_voided(a: &Arts<'_>, line_item: ElementId) -> bool {
    a.flag(line_item, "VoidFlag") || a.flag(line_item, "CancelFlag")
}

/// Whether the whole retail transaction is declared a return.
fn is_return_transaction(a: &Arts<'_>, rt: ElementId) -> bool {
    let says_return = |v: &str| v.eq_ignore_ascii_case("Return") || v.eq_ignore_ascii_case("Refund");
    a.attribute(rt, "TransactionType").is_some_and(says_return)
        || a.attribute(rt, "TypeCode").is_some_and(says_return)
        || a.text(rt, "TransactionType").is_some_and(says_return)
}

/// Reads every item line of a retail transaction; amounts in `currency`.
pub(crate) fn read(a: &Arts<'_>, h: &Header, rt: ElementId, currency: &str, problems: &mut Vec<Problem>) -> Items {
    let return_transaction = is_return_transaction(a, rt);
    let mut items = Items { lines: Vec::new(), voided: 0 };
    for (index, li) in a.children(rt, "LineItem").enumerate() {
        let elements: Vec<(ElementId, bool)> =
            a.children(li, "Sale").map(|s| (s, false)).chain(a.children(li, "Return").map(|r| (r, true))).collect();
        if elements.is_empty() {
            continue;
        }
        if is_voided(a, li) {
            items.voided += elements.len();
            continue;
        }
        let number = a
            .text(li, "SequenceNumber")
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or_else(|| u32::try_from(index + 1).unwrap_or(u32::MAX));
        for (element, is_return_element) in elements {
            let returned = is_return_element || return_transaction;
            if let Ok(line) = read_line(a, h, element, number, returned, currency, problems) {
                items.lines.push(line);
            }
        }
    }
    items
}

fn read_line(
    a: &Arts<'_>,
    h: &Header,
    el: ElementId,
    number: u32,
    returned: bool,
    currency: &str,
    problems: &mut Vec<Problem>,
) -> Result<ItemLine, Invalid> {
    let before = problems.len();
    let what = format!("line {number} ({})", a.name(el));
    let item = item_ref(a, el);
    if item.is_none() {
        problems.push(
            a.problem(el, format!("{what} names no item: expected ItemID or POSIdentity/POSItemID with a GTIN or SKU")),
        );
    }
    let quantity = quantity(a, el, &what, problems);
    let regular = decimal_at(a, el, "RegularSalesUnitPrice", problems);
    let actual = decimal_at(a, el, "ActualSalesUnitPrice", problems);
    let extended = decimal_at(a, el, "ExtendedAmount", problems);
    let extended_discount = decimal_at(a, el, "ExtendedDiscountAmount", problems);
    let discount_amount = decimal_at(a, el, "DiscountAmount", problems);
    let (modifiers, promotion) = modifiers(a, el, problems);
    let tax = tax(a, el, problems);
    let original = a.child(el, "TransactionLink").and_then(|l| sale_ref(a, h, l, problems));
    let (Ok(item), Ok((value, unit)), Ok(regular), Ok(actual), Ok(extended), Ok(extended_discount)) =
        (item.ok_or(Invalid), quantity, regular, actual, extended, extended_discount)
    else {
        return Err(Invalid);
    };
    let (Ok(discount_amount), Ok(modifiers), Ok(tax)) = (discount_amount, modifiers, tax) else {
        return Err(Invalid);
    };
    if problems.len() != before {
        return Err(Invalid);
    }
    let overflow = |problems: &mut Vec<Problem>| {
        problems.push(a.problem(el, format!("{what}: the amounts are too large to compute with")));
        Invalid
    };
    let before_v6 = a.major_version < 6;
    let discount = match (modifiers, before_v6, extended, extended_discount) {
        (Some(m), _, _, _) => Some(m),
        (None, true, Some(e), Some(d)) => Some(e.checked_sub(d).ok_or_else(|| overflow(problems))?),
        (None, false, _, Some(d)) => Some(d),
        _ => discount_amount,
    };
    let discount_or_zero = discount.unwrap_or_default();
    let net = if before_v6 {
        match (extended_discount, extended) {
            (Some(d), _) => Some(d),
            (None, Some(e)) => Some(e.checked_sub(discount_or_zero).ok_or_else(|| overflow(problems))?),
            _ => None,
        }
    } else {
        extended
    };
    let unit_price = match (regular.or(actual), net) {
        (Some(p), _) => p,
        (None, Some(n)) => n
            .checked_add(discount_or_zero)
            .and_then(|gross| gross.checked_div(value))
            .map(|p| p.round_dp(6))
            .ok_or_else(|| overflow(problems))?,
        (None, None) => {
            problems.push(a.problem(
                el,
                format!("{what} has no price: expected RegularSalesUnitPrice, ActualSalesUnitPrice or ExtendedAmount"),
            ));
            return Err(Invalid);
        }
    };
    let net = match net {
        Some(n) => n,
        None => unit_price
            .checked_mul(value)
            .and_then(|g| g.checked_sub(discount_or_zero))
            .ok_or_else(|| overflow(problems))?,
    };
    let item_type_return = a.attribute(el, "ItemType").is_some_and(|t| t.to_ascii_lowercase().contains("return"));
    let is_return = returned || item_type_return || value.is_sign_negative();
    // Returns are recorded with positive quantities and amounts, whichever sign the till used.
    let flip = is_return && net.is_sign_negative();
    let signed = |d: Decimal| if flip { -d } else { d };
    let money = |d: Decimal| Money::new(d, currency);
    let line = SaleLine {
        line: number,
        item,
        quantity: Quantity { value: value.abs(), unit: UnitCode(unit) },
        unit_price: money(if is_return { unit_price.abs() } else { unit_price }),
        discount: discount.filter(|d| !d.is_zero()).map(|d| money(signed(d))),
        tax: tax.map(|t| money(signed(t))),
        net_amount: money(signed(net)),
        promotion: promotion.as_deref().and_then(to_code).map(DocumentNumber),
    };
    Ok(ItemLine { is_return, line, original })
}

/// The item: GTIN and SKU from `ItemID` and `POSIdentity/POSItemID`.
fn item_ref(a: &Arts<'_>, el: ElementId) -> Option<ItemRef> {
    let mut ids: Vec<(Option<&str>, &str)> = Vec::new();
    for i in a.children(el, "ItemID") {
        let kind = a.attribute(i, "Type").or_else(|| a.attribute(i, "TypeCode"));
        ids.push((kind, a.doc.text(i)));
    }
    for p in a.children(el, "POSIdentity") {
        let kind = a.attribute(p, "POSIDType").or_else(|| a.attribute(p, "Type"));
        if let Some(v) = a.text(p, "POSItemID").or_else(|| a.text(p, "ItemID")) {
            ids.push((kind, v));
        }
    }
    ids.retain(|(_, v)| !v.is_empty());
    let gtin =
        ids.iter().find(|(kind, v)| kind.is_none_or(is_gtin_type) && Gtin((*v).to_owned()).is_valid()).map(|(_, v)| *v);
    let others = || ids.iter().filter(|(_, v)| Some(*v) != gtin);
    let sku = others()
        .find(|(kind, _)| !kind.is_some_and(is_gtin_type))
        .or_else(|| others().next())
        .and_then(|(_, v)| to_code(v));
    (gtin.is_some() || sku.is_some()).then(|| ItemRef { gtin: gtin.map(|g| Gtin(g.to_owned())), sku: sku.map(Sku) })
}

/// The first `Quantity`: its value (not zero) and its Rec 20 unit.
fn quantity(
    a: &Arts<'_>,
    el: ElementId,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Result<(Decimal, String), Invalid> {
    let Some(q) = a.child(el, "Quantity") else {
        problems.push(a.problem(
            el,
            format!("{what} has no Quantity: expected Quantity with the number of units and its UnitOfMeasureCode"),
        ));
        return Err(Invalid);
    };
    let value = decimal_of(a, q, "Quantity", problems)?;
    if value.is_zero() {
        problems.push(
            a.problem(q, format!("{what} has quantity 0: a sold or returned line needs a quantity other than zero")),
        );
        return Err(Invalid);
    }
    let raw = a.attribute(q, "UnitOfMeasureCode").unwrap_or("EA");
    match unit_code(raw) {
        Some(unit) => Ok((value, unit)),
        None => {
            problems.push(a.problem(
                q,
                format!("{what}: UnitOfMeasureCode {raw:?} is not a UN/ECE Rec 20 unit; expected a code such as EA, KGM, LTR or MTR"),
            ));
            Err(Invalid)
        }
    }
}

/// The sum of the line's `RetailPriceModifier` amounts (a surcharge, `@Action="Add"`, counts
/// negative) and the first promotion id.
fn modifiers(a: &Arts<'_>, el: ElementId, problems: &mut Vec<Problem>) -> (Read<Decimal>, Option<String>) {
    let mut sum: Option<Decimal> = None;
    let mut promotion = None;
    let mut invalid = false;
    for m in a.children(el, "RetailPriceModifier") {
        if promotion.is_none() {
            promotion =
                a.text(m, "PromotionID").or_else(|| a.text_at(m, &["Promotion", "PromotionID"])).map(str::to_owned);
        }
        let Some(amount) = a.child(m, "Amount") else {
            continue;
        };
        let Ok(v) = decimal_of(a, amount, "RetailPriceModifier/Amount", problems) else {
            invalid = true;
            continue;
        };
        let action = a.attribute(amount, "Action").or_else(|| a.attribute(m, "Action"));
        let v = if action.is_some_and(|x| x.eq_ignore_ascii_case("Add")) { -v.abs() } else { v };
        match sum.unwrap_or_default().checked_add(v) {
            Some(s) => sum = Some(s),
            None => {
                problems.push(a.problem(m, "the price modifiers are too large to add up"));
                invalid = true;
            }
        }
    }
    (if invalid { Err(Invalid) } else { Ok(sum) }, promotion)
}

/// The sum of the line's `Tax/Amount`.
fn tax(a: &Arts<'_>, el: ElementId, problems: &mut Vec<Problem>) -> Read<Decimal> {
    let mut sum: Option<Decimal> = None;
    for t in a.children(el, "Tax") {
        if let Some(v) = decimal_at(a, t, "Amount", problems)? {
            sum = Some(sum.unwrap_or_default().checked_add(v).ok_or_else(|| {
                problems.push(a.problem(t, "the tax amounts are too large to add up"));
                Invalid
            })?);
        }
    }
    Ok(sum)
}

/// The sale a `TransactionLink` points at.
pub(crate) fn sale_ref(a: &Arts<'_>, h: &Header, link: ElementId, problems: &mut Vec<Problem>) -> Option<SaleRef> {
    let store = a
        .text(link, "RetailStoreID")
        .or_else(|| a.text_at(link, &["BusinessUnit", "UnitID"]))
        .and_then(to_code)
        .unwrap_or_else(|| h.store.clone());
    let day = match a.child(link, "BusinessDayDate") {
        Some(e) => {
            let day = parse_date(a.doc.text(e));
            if day.is_none() {
                problems.push(
                    a.problem(e, format!("BusinessDayDate {:?} is not a date; expected YYYY-MM-DD", a.doc.text(e))),
                );
            }
            day
        }
        None => None,
    };
    let workstation = a.text(link, "WorkstationID").and_then(to_code);
    let sequence = a.text(link, "SequenceNumber").and_then(to_code);
    let id = match (&workstation, &sequence, day) {
        (Some(w), Some(s), Some(d)) => to_code(&format!("{store}-{w}-{d}-{s}")),
        _ => a.text(link, "TransactionID").and_then(to_code),
    }?;
    Some(SaleRef { transaction_id: DocumentNumber(id), location: LocationId(store), business_day: day })
}
