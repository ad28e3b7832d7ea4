//! Master data: locations, suppliers, items, opening stock and budgets, loaded with
//! `PUT /admin/master` as an idempotent upsert.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::System;
use super::db::{self, Stock};
use super::http::ApiError;

/// The body of `PUT /admin/master`. Each system keeps what it needs: the ERP everything, the
/// WMS locations, items and distribution-centre stock, the POS stores and items with prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MasterData {
    /// Stores and distribution centres.
    pub locations: Vec<MasterLocation>,
    /// Suppliers.
    pub suppliers: Vec<MasterSupplier>,
    /// The assortment.
    pub items: Vec<MasterItem>,
    /// Book stock on hand per location and item.
    pub stock: Vec<MasterStock>,
    /// Purchasing budgets per location.
    pub budgets: Vec<MasterBudget>,
    /// The company currency (ISO 4217), e.g. `EUR`.
    pub currency: Option<String>,
}

/// A store or distribution centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterLocation {
    /// Location code, e.g. `S001` or `DC-NORTH`.
    pub code: String,
    /// `store`, `distribution_centre` or `online`.
    pub kind: String,
    /// Region code, e.g. `R-NORTH`.
    #[serde(default)]
    pub region: Option<String>,
    /// District code (stores), e.g. `D-N1`.
    #[serde(default)]
    pub district: Option<String>,
    /// Display name.
    pub name: String,
}

/// A supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterSupplier {
    /// Supplier id, e.g. `SUP-001`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Days from order to delivery.
    #[serde(default)]
    pub lead_time_days: u32,
}

/// An item of the assortment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterItem {
    /// Stock-keeping unit, e.g. `SKU-00001`.
    pub sku: String,
    /// GS1 trade item number, if any.
    #[serde(default)]
    pub gtin: Option<String>,
    /// Display name.
    pub name: String,
    /// Category, e.g. `dairy`.
    #[serde(default)]
    pub category: Option<String>,
    /// Unit of measure, e.g. `EA`.
    #[serde(default = "each")]
    pub unit: String,
    /// Standard cost per unit.
    pub cost: Decimal,
    /// Regular selling price per unit.
    pub price: Decimal,
    /// The main supplier's id.
    #[serde(default)]
    pub supplier: Option<String>,
}

fn each() -> String {
    "EA".to_string()
}

/// Book stock of one item at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterStock {
    /// Location code.
    pub location: String,
    /// Item SKU or GTIN.
    pub item: String,
    /// Units on hand.
    pub on_hand: Decimal,
}

/// The purchasing budget of one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterBudget {
    /// Location code.
    pub location: String,
    /// Budget in the company currency.
    pub amount: Decimal,
}

/// The kinds of location accepted.
const LOCATION_KINDS: [&str; 3] = ["store", "distribution_centre", "online"];

impl MasterData {
    /// Checks the document on its own and against what the database already knows; the first
    /// problem found is reported with its JSON path.
    async fn validate(&self, system: System, conn: &mut SqliteConnection) -> Result<(), ApiError> {
        if let Some(code) = &self.currency {
            db::currency("currency", code)?;
        }
        let mut codes = HashSet::new();
        for (i, loc) in self.locations.iter().enumerate() {
            db::required(&format!("locations[{i}].code"), &loc.code)?;
            db::required(&format!("locations[{i}].name"), &loc.name)?;
            if !LOCATION_KINDS.contains(&loc.kind.as_str()) {
                return Err(ApiError::validation(
                    format!("locations[{i}].kind"),
                    format!("unknown kind `{}`; expected one of {}", loc.kind, LOCATION_KINDS.join(", ")),
                ));
            }
            codes.insert(loc.code.trim().to_string());
        }
        let mut suppliers = HashSet::new();
        for (i, sup) in self.suppliers.iter().enumerate() {
            db::required(&format!("suppliers[{i}].id"), &sup.id)?;
            db::required(&format!("suppliers[{i}].name"), &sup.name)?;
            suppliers.insert(sup.id.trim().to_string());
        }
        let mut skus = HashSet::new();
        for (i, item) in self.items.iter().enumerate() {
            db::required(&format!("items[{i}].sku"), &item.sku)?;
            db::required(&format!("items[{i}].name"), &item.name)?;
            db::not_negative(&format!("items[{i}].cost"), item.cost)?;
            db::not_negative(&format!("items[{i}].price"), item.price)?;
            if let Some(gtin) = &item.gtin
                && !is_gtin(gtin)
            {
                return Err(ApiError::validation(
                    format!("items[{i}].gtin"),
                    format!("`{gtin}` is not a GTIN; expected 8 to 14 digits"),
                ));
            }
            if system == System::Erp
                && let Some(supplier) = &item.supplier
                && !suppliers.contains(supplier.trim())
                && !supplier_known(conn, supplier).await?
            {
                return Err(ApiError::validation(
                    format!("items[{i}].supplier"),
                    format!("unknown supplier `{supplier}`"),
                ));
            }
            skus.insert(item.sku.trim().to_string());
            if let Some(gtin) = &item.gtin {
                skus.insert(gtin.trim().to_string());
            }
        }
        for (i, row) in self.stock.iter().enumerate() {
            let field = format!("stock[{i}].location");
            if !codes.contains(row.location.trim()) && db::find_location(conn, &row.location).await?.is_none() {
                return Err(ApiError::validation(field, format!("unknown location `{}`", row.location)));
            }
            if !skus.contains(row.item.trim()) && db::find_item(conn, &row.item).await?.is_none() {
                return Err(ApiError::validation(format!("stock[{i}].item"), format!("unknown item `{}`", row.item)));
            }
            db::not_negative(&format!("stock[{i}].on_hand"), row.on_hand)?;
        }
        for (i, budget) in self.budgets.iter().enumerate() {
            if !codes.contains(budget.location.trim()) && db::find_location(conn, &budget.location).await?.is_none() {
                return Err(ApiError::validation(
                    format!("budgets[{i}].location"),
                    format!("unknown location `{}`", budget.location),
                ));
            }
            db::not_negative(&format!("budgets[{i}].amount"), budget.amount)?;
        }
        Ok(())
    }
}

