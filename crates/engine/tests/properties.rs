//! Property tests: no input makes the readers panic, printed tests read back the same, adjacent
//! half-open ranges under UNIQUE always match exactly one rule, and the overlap check finds every
//! overlap (and only real ones).

mod common;

use std::str::FromStr;

use backroom_engine::decision::{
    DecisionTable, EvaluationError, HitPolicy, InputClause, Literal, Op, OutputClause, ProblemKind, Rule, UnaryTest,
    parse_unary_tests, tables_from_dmn,
};
use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Strings made of the characters unary tests are made of, to get deep into the parser.
fn feel_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[-\[\]().,<>=!"\\a-z0-9 nottruefalsnul_é]{0,40}"#).unwrap()
}

/// A table's text with a random slice replaced by random text.
fn mutated(source: &'static str) -> impl Strategy<Value = String> {
    (0..source.len(), 0usize..40, ".{0,12}").prop_map(move |(at, cut, insert)| {
        let mut start = at;
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + cut).min(source.len());
        while !source.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{insert}{}", &source[..start], &source[end..])
    })
}

fn decimal() -> impl Strategy<Value = Decimal> {
    (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(m, scale)| Decimal::new(m, scale))
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        decimal().prop_map(Literal::Number),
        any::<String>().prop_map(Literal::String),
    ]
}

fn positive() -> impl Strategy<Value = UnaryTest> {
    let op = prop_oneof![Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge)];
    let ordered = prop_oneof![decimal().prop_map(Literal::Number), any::<String>().prop_map(Literal::String)];
    prop_oneof![
        literal().prop_map(UnaryTest::Equals),
        (op, ordered).prop_map(|(op, l)| UnaryTest::Compare(op, l)),
        (decimal(), decimal(), any::<bool>(), any::<bool>()).prop_map(|(a, b, li, hi)| UnaryTest::Range {
            low: Literal::Number(a),
            low_inclusive: li,
            high: Literal::Number(b),
            high_inclusive: hi,
        }),
        ("[a-z]{0,3}", "[a-z]{0,3}", any::<bool>(), any::<bool>()).prop_map(|(a, b, li, hi)| UnaryTest::Range {
            low: Literal::String(a),
            low_inclusive: li,
            high: Literal::String(b),
            high_inclusive: hi,
        }),
    ]
}

fn unary_test() -> impl Strategy<Value = UnaryTest> {
    let list = prop::collection::vec(positive(), 1..4)
        .prop_map(|mut tests| if tests.len() == 1 { tests.remove(0) } else { UnaryTest::List(tests) })
        .boxed();
    prop_oneof![Just(UnaryTest::Any), list.clone(), list.prop_map(|inner| UnaryTest::Not(Box::new(inner))),]
}

