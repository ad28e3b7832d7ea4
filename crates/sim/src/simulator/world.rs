//! The generated retailer: its location hierarchy, suppliers, items, opening stock and the
//! promotions merchandising has planned.

use std::collections::BTreeMap;

use backroom_model::{Location, LocationId, LocationKind, OpeningHours, OpeningPeriod};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::calendar::{self, CLOSES, OPENS, TIME_ZONE};
use super::catalogue::{self, BRANDS, CATEGORIES, REGION_NAMES, STORE_NAMES, SUPPLIER_NAMES};
use super::config::SimConfig;
use super::money::cents;
use super::random::{Concern, stream};

/// The company at the top of the hierarchy.
pub const COMPANY: &str = "ACME";
/// Stores a district holds, about.
const STORES_PER_DISTRICT: u32 = 4;
/// Average weekday factor over the six trading days.
const AVERAGE_WEEKDAY: f64 = 1.05;
/// Days of demand a store holds after replenishment.
const STORE_COVER_DAYS: f64 = 3.0;
/// Days of demand a distribution centre keeps beyond the supplier's lead time.
const DC_COVER_DAYS: f64 = 10.0;
/// Suppliers deliver in cases of this many units.
pub(crate) const CASE: i64 = 12;

/// A region of districts.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Its code, `R-01`.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A district of stores.
#[derive(Clone, Debug, PartialEq)]
pub struct District {
    /// Its code, `D-01`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its region's code.
    pub region: String,
}

/// A store.
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    /// Its code, `S001`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its district's code.
    pub district: String,
    /// Its region's code.
    pub region: String,
    /// The distribution centre that replenishes it.
    pub distribution_centre: String,
    /// How busy it is relative to an average store (0.7 to 1.4).
    pub size: f64,
    /// Its yearly operating budget.
    pub budget: Decimal,
}

/// A distribution centre.
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionCentre {
    /// Its code, `DC-01`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its region's code.
    pub region: String,
}

/// A supplier of goods to the distribution centres.
#[derive(Clone, Debug, PartialEq)]
pub struct Supplier {
    /// Its code, `SUP-001`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Working days from order to delivery.
    pub lead_time_days: u32,
}

/// An item the retailer sells.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The SKU, `SKU-00001`.
    pub sku: String,
    /// Its GTIN-13, with a valid check digit.
    pub gtin: String,
    /// Its name.
    pub name: String,
    /// Its merchandise category, such as `dairy`.
    pub category: String,
    /// Its unit of measure (`EA`).
    pub unit: String,
    /// What the supplier charges per unit, before VAT.
    pub cost: Decimal,
    /// The shelf price, VAT included; above the cost.
    pub price: Decimal,
    /// VAT in percent.
    pub vat_percent: Decimal,
    /// The supplier's code.
    pub supplier: String,
    /// Units an average store sells on an average trading day.
    pub base_daily_demand: f64,
}

/// One promoted item.
#[derive(Clone, Debug, PartialEq)]
pub struct PromotedItem {
    /// The SKU.
    pub sku: String,
    /// The promotional shelf price.
    pub promo_price: Decimal,
    /// The discount off the shelf price, in percent.
    pub discount_percent: Decimal,
    /// The uplift in demand merchandising expects, in percent.
    pub expected_uplift_percent: Decimal,
}

/// A promotion merchandising planned.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedPromotion {
    /// The promotion code.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The simulated day it is announced (about a week ahead).
    pub announce_day: u32,
    /// The first simulated day of the offer.
    pub start_day: u32,
    /// The last simulated day of the offer.
    pub end_day: u32,
    /// The stores taking part.
    pub stores: Vec<String>,
    /// The promoted items.
    pub items: Vec<PromotedItem>,
}

impl PlannedPromotion {
    /// Whether the offer runs on `day`.
    pub fn runs_on(&self, day: u32) -> bool {
        (self.start_day..=self.end_day).contains(&day)
    }
}

