//! The returns policy: each rule refusing on its own, and the refund at the original price.

use backroom_model::{ReturnRequest, SalesTransaction, check_return};
use chrono::NaiveDate;
use serde_json::json;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn sale() -> SalesTransaction {
    serde_json::from_value(json!({
        "transaction_id": "T-1", "location": "S001", "business_day": "2026-11-02", "customer": "C-1",
        "currency": "EUR",
        "lines": [{"line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": "3"},
                   "unit_price": {"amount": "4.99", "currency": "EUR"},
                   "net_amount": {"amount": "14.97", "currency": "EUR"}}],
        "tenders": [{"method": "card", "amount": {"amount": "14.97", "currency": "EUR"}}],
        "total": {"amount": "14.97", "currency": "EUR"},
    }))
    .expect("sale")
}

fn till_return(quantity: &str) -> SalesTransaction {
    serde_json::from_value(json!({
        "transaction_id": "T-2", "location": "S001", "business_day": "2026-11-03", "customer": "C-1",
        "currency": "EUR", "original": {"transaction_id": "T-1", "location": "S001"},
        "lines": [{"line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": quantity},
                   "unit_price": {"amount": "4.99", "currency": "EUR"},
                   "net_amount": {"amount": "4.99", "currency": "EUR"}}],
        "tenders": [{"method": "card", "amount": {"amount": "4.99", "currency": "EUR"}}],
        "total": {"amount": "4.99", "currency": "EUR"},
    }))
    .expect("till return")
}

fn request(customer: &str, sku: &str, quantity: &str, asked: &str) -> ReturnRequest {
    serde_json::from_value(json!({
        "return_number": "RMA-1", "location": "S001", "channel": "store", "customer": customer,
        "original_sale": {"transaction_id": "T-1", "location": "S001"},
        "requested_refund": {"amount": asked, "currency": "EUR"},
        "lines": [{"line": 1, "item": {"sku": sku}, "quantity": {"value": quantity}, "reason": "changed_mind"}],
    }))
    .expect("request")
}

fn codes(check: &backroom_model::ReturnCheck) -> Vec<&str> {
    check.findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn each_rule_refuses_on_its_own() {
    let on = day("2026-11-10");
    let ok = check_return(&request("C-1", "SKU-1", "2", "9.98"), &[sale()], on, 30);
    assert!(ok.accepted && ok.findings.is_empty(), "{ok:?}");
    assert_eq!(ok.refund.to_string(), "9.98");

    let none = check_return(&request("C-1", "SKU-1", "1", "4.99"), &[], on, 30);
    assert_eq!((none.accepted, codes(&none)), (false, vec!["no_original_sale"]));
    let other = check_return(&request("C-9", "SKU-1", "1", "4.99"), &[sale()], on, 30);
    assert_eq!((other.accepted, codes(&other)), (false, vec!["other_customer"]));
    let late = check_return(&request("C-1", "SKU-1", "1", "4.99"), &[sale()], day("2026-12-03"), 30);
    assert_eq!((late.accepted, codes(&late)), (false, vec!["outside_window"]));
    let edge = check_return(&request("C-1", "SKU-1", "1", "4.99"), &[sale()], day("2026-12-02"), 30);
    assert!(edge.accepted, "day 30 is inside the window");
    let more = check_return(&request("C-1", "SKU-1", "3", "14.97"), &[sale(), till_return("1")], on, 30);
    assert_eq!((more.accepted, codes(&more)), (false, vec!["more_than_sold"]));
    assert!(more.summary.contains("3 were sold and 1 already returned"), "{}", more.summary);
    let rest = check_return(&request("C-1", "SKU-1", "2", "9.98"), &[sale(), till_return("1")], on, 30);
    assert!(rest.accepted, "two of three with one already back");
    let unsold = check_return(&request("C-1", "SKU-7", "1", "1.00"), &[sale()], on, 30);
    assert_eq!((unsold.accepted, codes(&unsold)), (false, vec!["item_not_sold"]));
}

#[test]
fn the_refund_is_at_the_original_price_whatever_is_asked() {
    let check = check_return(&request("C-1", "SKU-1", "2", "12.00"), &[sale()], day("2026-11-05"), 30);
    assert!(check.accepted);
    assert_eq!(check.refund.to_string(), "9.98");
    assert_eq!(codes(&check), vec!["refund_adjusted"]);
    assert_eq!(check.refund, check.lines[0].refund);
}
