//! Expressions: retail conditions over an instance context compiled with [`Cel`], compile errors
//! with positions, evaluation errors that name what is wrong, results back to JSON, the limits
//! that keep the recursive `cel` crate off the end of the stack, and property tests that no input
//! makes compiling or evaluating panic.

use std::sync::Arc;

use backroom_engine::expr::{Cel, CompileError, ExprError, Expression, ExpressionLanguage, MAX_DEPTH, MAX_NESTING};
use proptest::prelude::*;
use serde_json::{Value, json};

fn compile(source: &str) -> Arc<dyn Expression> {
    match Cel.compile(source) {
        Ok(expression) => expression,
        Err(e) => panic!("{source:?} does not compile: {e}"),
    }
}

fn compile_error(source: &str) -> CompileError {
    match Cel.compile(source) {
        Ok(expression) => panic!("{source:?} compiled: {expression:?}"),
        Err(e) => e,
    }
}

fn eval(source: &str, context: &Value) -> Value {
    match compile(source).evaluate(context) {
        Ok(value) => value,
        Err(e) => panic!("{source:?} failed: {e}"),
    }
}

fn holds(source: &str, context: &Value) -> bool {
    match compile(source).evaluate_bool(context) {
        Ok(b) => b,
        Err(e) => panic!("{source:?} failed: {e}"),
    }
}

fn eval_error(source: &str, context: &Value) -> ExprError {
    match compile(source).evaluate(context) {
        Ok(value) => panic!("{source:?} evaluated to {value}"),
        Err(e) => e,
    }
}

/// A stockout reported at store ST-0042, after the `enrich` step read the projections.
fn stockout() -> Value {
    json!({
        "event": {
            "type": "inventory.stockout_reported",
            "time": "2025-03-01T09:15:00Z",
            "subject": {"store": "ST-0042", "item": "SKU-1"},
            "data": {
                "reported_by": "associate",
                "note": "Shelf empty, two cartons damaged in backroom",
                "lines": [
                    {"item": {"sku": "SKU-1", "name": "Oat milk 1L"}, "quantity": "12"},
                    {"item": {"sku": "SKU-7", "name": "Granola 500g"}, "quantity": "3"},
                ],
            },
        },
        "steps": {"enrich": {"on_hand": "0", "dc_on_hand": "240", "velocity": 12.5, "facings": 4}},
        "location": {"id": "ST-0042", "format": "supermarket", "region": "north", "timezone": "Europe/Paris"},
        "item": {"sku": "SKU-1", "category": "dairy", "perishable": true, "price": {"amount": "2.49", "currency": "EUR"}},
    })
}

/// A purchase order awaiting approval.
fn purchase_order(total: Value, lines: usize, customer: bool) -> Value {
    let lines: Vec<Value> = (1..=lines)
        .map(|i| json!({"item": {"sku": format!("SKU-{i}")}, "quantity": "10", "unit_price": {"amount": "4.20"}}))
        .collect();
    let mut data = json!({"po": "PO-2025-0117", "total": {"amount": total, "currency": "EUR"}, "lines": lines});
    if customer {
        data["customer"] = json!({"id": "C-88", "tier": "gold"});
    }
    json!({"event": {"type": "purchasing.po_submitted", "data": data}})
}

// ---------------------------------------------------------------------------------------------
// Retail conditions
// ---------------------------------------------------------------------------------------------

#[test]
fn stockout_with_stock_at_the_dc_triggers_replenishment() {
    let condition = r#"event.type == "inventory.stockout_reported" && decimal(steps.enrich.dc_on_hand) > 0.0"#;
    let mut context = stockout();
    assert!(holds(condition, &context));

    context["steps"]["enrich"]["dc_on_hand"] = json!("0");
    assert!(!holds(condition, &context), "nothing at the DC");

    context["steps"]["enrich"]["dc_on_hand"] = json!("240");
    context["event"]["type"] = json!("inventory.count_corrected");
    assert!(!holds(condition, &context), "another event type");

    assert_eq!(compile(condition).references(), ["event", "steps"]);
}

