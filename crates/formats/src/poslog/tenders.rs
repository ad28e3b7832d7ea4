//! Tenders (`LineItem/Tender`) and transaction totals (`Total@TotalType`).

use backroom_model::{Money, Tender, TenderMethod};
use rust_decimal::Decimal;

use super::Arts;
use super::lines::is_voided;
use super::values::{decimal_at, decimal_of};
use crate::Problem;
use crate::xml::ElementId;

/// The totals of a retail transaction that Backroom uses.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Totals {
    /// `TransactionGrandAmount`: what the customer pays.
    pub grand: Option<Decimal>,
    /// `TransactionNetAmount`: after discounts, VAT included, added-on tax excluded.
    pub net: Option<Decimal>,
}

impl Totals {
    /// Reads the `Total` elements of a `RetailTransaction`.
    pub(crate) fn read(a: &Arts<'_>, rt: ElementId, problems: &mut Vec<Problem>) -> Totals {
        let mut totals = Totals::default();
        for t in a.children(rt, "Total") {
            let slot = match a.attribute(t, "TotalType") {
                Some("TransactionGrandAmount") => &mut totals.grand,
                Some("TransactionNetAmount") => &mut totals.net,
                _ => continue,
            };
            if let Ok(v) = decimal_of(a, t, "Total", problems)
                && slot.is_none()
            {
                *slot = Some(v);
            }
        }
        totals
    }
}

/// One tender of a retail transaction.
pub(crate) struct ReadTender {
    /// The tender.
    pub tender: Tender,
    /// Whether it paid money back (`@TypeCode="Refund"`).
    pub refund: bool,
}

/// The tenders of a retail transaction, in `currency`; tender lines without an amount (rounding)
/// and voided ones are skipped.
pub(crate) fn read(a: &Arts<'_>, rt: ElementId, currency: &str, problems: &mut Vec<Problem>) -> Vec<ReadTender> {
    let mut out = Vec::new();
    for line in a.children(rt, "LineItem") {
        if is_voided(a, line) {
            continue;
        }
        for t in a.children(line, "Tender") {
            let Ok(Some(amount)) = decimal_at(a, t, "Amount", problems) else {
                continue;
            };
            let change = a
                .child(t, "TenderChange")
                .and_then(|c| decimal_at(a, c, "Amount", problems).ok().flatten())
                .unwrap_or_default();
            let amount = amount.checked_sub(change).unwrap_or(amount);
            let refund = a.attribute(t, "TypeCode").is_some_and(|c| c.eq_ignore_ascii_case("Refund"));
            let tender =
                Tender { method: method(a, t), amount: Money::new(amount, currency), reference: reference(a, t) };
            out.push(ReadTender { tender, refund });
        }
    }
    out
}

fn method(a: &Arts<'_>, t: ElementId) -> TenderMethod {
    let named = a.attribute(t, "TenderType").or_else(|| a.text(t, "TenderType"));
    let name = named.or_else(|| {
        a.element_children(t)
            .map(|c| a.name(c))
            .find(|n| !matches!(*n, "Amount" | "TenderChange" | "Rounding" | "TenderID"))
    });
    let Some(name) = name else {
        return TenderMethod::Other;
    };
    let name = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
    match name.as_str() {
        "cash" => TenderMethod::Cash,
        "creditdebit"
        | "credit"
        | "debit"
        | "creditcard"
        | "debitcard"
        | "checkcard"
        | "internationalmaestro"
        | "ukmaestro"
        | "card" => TenderMethod::Card,
        "giftcard" | "storedvalue" => TenderMethod::GiftCard,
        "voucher" | "coupon" | "manufacturercoupon" | "giftcertificate" => TenderMethod::Voucher,
        "customeraccount" | "houseaccount" | "storeaccount" | "accountsreceivable" | "storecredit" => {
            TenderMethod::StoreCredit
        }
        "mobile" => TenderMethod::Mobile,
        _ => TenderMethod::Other,
    }
}

/// `****` and the last four digits of the first card, account or serial number in the tender.
fn reference(a: &Arts<'_>, t: ElementId) -> Option<String> {
    const NUMBERS: &[&str] = &["PrimaryAccountNumber", "CardNumber", "SerialNumber", "AccountNumber"];
    let number = a.descendants(t).into_iter().find(|&e| NUMBERS.contains(&a.name(e)))?;
    let digits: Vec<char> = a.doc.text(number).chars().filter(char::is_ascii_digit).collect();
    let last4: String = digits.get(digits.len().saturating_sub(4)..)?.iter().collect();
    (!last4.is_empty()).then(|| format!("****{last4}"))
}
