//! The retail simulator: valid, deterministic events, labelled faults, believable demand and
//! stock that adds up; delivery to a server with retries; scenario builders.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use backroom_model::{Location, LocationKind, OrderExceptionKind, PurchaseOrder, validate_event};
use backroom_sim::simulator::scenarios::{self, InvoicedLine};
use backroom_sim::simulator::{
    FaultKind, FaultRates, Pace, Retailer, ServerSink, SimConfig, SimError, Simulation, run, write_ndjson,
};
use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde_json::Value;

fn dec(v: &Value) -> Decimal {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal string: {v}"))
}

/// Runs a simulation to the end and returns its events (parsed from its NDJSON) and the simulation.
fn simulate(config: SimConfig) -> (Vec<Value>, Simulation) {
    let mut sim = Simulation::try_new(config).expect("valid configuration");
    let mut out = Vec::new();
    write_ndjson(&mut sim, &mut out).expect("write");
    let events = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    (events, sim)
}

fn of_type<'a>(events: &'a [Value], t: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    events.iter().filter(move |e| e["type"] == t)
}

fn config(days: u32, faults: FaultRates) -> SimConfig {
    SimConfig { days, faults, ..SimConfig::default() }
}

#[test]
fn every_event_of_a_default_run_is_valid_and_in_time_order() {
    let mut sim = Simulation::new(SimConfig::default());
    let mut ids = BTreeSet::new();
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut days = 0;
    while let Some(events) = sim.next_day() {
        let mut previous = None;
        for e in &events {
            assert_eq!(e.day, days);
            let valid = validate_event(&e.event).unwrap_or_else(|errors| panic!("{errors:?} in {}", e.event));
            assert!(previous.is_none_or(|p| p <= valid.occurred_at), "out of order: {}", e.event);
            previous = Some(valid.occurred_at);
            assert!(ids.insert(e.id().to_owned()), "id {} repeated", e.id());
            *by_type.entry(e.event_type().to_owned()).or_default() += 1;
        }
        days += 1;
    }
    assert_eq!(days, 14);
    assert!(sim.next_day().is_none());
    for t in [
        "promotion.scheduled",
        "pos.sale",
        "pos.return",
        "return.requested",
        "inventory.counted",
        "inventory.stockout_reported",
        "po.created",
        "despatch.advised",
        "receipt.posted",
        "invoice.received",
        "transfer.shipped",
        "transfer.received",
        "order.placed",
        "order.exception",
    ] {
        assert!(by_type.get(t).copied().unwrap_or(0) > 0, "no {t} in {by_type:?}");
    }
    // 6 stores × 12 trading days, 20 to 80 till transactions a store-day (plus collections).
    let per_store_day = by_type["pos.sale"] as f64 / 72.0;
    assert!((20.0..=100.0).contains(&per_store_day), "{per_store_day} sales per store and day");
}

