//! Validation of events as an integration engineer would send them.

use backroom_model::{EventPayload, EventType, event_schema, validate_event, validate_events};
use serde_json::json;

fn sale() -> serde_json::Value {
    json!({
        "id": "S042-T07-20261123-0193",
        "type": "pos.sale",
        "source": "pos/store-042",
        "occurred_at": "2026-11-23T10:15:02+01:00",
        "data": {
            "transaction_id": "T07-0193",
            "location": "S042",
            "workstation": "07",
            "business_day": "2026-11-23",
            "currency": "EUR",
            "lines": [
                {"line": 1, "item": {"gtin": "4006381333931", "sku": "PEN-BLUE"}, "quantity": {"value": "2"},
                 "unit_price": {"amount": "1.49", "currency": "EUR"}, "net_amount": {"amount": "2.98", "currency": "EUR"}},
                {"line": 2, "item": {"sku": "BAG-10"}, "quantity": {"value": 1, "unit": "EA"},
                 "unit_price": {"amount": 0.10, "currency": "EUR"}, "net_amount": {"amount": "0.10", "currency": "EUR"}}
            ],
            "tenders": [{"method": "card", "amount": {"amount": "3.08", "currency": "EUR"}}],
            "total": {"amount": "3.08", "currency": "EUR"}
        }
    })
}

#[test]
fn a_valid_sale_is_typed_and_its_subject_derived() {
    let e = validate_event(&sale()).expect("valid");
    assert_eq!(e.event_type, EventType::PosSale);
    assert_eq!(e.occurred_at.to_rfc3339(), "2026-11-23T09:15:02+00:00");
    assert_eq!(e.subject.locations[0].as_str(), "S042");
    assert_eq!(e.subject.items.iter().map(|i| i.as_str()).collect::<Vec<_>>(), ["04006381333931", "BAG-10"]);
    let EventPayload::SalesTransaction(t) = &e.payload else { panic!("not a sale") };
    assert_eq!(t.lines[1].unit_price.amount.normalize().to_string(), "0.1");
    assert_eq!(e.data()["lines"][0]["quantity"]["unit"], "EA");
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut e = sale();
    e["occurred_at"] = json!("yesterday");
    e["subject"] = json!({});
    e["data"]["lines"][0]["item"]["gtin"] = json!("4006381333932");
    e["data"]["lines"][0]["unit_price"]["currency"] = json!("USD");
    e["data"]["lines"][1]["quantity"]["value"] = json!("-1");
    e["data"]["lines"][1]["line"] = json!(1);
    e["data"]["currency"] = json!("EURO");
    let errors = validate_event(&e).expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for expected in [
        "$.subject",
        "$.occurred_at",
        "$.data.currency",
        "$.data.lines[0].item.gtin",
        "$.data.lines[0].unit_price.currency",
        "$.data.lines[1].quantity.value",
        "$.data.lines[1].line",
    ] {
        assert!(paths.contains(&expected), "{expected} not in {paths:?}");
    }
}

#[test]
fn structural_errors_name_every_field() {
    let mut e = sale();
    e["data"]["lines"][0]["quantity"] = json!("two");
    e["data"]["lines"][1]["surprise"] = json!(true);
    e["data"].as_object_mut().unwrap().remove("business_day");
    let errors = validate_event(&e).expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"$.data.lines[0].quantity"), "{paths:?}");
    assert!(paths.contains(&"$.data.lines[1]"), "{paths:?}");
    assert!(paths.contains(&"$.data"), "{paths:?}");
    assert!(errors.iter().any(|e| e.message.contains("business_day")), "{errors:?}");
}

#[test]
fn envelope_errors() {
    let errors = validate_event(&json!({"type": "pos.teleport", "data": {}})).expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["$.id", "$.source", "$.type", "$.occurred_at"]);
    assert!(errors[2].message.contains("inventory.counted"));
    let errors = validate_event(&json!([1])).expect_err("invalid");
    assert_eq!(errors[0].path, "$");
}

#[test]
fn batch_errors_carry_the_event_index() {
    let mut bad = sale();
    bad["id"] = json!("");
    let errors = validate_events(&[sale(), bad, sale()]).expect_err("invalid");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 1);
    assert_eq!(errors[0].1.path, "$.id");
}

#[test]
fn schemas_describe_the_payloads() {
    let schema = event_schema(EventType::TransferShipped);
    assert_eq!(schema["title"], "transfer.shipped event data");
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"from") && required.contains(&"to") && required.contains(&"lines"));
}

#[test]
fn transfer_to_itself_and_promotion_dates() {
    let t = json!({"id": "t1", "type": "transfer.requested", "source": "erp", "occurred_at": "2026-11-23T08:00:00Z",
        "data": {"transfer_number": "TR-1", "from": "S1", "to": "S1", "lines": [{"line": 1, "item": {"sku": "A"}, "quantity": {"value": 3}}]}});
    let errors = validate_event(&t).expect_err("invalid");
    assert_eq!(errors[0].path, "$.data.to");
    let p = json!({"id": "p1", "type": "promotion.scheduled", "source": "merch", "occurred_at": "2026-11-23T08:00:00Z",
        "data": {"promotion_id": "XMAS", "name": "Christmas", "starts_on": "2026-12-20", "ends_on": "2026-12-01",
                 "locations": ["S1"], "items": [{"item": {"sku": "A"}}]}});
    let errors = validate_event(&p).expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["$.data.ends_on", "$.data.items[0]"]);
}
