//! Retail decision tables written in YAML, evaluated at and around every boundary.

mod common;

use backroom_engine::decision::{Aggregation, EvaluationError, HitPolicy};
use common::*;
use serde_json::{Value, json};

#[test]
fn refund_approval_is_unique_and_decides_at_every_boundary() {
    let table = yaml(REFUND_YAML);
    assert_eq!(table.hit_policy, HitPolicy::Unique);
    assert_eq!(table.check(), vec![]);
    let cases: &[(Value, &str, &str, &str)] = &[
        (json!(0), "store", "auto", "r1"),
        (json!(0), "online", "auto", "r2"),
        (json!(99.99), "online", "auto", "r2"),
        (json!(100), "online", "store_manager", "r3"),
        (json!(100.01), "online", "store_manager", "r3"),
        (json!(499.99), "store", "auto", "r1"),
        (json!(499.99), "online", "store_manager", "r3"),
        (json!(500), "store", "store_manager", "r4"),
        (json!(500), "online", "store_manager", "r4"),
        (json!(500.01), "store", "store_manager", "r4"),
        (json!(4999.99), "online", "store_manager", "r4"),
        (json!(5000), "store", "finance", "r5"),
        (json!(5000.01), "online", "finance", "r5"),
        (json!(1_000_000), "store", "finance", "r5"),
        (json!("250.00"), "store", "auto", "r1"),
        (json!("500"), "store", "store_manager", "r4"),
    ];
    for (amount, channel, approver, rule) in cases {
        let evaluation = evaluate(&table, json!({"refund_amount": amount, "channel": channel}));
        assert_eq!(evaluation.outputs, vec![out(json!({"approver": approver}))], "{amount} {channel}");
        assert_eq!(evaluation.matched, vec![rule.to_string()], "{amount} {channel}");
    }
}

#[test]
fn refund_approval_without_a_matching_rule_or_with_a_disallowed_input() {
    let table = yaml(REFUND_YAML);
    // A small refund without a channel: r1-r3 need one, r4 and r5 start at 500.
    let evaluation = evaluate(&table, json!({"refund_amount": 200}));
    assert!(evaluation.outputs.is_empty());
    assert!(evaluation.matched.is_empty());
    // A large one needs no channel.
    assert_eq!(evaluate(&table, json!({"refund_amount": 700})).matched, ["r4"]);

    match table.evaluate(&context(json!({"refund_amount": 20, "channel": "kiosk"}))) {
        Err(EvaluationError::InputNotAllowed { table, input, value, .. }) => {
            assert_eq!((table.as_str(), input.as_str(), value), ("refund_approval", "channel", json!("kiosk")));
        }
        other => panic!("{other:?}"),
    }
    let err = table.evaluate(&context(json!({"refund_amount": -0.01, "channel": "store"}))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "decision table refund_approval: input refund_amount is -0.01, which is not among its allowed values >= 0"
    );
}

#[test]
fn price_tolerance_takes_the_first_matching_rule() {
    let table = yaml(PRICE_YAML);
    assert_eq!(table.hit_policy, HitPolicy::First);
    assert_eq!(table.check(), vec![]);
    let cases: &[(Value, &str, &str, &str, &str)] = &[
        (json!(-5), "standard", "under_billed", "AP", "p2"),
        (json!(-0.021), "standard", "under_billed", "AP", "p2"),
        (json!(-0.02), "standard", "match", "AP", "p1"),
        (json!(0), "strategic", "match", "AP", "p1"),
        (json!(0.02), "strategic", "match", "AP", "p1"),
        (json!(0.021), "strategic", "within_tolerance", "CA", "p3"),
        (json!(0.021), "standard", "price_dispute", "UQ", "p4"),
        (json!(0.3), "strategic", "within_tolerance", "CA", "p3"),
        (json!(0.50), "strategic", "within_tolerance", "CA", "p3"),
        (json!(0.5001), "strategic", "price_dispute", "UQ", "p4"),
        (json!(0.51), "standard", "price_dispute", "UQ", "p4"),
    ];
    for (difference, tier, outcome, code, rule) in cases {
        let evaluation = evaluate(&table, json!({"price_difference": difference, "supplier_tier": tier}));
        assert_eq!(
            evaluation.outputs,
            vec![out(json!({"outcome": outcome, "response_code": code}))],
            "{difference} {tier}"
        );
        assert_eq!(evaluation.matched, [*rule], "{difference} {tier}");
    }
    // Above (0.3, strategic) p3 and p4 both match and table order picked p3; without a tier only
    // p4 matches. Without a price difference nothing does.
    assert_eq!(evaluate(&table, json!({"price_difference": 0.3})).matched, ["p4"]);
    assert!(evaluate(&table, json!({"supplier_tier": "standard"})).matched.is_empty());
}