#[test]
fn the_world_has_a_valid_hierarchy_and_master_data() {
    let retailer = Retailer::generate(&SimConfig::default());
    let locations: Vec<Location> = serde_json::from_value(retailer.locations_document()).expect("locations");
    let mut seen: HashMap<String, LocationKind> = HashMap::new();
    for l in &locations {
        l.validate().unwrap_or_else(|e| panic!("{e:?} for {}", l.id));
        if let Some(parent) = &l.parent {
            let kind = seen.get(parent.as_str()).unwrap_or_else(|| panic!("{} comes before its parent {parent}", l.id));
            assert!(l.kind.allowed_parents().contains(kind), "{} under a {kind:?}", l.id);
        }
        seen.insert(l.id.to_string(), l.kind);
    }
    let count = |k: LocationKind| locations.iter().filter(|l| l.kind == k).count();
    assert_eq!((count(LocationKind::Company), count(LocationKind::Region), count(LocationKind::Store)), (1, 2, 6));
    assert_eq!(count(LocationKind::DistributionCentre), 2);
    assert!(count(LocationKind::District) >= 2);
    let s001 = locations.iter().find(|l| l.id.as_str() == "S001").expect("S001");
    assert_eq!(s001.time_zone, "Europe/Paris");
    assert_eq!(s001.opening_hours.weekly.len(), 6);
    assert!(s001.opening_hours.weekly.iter().all(|p| p.day != Weekday::Sun && p.opens.to_string() == "08:00:00"));
    assert!(s001.opening_hours.closed_on.contains(&NaiveDate::from_ymd_opt(2026, 12, 25).expect("date")));
    assert_eq!(
        locations.iter().find(|l| l.id.as_str() == "DC-01").and_then(|l| l.parent.clone()).map(|p| p.0),
        Some("R-01".to_owned())
    );

    let master = retailer.master_data();
    assert_eq!(master["currency"], "EUR");
    assert_eq!(master["items"].as_array().expect("items").len(), 60);
    assert_eq!(master["suppliers"].as_array().expect("suppliers").len(), 8);
    for item in master["items"].as_array().expect("items") {
        assert!(backroom_model::Gtin(item["gtin"].as_str().expect("gtin").to_owned()).is_valid(), "{item}");
        assert!(dec(&item["price"]) > dec(&item["cost"]), "{item}");
        assert_eq!(dec(&item["price"]).scale(), 2);
        assert_eq!(item["unit"], "EA");
    }
    let stock = master["stock"].as_array().expect("stock");
    assert_eq!(stock.len(), (6 + 2) * 60);
    assert!(stock.iter().all(|s| dec(&s["on_hand"]) >= Decimal::ZERO));
    let store = master["locations"].as_array().expect("locations").iter().find(|l| l["code"] == "S001").expect("S001");
    assert_eq!((store["kind"].as_str(), store["region"].as_str()), (Some("store"), Some("R-01")));
    assert_eq!(master["budgets"].as_array().expect("budgets").len(), 6);
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let ndjson = |seed: u64| {
        let mut sim = Simulation::new(SimConfig { seed, days: 7, ..SimConfig::default() });
        let mut out = Vec::new();
        let stats = write_ndjson(&mut sim, &mut out).expect("write");
        (out, stats, serde_json::to_string(sim.ground_truth()).expect("truth"))
    };
    let (a, stats_a, truth_a) = ndjson(42);
    let (b, stats_b, truth_b) = ndjson(42);
    assert!(a == b, "two runs with seed 42 differ");
    assert_eq!((stats_a.clone(), truth_a), (stats_b, truth_b));
    assert_eq!(stats_a.days, 7);
    assert_eq!(stats_a.events, a.iter().filter(|b| **b == b'\n').count() as u64);
    let (c, _, _) = ndjson(43);
    assert_ne!(a, c);
    // The NDJSON writer and next_day give the same events.
    let mut sim = Simulation::new(SimConfig { seed: 42, days: 7, ..SimConfig::default() });
    let mut from_days = Vec::new();
    while let Some(events) = sim.next_day() {
        from_days.extend(events.into_iter().map(|e| e.event));
    }
    let from_lines: Vec<Value> =
        String::from_utf8(a).expect("utf-8").lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(from_lines, from_days);
}