#[test]
fn large_orders_need_approval() {
    let condition = "decimal(event.data.total.amount) >= 5000.0";
    assert!(holds(condition, &purchase_order(json!("5000.00"), 2, false)));
    assert!(holds(condition, &purchase_order(json!("12500.50"), 2, false)));
    assert!(!holds(condition, &purchase_order(json!("4999.99"), 2, false)));
    // An amount written as a JSON number works as well, and doubles compare with ints.
    assert!(holds(condition, &purchase_order(json!(5000), 2, false)));
    assert!(holds("decimal(event.data.total.amount) >= 5000", &purchase_order(json!("5000.00"), 2, false)));
    assert_eq!(compile(condition).references(), ["event"]);
}

#[test]
fn a_line_for_a_given_sku() {
    let condition = r#"event.data.lines.exists(l, l.item.sku == "SKU-1")"#;
    assert!(holds(condition, &stockout()));
    assert!(holds(condition, &purchase_order(json!("10"), 3, false)));
    let mut context = stockout();
    context["event"]["data"]["lines"][0]["item"]["sku"] = json!("SKU-2");
    assert!(!holds(condition, &context));
    // `l` is bound by the macro, not read from the context.
    assert_eq!(compile(condition).references(), ["event"]);

    // All lines, exactly one line, and a computed list of quantities.
    assert!(holds("event.data.lines.all(l, decimal(l.quantity) > 0.0)", &stockout()));
    assert!(holds(
        r#"event.data.lines.exists_one(l, l.item.sku.startsWith("SKU-"))"#,
        &purchase_order(json!("1"), 1, false)
    ));
    assert_eq!(eval("event.data.lines.map(l, decimal(l.quantity))", &stockout()), json!([12.0, 3.0]));
    assert_eq!(
        eval("event.data.lines.filter(l, decimal(l.quantity) < 5.0).map(l, l.item.sku)", &stockout()),
        json!(["SKU-7"])
    );
}

#[test]
fn orders_with_many_lines() {
    let condition = "size(event.data.lines) > 3";
    assert!(holds(condition, &purchase_order(json!("10"), 4, false)));
    assert!(!holds(condition, &purchase_order(json!("10"), 3, false)));
    assert!(!holds(condition, &purchase_order(json!("10"), 0, false)));
    assert!(holds("event.data.lines.size() == 4", &purchase_order(json!("10"), 4, false)));
    assert_eq!(compile(condition).references(), ["event"]);
}

