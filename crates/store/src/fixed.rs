//! Fixed-point storage of decimals: four decimal places in a 64-bit integer, so that projections
//! add exactly in SQL on both backends.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places kept by projections.
pub const SCALE: u32 = 4;

/// Converts a decimal to fixed point, rounding half away from zero beyond four places.
pub fn to_fixed(d: Decimal) -> i64 {
    let scaled =
        (d * Decimal::from(10_i64.pow(SCALE))).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    // Validation bounds every quantity and amount below 10^12, so this cannot overflow.
    scaled.to_i64().unwrap_or(if d.is_sign_negative() { i64::MIN } else { i64::MAX })
}

/// Converts fixed point back to a decimal.
pub fn from_fixed(v: i64) -> Decimal {
    Decimal::new(v, SCALE).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in ["0", "1", "-2.5", "0.0001", "123456789.1234"] {
            let d: Decimal = s.parse().unwrap();
            assert_eq!(from_fixed(to_fixed(d)), d);
        }
        assert_eq!(to_fixed("0.00005".parse().unwrap()), 1);
        assert_eq!(to_fixed("-0.00005".parse().unwrap()), -1);
    }
}