/// Stock on hand at the start of the simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct OpeningStock {
    /// The store or distribution centre.
    pub location: String,
    /// The SKU.
    pub sku: String,
    /// Units on hand.
    pub on_hand: i64,
}

/// The generated retailer.
#[derive(Clone, Debug, PartialEq)]
pub struct Retailer {
    /// The configuration it was generated from.
    pub config: SimConfig,
    /// Its regions.
    pub regions: Vec<Region>,
    /// Its districts.
    pub districts: Vec<District>,
    /// Its stores.
    pub stores: Vec<Store>,
    /// Its distribution centres.
    pub distribution_centres: Vec<DistributionCentre>,
    /// Its suppliers.
    pub suppliers: Vec<Supplier>,
    /// Its items.
    pub items: Vec<Item>,
    /// The promotions planned within the simulated days.
    pub promotions: Vec<PlannedPromotion>,
    /// Stock on hand at the start, per store and distribution centre and item.
    pub opening_stock: Vec<OpeningStock>,
}

impl Retailer {
    /// Generates the retailer a configuration describes. The configuration should have passed
    /// [`SimConfig::validate`]; out-of-range counts are clamped to at least one.
    pub fn generate(config: &SimConfig) -> Retailer {
        let mut rng = stream(config.seed, Concern::World, 0);
        let n_stores = config.stores.max(1);
        let n_regions = config.regions.clamp(1, n_stores);
        let regions: Vec<Region> = (0..n_regions)
            .map(|r| Region { id: format!("R-{:02}", r + 1), name: catalogue::nth_name(REGION_NAMES, r as usize) })
            .collect();
        let n_dcs = config.distribution_centres.max(1);
        let distribution_centres: Vec<DistributionCentre> = (0..n_dcs)
            .map(|d| {
                let region = &regions[(d % n_regions) as usize];
                DistributionCentre {
                    id: format!("DC-{:02}", d + 1),
                    name: format!("{} Distribution Centre{}", region.name, if d >= n_regions { " 2" } else { "" }),
                    region: region.id.clone(),
                }
            })
            .collect();
        let mut districts = Vec::new();
        let mut stores = Vec::new();
        for (r, region) in regions.iter().enumerate() {
            let r = r as u32;
            let first = r * n_stores / n_regions;
            let last = (r + 1) * n_stores / n_regions;
            let count = last - first;
            let n_districts = count.div_ceil(STORES_PER_DISTRICT).max(1);
            let district_base = districts.len();
            for d in 0..n_districts {
                districts.push(District {
                    id: format!("D-{:02}", district_base + d as usize + 1),
                    name: format!("{} district {}", region.name, d + 1),
                    region: region.id.clone(),
                });
            }
            let dc = distribution_centres
                .iter()
                .find(|dc| dc.region == region.id)
                .unwrap_or(&distribution_centres[(r % n_dcs) as usize]);
            for k in 0..count {
                let s = first + k;
                let size: f64 = rng.random_range(0.7..1.4);
                let budget = Decimal::from((50.0 * size).round() as i64 * 1000);
                stores.push(Store {
                    id: format!("S{:03}", s + 1),
                    name: catalogue::nth_name(STORE_NAMES, s as usize),
                    district: districts[district_base + (k * n_districts / count.max(1)) as usize].id.clone(),
                    region: region.id.clone(),
                    distribution_centre: dc.id.clone(),
                    size,
                    budget: cents(budget),
                });
            }
        }
        let suppliers: Vec<Supplier> = (0..config.suppliers.max(1))
            .map(|s| Supplier {
                id: format!("SUP-{:03}", s + 1),
                name: catalogue::nth_name(SUPPLIER_NAMES, s as usize),
                lead_time_days: rng.random_range(2..=5),
            })
            .collect();
        let items = (0..config.items.max(1)).map(|i| make_item(&mut rng, i, &suppliers)).collect::<Vec<_>>();
        let mut retailer = Retailer {
            config: config.clone(),
            regions,
            districts,
            stores,
            distribution_centres,
            suppliers,
            items,
            promotions: Vec::new(),
            opening_stock: Vec::new(),
        };
        retailer.promotions = plan_promotions(&retailer);
        retailer.opening_stock = retailer.initial_stock();
        retailer
    }