#[test]
fn optional_fields_are_tested_with_has() {
    let condition = "has(event.data.customer)";
    assert!(holds(condition, &purchase_order(json!("10"), 1, true)));
    assert!(!holds(condition, &purchase_order(json!("10"), 1, false)));

    // Guarding a read of an optional field: no error when it is absent.
    let guarded = r#"has(event.data.customer) && event.data.customer.tier == "gold""#;
    assert!(holds(guarded, &purchase_order(json!("10"), 1, true)));
    assert!(!holds(guarded, &purchase_order(json!("10"), 1, false)));

    // A key that is present with a null value is present.
    let mut context = purchase_order(json!("10"), 1, false);
    context["event"]["data"]["customer"] = Value::Null;
    assert!(holds(condition, &context));

    // Optional values and map membership do the same job.
    assert_eq!(
        eval(r#"event.data.?customer.tier.orValue("none")"#, &purchase_order(json!("10"), 1, false)),
        json!("none")
    );
    assert_eq!(
        eval(r#"event.data.?customer.tier.orValue("none")"#, &purchase_order(json!("10"), 1, true)),
        json!("gold")
    );
    assert!(holds(r#""customer" in event.data"#, &purchase_order(json!("10"), 1, true)));
    assert_eq!(compile(guarded).references(), ["event"]);
}

#[test]
fn string_functions() {
    let context = stockout();
    assert!(holds(r#"location.id.startsWith("ST-") && location.region == "north""#, &context));
    assert!(holds(r#"event.data.note.contains("damaged")"#, &context));
    assert!(!holds(r#"event.data.note.contains("expired")"#, &context));
    assert!(holds(r#"event.data.note.lowerAscii().contains("shelf empty")"#, &context));
    assert!(holds(r#"item.sku.endsWith("-1") && item.category in ["dairy", "frozen"]"#, &context));
    assert!(holds(r#"event.subject.store.matches("^ST-[0-9]{4}$")"#, &context));
    assert_eq!(eval(r#"event.subject.store.split("-")[1]"#, &context), json!("0042"));
    assert_eq!(eval(r#"location.region.upperAscii() + "/" + location.id"#, &context), json!("NORTH/ST-0042"));
    assert_eq!(compile(r#"location.id.startsWith("ST-") && location.region == "north""#).references(), ["location"]);
    assert_eq!(compile(r#"event.data.note.contains("damaged")"#).references(), ["event"]);
}

#[test]
fn numbers_times_and_math() {
    let context = stockout();
    // Days of cover: on hand at the DC divided by daily velocity.
    assert!(holds("decimal(steps.enrich.dc_on_hand) / steps.enrich.velocity > 14.0", &context));
    assert!(holds("steps.enrich.facings >= 4 && steps.enrich.velocity > 10", &context));
    assert_eq!(eval("math.greatest(decimal(steps.enrich.on_hand), 1.0)", &context), json!(1.0));
    assert_eq!(eval("math.ceil(decimal(item.price.amount))", &context), json!(3.0));
    assert!(holds(r#"timestamp(event.time) < timestamp("2025-03-02T00:00:00Z")"#, &context));
    assert!(holds(r#"timestamp(event.time) + duration("48h") > timestamp("2025-03-03T00:00:00Z")"#, &context));
    assert_eq!(eval("timestamp(event.time).getHours(location.timezone)", &context), json!(10));
    // `math` is a function namespace, not a variable.
    assert_eq!(compile("math.greatest(decimal(steps.enrich.on_hand), 1.0)").references(), ["steps"]);
    assert_eq!(
        compile("timestamp(event.time).getHours(location.timezone) >= 9 && item.perishable").references(),
        ["event", "item", "location"]
    );
}

#[test]
fn decimal_reads_strings_and_numbers() {
    let context =
        json!({"x": {"s": " 12.50 ", "neg": "-3", "exp": "1e3", "i": 7, "u": 18446744073709551615u64, "f": 0.5}});
    assert_eq!(eval("decimal(x.s)", &context), json!(12.5));
    assert_eq!(eval("decimal(x.neg)", &context), json!(-3.0));
    assert_eq!(eval("decimal(x.exp)", &context), json!(1000.0));
    assert_eq!(eval("decimal(x.i)", &context), json!(7.0));
    assert_eq!(eval("decimal(x.f)", &context), json!(0.5));
    assert!(holds("decimal(x.u) > 1e19", &context));
    // f64, as documented: fine for comparing, not for adding money.
    assert!(!holds(r#"decimal("0.10") + decimal("0.20") == 0.3"#, &context));
    assert!(holds(r#"decimal("0.10") + decimal("0.20") > 0.29"#, &context));

    for bad in [r#""""#, r#""abc""#, r#""1,000""#, r#""NaN""#, r#""12.5 EUR""#] {
        match eval_error(&format!("decimal({bad})"), &context) {
            ExprError::Function { function, message } => {
                assert_eq!(function, "decimal");
                assert!(message.contains("is not a decimal number"), "{message}");
            }
            other => panic!("decimal({bad}): {other:?}"),
        }
    }
    assert!(matches!(eval_error("decimal(null)", &context), ExprError::TypeMismatch { .. }));
}

// ---------------------------------------------------------------------------------------------
// Results back to JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn results_are_converted_to_json() {
    let context = stockout();
    assert_eq!(eval("1 + 2", &context), json!(3));
    assert_eq!(eval("-7", &context), json!(-7));
    assert_eq!(eval("18446744073709551615u", &context), json!(18446744073709551615u64));
    assert_eq!(eval("2.5 * 2.0", &context), json!(5.0));
    assert_eq!(eval(r#""a" + "b""#, &context), json!("ab"));
    assert_eq!(eval("null", &context), Value::Null);
    assert_eq!(eval("[1, 'two', 3.0, true, null]", &context), json!([1, "two", 3.0, true, null]));
    assert_eq!(
        eval("{'sku': item.sku, 'qty': decimal(steps.enrich.dc_on_hand)}", &context),
        json!({"sku": "SKU-1", "qty": 240.0})
    );
    assert_eq!(eval("{1: 'one'}", &context), json!({"1": "one"}));
    assert_eq!(eval("steps.enrich", &context), context["steps"]["enrich"]);
    assert_eq!(eval("timestamp(event.time)", &context), json!("2025-03-01T09:15:00+00:00"));
    assert_eq!(eval(r#"duration("90m")"#, &context), json!(5400));
    assert_eq!(eval(r#"duration("1.5s")"#, &context), json!(1.5));
    assert_eq!(eval(r#"timestamp("2025-03-02T00:00:00Z") - timestamp(event.time)"#, &context), json!(53100));
    assert_eq!(eval("b'abc'", &context), json!("YWJj"));
    assert_eq!(eval("type(1)", &context), json!("int"));
    assert_eq!(eval("optional.none()", &context), Value::Null);
    assert!(matches!(eval_error("1.0 / 0.0", &context), ExprError::NotRepresentable { .. }));
}

// ---------------------------------------------------------------------------------------------
// Compile errors
// ---------------------------------------------------------------------------------------------

#[test]
fn compile_errors_have_positions() {
    let e = compile_error("event.type ==");
    assert_eq!((e.line, e.column), (1, 14), "{e}");
    assert!(e.message.contains("Syntax error"), "{e}");
    assert!(e.to_string().starts_with("line 1, column 14: "), "{e}");

    let e = compile_error("foo(");
    assert_eq!((e.line, e.column), (1, 5), "{e}");

    // Second line of a multi-line condition, as written in a YAML block scalar.
    let e =
        compile_error("event.type == \"inventory.stockout_reported\" &&\n  decimal(steps.enrich.dc_on_hand) > > 0.0");
    assert_eq!((e.line, e.column), (2, 38), "{e}");

    // Columns count characters, not bytes.
    let e = compile_error(r#"item.name == "Crème fraîche" &&"#);
    assert_eq!((e.line, e.column), (1, 32), "{e}");

    let e = compile_error("");
    assert_eq!(e.line, 1, "{e}");
    // Errors of macros are positioned too, in characters.
    let e = compile_error("event.data.lines.exists(1, true)");
    assert!(e.message.contains("argument must be a simple name"), "{e}");
    assert_eq!((e.line, e.column), (1, 25), "{e}");
    let e = compile_error("item.name == 'Crème' &&\n  item.tags.exists(1, true)");
    assert_eq!((e.line, e.column), (2, 20), "{e}");
    let e = compile_error("'é'.exists(1, true)");
    assert_eq!((e.line, e.column), (1, 12), "{e}");
    let e = compile_error("has(event)");
    assert_eq!((e.line, e.column, e.message.as_str()), (1, 5, "invalid argument to has() macro"), "{e}");
}

#[test]
fn unknown_functions_are_found_at_evaluation() {
    // CEL as implemented by the crate has no type checker: this compiles ...
    let expression = compile(r#"foo(event.type) == "x""#);
    assert_eq!(expression.references(), ["event"]);
    // ... and fails when evaluated, naming the function.
    match expression.evaluate(&stockout()) {
        Err(ExprError::UnknownFunction { name }) => assert_eq!(name, "foo"),
        other => panic!("{other:?}"),
    }
    match compile("event.type.shout()").evaluate(&stockout()) {
        Err(e @ ExprError::UnknownFunction { .. }) => assert_eq!(e.to_string(), "unknown function 'shout'"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_refuse_what_would_exhaust_the_stack() {
    let e = compile_error(&format!("{}1{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1)));
    assert!(e.message.contains("nests brackets deeper"), "{e}");
    assert_eq!((e.line, e.column), (1, MAX_NESTING + 1));

    let e = compile_error(&format!("1{}", " + 1".repeat(MAX_DEPTH + 10)));
    assert!(e.message.contains("levels deep"), "{e}");

    let e = compile_error(&"x".repeat(20_000));
    assert!(e.message.contains("bytes long"), "{e}");

    // Brackets inside strings do not count.
    assert_eq!(eval(&format!("size('{}')", "(".repeat(100)), &json!({})), json!(100));

    // Deep, but allowed: evaluated on the caller's thread.
    let deep = format!("1{}", " + 1".repeat(MAX_DEPTH - 2));
    assert_eq!(eval(&deep, &json!({})), json!(MAX_DEPTH - 1));
    let nested = format!("{}1{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
    assert!(eval(&nested, &json!({})).is_array());
}

// ---------------------------------------------------------------------------------------------
// Evaluation errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_variable_is_named() {
    let context = json!({"event": {"type": "inventory.stockout_reported", "data": {}}});
    match eval_error("decimal(steps.enrich.dc_on_hand) > 0.0", &context) {
        ExprError::UnknownVariable { name, available } => {
            assert_eq!(name, "steps");
            assert_eq!(available, "event");
        }
        other => panic!("{other:?}"),
    }
    let e = eval_error("location.region == 'north'", &context);
    assert_eq!(e.to_string(), "unknown variable 'location' (the context has: event)");
}

#[test]
fn a_missing_field_is_named() {
    match eval_error("steps.enrich.dc_stock > 0", &stockout()) {
        ExprError::NoSuchField { field } => assert_eq!(field, "dc_stock"),
        other => panic!("{other:?}"),
    }
    match eval_error(r#"event.data.customer.tier == "gold""#, &purchase_order(json!("1"), 1, false)) {
        ExprError::NoSuchField { field } => assert_eq!(field, "customer"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_non_boolean_condition_says_what_it_was() {
    match compile("event.type").evaluate_bool(&stockout()) {
        Err(ExprError::NotABoolean { found }) => {
            assert_eq!(found, r#"a string ("inventory.stockout_reported")"#);
        }
        other => panic!("{other:?}"),
    }
    let e = compile("size(event.data.lines)").evaluate_bool(&stockout()).err();
    assert_eq!(
        e.map(|e| e.to_string()).as_deref(),
        Some("the expression must evaluate to a boolean, but evaluated to a number (2)")
    );
    assert!(
        matches!(compile("null").evaluate_bool(&stockout()), Err(ExprError::NotABoolean { found }) if found == "null")
    );
}

#[test]
fn type_mismatches_suggest_decimal() {
    match eval_error("steps.enrich.dc_on_hand > 0", &stockout()) {
        ExprError::TypeMismatch { message } => {
            assert!(message.contains("'_>_' applied to '(string, int)'"), "{message}");
            assert!(message.contains("decimal(x)"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // CEL does not mix int and double in arithmetic.
    assert!(matches!(eval_error("steps.enrich.facings * 1.5", &stockout()), ExprError::TypeMismatch { .. }));
    assert!(matches!(eval_error("event.data.lines + 1", &stockout()), ExprError::TypeMismatch { .. }));
}

#[test]
fn other_evaluation_errors() {
    let context = stockout();
    assert!(matches!(eval_error("steps.enrich.facings / 0", &context), ExprError::DivisionByZero { .. }));
    assert!(matches!(eval_error("steps.enrich.facings % 0", &context), ExprError::DivisionByZero { .. }));
    assert!(matches!(eval_error("event.data.lines[5]", &context), ExprError::Evaluation { .. }));
    assert!(matches!(eval_error("9223372036854775807 + 1", &context), ExprError::Evaluation { .. }));
    match compile("true").evaluate(&json!(["not", "an", "object"])) {
        Err(ExprError::InvalidContext { found }) => assert!(found.starts_with("a list"), "{found}"),
        other => panic!("{other:?}"),
    }
    // `&&` absorbs an error on the side that does not decide (CEL's commutative logic).
    assert!(!holds("false && missing.value", &json!({})));
}

// ---------------------------------------------------------------------------------------------
// The trait
// ---------------------------------------------------------------------------------------------

#[test]
fn the_trait_objects() {
    let language: &dyn ExpressionLanguage = &Cel;
    assert_eq!(language.name(), "cel");
    let source = "item.perishable && location.format == 'supermarket'";
    let expression = language.compile(source).map_err(|e| e.to_string());
    let Ok(expression) = expression else { panic!("{expression:?}") };
    assert_eq!(expression.source(), source);
    assert_eq!(expression.references(), ["item", "location"]);
    assert!(format!("{expression:?}").contains(source));

    // Shared between threads: one compiled condition, many evaluations.
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let expression = Arc::clone(&expression);
            std::thread::spawn(move || {
                let mut context = stockout();
                if i % 2 == 1 {
                    context["location"]["format"] = json!("express");
                }
                (0..50).all(|_| expression.evaluate_bool(&context).ok() == Some(i % 2 == 0))
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().ok(), Some(true));
    }
}

#[test]
fn references_leave_out_bound_names_namespaces_and_types() {
    let cases: &[(&str, &[&str])] = &[
        ("true", &[]),
        ("event.type == 'x'", &["event"]),
        ("event.data.lines.exists(l, l.item.sku == item.sku)", &["event", "item"]),
        ("[1, 2].map(x, x * steps.enrich.facings)", &["steps"]),
        ("event.data.lines.all(l, l.item.exists(k, k == 'sku'))", &["event"]),
        ("type(event.data) == map && string(location.id) != ''", &["event", "location"]),
        ("math.least([1, 2]) < steps.enrich.facings", &["steps"]),
        ("{'a': location.id, item.sku: 1}", &["item", "location"]),
        ("has(event.data.customer) || optional.of(1).hasValue()", &["event"]),
        ("event.type == event.subject.store || event.time == ''", &["event"]),
    ];
    for (source, expected) in cases {
        assert_eq!(compile(source).references(), *expected, "{source}");
    }
    // A macro variable does not shadow outside its body.
    assert_eq!(compile("[1].exists(l, l == 1) && l == 2").references(), ["l"]);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Text made of CEL's tokens: mostly well-formed enough to get deep into the parser and the
/// interpreter.
fn cel_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("event"),
        Just("steps"),
        Just("location"),
        Just("item"),
        Just("nope"),
        Just(".type"),
        Just(".data"),
        Just(".lines"),
        Just(".enrich"),
        Just(".dc_on_hand"),
        Just(".velocity"),
        Just(".?customer"),
        Just("["),
        Just("]"),
        Just("("),
        Just(")"),
        Just("{"),
        Just("}"),
        Just(","),
        Just(":"),
        Just("?"),
        Just(" == "),
        Just(" != "),
        Just(" < "),
        Just(" >= "),
        Just(" && "),
        Just(" || "),
        Just("!"),
        Just(" + "),
        Just(" - "),
        Just(" * "),
        Just(" / "),
        Just(" % "),
        Just(" in "),
        Just("0"),
        Just("1"),
        Just("-1"),
        Just("2.5"),
        Just("0.0"),
        Just("1u"),
        Just("9223372036854775807"),
        Just("'SKU-1'"),
        Just("\"\""),
        Just("b'x'"),
        Just("null"),
        Just("true"),
        Just("size("),
        Just("decimal("),
        Just("has("),
        Just("int("),
        Just("double("),
        Just("string("),
        Just("timestamp("),
        Just("duration("),
        Just("dyn("),
        Just("type("),
        Just(".exists(l, "),
        Just(".all(l, "),
        Just(".map(l, "),
        Just(".filter(l, "),
        Just("l"),
        Just(".startsWith("),
        Just(".contains("),
        Just(".matches("),
        Just(".substring("),
        Just(".charAt("),
        Just(".split("),
        Just(".join("),
        Just(".sort()"),
        Just(".distinct()"),
        Just(".slice("),
        Just(".orValue("),
        Just("math.greatest("),
        Just("math.abs("),
        Just("optional.of("),
        Just("lists.range("),
        Just("'%s'.format("),
        Just("'(['"),
    ];
    proptest::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
}

/// A realistic condition with a random slice replaced by random text.
fn mutated() -> impl Strategy<Value = String> {
    const CONDITIONS: [&str; 4] = [
        r#"event.type == "inventory.stockout_reported" && decimal(steps.enrich.dc_on_hand) > 0.0"#,
        r#"event.data.lines.exists(l, l.item.sku == "SKU-1") || size(event.data.lines) > 3"#,
        r#"has(event.data.customer) ? event.data.customer.tier in ['gold', 'silver'] : false"#,
        r#"timestamp(event.time).getHours(location.timezone) >= 9 && {'a': [1, 2u, 3.0]}.a[1] == 2"#,
    ];
    (0..CONDITIONS.len(), 0usize..100, 0usize..12, ".{0,12}").prop_map(|(which, at, cut, insert)| {
        let source = CONDITIONS[which];
        let mut start = at.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let end = (start + cut).min(source.len());
        format!("{}{insert}{}", &source[..start], &source[end..])
    })
}

/// Well-formed expressions built from the grammar: they compile, so they reach the interpreter.
fn expressions() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("event.type".to_owned()),
        Just("event.data.lines".to_owned()),
        Just("event.data.note".to_owned()),
        Just("event.data".to_owned()),
        Just("steps.enrich.dc_on_hand".to_owned()),
        Just("steps.enrich.velocity".to_owned()),
        Just("steps.enrich.facings".to_owned()),
        Just("steps.enrich".to_owned()),
        Just("item.price".to_owned()),
        Just("location.timezone".to_owned()),
        Just("nope.x".to_owned()),
        Just("l".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("b'\\xff'".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("18446744073709551615u".to_owned()),
        any::<i64>().prop_map(|i| format!("({i})")),
        any::<u32>().prop_map(|u| format!("{u}u")),
        (-1e6f64..1e6).prop_map(|f| format!("({f:?})")),
        "[a-z%(\\[{.?*+0-9 -]{0,6}".prop_map(|s| format!("{s:?}")),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        let op = prop_oneof![
            Just("=="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">="),
            Just("&&"),
            Just("||"),
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("%"),
            Just("in"),
        ];
        let function = prop_oneof![
            Just("size"),
            Just("decimal"),
            Just("int"),
            Just("uint"),
            Just("double"),
            Just("string"),
            Just("bool"),
            Just("bytes"),
            Just("timestamp"),
            Just("duration"),
            Just("type"),
            Just("dyn"),
            Just("math.abs"),
            Just("math.ceil"),
            Just("math.sqrt"),
            Just("math.greatest"),
            Just("math.bitShiftLeft"),
            Just("lists.range"),
            Just("optional.of"),
            Just("strings.quote"),
        ];
        let method = prop_oneof![
            Just("contains"),
            Just("startsWith"),
            Just("endsWith"),
            Just("matches"),
            Just("size"),
            Just("charAt"),
            Just("indexOf"),
            Just("lastIndexOf"),
            Just("substring"),
            Just("split"),
            Just("replace"),
            Just("join"),
            Just("format"),
            Just("lowerAscii"),
            Just("trim"),
            Just("reverse"),
            Just("sort"),
            Just("distinct"),
            Just("flatten"),
            Just("slice"),
            Just("getHours"),
            Just("getDayOfWeek"),
            Just("getFullYear"),
            Just("orValue"),
            Just("hasValue"),
        ];
        let macro_name = prop_oneof![Just("exists"), Just("all"), Just("exists_one"), Just("map"), Just("filter")];
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (function, proptest::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), method, proptest::collection::vec(inner.clone(), 0..3))
                .prop_map(|(target, m, args)| format!("{target}.{m}({})", args.join(", "))),
            (inner.clone(), macro_name, inner.clone()).prop_map(|(range, m, body)| format!("{range}.{m}(l, {body})")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            (inner.clone(), "[a-z_]{1,6}").prop_map(|(a, f)| format!("has({a}.{f})")),
            (inner.clone(), "[a-z_]{1,6}", inner.clone()).prop_map(|(a, f, d)| format!("{a}.?{f}.orValue({d})")),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
            (inner.clone(), inner).prop_map(|(k, v)| format!("{{{k}: {v}}}")),
        ]
    })
}

/// Random calls that take the functions' arguments to their edges.
fn calls() -> impl Strategy<Value = String> {
    let function = prop_oneof![
        Just("'abc'.substring"),
        Just("'abc'.charAt"),
        Just("'abc'.indexOf"),
        Just("[1, 2, 3].slice"),
        Just("lists.range"),
        Just("math.bitShiftLeft"),
        Just("math.sqrt"),
        Just("'a,b'.split"),
        Just("string"),
        Just("int"),
        Just("uint"),
        Just("double"),
        Just("timestamp"),
        Just("duration"),
        Just("decimal"),
        Just("'%s %d %f %x %e %b %o'.format"),
        Just("'x'.matches"),
        Just("'abc'.replace"),
        Just("math.round"),
    ];
    let argument = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|u| format!("{u}u")),
        any::<f64>().prop_map(|f| if f.is_finite() { format!("{f:?}") } else { "0.0".to_owned() }),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("'['".to_owned()),
        Just("'(?'".to_owned()),
        Just("'9999-12-31T23:59:59Z'".to_owned()),
        Just("'-315576000001s'".to_owned()),
        Just("'1e400'".to_owned()),
        Just("[]".to_owned()),
        Just("[1, 'a']".to_owned()),
        ".{0,8}".prop_map(|s| format!("{s:?}")),
    ];
    (function, proptest::collection::vec(argument, 0..4))
        .prop_map(|(function, arguments)| format!("{function}({})", arguments.join(", ")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// No text makes compiling panic: it compiles or gives a positioned error.
    #[test]
    fn compiling_any_text_never_panics(source in prop_oneof![".{0,80}", cel_like(), mutated()]) {
        match Cel.compile(&source) {
            Ok(expression) => prop_assert_eq!(expression.source(), source.as_str()),
            Err(e) => {
                prop_assert!(e.line >= 1 && e.column >= 1, "{:?}", e);
                prop_assert!(!e.message.contains("the CEL parser failed"), "{:?}", e);
            }
        }
    }

    /// Whatever compiles evaluates to a value or an error, on the fixed stockout context,
    /// without the interpreter panicking (a panic would be caught and reported as
    /// `ExprError::Panicked`, which this rules out).
    #[test]
    fn evaluating_compiled_programs_never_panics(source in prop_oneof![expressions(), calls(), cel_like()]) {
        if let Ok(expression) = Cel.compile(&source) {
            let result = expression.evaluate(&stockout());
            prop_assert!(!matches!(result, Err(ExprError::Panicked { .. })), "{}: {:?}", source, result);
            let _ = expression.evaluate_bool(&stockout());
            let _ = expression.references();
        }
    }
}