#[test]
fn every_fault_kind_is_labelled_with_an_event_that_shows_it() {
    let (events, sim) = simulate(config(21, FaultRates::uniform(0.25)));
    let by_id: HashMap<&str, &Value> = events.iter().map(|e| (e["id"].as_str().expect("id"), e)).collect();
    let truth = sim.ground_truth();
    let kinds: BTreeSet<FaultKind> = truth.iter().map(|t| t.fault).collect();
    assert_eq!(kinds, FaultKind::ALL.into_iter().collect(), "missing kinds");
    let pos: HashMap<&str, &Value> =
        of_type(&events, "po.created").map(|e| (e["data"]["po_number"].as_str().expect("po"), e)).collect();
    let sale_ids: BTreeSet<&str> =
        of_type(&events, "pos.sale").filter_map(|e| e["data"]["transaction_id"].as_str()).collect();
    for t in truth {
        let event = by_id.get(t.event_id.as_str()).unwrap_or_else(|| panic!("{} is not in the output", t.event_id));
        let data = &event["data"];
        let expected_type = match t.fault {
            FaultKind::Miscount | FaultKind::Shrink => "inventory.counted",
            FaultKind::PromotionStockout => "inventory.stockout_reported",
            FaultKind::ShortShipment => "receipt.posted",
            FaultKind::InvoicePriceMismatch
            | FaultKind::InvoiceQuantityMismatch
            | FaultKind::DuplicateInvoice
            | FaultKind::InvoiceBeforeReceipt => "invoice.received",
            FaultKind::ReturnWithoutSale | FaultKind::OverLimitRefund => "return.requested",
            FaultKind::LateFulfilment | FaultKind::FailedFulfilment => "order.exception",
        };
        assert_eq!(event["type"], expected_type, "{t:?}");
        match t.fault {
            FaultKind::InvoicePriceMismatch => {
                let po = &pos[data["po_number"].as_str().expect("po")]["data"];
                let differs = data["lines"].as_array().expect("lines").iter().any(|l| {
                    let ordered = po["lines"]
                        .as_array()
                        .expect("lines")
                        .iter()
                        .find(|p| p["line"] == l["po_line"])
                        .expect("po line");
                    dec(&ordered["unit_price"]["amount"]) != dec(&l["unit_price"]["amount"])
                });
                assert!(differs, "{t:?}");
            }
            FaultKind::DuplicateInvoice => {
                let copies = of_type(&events, "invoice.received")
                    .filter(|e| {
                        e["data"]["invoice_number"] == data["invoice_number"] && e["data"]["total"] == data["total"]
                    })
                    .count();
                assert_eq!(copies, 2, "{t:?}");
            }
            FaultKind::InvoiceBeforeReceipt => {
                let receipt = of_type(&events, "receipt.posted")
                    .find(|e| e["data"]["po_number"] == data["po_number"])
                    .expect("the receipt follows");
                assert!(receipt["occurred_at"].as_str() > event["occurred_at"].as_str(), "{t:?}");
            }
            FaultKind::ReturnWithoutSale => {
                let original = data["original_sale"]["transaction_id"].as_str().expect("original");
                assert!(!sale_ids.contains(original), "{t:?}");
            }
            FaultKind::ShortShipment => {
                assert!(data["lines"].as_array().expect("lines").iter().any(|l| l.get("short").is_some()), "{t:?}");
            }
            FaultKind::LateFulfilment => assert_eq!(data["kind"], "late"),
            FaultKind::FailedFulfilment => assert_eq!(data["kind"], "failed"),
            _ => {}
        }
        assert!(t.day <= 20, "{t:?}");
    }
    let labels = serde_json::to_value(&truth[0]).expect("serialise");
    assert!(labels["fault"].as_str().is_some_and(|f| f.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
}

#[test]
fn without_faults_every_invoice_matches_its_order_and_receipt() {
    let (events, sim) = simulate(config(21, FaultRates::none()));
    assert!(sim.ground_truth().is_empty());
    let pos: HashMap<&str, &Value> =
        of_type(&events, "po.created").map(|e| (e["data"]["po_number"].as_str().expect("po"), e)).collect();
    let receipts: HashMap<&str, &Value> =
        of_type(&events, "receipt.posted").map(|e| (e["data"]["po_number"].as_str().expect("po"), e)).collect();
    let mut numbers = BTreeSet::new();
    let invoices: Vec<&Value> = of_type(&events, "invoice.received").collect();
    assert!(invoices.len() >= 10, "only {} invoices", invoices.len());
    for invoice in invoices {
        let data = &invoice["data"];
        assert!(numbers.insert(data["invoice_number"].as_str().expect("number")), "invoice number repeated");
        let po = &pos[data["po_number"].as_str().expect("po")]["data"];
        let receipt = receipts[data["po_number"].as_str().expect("po")];
        assert!(receipt["occurred_at"].as_str() < invoice["occurred_at"].as_str());
        assert_eq!(data["receipt_number"], receipt["data"]["receipt_number"]);
        let mut net_total = Decimal::ZERO;
        for line in data["lines"].as_array().expect("lines") {
            let ordered =
                po["lines"].as_array().expect("lines").iter().find(|p| p["line"] == line["po_line"]).expect("po line");
            let got = receipt["data"]["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .find(|r| r["po_line"] == line["po_line"])
                .expect("receipt line");
            assert_eq!(dec(&line["unit_price"]["amount"]), dec(&ordered["unit_price"]["amount"]));
            assert!(dec(&line["quantity"]["value"]) <= dec(&got["received"]["value"]));
            assert_eq!(dec(&got["received"]["value"]), dec(&ordered["quantity"]["value"]));
            let net = dec(&line["net_amount"]["amount"]);
            assert_eq!(net, dec(&line["quantity"]["value"]) * dec(&line["unit_price"]["amount"]));
            net_total += net;
        }
        assert_eq!(dec(&data["total"]["amount"]), net_total + dec(&data["tax_total"]["amount"]));
    }
    // Every return names a real sale of the same customer and item, within what it sold.
    let mut sold: HashMap<(String, String), (Decimal, Value)> = HashMap::new();
    for sale in of_type(&events, "pos.sale") {
        for line in sale["data"]["lines"].as_array().expect("lines") {
            let key = (
                sale["data"]["transaction_id"].as_str().expect("id").to_owned(),
                line["item"]["sku"].as_str().expect("sku").to_owned(),
            );
            sold.insert(key, (dec(&line["quantity"]["value"]), sale["data"]["customer"].clone()));
        }
    }
    let mut returned: HashMap<(String, String), Decimal> = HashMap::new();
    for request in of_type(&events, "return.requested") {
        let data = &request["data"];
        let line = &data["lines"][0];
        let key = (
            data["original_sale"]["transaction_id"].as_str().expect("id").to_owned(),
            line["item"]["sku"].as_str().expect("sku").to_owned(),
        );
        let (bought, customer) = sold.get(&key).unwrap_or_else(|| panic!("return of an unknown sale: {data}"));
        assert_eq!(&data["customer"], customer);
        let total = returned.entry(key).or_default();
        *total += dec(&line["quantity"]["value"]);
        assert!(*total <= *bought, "returned more than bought: {data}");
    }
    assert!(of_type(&events, "order.exception").all(|e| e["data"]["kind"] == "short_pick"));
}

#[test]
fn saturdays_sell_more_than_mondays_and_promotions_lift_sales() {
    let (events, sim) = simulate(config(28, FaultRates::none()));
    let mut by_weekday: HashMap<Weekday, Decimal> = HashMap::new();
    let mut by_pair_day: HashMap<(String, String, NaiveDate), Decimal> = HashMap::new();
    for sale in of_type(&events, "pos.sale") {
        let day: NaiveDate = sale["data"]["business_day"].as_str().expect("day").parse().expect("date");
        for line in sale["data"]["lines"].as_array().expect("lines") {
            let q = dec(&line["quantity"]["value"]);
            *by_weekday.entry(day.weekday()).or_default() += q;
            let key = (
                sale["data"]["location"].as_str().expect("store").to_owned(),
                line["item"]["sku"].as_str().expect("sku").to_owned(),
                day,
            );
            *by_pair_day.entry(key).or_default() += q;
        }
    }
    assert!(by_weekday[&Weekday::Sat] > by_weekday[&Weekday::Mon] * Decimal::new(13, 1), "{by_weekday:?}");
    assert!(!by_weekday.contains_key(&Weekday::Sun));

    let retailer = sim.retailer();
    let (mut promo_units, mut promo_days, mut base_units, mut base_days) = (Decimal::ZERO, 0u32, Decimal::ZERO, 0u32);
    for promotion in &retailer.promotions {
        for store in &promotion.stores {
            for item in &promotion.items {
                for day in 0..28 {
                    let date = retailer.date(day);
                    if date.weekday() == Weekday::Sun {
                        continue;
                    }
                    let units = by_pair_day.get(&(store.clone(), item.sku.clone(), date)).copied().unwrap_or_default();
                    if promotion.runs_on(day) {
                        promo_units += units;
                        promo_days += 1;
                    } else if retailer
                        .promotions
                        .iter()
                        .all(|p| !p.runs_on(day) || !p.items.iter().any(|i| i.sku == item.sku))
                    {
                        base_units += units;
                        base_days += 1;
                    }
                }
            }
        }
    }
    assert!(promo_days > 0 && base_days > 0);
    let lift = (promo_units / Decimal::from(promo_days)) / (base_units / Decimal::from(base_days));
    assert!(lift > Decimal::new(14, 1), "promotion lift {lift}");
}

#[test]
fn stock_adds_up_from_the_events_and_counts_agree_with_it() {
    let (events, sim) = simulate(config(14, FaultRates::none()));
    let retailer = sim.retailer();
    let mut stock: HashMap<(String, String), Decimal> = retailer
        .opening_stock
        .iter()
        .map(|s| ((s.location.clone(), s.sku.clone()), Decimal::from(s.on_hand)))
        .collect();
    let mut counted_lines = 0;
    for e in &events {
        let data = &e["data"];
        let mut moves: Vec<(String, &Value, Decimal)> = Vec::new();
        let lines = data["lines"].as_array().map(Vec::as_slice).unwrap_or_default();
        match e["type"].as_str().expect("type") {
            "pos.sale" => lines.iter().for_each(|l| {
                moves.push((data["location"].as_str().unwrap().to_owned(), l, -dec(&l["quantity"]["value"])))
            }),
            "pos.return" => lines.iter().for_each(|l| {
                moves.push((data["location"].as_str().unwrap().to_owned(), l, dec(&l["quantity"]["value"])))
            }),
            "receipt.posted" => lines.iter().for_each(|l| {
                moves.push((data["location"].as_str().unwrap().to_owned(), l, dec(&l["received"]["value"])))
            }),
            "inventory.adjusted" => lines.iter().for_each(|l| {
                moves.push((data["location"].as_str().unwrap().to_owned(), l, dec(&l["delta"]["value"])))
            }),
            "transfer.shipped" => lines.iter().for_each(|l| {
                moves.push((data["from"].as_str().unwrap().to_owned(), l, -dec(&l["quantity"]["value"])))
            }),
            "transfer.received" => lines
                .iter()
                .for_each(|l| moves.push((data["to"].as_str().unwrap().to_owned(), l, dec(&l["quantity"]["value"])))),
            "inventory.counted" => {
                for l in lines {
                    let key =
                        (data["location"].as_str().unwrap().to_owned(), l["item"]["sku"].as_str().unwrap().to_owned());
                    assert_eq!(stock[&key], dec(&l["counted"]["value"]), "count of {key:?} in {}", e["id"]);
                    counted_lines += 1;
                }
            }
            _ => {}
        }
        for (location, line, delta) in moves {
            let key = (location, line["item"]["sku"].as_str().expect("sku").to_owned());
            *stock.get_mut(&key).unwrap_or_else(|| panic!("unknown stock {key:?}")) += delta;
        }
    }
    assert!(counted_lines >= 100);
    for ((location, sku), units) in &stock {
        assert!(*units >= Decimal::ZERO, "{location} {sku} below zero");
        assert_eq!(sim.stock_on_hand(location, sku), Some(*units), "closing stock of {sku} at {location}");
    }
    assert!(stock.keys().any(|(l, _)| l == "DC-02"));
}

#[test]
fn shrink_hides_stock_until_a_count_shows_it() {
    let faults = FaultRates { shrink: 1.0, ..FaultRates::none() };
    let (events, sim) = simulate(config(10, faults));
    let shrinks: Vec<_> = sim.ground_truth().iter().filter(|t| t.fault == FaultKind::Shrink).collect();
    assert!(shrinks.len() >= 30, "{} shrink incidents", shrinks.len());
    assert_eq!(shrinks.len(), sim.ground_truth().len());
    for t in shrinks {
        let count = events.iter().find(|e| e["id"] == t.event_id.as_str()).expect("count event");
        let item = t.item.as_deref().expect("item");
        assert!(count["data"]["lines"].as_array().expect("lines").iter().any(|l| l["item"]["sku"] == item));
        assert_eq!(count["data"]["location"], t.location.as_str());
    }
}

#[test]
fn configuration_reads_toml_and_names_the_field_at_fault() {
    let config = SimConfig::from_toml("seed = 7\nstores = 12\nregions = 3\n[faults]\nshrink = 0.1\n").expect("valid");
    assert_eq!((config.seed, config.stores, config.regions, config.items), (7, 12, 3, 60));
    assert_eq!(config.faults.shrink, 0.1);
    assert_eq!(config.faults.miscount, 0.02);
    let unknown = SimConfig::from_toml("store = 3").expect_err("unknown field");
    assert!(unknown.to_string().contains("store"), "{unknown}");
    let rate = Simulation::try_new(SimConfig {
        faults: FaultRates { miscount: 1.5, ..FaultRates::none() },
        ..SimConfig::default()
    });
    match rate {
        Err(SimError::Config { field, .. }) => assert_eq!(field, "faults.miscount"),
        _ => panic!("a rate above 1 is refused"),
    }
    let regions = SimConfig { stores: 2, regions: 3, ..SimConfig::default() }.validate().expect_err("regions");
    assert!(regions.to_string().contains("regions"));
    // Bigger worlds are spread over more districts and distribution centres.
    let big =
        Retailer::generate(&SimConfig { stores: 40, regions: 4, distribution_centres: 4, ..SimConfig::default() });
    assert_eq!(big.stores.len(), 40);
    assert_eq!(big.districts.len(), 12);
    assert!(
        big.stores
            .iter()
            .all(|s| big.distribution_centre(&s.distribution_centre).is_some_and(|d| d.region == s.region))
    );
}

/// What the test server saw: the bodies of every request and the headers that matter.
#[derive(Default)]
struct Received {
    requests: Vec<(String, String, String)>,
    refused_once: bool,
}

async fn start_server(refuse_with: u16) -> (String, Arc<Mutex<Received>>) {
    use axum::http::{HeaderMap, StatusCode, header};
    let seen = Arc::new(Mutex::new(Received::default()));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/v1/events",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let header =
                    |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let mut seen = state.lock().expect("lock");
                seen.requests.push((header(header::AUTHORIZATION), header(header::CONTENT_TYPE), body));
                if !seen.refused_once {
                    seen.refused_once = true;
                    let status = StatusCode::from_u16(refuse_with).expect("status");
                    return (status, [(header::RETRY_AFTER, "0")], "{\"code\":\"rate_limited\"}".to_owned());
                }
                (StatusCode::OK, [(header::RETRY_AFTER, "0")], "{\"accepted\":1}".to_owned())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{address}"), seen)
}

#[tokio::test]
async fn the_server_sink_retries_and_delivers_every_event_in_order() {
    let (base, seen) = start_server(429).await;
    let sink = ServerSink::new(&base, "sim-key-1").expect("sink");
    let small =
        SimConfig { days: 3, stores: 2, regions: 1, distribution_centres: 1, items: 20, ..SimConfig::default() };
    let mut sim = Simulation::new(small.clone());
    let stats = run(&mut sim, &sink, Pace::as_fast_as_possible(), 250).await.expect("run");
    let (expected, _) = simulate(small.clone());
    assert_eq!(stats.events, expected.len() as u64);
    assert_eq!(stats.days, 3);

    let seen = seen.lock().expect("lock");
    assert!(seen.requests.len() >= 2);
    let mut delivered: Vec<String> = Vec::new();
    for (k, (auth, content_type, body)) in seen.requests.iter().enumerate() {
        assert_eq!(auth, "Bearer sim-key-1");
        assert_eq!(content_type, "application/x-ndjson");
        let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
        assert!(lines.len() <= 250);
        if k > 0 {
            delivered.extend(lines.iter().map(|e| e["id"].as_str().expect("id").to_owned()));
        }
    }
    // The refused first batch was sent again: after it, every event arrived once, in order.
    let expected_ids: Vec<String> = expected.iter().map(|e| e["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(delivered, expected_ids);
    assert_eq!(seen.requests[0].2, seen.requests[1].2);
}

#[tokio::test]
async fn a_paced_run_sends_the_same_events_and_a_refusal_is_reported() {
    let (base, seen) = start_server(503).await;
    let sink = ServerSink::new(&format!("{base}/"), "k").expect("sink");
    let small =
        SimConfig { days: 1, stores: 1, regions: 1, distribution_centres: 1, items: 10, ..SimConfig::default() };
    let mut sim = Simulation::new(small.clone());
    let stats = run(&mut sim, &sink, Pace::minutes_per_second(1_000_000.0), 1_000).await.expect("run");
    let sent: usize = seen.lock().expect("lock").requests.iter().skip(1).map(|(_, _, b)| b.lines().count()).sum();
    assert_eq!(sent as u64, stats.events);

    let (bad, _) = {
        use axum::http::StatusCode;
        let app = axum::Router::new().route(
            "/v1/events",
            axum::routing::post(|| async { (StatusCode::UNPROCESSABLE_ENTITY, "{\"code\":\"validation_failed\"}") }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (format!("http://{address}"), ())
    };
    let sink = ServerSink::new(&bad, "k").expect("sink");
    let mut sim = Simulation::new(small);
    let events = sim.next_day().expect("a day");
    match sink.send(&events).await {
        Err(SimError::Rejected { status, body }) => {
            assert_eq!(status, 422);
            assert!(body.contains("validation_failed"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        matches!(ServerSink::new("ftp://example.com", "k"), Err(SimError::Sink { field, .. }) if field == "base_url")
    );
    assert!(matches!(ServerSink::new("not a url", "k"), Err(SimError::Sink { field, .. }) if field == "base_url"));
    assert!(
        matches!(ServerSink::new("http://127.0.0.1:1", " "), Err(SimError::Sink { field, .. }) if field == "api_key")
    );
}

fn assert_valid(events: &[Value]) {
    for e in events {
        validate_event(e).unwrap_or_else(|errors| panic!("{errors:?} in {e}"));
    }
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), events.len(), "scenario ids repeat");
}

#[test]
fn scenarios_build_valid_hand_shaped_situations() {
    let r = Retailer::generate(&SimConfig::default());
    let types =
        |s: &scenarios::Scenario| s.events.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect::<Vec<_>>();

    let stockout = scenarios::promoted_stockout(&r, "S002", "SKU-00007", 9).expect("scenario");
    assert_valid(&stockout.events);
    let t = types(&stockout);
    assert_eq!(t.first().map(String::as_str), Some("promotion.scheduled"));
    assert_eq!(t.last().map(String::as_str), Some("inventory.stockout_reported"));
    let sold: Decimal =
        of_type(&stockout.events, "pos.sale").map(|e| dec(&e["data"]["lines"][0]["quantity"]["value"])).sum();
    let opening = r.opening_stock.iter().find(|s| s.location == "S002" && s.sku == "SKU-00007").expect("stock").on_hand;
    assert_eq!(sold, Decimal::from(opening));
    let promotion = stockout.document("promotion").expect("promotion");
    assert!(of_type(&stockout.events, "pos.sale").all(|e| e["data"]["lines"][0]["promotion"] == promotion));

    let supplier = r.items[0].supplier.clone();
    let po_scenario = scenarios::purchase_order(&r, "DC-01", &supplier, &[], Some(Decimal::from(6000))).expect("po");
    assert_valid(&po_scenario.events);
    let po: PurchaseOrder = po_scenario.purchase_order().expect("po");
    assert!(po.total().amount >= Decimal::from(6000), "{}", po.total());
    assert_eq!(po_scenario.document("po_number"), Some(po.po_number.as_str()));

    let received: Vec<Decimal> = po.lines.iter().map(|l| l.quantity.value).collect();
    let mut billed: Vec<InvoicedLine> =
        po.lines.iter().map(|l| InvoicedLine { quantity: l.quantity.value, unit_price: l.unit_price.amount }).collect();
    billed[0].unit_price += Decimal::new(10, 2);
    let matched = scenarios::receipt_and_invoice(&r, &po, &received, &billed).expect("match");
    assert_valid(&matched.events);
    assert_eq!(types(&matched), ["receipt.posted", "invoice.received"]);
    let invoice = &of_type(&matched.events, "invoice.received").next().expect("invoice")["data"];
    assert_eq!(invoice["po_number"], po.po_number.as_str());
    assert_eq!(dec(&invoice["lines"][0]["unit_price"]["amount"]), po.lines[0].unit_price.amount + Decimal::new(10, 2));
    let net: Decimal = invoice["lines"].as_array().unwrap().iter().map(|l| dec(&l["net_amount"]["amount"])).sum();
    assert_eq!(dec(&invoice["total"]["amount"]), net + dec(&invoice["tax_total"]["amount"]));
    assert!(scenarios::receipt_and_invoice(&r, &po, &received[1..], &billed).is_err());

    let sale_return =
        scenarios::sale_and_return(&r, "S001", "C-1042", Decimal::from(2), Decimal::from(3), 4).expect("return");
    assert_valid(&sale_return.events);
    assert_eq!(types(&sale_return), ["pos.sale", "return.requested"]);
    let request = &sale_return.events[1]["data"];
    assert_eq!(request["original_sale"]["transaction_id"], sale_return.document("transaction").unwrap());
    assert_eq!(request["customer"], "C-1042");
    assert_eq!(request["lines"][0]["quantity"]["value"], "3");
    let other =
        scenarios::sale_and_return(&r, "S001", "C-1042", Decimal::from(2), Decimal::from(1), 4).expect("return");
    assert!(other.event_ids().iter().all(|id| !sale_return.event_ids().contains(id)), "different scenarios share ids");
    assert_eq!(
        scenarios::sale_and_return(&r, "S001", "C-1042", Decimal::from(2), Decimal::from(3), 4).expect("again"),
        sale_return
    );

    let transfer = scenarios::store_transfer(&r, "S001", "S003", "SKU-00012", Decimal::from(10), Decimal::from(8))
        .expect("transfer");
    assert_valid(&transfer.events);
    assert_eq!(types(&transfer), ["transfer.requested", "transfer.shipped", "transfer.received"]);
    assert_eq!(transfer.events[2]["data"]["lines"][0]["quantity"]["value"], "8");

    for kind in [OrderExceptionKind::Late, OrderExceptionKind::Failed, OrderExceptionKind::ShortPick] {
        let order = scenarios::order_exception(&r, "S004", "SKU-00003", kind).expect("order");
        assert_valid(&order.events);
        assert_eq!(types(&order), ["order.placed", "order.exception"]);
        assert_eq!(order.events[1]["data"]["kind"], serde_json::to_value(kind).unwrap());
    }

    let ahead = scenarios::promotion_ahead(&r, &["S001", "S002"], &["SKU-00001", "SKU-00002"], 7).expect("promotion");
    assert_valid(&ahead.events);
    assert_eq!(ahead.events[0]["data"]["starts_on"], "2026-11-09");
    assert_eq!(ahead.events[0]["data"]["locations"].as_array().unwrap().len(), 2);

    match scenarios::promoted_stockout(&r, "S999", "SKU-00001", 1) {
        Err(SimError::Scenario { field, message }) => {
            assert_eq!(field, "store");
            assert!(message.contains("S006"), "{message}");
        }
        other => panic!("unknown store accepted: {other:?}"),
    }
    assert!(matches!(
        scenarios::store_transfer(&r, "S001", "S001", "SKU-00001", Decimal::ONE, Decimal::ONE),
        Err(SimError::Scenario { .. })
    ));
    assert!(matches!(
        scenarios::sale_and_return(&r, "S001", "bad customer", Decimal::ONE, Decimal::ONE, 1),
        Err(SimError::Scenario { .. })
    ));
}