fn number(value: Decimal) -> Value {
    serde_json::from_str(&value.to_string()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_unary_tests_never_panics(text in any::<String>()) {
        let _ = parse_unary_tests(&text);
    }

    #[test]
    fn parse_unary_tests_never_panics_on_feel_like_text(text in feel_like()) {
        if let Err(e) = parse_unary_tests(&text) {
            prop_assert!(e.offset <= text.chars().count());
        }
    }

    #[test]
    fn from_yaml_never_panics(text in any::<String>()) {
        let _ = DecisionTable::from_yaml(&text);
    }

    #[test]
    fn from_yaml_never_panics_on_damaged_tables(text in mutated(REFUND_YAML)) {
        if let Ok(table) = DecisionTable::from_yaml(&text) {
            let _ = table.check();
            let _ = table.evaluate(&context(json!({"refund_amount": 200, "channel": "store"})));
        }
    }

    #[test]
    fn tables_from_dmn_never_panics(text in any::<String>()) {
        let _ = tables_from_dmn(&text);
    }

    #[test]
    fn tables_from_dmn_never_panics_on_damaged_files(text in mutated(REFUND_DMN), other in mutated(PRICE_DMN)) {
        for text in [text, other] {
            if let Ok(tables) = tables_from_dmn(&text) {
                for table in tables {
                    let _ = table.check();
                    let _ = table.evaluate(&context(json!({"refund_amount": 200, "price_difference": 0.3})));
                }
            }
        }
    }

    #[test]
    fn printed_tests_read_back_the_same(test in unary_test()) {
        let text = test.to_string();
        prop_assert_eq!(parse_unary_tests(&text), Ok(test), "{}", text);
    }
}

proptest! {
    #[test]
    fn adjacent_half_open_ranges_match_exactly_one_rule(
        cuts in prop::collection::btree_set(-100_000i64..100_000, 1..12),
        probes in prop::collection::vec(-120_000i64..120_000, 1..40),
    ) {
        // Boundaries in cents: rules `< b0`, `[b0..b1)`, …, `>= bn`.
        let bounds: Vec<Decimal> = cuts.iter().map(|c| Decimal::new(*c, 2)).collect();
        let mut tests = vec![UnaryTest::Compare(Op::Lt, Literal::Number(bounds[0]))];
        for pair in bounds.windows(2) {
            tests.push(UnaryTest::Range {
                low: Literal::Number(pair[0]),
                low_inclusive: true,
                high: Literal::Number(pair[1]),
                high_inclusive: false,
            });
        }
        tests.push(UnaryTest::Compare(Op::Ge, Literal::Number(bounds[bounds.len() - 1])));
        let table = DecisionTable {
            id: "bands".into(),
            name: None,
            hit_policy: HitPolicy::Unique,
            inputs: vec![InputClause { name: "amount".into(), label: None, allowed: None }],
            outputs: vec![OutputClause { name: "band".into(), label: None, allowed: None, default: None }],
            rules: tests
                .into_iter()
                .enumerate()
                .map(|(i, test)| Rule {
                    id: format!("b{i}"),
                    when: vec![test],
                    then: vec![json!(i)],
                    description: None,
                    position: None,
                })
                .collect(),
        };
        prop_assert_eq!(table.check(), vec![]);
        let mut amounts: Vec<Decimal> = probes.iter().map(|p| Decimal::new(*p, 2)).collect();
        amounts.extend(bounds.iter().copied());
        amounts.extend(bounds.iter().map(|b| b - Decimal::new(1, 2)));
        for amount in amounts {
            let evaluation = table.evaluate(&context(json!({ "amount": number(amount) }))).unwrap();
            let expected = bounds.iter().filter(|b| **b <= amount).count();
            prop_assert_eq!(evaluation.matched, vec![format!("b{expected}")], "{}", amount);
            // The same as a numeric string.
            let evaluation = table.evaluate(&context(json!({ "amount": amount.to_string() }))).unwrap();
            prop_assert_eq!(evaluation.matched, vec![format!("b{expected}")], "{}", amount);
        }
    }
}

/// Simple tests over small integers and a few strings, where every overlap has a probe value.
fn small_test() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        (0i64..10).prop_map(|n| n.to_string()),
        ("<|<=|>|>=", 0i64..10).prop_map(|(op, n)| format!("{op} {n}")),
        ("[\\[(]", 0i64..10, 0i64..10, "[\\])]").prop_map(|(l, a, b, h)| format!("{l}{a}..{b}{h}")),
        "\"[ab]\"",
        Just("null".to_string()),
        Just("true".to_string()),
    ];
    let list = prop::collection::vec(atom, 1..3).prop_map(|atoms| atoms.join(", ")).boxed();
    prop_oneof![
        1 => Just("-".to_string()),
        4 => list.clone(),
        2 => list.prop_map(|l| format!("not({l})")),
    ]
}

fn probes() -> Vec<Value> {
    let mut values: Vec<Value> = (-2..24).map(|half| number(Decimal::new(half * 5, 1))).collect();
    values.extend([json!("a"), json!("b"), json!("c"), json!(true), json!(false), Value::Null]);
    values
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn the_overlap_check_finds_every_overlap_and_only_real_ones(a in small_test(), b in small_test()) {
        let table = DecisionTable {
            id: "t".into(),
            name: None,
            hit_policy: HitPolicy::Unique,
            inputs: vec![InputClause { name: "x".into(), label: None, allowed: None }],
            outputs: vec![OutputClause { name: "y".into(), label: None, allowed: None, default: None }],
            rules: [("a", &a), ("b", &b)]
                .iter()
                .map(|(id, text)| Rule {
                    id: id.to_string(),
                    when: vec![parse_unary_tests(text).unwrap()],
                    then: vec![json!(1)],
                    description: None,
                    position: None,
                })
                .collect(),
        };
        let problems = table.check();
        let overlap = problems.iter().find(|p| p.kind == ProblemKind::Overlap);
        let both = probes().into_iter().find(|v| {
            table.rules[0].when[0].matches(v) && table.rules[1].when[0].matches(v)
        });
        match (overlap, both) {
            (None, Some(value)) => prop_assert!(false, "{} and {} both match {} but no overlap was reported", a, b, value),
            (Some(problem), _) => {
                // The witness in the message is an input that both rules match.
                let witness = problem.message.rsplit_once("x = ").map(|(_, w)| w);
                let context = match witness {
                    Some(w) => json!({ "x": serde_json::from_str::<Value>(w).unwrap() }),
                    None => json!({}),
                };
                let result = table.evaluate(&common::context(context));
                prop_assert!(matches!(result, Err(EvaluationError::MultipleMatches { .. })), "{}: {:?}", problem, result);
            }
            (None, None) => {}
        }
    }
}

#[test]
fn decimals_in_strategies_parse() {
    assert_eq!(number(Decimal::from_str("-0.5").unwrap()), json!(-0.5));
}
