//! Decimal arithmetic for amounts and quantities.

use backroom_model::{ItemRef, Money, Quantity};
use rust_decimal::{Decimal, RoundingStrategy};

/// An amount rounded half away from zero to cents, always with two decimals ("12.50").
pub(crate) fn cents(amount: Decimal) -> Decimal {
    let mut d = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    d
}

/// Money in the retailer's currency, rounded to cents.
pub(crate) fn money(amount: Decimal, currency: &str) -> Money {
    Money::new(cents(amount), currency)
}

/// A whole quantity of each.
pub(crate) fn each(units: i64) -> Quantity {
    Quantity::each(Decimal::from(units))
}

/// An item named by both its GTIN and SKU.
pub(crate) fn item_ref(gtin: &str, sku: &str) -> ItemRef {
    ItemRef { gtin: Some(backroom_model::Gtin(gtin.to_owned())), sku: Some(backroom_model::Sku(sku.to_owned())) }
}

/// The tax contained in a tax-inclusive amount at `rate_percent`.
pub(crate) fn included_tax(gross: Decimal, rate_percent: Decimal) -> Decimal {
    let rate = rate_percent / Decimal::ONE_HUNDRED;
    cents(gross - gross / (Decimal::ONE + rate))
}

/// Tax on a net amount at `rate_percent`.
pub(crate) fn tax_on(net: Decimal, rate_percent: Decimal) -> Decimal {
    cents(net * rate_percent / Decimal::ONE_HUNDRED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_keep_two_decimals() {
        assert_eq!(cents(Decimal::new(125, 1)).to_string(), "12.50");
        assert_eq!(cents(Decimal::new(12345, 3)).to_string(), "12.35");
        assert_eq!(included_tax(Decimal::new(1055, 2), Decimal::new(55, 1)).to_string(), "0.55");
        assert_eq!(tax_on(Decimal::from(100), Decimal::from(20)).to_string(), "20.00");
    }
}