    /// The first simulated day's date.
    pub fn start(&self) -> NaiveDate {
        self.config.start
    }

    /// The date of simulated day `day` (0 is the first).
    pub fn date(&self, day: u32) -> NaiveDate {
        self.config.start + Duration::days(i64::from(day))
    }

    /// The store with this code.
    pub fn store(&self, id: &str) -> Option<&Store> {
        self.stores.iter().find(|s| s.id == id)
    }

    /// The item with this SKU.
    pub fn item(&self, sku: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.sku == sku)
    }

    /// The supplier with this code.
    pub fn supplier(&self, id: &str) -> Option<&Supplier> {
        self.suppliers.iter().find(|s| s.id == id)
    }

    /// The distribution centre with this code.
    pub fn distribution_centre(&self, id: &str) -> Option<&DistributionCentre> {
        self.distribution_centres.iter().find(|d| d.id == id)
    }

    /// Units the store sells of the item on an average trading day, without promotions.
    pub(crate) fn store_daily_mean(&self, store: usize, item: usize) -> f64 {
        self.items[item].base_daily_demand * self.stores[store].size * AVERAGE_WEEKDAY
    }

    /// The stock a store is replenished up to, given the expected demand uplift factor.
    pub(crate) fn store_target(&self, store: usize, item: usize, uplift: f64) -> i64 {
        (self.store_daily_mean(store, item) * uplift * STORE_COVER_DAYS).ceil() as i64 + 2
    }

    /// Units the stores a distribution centre serves sell of the item on an average day.
    pub(crate) fn dc_daily_mean(&self, dc: usize, item: usize) -> f64 {
        let id = &self.distribution_centres[dc].id;
        (0..self.stores.len())
            .filter(|s| self.stores[*s].distribution_centre == *id)
            .map(|s| self.store_daily_mean(s, item))
            .sum()
    }

    /// The stock position below which a distribution centre orders the item, and the position
    /// it orders up to.
    pub(crate) fn dc_policy(&self, dc: usize, item: usize) -> (i64, i64) {
        let mean = self.dc_daily_mean(dc, item) * 1.2;
        let lead = f64::from(self.supplier_of(item).lead_time_days);
        let reorder = (mean * (lead + 4.0)).ceil() as i64;
        let up_to = (mean * (lead + DC_COVER_DAYS)).ceil() as i64;
        (reorder, up_to.max(reorder + CASE))
    }

    pub(crate) fn supplier_of(&self, item: usize) -> &Supplier {
        let code = &self.items[item].supplier;
        self.suppliers.iter().find(|s| s.id == *code).unwrap_or(&self.suppliers[0])
    }

    fn initial_stock(&self) -> Vec<OpeningStock> {
        let mut rng = stream(self.config.seed, Concern::World, 1);
        let mut out = Vec::new();
        for (d, dc) in self.distribution_centres.iter().enumerate() {
            for (i, item) in self.items.iter().enumerate() {
                // Somewhere between just under the reorder point and the order-up-to level, so
                // that purchase orders spread over the days instead of all falling due at once.
                let (reorder, up_to) = self.dc_policy(d, i);
                let on_hand = if self.dc_daily_mean(d, i) > 0.0 {
                    round_up_to_case(rng.random_range((reorder * 9 / 10)..=up_to.max(reorder)))
                } else {
                    0
                };
                out.push(OpeningStock { location: dc.id.clone(), sku: item.sku.clone(), on_hand });
            }
        }
        for (s, store) in self.stores.iter().enumerate() {
            for (i, item) in self.items.iter().enumerate() {
                out.push(OpeningStock {
                    location: store.id.clone(),
                    sku: item.sku.clone(),
                    on_hand: self.store_target(s, i, 1.0),
                });
            }
        }
        out
    }

    /// The location hierarchy as the body of Backroom's `PUT /v1/locations`: the company, its
    /// regions, districts, stores (open Monday to Saturday 08:00–21:00, closed on Christmas Day)
    /// and distribution centres, parents before children.
    pub fn locations_document(&self) -> Value {
        let last = self.date(self.config.days.saturating_sub(1));
        let closed_on = calendar::closed_days(self.start(), last.max(self.start() + Duration::days(60)));
        let time = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
        let trading_week = |opens: u32, closes: u32| OpeningHours {
            weekly: [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat]
                .into_iter()
                .map(|day| OpeningPeriod { day, opens: time(opens), closes: time(closes) })
                .collect(),
            closed_on: closed_on.clone(),
        };
        let node = |id: &str, kind: LocationKind, name: &str, parent: Option<&str>, hours: OpeningHours| Location {
            id: LocationId::from(id),
            kind,
            name: name.to_owned(),
            parent: parent.map(LocationId::from),
            time_zone: TIME_ZONE.to_owned(),
            opening_hours: hours,
        };
        let mut locations = vec![node(COMPANY, LocationKind::Company, "Acme Retail", None, OpeningHours::default())];
        for r in &self.regions {
            locations.push(node(&r.id, LocationKind::Region, &r.name, Some(COMPANY), OpeningHours::default()));
        }
        for d in &self.districts {
            locations.push(node(&d.id, LocationKind::District, &d.name, Some(&d.region), OpeningHours::default()));
        }
        for s in &self.stores {
            locations.push(node(&s.id, LocationKind::Store, &s.name, Some(&s.district), trading_week(OPENS, CLOSES)));
        }
        for dc in &self.distribution_centres {
            locations.push(node(
                &dc.id,
                LocationKind::DistributionCentre,
                &dc.name,
                Some(&dc.region),
                trading_week(5, 22),
            ));
        }
        serde_json::to_value(locations).unwrap_or(Value::Null)
    }

    /// Master data for the reference systems' `PUT /admin/master`: locations, suppliers, items,
    /// opening stock, store budgets and the currency.
    pub fn master_data(&self) -> Value {
        let mut locations: Vec<Value> = self
            .stores
            .iter()
            .map(|s| json!({"code": s.id, "kind": "store", "region": s.region, "district": s.district, "name": s.name}))
            .collect();
        locations.extend(
            self.distribution_centres
                .iter()
                .map(|d| json!({"code": d.id, "kind": "distribution_centre", "region": d.region, "name": d.name})),
        );
        let suppliers: Vec<Value> = self
            .suppliers
            .iter()
            .map(|s| json!({"id": s.id, "name": s.name, "lead_time_days": s.lead_time_days}))
            .collect();
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|i| {
                json!({"sku": i.sku, "gtin": i.gtin, "name": i.name, "category": i.category, "unit": i.unit,
                       "cost": i.cost.to_string(), "price": i.price.to_string(), "supplier": i.supplier})
            })
            .collect();
        let stock: Vec<Value> = self
            .opening_stock
            .iter()
            .map(|s| json!({"location": s.location, "item": s.sku, "on_hand": s.on_hand.to_string()}))
            .collect();
        let budgets: Vec<Value> =
            self.stores.iter().map(|s| json!({"location": s.id, "amount": s.budget.to_string()})).collect();
        json!({"locations": locations, "suppliers": suppliers, "items": items, "stock": stock,
               "budgets": budgets, "currency": self.config.currency})
    }

    /// Opening stock by (location, SKU).
    pub(crate) fn opening_map(&self) -> BTreeMap<(String, String), i64> {
        self.opening_stock.iter().map(|s| ((s.location.clone(), s.sku.clone()), s.on_hand)).collect()
    }
}