#[test]
fn replenishment_action_takes_the_highest_priority_output() {
    let table = yaml(REPLENISHMENT_YAML);
    assert_eq!(table.hit_policy, HitPolicy::Priority);
    assert_eq!(table.check(), vec![]);
    let action = |stock: i64, donor: i64, lead: i64, age: i64| {
        let evaluation = evaluate(
            &table,
            json!({"stock_on_hand": stock, "donor_available": donor, "lead_time_days": lead, "days_since_count": age}),
        );
        let action = evaluation.outputs.first().map(|o| o["action"].clone());
        (action, evaluation.matched)
    };
    // a1, a2, a3 and a4 all match: transfer outranks expedite_po and recount.
    assert_eq!(action(-1, 10, 2, 30), (Some(json!("transfer")), vec!["a1".to_string()]));
    // donor at 5 is one short of 6: expedite_po outranks recount.
    assert_eq!(action(2, 5, 3, 30), (Some(json!("expedite_po")), vec!["a2".to_string()]));
    assert_eq!(action(2, 6, 3, 30), (Some(json!("transfer")), vec!["a1".to_string()]));
    // 3 on hand is not low; only the stale count remains.
    assert_eq!(action(3, 10, 1, 8), (Some(json!("recount")), vec!["a3".to_string()]));
    // lead time 4 is too slow, count 7 days old is fresh: nothing to do.
    assert_eq!(action(1, 0, 4, 7), (None, vec![]));
    // Negative stock, fresh count: a4's recount.
    assert_eq!(action(-2, 0, 9, 1), (Some(json!("recount")), vec!["a4".to_string()]));
    // Two recount rules match: the first in table order is recorded.
    assert_eq!(action(-2, 0, 9, 8), (Some(json!("recount")), vec!["a3".to_string()]));
}

#[test]
fn delivery_surcharge_sums_exact_decimals() {
    let table = yaml(SURCHARGE_YAML);
    assert_eq!(table.hit_policy, HitPolicy::Collect(Some(Aggregation::Sum)));
    assert_eq!(table.check(), vec![]);
    let cases: &[(Value, &str, bool, Value, &[&str])] = &[
        (json!(20), "local", false, Value::Null, &[]),
        (json!(20.01), "local", false, json!(4.5), &["s1"]),
        (json!(50), "regional", false, json!(6.65), &["s1", "s5"]),
        (json!(50.01), "regional", false, json!(16.65), &["s1", "s2", "s5"]),
        // 4.50 + 10.00 + 7.25 + 9.99 is 31.740000000000002 in binary floating point.
        (json!(60), "remote", true, json!(31.74), &["s1", "s2", "s3", "s4"]),
        (json!(1), "local", true, json!(9.99), &["s4"]),
    ];
    for (weight, zone, express, surcharge, rules) in cases {
        let evaluation =
            evaluate(&table, json!({"order_weight_kg": weight, "delivery_zone": zone, "express": express}));
        if surcharge.is_null() {
            assert!(evaluation.outputs.is_empty(), "{weight} {zone} {express}");
        } else {
            assert_eq!(evaluation.outputs, vec![out(json!({"surcharge": surcharge}))], "{weight} {zone} {express}");
        }
        assert_eq!(evaluation.matched, *rules, "{weight} {zone} {express}");
    }
    assert_ne!(4.50 + 10.00 + 7.25 + 9.99, 31.74_f64, "why SUM uses decimals");
}

