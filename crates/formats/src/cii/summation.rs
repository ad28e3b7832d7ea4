//! Document totals (BG-22, `ram:SpecifiedTradeSettlementHeaderMonetarySummation`) in CII.

use crate::en16931::SemanticInvoice;
use crate::xml::ElementId;

use super::RAM;
use super::terms::Terms;

/// Reads the monetary summation under `ram:ApplicableHeaderTradeSettlement`:
/// BT-106 `ram:LineTotalAmount` (BR-12), BT-107 `ram:AllowanceTotalAmount`, BT-108
/// `ram:ChargeTotalAmount`, BT-109 `ram:TaxBasisTotalAmount` (BR-13), BT-110
/// `ram:TaxTotalAmount` whose `currencyID` is the invoice currency (a second one in the VAT
/// accounting currency, BT-111, is skipped), BT-112 `ram:GrandTotalAmount` (BR-14), BT-113
/// `ram:TotalPrepaidAmount` and BT-115 `ram:DuePayableAmount` (BR-15).
pub(super) fn read(t: &mut Terms<'_>, settlement: ElementId, invoice: &mut SemanticInvoice) {
    let steps = [(RAM, "SpecifiedTradeSettlementHeaderMonetarySummation")];
    let Some(sum) = t.doc.descend(settlement, &steps) else {
        t.missing(settlement, &steps, "BG-22 document totals", "BR-12");
        return;
    };
    invoice.line_total =
        t.required_decimal(sum, &[(RAM, "LineTotalAmount")], "BT-106 sum of line net amounts", "BR-12");
    invoice.allowance_total = t.decimal(sum, &[(RAM, "AllowanceTotalAmount")], "BT-107 sum of allowances");
    invoice.charge_total = t.decimal(sum, &[(RAM, "ChargeTotalAmount")], "BT-108 sum of charges");
    invoice.tax_exclusive =
        t.required_decimal(sum, &[(RAM, "TaxBasisTotalAmount")], "BT-109 total without VAT", "BR-13");
    invoice.tax_total = tax_total(t, sum, &invoice.currency);
    invoice.tax_inclusive = t.required_decimal(sum, &[(RAM, "GrandTotalAmount")], "BT-112 total with VAT", "BR-14");
    invoice.prepaid = t.decimal(sum, &[(RAM, "TotalPrepaidAmount")], "BT-113 paid amount");
    invoice.payable = t.required_decimal(sum, &[(RAM, "DuePayableAmount")], "BT-115 amount due", "BR-15");
}

/// BT-110: the `ram:TaxTotalAmount` in the invoice currency (or without `currencyID` when
/// there is only one).
fn tax_total(t: &mut Terms<'_>, sum: ElementId, currency: &str) -> Option<rust_decimal::Decimal> {
    let totals: Vec<ElementId> = t.doc.children(sum, RAM, "TaxTotalAmount").collect();
    let chosen = totals
        .iter()
        .copied()
        .find(|&e| t.doc.attribute(e, "currencyID").is_some_and(|c| c.trim() == currency))
        .or_else(|| match totals.as_slice() {
            [only] if t.doc.attribute(*only, "currencyID").is_none() => Some(*only),
            _ => None,
        });
    match chosen {
        Some(e) => {
            let value = super::terms::plain_decimal(t.doc.text(e));
            if value.is_none() {
                let message = format!("BT-110 total VAT {:?} is not a decimal number, such as 19.00", t.doc.text(e));
                t.report(e, None, message);
            }
            value
        }
        None if totals.is_empty() => None,
        None => {
            let message = format!(
                "BT-110 total VAT: no ram:TaxTotalAmount has currencyID {currency:?}, the invoice currency (BT-5)"
            );
            t.report(totals.first().copied().unwrap_or(sum), None, message);
            None
        }
    }
}