pub(crate) fn round_up_to_case(units: i64) -> i64 {
    if units <= 0 { 0 } else { (units + CASE - 1) / CASE * CASE }
}

fn make_item(rng: &mut impl Rng, i: u32, suppliers: &[Supplier]) -> Item {
    let category = &CATEGORIES[i as usize % CATEGORIES.len()];
    let j = i as usize / CATEGORIES.len();
    let product = category.products[j % category.products.len()];
    let round = j / category.products.len();
    let brand = BRANDS[round % BRANDS.len()];
    let name = match round / BRANDS.len() {
        0 => format!("{brand} {product}"),
        n => format!("{brand} {product} ({})", n + 1),
    };
    let (lo, hi) = category.price_cents;
    let price_cents = rng.random_range(lo..=hi) / 10 * 10 + 9;
    let margin = rng.random_range(55..=75);
    let cost_cents = (price_cents * margin / 100).clamp(1, price_cents - 1);
    let (dlo, dhi) = category.daily_units;
    Item {
        sku: format!("SKU-{:05}", i + 1),
        gtin: catalogue::gtin13(376_012_300_000 + u64::from(i + 1)),
        name,
        category: category.name.to_owned(),
        unit: "EA".to_owned(),
        cost: Decimal::new(cost_cents, 2),
        price: Decimal::new(price_cents, 2),
        vat_percent: Decimal::new(category.vat_tenths, 1),
        supplier: suppliers[i as usize % suppliers.len()].id.clone(),
        base_daily_demand: rng.random_range(dlo..dhi),
    }
}

