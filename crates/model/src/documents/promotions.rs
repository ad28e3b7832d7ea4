//! Promotions scheduled by merchandising.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{DocumentNumber, ItemRef, LocationId};
use crate::money::{DecimalSchema, Money};
use crate::validate::{Checker, Path};

/// A promotion: items on offer at locations between two days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// The promotion code.
    pub promotion_id: DocumentNumber,
    /// Its name as shown to staff.
    pub name: String,
    /// The first day of the offer.
    pub starts_on: NaiveDate,
    /// The last day of the offer.
    pub ends_on: NaiveDate,
    /// The stores taking part.
    pub locations: Vec<LocationId>,
    /// The promoted items.
    pub items: Vec<PromotionItem>,
}

/// One promoted item with its offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionItem {
    /// The item.
    pub item: ItemRef,
    /// The promotional price per unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_price: Option<Money>,
    /// The discount off the shelf price, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalSchema>")]
    pub discount_percent: Option<Decimal>,
    /// The expected uplift in demand, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalSchema>")]
    pub expected_uplift_percent: Option<Decimal>,
}

impl Promotion {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.promotion_id.check(c, &p.field("promotion_id"));
        c.text(&p.field("name"), &self.name, 200);
        if self.ends_on < self.starts_on {
            c.error(
                &p.field("ends_on"),
                format!("the last day {} is before the first day {}", self.ends_on, self.starts_on),
            );
        }
        c.non_empty(&p.field("locations"), &self.locations, "a promotion's location list");
        for (i, l) in self.locations.iter().enumerate() {
            l.check(c, &p.field("locations").index(i));
        }
        c.non_empty(&p.field("items"), &self.items, "a promotion's item list");
        for (i, it) in self.items.iter().enumerate() {
            let ip_list = p.field("items");
            let ip = ip_list.index(i);
            it.item.check(c, &ip.field("item"));
            if it.promo_price.is_none() && it.discount_percent.is_none() {
                c.error(&ip, "a promoted item needs a promo_price or a discount_percent".to_owned());
            }
            if let Some(m) = &it.promo_price {
                m.check(c, &ip.field("promo_price"));
                if m.amount.is_sign_negative() {
                    c.error(&ip.field("promo_price").field("amount"), "a price must not be negative".to_owned());
                }
            }
            if let Some(d) = it.discount_percent
                && (d <= Decimal::ZERO || d > Decimal::ONE_HUNDRED)
            {
                c.error(&ip.field("discount_percent"), format!("discount {d} must be above 0 and at most 100"));
            }
            if let Some(u) = it.expected_uplift_percent
                && u.is_sign_negative()
            {
                c.error(&ip.field("expected_uplift_percent"), format!("uplift {u} must not be negative"));
            }
        }
    }
}