#[test]
fn collect_without_aggregation_min_max_count_and_rule_order() {
    let mut table = yaml(SURCHARGE_YAML);
    let order = json!({"order_weight_kg": 60, "delivery_zone": "remote", "express": true});
    let all = ["s1", "s2", "s3", "s4"];

    table.hit_policy = HitPolicy::Collect(None);
    let evaluation = evaluate(&table, order.clone());
    assert_eq!(
        evaluation.outputs,
        [json!(4.5), json!(10), json!(7.25), json!(9.99)].map(|s| out(json!({"surcharge": s}))).to_vec()
    );
    assert_eq!(evaluation.matched, all);

    table.hit_policy = HitPolicy::RuleOrder;
    assert_eq!(evaluate(&table, order.clone()).matched, all);

    for (aggregation, expected) in
        [(Aggregation::Min, json!(4.5)), (Aggregation::Max, json!(10)), (Aggregation::Count, json!(4))]
    {
        table.hit_policy = HitPolicy::Collect(Some(aggregation));
        let evaluation = evaluate(&table, order.clone());
        assert_eq!(evaluation.outputs, vec![out(json!({"surcharge": expected}))], "{aggregation}");
        assert_eq!(evaluation.matched, all);
    }
}

#[test]
fn any_needs_agreeing_outputs_and_unique_refuses_two_matches() {
    let text = r#"
id: markdown_eligibility
hit_policy: ANY
inputs: [{ name: days_to_expiry }, { name: category }]
outputs: [{ name: eligible }]
rules:
  - { id: m1, when: { days_to_expiry: "<= 2" }, then: { eligible: true } }
  - { id: m2, when: { category: "produce, bakery" }, then: { eligible: true } }
  - { id: m3, when: { category: tobacco }, then: { eligible: false } }
"#;
    let mut table = yaml(text);
    let evaluation = evaluate(&table, json!({"days_to_expiry": 1, "category": "bakery"}));
    assert_eq!(evaluation.outputs, vec![out(json!({"eligible": true}))]);
    assert_eq!(evaluation.matched, ["m1", "m2"]);
    let err = table.evaluate(&context(json!({"days_to_expiry": 1, "category": "tobacco"}))).unwrap_err();
    assert_eq!(
        err,
        EvaluationError::ConflictingOutputs {
            table: "markdown_eligibility".into(),
            rules: vec!["m1".into(), "m3".into()]
        }
    );

    table.hit_policy = HitPolicy::Unique;
    let err = table.evaluate(&context(json!({"days_to_expiry": 1, "category": "bakery"}))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "decision table markdown_eligibility: rules m1, m2 all match, but the hit policy UNIQUE allows one"
    );
}

#[test]
fn defaults_nested_names_booleans_and_missing_inputs() {
    let text = r#"
id: fulfilment_route
hit_policy: FIRST
inputs:
  - name: order.channel
  - name: order.total
  - name: customer.vip
outputs:
  - name: route
    default: standard
  - name: reviewed
rules:
  - { id: f1, when: { customer.vip: true, order.total: "> 1000" }, then: { route: concierge, reviewed: true } }
  - { id: f2, when: { order.channel: "\"click & collect\"", customer.vip: "not(true)" }, then: { route: store_pickup, reviewed: false } }
  - { id: f3, when: { order.total: "null" }, then: { route: hold, reviewed: false } }
"#;
    let table = yaml(text);
    let vip = json!({"order": {"channel": "web", "total": "1500.00"}, "customer": {"vip": true}});
    assert_eq!(evaluate(&table, vip).matched, ["f1"]);
    let pickup = json!({"order": {"channel": "click & collect", "total": 20}, "customer": {"vip": false}});
    assert_eq!(evaluate(&table, pickup).outputs, vec![out(json!({"route": "store_pickup", "reviewed": false}))]);
    // vip missing: not(true) does not match a missing value, and there is no total either.
    let anonymous = json!({"order": {"channel": "click & collect"}});
    assert_eq!(evaluate(&table, anonymous).matched, ["f3"]);
    // No rule: the defaults, with null for outputs without one.
    let evaluation = evaluate(&table, json!({"order": {"channel": "web", "total": 10}, "customer": {"vip": false}}));
    assert!(evaluation.matched.is_empty());
    assert_eq!(evaluation.outputs, vec![out(json!({"route": "standard", "reviewed": null}))]);
}

#[test]
fn incomparable_values_do_not_match_and_are_not_errors() {
    let table = yaml(REFUND_YAML);
    // A boolean cannot be compared with `>= 0`, the allowed values, so it is not allowed.
    let err = table.evaluate(&context(json!({"refund_amount": true, "channel": "store"}))).unwrap_err();
    assert!(matches!(err, EvaluationError::InputNotAllowed { .. }));
    let table = yaml(PRICE_YAML);
    let evaluation = evaluate(&table, json!({"price_difference": "about ten", "supplier_tier": "standard"}));
    assert!(evaluation.matched.is_empty());
}