/// About two promotions a week, each for a few items in one region's stores (or all stores),
/// announced seven days ahead.
fn plan_promotions(r: &Retailer) -> Vec<PlannedPromotion> {
    let days = r.config.days;
    if days < 4 {
        return Vec::new();
    }
    let mut rng = stream(r.config.seed, Concern::Promotions, 0);
    let count = (days / 4).max(1);
    let mut out = Vec::new();
    for p in 0..count {
        let start_day = rng.random_range(2..days - 1);
        let end_day = (start_day + rng.random_range(2..=6)).min(days - 1);
        let region = &r.regions[rng.random_range(0..r.regions.len())];
        let everywhere = p % 3 == 2;
        let stores: Vec<String> =
            r.stores.iter().filter(|s| everywhere || s.region == region.id).map(|s| s.id.clone()).collect();
        let n_items = rng.random_range(2..=4).min(r.items.len());
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < n_items {
            let i = rng.random_range(0..r.items.len());
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        let items = chosen
            .iter()
            .map(|&i| {
                let item = &r.items[i];
                let discount = Decimal::from([15, 20, 25, 30][rng.random_range(0..4)]);
                let promo_price = cents(item.price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED);
                PromotedItem {
                    sku: item.sku.clone(),
                    promo_price,
                    discount_percent: discount,
                    expected_uplift_percent: Decimal::from(rng.random_range(6..=15) * 10),
                }
            })
            .collect::<Vec<_>>();
        let start = r.date(start_day);
        let theme = if (start_day..=end_day).any(|d| r.date(d) == calendar::black_friday(r.date(d).year())) {
            "Black Friday deals".to_owned()
        } else {
            format!("{} week", r.items[chosen[0]].category.replace('_', " "))
        };
        out.push(PlannedPromotion {
            id: format!("PROMO-{}-{:03}", start.format("%Y"), p + 1),
            name: format!("{theme} {}", start.format("%d %b")),
            announce_day: start_day.saturating_sub(7),
            start_day,
            end_day,
            stores: if stores.is_empty() { r.stores.iter().map(|s| s.id.clone()).collect() } else { stores },
            items,
        });
    }
    out.sort_by(|a, b| (a.start_day, &a.id).cmp(&(b.start_day, &b.id)));
    out
}