/// Whether `code` looks like a GTIN: 8 to 14 digits.
fn is_gtin(code: &str) -> bool {
    (8..=14).contains(&code.len()) && code.chars().all(|c| c.is_ascii_digit())
}

async fn supplier_known(conn: &mut SqliteConnection, id: &str) -> Result<bool, ApiError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM suppliers WHERE id = ?1").bind(id.trim()).fetch_optional(&mut *conn).await?;
    Ok(found.is_some())
}

/// Validates and upserts the master data the system keeps; answers with what was loaded.
pub(crate) async fn load(system: System, conn: &mut SqliteConnection, data: &MasterData) -> Result<Value, ApiError> {
    data.validate(system, conn).await?;
    let mut loaded = serde_json::Map::new();
    if let Some(code) = &data.currency {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ('currency', ?1) ON CONFLICT (name) DO UPDATE SET value = ?1",
        )
        .bind(code.trim().to_ascii_uppercase())
        .execute(&mut *conn)
        .await?;
    }
    let mut locations = 0;
    for loc in &data.locations {
        if system == System::Pos && loc.kind == "distribution_centre" {
            continue;
        }
        sqlx::query(
            "INSERT INTO locations (code, kind, region, district, name) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (code) DO UPDATE SET kind = ?2, region = ?3, district = ?4, name = ?5",
        )
        .bind(loc.code.trim())
        .bind(&loc.kind)
        .bind(&loc.region)
        .bind(&loc.district)
        .bind(loc.name.trim())
        .execute(&mut *conn)
        .await?;
        locations += 1;
    }
    loaded.insert("locations".into(), json!(locations));
    if system == System::Erp {
        for sup in &data.suppliers {
            sqlx::query(
                "INSERT INTO suppliers (id, name, lead_time_days) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, lead_time_days = ?3",
            )
            .bind(sup.id.trim())
            .bind(sup.name.trim())
            .bind(i64::from(sup.lead_time_days))
            .execute(&mut *conn)
            .await?;
        }
        loaded.insert("suppliers".into(), json!(data.suppliers.len()));
    }
    for item in &data.items {
        sqlx::query(
            "INSERT INTO items (sku, gtin, name, category, unit, cost, price, supplier)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (sku) DO UPDATE SET gtin = ?2, name = ?3, category = ?4, unit = ?5, cost = ?6, price = ?7,
             supplier = ?8",
        )
        .bind(item.sku.trim())
        .bind(item.gtin.as_deref().map(str::trim))
        .bind(item.name.trim())
        .bind(&item.category)
        .bind(item.unit.trim())
        .bind(item.cost.to_string())
        .bind(item.price.to_string())
        .bind(item.supplier.as_deref().map(str::trim))
        .execute(&mut *conn)
        .await?;
    }
    loaded.insert("items".into(), json!(data.items.len()));
    if system != System::Pos {
        let mut rows = 0;
        for (i, row) in data.stock.iter().enumerate() {
            let location = db::location(conn, &format!("stock[{i}].location"), &row.location).await?;
            if system == System::Wms && !location.is_dc() {
                continue;
            }
            let item = db::item(conn, &format!("stock[{i}].item"), &row.item).await?;
            let current = db::stock(conn, &location.code, &item.sku).await?;
            let updated = Stock { on_hand: row.on_hand, ..current };
            db::save_stock(conn, &location.code, &item.sku, &updated).await?;
            rows += 1;
        }
        loaded.insert("stock".into(), json!(rows));
    }
    if system == System::Erp {
        for budget in &data.budgets {
            sqlx::query("INSERT INTO budgets (location, amount) VALUES (?1, ?2) ON CONFLICT (location) DO UPDATE SET amount = ?2")
                .bind(budget.location.trim())
                .bind(budget.amount.to_string())
                .execute(&mut *conn)
                .await?;
        }
        loaded.insert("budgets".into(), json!(data.budgets.len()));
    }
    Ok(json!({"system": system.as_str(), "loaded": loaded}))
}

/// The company currency, `EUR` until master data says otherwise.
pub(crate) async fn company_currency(conn: &mut SqliteConnection) -> Result<String, ApiError> {
    let code: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE name = 'currency'").fetch_optional(&mut *conn).await?;
    Ok(code.unwrap_or_else(|| "EUR".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let body = json!({
            "locations":[{"code":"S001","kind":"store","region":"R-NORTH","district":"D-N1","name":"Store 1"},
                         {"code":"DC-NORTH","kind":"distribution_centre","region":"R-NORTH","name":"North DC"}],
            "suppliers":[{"id":"SUP-001","name":"Acme Foods","lead_time_days":5}],
            "items":[{"sku":"SKU-00001","gtin":"04006381333931","name":"Oat milk 1l","category":"dairy",
                      "unit":"EA","cost":"0.82","price":"1.49","supplier":"SUP-001"}],
            "stock":[{"location":"DC-NORTH","item":"SKU-00001","on_hand":"480"}],
            "budgets":[{"location":"S001","amount":"50000.00"}],
            "currency":"EUR"
        });
        let data: MasterData = serde_json::from_value(body).unwrap();
        assert_eq!(data.items[0].cost, Decimal::new(82, 2));
        assert_eq!(data.stock[0].on_hand, Decimal::from(480));
        assert_eq!(data.locations[1].district, None);
    }
}
