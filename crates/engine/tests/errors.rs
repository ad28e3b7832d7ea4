//! Bad tables are rejected whole, with the line, column, rule and what is wrong.

use backroom_engine::decision::{DecisionTable, DefinitionError, parse_unary_tests, tables_from_dmn};

fn yaml_error(text: &str) -> DefinitionError {
    match DecisionTable::from_yaml(text) {
        Ok(table) => panic!("accepted: {table:?}"),
        Err(e) => e,
    }
}

fn dmn_error(text: &str) -> DefinitionError {
    match tables_from_dmn(text) {
        Ok(tables) => panic!("accepted: {tables:?}"),
        Err(e) => e,
    }
}

const HEAD: &str = "id: refund_approval
inputs: [{ name: refund_amount }, { name: channel }]
outputs: [{ name: approver }]
rules:
  - id: r1
    when: { refund_amount: \"< 500\" }
    then: { approver: auto }
";

#[test]
fn a_bad_unary_test_names_line_column_rule_and_cell() {
    // Quoted: the column is that of the character inside the quotes.
    let e = yaml_error(&format!(
        "{HEAD}  - id: r3\n    when:\n      channel: store\n      refund_amount: \"[5..\"\n    then: {{ approver: finance }}\n"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (11, 27, Some("r3")));
    assert_eq!(
        e.to_string(),
        "line 11, column 27: rule r3: when: refund_amount: `[5..` is not a unary test: \
         unexpected end of the test: expected a number, a string in double quotes, true, false or null"
    );
    // Plain scalar.
    let e = yaml_error(&format!(
        "{HEAD}  - id: r4\n    when:\n      refund_amount: < 5000 5\n    then: {{ approver: finance }}\n"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (10, 29, Some("r4")));
    assert!(e.message.contains("expected `,` and another test"), "{e}");
    // `>` starts a folded block scalar in YAML: unquoted, it is a YAML error, with its position.
    let e = yaml_error(&format!(
        "{HEAD}  - id: r4\n    when: {{ refund_amount: >= 5000 }}\n    then: {{ approver: finance }}\n"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (9, 28, None));
    assert!(e.message.ends_with("quote it, as YAML reads `>` at the start of a value differently: '>= 5000'"), "{e}");
    // A name where a string was meant, in strict S-FEEL quoting inside YAML quotes.
    let e = yaml_error(&format!(
        "{HEAD}  - id: r5\n    when: {{ channel: 'not(\"store\", online-shop)' }}\n    then: {{ approver: auto }}\n"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (9, 42, Some("r5")));
    assert!(e.message.contains("write a string with such characters in double quotes"), "{e}");
}

#[test]
fn structural_yaml_errors_carry_positions() {
    // Not YAML.
    let e = yaml_error("id: t\ninputs: [\n  { name: x \noutputs: []\n");
    assert!(e.line >= 3 && e.column > 0, "{e}");
    assert_eq!(e.rule, None);
    // Unknown field.
    let e = yaml_error("id: t\nhit_polcy: FIRST\noutputs: [{ name: y }]\n");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("unknown field `hit_polcy`"), "{e}");
    // Unknown hit policy: at its value.
    let e = yaml_error("id: t\nhit_policy: SOMETIMES\noutputs: [{ name: y }]\n");
    assert_eq!((e.line, e.column), (2, 13));
    assert_eq!(
        e.message,
        "hit_policy: `SOMETIMES` is not a hit policy: expected UNIQUE, FIRST, PRIORITY, ANY, COLLECT or RULE ORDER"
    );
    let e = yaml_error("id: t\nhit_policy: FIRST\naggregation: SUM\noutputs: [{ name: y }]\n");
    assert_eq!((e.line, e.column), (3, 14));
    assert!(e.message.contains("aggregation SUM needs the hit policy COLLECT"), "{e}");
    // Missing outputs.
    let e = yaml_error("id: t\ninputs: [{ name: x }]\n");
    assert!(e.message.contains("missing field `outputs`"), "{e}");
    // A rule testing an input the table does not have: at the key.
    let e = yaml_error(&format!("{HEAD}  - id: r2\n    when: {{ amount: \"< 5\" }}\n    then: {{ approver: auto }}\n"));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (9, 13, Some("r2")));
    assert_eq!(e.message, "when: `amount` is not an input of the table: expected one of refund_amount, channel");
    // A rule without a value for an output: at the rule.
    let e = yaml_error(&format!("{HEAD}  - id: r2\n    when: {{ refund_amount: \"< 5\" }}\n    then: {{}}\n"));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (8, 5, Some("r2")));
    assert!(e.message.contains("output approver has no value"), "{e}");
    // An empty test (YAML null): say how to write "any".
    let e = yaml_error(&format!("{HEAD}  - id: r2\n    when:\n      channel:\n    then: {{ approver: auto }}\n"));
    assert_eq!(e.rule.as_deref(), Some("r2"));
    assert!(e.message.contains("write '-' (quoted)"), "{e}");
    // Duplicate keys are YAML errors.
    let e = yaml_error("id: t\nid: u\noutputs: [{ name: y }]\n");
    assert_eq!(e.line, 2);
    // A bad allowed list for an input.
    let e = yaml_error("id: t\ninputs: [{ name: x, allowed: \"[1..\" }]\noutputs: [{ name: y }]\n");
    assert_eq!((e.line, e.column), (2, 35));
    assert!(e.message.starts_with("input x: allowed: `[1..` is not a unary test"), "{e}");
}

#[test]
fn unary_test_errors_give_the_character_offset() {
    let e = parse_unary_tests("[100..500").unwrap_err();
    assert_eq!(e.offset, 9);
    assert_eq!(
        e.to_string(),
        "at character 10: unexpected end of the test: expected `]` (inclusive) or `)` (exclusive) to close the range"
    );
}

const DMN_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="refund_approval" name="Refund approval">
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i1" label="Refund amount">
        <inputExpression id="e1" typeRef="number"><text>refund_amount</text></inputExpression>
      </input>
      <output id="o1" name="approver" typeRef="string" />
"#;
const DMN_TAIL: &str = "    </decisionTable>\n  </decision>\n</definitions>\n";

#[test]
fn dmn_errors_name_the_element_rule_and_position() {
    // A bad input entry: the position of the character in the <text>.
    let e = dmn_error(&format!(
        "{DMN_HEAD}      <rule id=\"r3\">\n        <inputEntry id=\"u\"><text>[5..</text></inputEntry>\n        <outputEntry id=\"v\"><text>\"finance\"</text></outputEntry>\n      </rule>\n{DMN_TAIL}"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (10, 38, Some("r3")));
    assert!(e.message.starts_with("<inputEntry> 1 (refund_amount): `[5..` is not a unary test: unexpected end"), "{e}");
    // Entities shift the source: the position is where the text starts.
    let e = dmn_error(&format!(
        "{DMN_HEAD}      <rule id=\"r3\">\n        <inputEntry id=\"u\"><text>&lt;&lt; 5</text></inputEntry>\n        <outputEntry id=\"v\"><text>\"finance\"</text></outputEntry>\n      </rule>\n{DMN_TAIL}"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (10, 34, Some("r3")));
    // An output entry that is an expression.
    let e = dmn_error(&format!(
        "{DMN_HEAD}      <rule id=\"r4\">\n        <inputEntry id=\"u\"><text>-</text></inputEntry>\n        <outputEntry id=\"v\"><text>amount * 2</text></outputEntry>\n      </rule>\n{DMN_TAIL}"
    ));
    assert_eq!((e.line, e.rule.as_deref()), (11, Some("r4")));
    assert!(e.message.starts_with("<outputEntry> 1 (approver): `amount * 2` is not a literal"), "{e}");
    // A rule with the wrong number of input entries: at the <rule>.
    let e = dmn_error(&format!(
        "{DMN_HEAD}      <rule id=\"r5\">\n        <outputEntry id=\"v\"><text>\"auto\"</text></outputEntry>\n      </rule>\n{DMN_TAIL}"
    ));
    assert_eq!((e.line, e.column, e.rule.as_deref()), (9, 7, Some("r5")));
    assert_eq!(
        e.message,
        "decision refund_approval: <rule> has 0 <inputEntry> elements, but the table has 1 <input> elements"
    );
    // A hit policy this engine does not have.
    let e = dmn_error(&(DMN_HEAD.replace("hitPolicy=\"UNIQUE\"", "hitPolicy=\"OUTPUT ORDER\"") + DMN_TAIL));
    assert_eq!((e.line, e.column), (4, 5));
    assert!(e.message.contains("OUTPUT ORDER is not supported"), "{e}");
    // An input expression that is not a name.
    let e = dmn_error(&(DMN_HEAD.replace("<text>refund_amount</text>", "<text>refund_amount * 2</text>") + DMN_TAIL));
    assert_eq!((e.line, e.column), (6, 71), "at the `*`");
    assert!(e.message.contains("is an expression"), "{e}");
}

#[test]
fn documents_that_are_not_dmn_or_not_xml() {
    let e =
        dmn_error("<?xml version=\"1.0\"?>\n<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"/>\n");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("in a DMN namespace"), "{e}");
    let e = dmn_error(&format!("{DMN_HEAD}      <rule id=\"r1\">\n{DMN_TAIL}"));
    assert!(e.line >= 10, "{e}");
    assert!(e.message.contains("not well formed"), "{e}");
    let e = dmn_error(DMN_HEAD);
    assert!(e.message.contains("ends before"), "{e}");
    let e = dmn_error("");
    assert!(e.message.contains("no root element"), "{e}");
    let e = dmn_error("just text");
    assert!(e.message.contains("no root element"), "{e}");
    let e = dmn_error(&(DMN_HEAD.replace("<text>refund_amount</text>", "<text>&bogus;</text>") + DMN_TAIL));
    assert!(e.message.contains("&bogus;") || e.message.contains("bogus"), "{e}");
}
