//! Invoice lines (BG-25, `ram:IncludedSupplyChainTradeLineItem`) in CII.

use rust_decimal::Decimal;

use crate::en16931::SemanticLine;
use crate::xml::ElementId;

use super::RAM;
use super::terms::Terms;

const AGREEMENT: (&str, &str) = (RAM, "SpecifiedLineTradeAgreement");
const DELIVERY: (&str, &str) = (RAM, "SpecifiedLineTradeDelivery");
const SETTLEMENT: (&str, &str) = (RAM, "SpecifiedLineTradeSettlement");
const PRODUCT: (&str, &str) = (RAM, "SpecifiedTradeProduct");

/// Reads every line of the transaction, in document order.
pub(super) fn read(t: &mut Terms<'_>, transaction: ElementId) -> Vec<SemanticLine> {
    let items: Vec<ElementId> = t.doc.children(transaction, RAM, "IncludedSupplyChainTradeLineItem").collect();
    items.into_iter().map(|item| line(t, item)).collect()
}

/// One line:
///
/// - BT-126 `ram:AssociatedDocumentLineDocument/ram:LineID` (BR-21);
/// - BT-129/BT-130 `ram:SpecifiedLineTradeDelivery/ram:BilledQuantity` and its `unitCode`
///   (BR-22, BR-23);
/// - BT-131 `ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/
///   ram:LineTotalAmount` (BR-24);
/// - BT-146 `ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount`
///   (BR-26) and BT-149 its `ram:BasisQuantity`;
/// - BT-132 `ram:SpecifiedLineTradeAgreement/ram:BuyerOrderReferencedDocument/ram:LineID`;
/// - BT-157 `ram:SpecifiedTradeProduct/ram:GlobalID` with `schemeID`, BT-155
///   `ram:SellerAssignedID`, BT-156 `ram:BuyerAssignedID`, BT-153 `ram:Name`;
/// - BT-151/BT-152 `ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode`
///   and `ram:RateApplicablePercent`.
fn line(t: &mut Terms<'_>, item: ElementId) -> SemanticLine {
    let id = t
        .required_text(
            item,
            &[(RAM, "AssociatedDocumentLineDocument"), (RAM, "LineID")],
            "BT-126 line identifier",
            "BR-21",
        )
        .unwrap_or_default();
    let quantity_steps = [DELIVERY, (RAM, "BilledQuantity")];
    let quantity = t.required_decimal(item, &quantity_steps, "BT-129 invoiced quantity", "BR-22");
    let unit = match t.doc.descend(item, &quantity_steps) {
        Some(q) => {
            let unit = t.doc.attribute(q, "unitCode").map(str::trim).unwrap_or_default().to_owned();
            if unit.is_empty() {
                let message = "BT-130 unit of measure is missing: expected a unitCode attribute (UN/ECE Rec 20, such as C62 or H87)";
                t.report(q, Some("BR-23"), message.to_owned());
            }
            unit
        }
        None => String::new(),
    };
    let net_amount = t.required_decimal(
        item,
        &[SETTLEMENT, (RAM, "SpecifiedTradeSettlementLineMonetarySummation"), (RAM, "LineTotalAmount")],
        "BT-131 invoice line net amount",
        "BR-24",
    );
    let price_steps = [AGREEMENT, (RAM, "NetPriceProductTradePrice")];
    let price = t.required_decimal(
        item,
        &[AGREEMENT, (RAM, "NetPriceProductTradePrice"), (RAM, "ChargeAmount")],
        "BT-146 item net price",
        "BR-26",
    );
    let base_quantity = t
        .doc
        .descend(item, &price_steps)
        .and_then(|p| t.decimal(p, &[(RAM, "BasisQuantity")], "BT-149 price base quantity"));
    let product = t.doc.descend(item, &[PRODUCT]);
    let product_text = |name: &str| product.and_then(|p| t.text(p, &[(RAM, name)]));
    let standard_item_id = product.and_then(|p| t.doc.child(p, RAM, "GlobalID")).and_then(|g| {
        let value = t.doc.text(g);
        (!value.is_empty()).then(|| (t.doc.attribute(g, "schemeID").map(str::to_owned), value.to_owned()))
    });
    let name = product_text("Name");
    let seller_item_id = product_text("SellerAssignedID");
    let buyer_item_id = product_text("BuyerAssignedID");
    let tax = t.doc.descend(item, &[SETTLEMENT, (RAM, "ApplicableTradeTax")]);
    let vat_category = tax.and_then(|x| t.text(x, &[(RAM, "CategoryCode")]));
    let vat_rate = tax.and_then(|x| t.decimal(x, &[(RAM, "RateApplicablePercent")], "BT-152 VAT rate"));
    SemanticLine {
        id,
        quantity: quantity.unwrap_or(Decimal::ZERO),
        unit,
        net_amount: net_amount.unwrap_or(Decimal::ZERO),
        price: price.unwrap_or(Decimal::ZERO),
        base_quantity,
        order_line: t.text(item, &[AGREEMENT, (RAM, "BuyerOrderReferencedDocument"), (RAM, "LineID")]),
        name,
        seller_item_id,
        buyer_item_id,
        standard_item_id,
        vat_category,
        vat_rate,
    }
}
