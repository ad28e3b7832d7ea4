//! `check` steps: a document judged against its related documents by a built-in retail rule
//! (three-way match, returns policy), with settings per supplier, item, location and region from
//! a decision table.

use backroom_model::{
    EventPayload, EventType, GoodsReceipt, ItemRef, LocationKind, MatchInput, PurchaseOrder, ReturnRequest,
    SalesTransaction, SupplierInvoice, Tolerance, check_return, three_way_match,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::Run;
use crate::workflow::{CheckRule, CheckSpec};

/// Most levels walked up the location hierarchy looking for a region.
const MAX_HOPS: usize = 16;
/// The return window without settings, in days.
const DEFAULT_WINDOW_DAYS: i64 = 30;

/// A related event: its position in the log and its typed document.
struct Related {
    seq: Option<i64>,
    payload: EventPayload,
}

fn parse<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("{what} is not a valid document: {e}"))
}

fn related(value: &Value) -> Result<Vec<Related>, String> {
    let Some(list) = value.as_array() else {
        return Err(format!("`related` must give a list of events, not {value}"));
    };
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let Some(t) = e.get("type").and_then(Value::as_str).and_then(EventType::parse) else {
            return Err(format!("related[{i}] has no known event `type`"));
        };
        let payload = EventPayload::from_json(t, &e["data"])
            .map_err(|err| format!("related[{i}] ({t}) is not a valid document: {err}"))?;
        out.push(Related { seq: e.get("seq").and_then(Value::as_i64), payload });
    }
    Ok(out)
}

impl Run<'_, '_> {
    pub(super) fn check(&mut self, token: u32, spec: &CheckSpec) {
        let result = (|| -> Result<Value, String> {
            let document = self.eval(&spec.document)?;
            let related = related(&self.eval(&spec.related)?)?;
            let on = match &spec.on {
                Some(e) => {
                    let v = self.eval(e)?;
                    let text = v.as_str().ok_or_else(|| format!("`on` must give a time, not {v}"))?;
                    text.parse::<DateTime<Utc>>()
                        .map(|t| t.date_naive())
                        .or_else(|_| text.parse::<NaiveDate>())
                        .map_err(|_| format!("`on`: {text:?} is not an RFC 3339 time or a date"))?
                }
                None => self.now().date_naive(),
            };
            match spec.rule {
                CheckRule::ThreeWayMatch => self.three_way(spec, &parse(&document, "the invoice")?, &related),
                CheckRule::ReturnPolicy => self.return_policy(spec, &parse(&document, "the return")?, &related, on),
            }
        })();
        match result {
            Ok(output) => self.complete_step(token, output),
            Err(e) => self.fail_step(token, format!("{} check: {e}", spec.rule.name()), false),
        }
    }

    fn three_way(&mut self, spec: &CheckSpec, invoice: &SupplierInvoice, related: &[Related]) -> Result<Value, String> {
        let mut order: Option<PurchaseOrder> = None;
        let mut receipts: Vec<GoodsReceipt> = Vec::new();
        let mut earlier: Vec<SupplierInvoice> = Vec::new();
        for r in related {
            match &r.payload {
                // The latest version of the order counts.
                EventPayload::PurchaseOrder(o) if Some(&o.po_number) == invoice.po_number.as_ref() => {
                    order = Some(o.clone());
                }
                EventPayload::GoodsReceipt(g) if g.po_number.is_some() && g.po_number == invoice.po_number => {
                    receipts.push(g.clone());
                }
                EventPayload::SupplierInvoice(i) => earlier.push(i.clone()),
                _ => {}
            }
        }
        let location = order.as_ref().map(|o| o.ship_to.to_string());
        let region = location.as_deref().and_then(|l| self.region_of(l));
        let mut rows = Vec::new();
        let mut failure = None;
        let result = three_way_match(
            MatchInput { invoice, order: order.as_ref(), receipts: &receipts, earlier: &earlier },
            |item: &ItemRef| {
                let inputs = json!({
                    "supplier": invoice.supplier.as_str(), "item": item.key().as_str(),
                    "location": location, "region": region,
                });
                match self.settings(spec, inputs) {
                    Ok((out, matched)) => {
                        rows.extend(matched);
                        Tolerance {
                            over_receipt_percent: decimal(&out, "over_receipt_percent"),
                            over_billing_percent: decimal(&out, "over_billing_percent"),
                            price_percent: decimal(&out, "price_percent"),
                        }
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                        Tolerance::default()
                    }
                }
            },
        );
        if let Some(e) = failure {
            return Err(e);
        }
        let mut output = serde_json::to_value(&result).map_err(|e| e.to_string())?;
        output["order_found"] = json!(order.is_some());
        output["receipts"] = json!(receipts.len());
        output["settings_matched"] = json!(rows);
        Ok(output)
    }

    fn return_policy(
        &mut self,
        spec: &CheckSpec,
        request: &ReturnRequest,
        related: &[Related],
        on: NaiveDate,
    ) -> Result<Value, String> {
        // What was returned before this request counts; a till return recorded after it is this
        // request's own refund.
        let requested_seq = self.inst.context.get("event").and_then(|e| e.get("seq")).and_then(Value::as_i64);
        let before = |r: &&Related| match (r.seq, requested_seq) {
            (Some(seq), Some(request)) => seq < request,
            _ => true,
        };
        let sales: Vec<SalesTransaction> = related
            .iter()
            .filter(before)
            .filter_map(|r| match &r.payload {
                EventPayload::SalesTransaction(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let location = request.location.to_string();
        let region = self.region_of(&location);
        let (settings, matched) = self.settings(spec, json!({"location": location, "region": region}))?;
        let window = settings.get("window_days").and_then(integer).unwrap_or(DEFAULT_WINDOW_DAYS);
        let result = check_return(request, &sales, on, window);
        let mut output = serde_json::to_value(&result).map_err(|e| e.to_string())?;
        output["window_days"] = json!(window);
        output["settings_matched"] = json!(matched);
        Ok(output)
    }

    /// The settings table's outputs for these inputs (empty without a table or a matching row),
    /// with the ids of the rows matched.
    fn settings(&self, spec: &CheckSpec, inputs: Value) -> Result<(Map<String, Value>, Vec<String>), String> {
        let Some(name) = &spec.settings else { return Ok((Map::new(), Vec::new())) };
        let table = self.wf.tables.get(name).ok_or_else(|| format!("decision table {name} is not defined"))?;
        let mut given = Map::new();
        for input in &table.inputs {
            given.insert(input.name.clone(), inputs.get(&input.name).cloned().unwrap_or(Value::Null));
        }
        let evaluation = table.evaluate(&given).map_err(|e| format!("settings table {name}: {e}"))?;
        let first = evaluation.outputs.into_iter().next().unwrap_or_default();
        Ok((first, evaluation.matched))
    }

    /// The region a location lies in, walking up the hierarchy.
    fn region_of(&self, code: &str) -> Option<String> {
        let mut cursor = Some(code.to_owned());
        for _ in 0..MAX_HOPS {
            let location = self.env.directory.location(cursor.as_deref()?)?;
            if location.kind == LocationKind::Region {
                return Some(location.id.to_string());
            }
            cursor = location.parent.map(|p| p.to_string());
        }
        None
    }
}

fn decimal(map: &Map<String, Value>, key: &str) -> Decimal {
    match map.get(key) {
        Some(Value::String(s)) => s.parse().unwrap_or_default(),
        Some(Value::Number(n)) => n.to_string().parse().unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn integer(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).or_else(|| v.as_f64().map(|f| f as i64))
}
