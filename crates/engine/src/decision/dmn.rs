//! Import of the decision-table subset of DMN 1.1–1.5 XML, as DMN modelers write it.

use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

use super::error::{DefinitionError, LineIndex, Position};
use super::table::{DecisionTable, HitPolicy, InputClause, OutputClause, Rule};
use super::unary::{Literal, UnaryTest, parse_literal, parse_unary_tests};

/// The DMN model namespaces read: 1.1, 1.2, 1.3, 1.4 and 1.5 (the decision table did not change).
const DMN_NAMESPACES: [&str; 5] = [
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
];

/// An element of the document, kept in a flat arena (so that deep nesting cannot overflow the
/// stack when the tree is dropped or walked).
struct Node {
    /// Local name, without prefix.
    name: String,
    /// Whether the element is in a DMN namespace.
    dmn: bool,
    /// Unprefixed attributes, value unescaped.
    attributes: Vec<(String, String)>,
    children: Vec<usize>,
    text: String,
    /// Byte offset of the `<` that opens the element.
    offset: usize,
    /// Byte offset where the element's text starts, if it has any.
    text_offset: Option<usize>,
    /// Whether the text is exactly the source from `text_offset` on (no entities, no CDATA).
    text_verbatim: bool,
}

struct Document<'a> {
    nodes: Vec<Node>,
    lines: LineIndex<'a>,
}

impl Document<'_> {
    fn position(&self, node: usize) -> Option<Position> {
        self.nodes.get(node).map(|n| self.lines.position(n.offset))
    }

    fn attribute(&self, node: usize, name: &str) -> Option<&str> {
        self.nodes[node].attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn children<'s>(&'s self, node: usize, name: &'s str) -> impl Iterator<Item = usize> + 's {
        self.nodes[node].children.iter().copied().filter(move |&c| self.nodes[c].dmn && self.nodes[c].name == name)
    }

    fn child(&self, node: usize, name: &str) -> Option<usize> {
        self.children(node, name).next()
    }

    /// The `<text>` child of an element (input entries, output entries, values, expressions).
    fn text_child(&self, node: usize) -> Option<usize> {
        self.child(node, "text")
    }

    /// The position of the character `offset` characters into the trimmed text of `node`.
    fn text_position(&self, node: usize, offset: usize) -> Option<Position> {
        let n = self.nodes.get(node)?;
        let Some(start) = n.text_offset else {
            return self.position(node);
        };
        if !n.text_verbatim {
            return Some(self.lines.position(start));
        }
        let leading = n.text.len() - n.text.trim_start().len();
        let trimmed = n.text.trim_start();
        let bytes: usize = trimmed.chars().take(offset).map(char::len_utf8).sum();
        Some(self.lines.position(start + leading + bytes))
    }
}

fn parse_document(xml: &str) -> Result<Document<'_>, DefinitionError> {
    let lines = LineIndex::new(xml);
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut root: Option<usize> = None;
    let error_at = |offset: u64, message: String| {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        DefinitionError::new(Some(lines.position(offset)), None, message)
    };
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (namespace, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (resolve_dmn(&ns), event),
            Err(e) => return Err(error_at(reader.error_position(), format!("the XML is not well formed: {e}"))),
        };
        match event {
            Event::Start(ref element) | Event::Empty(ref element) => {
                let name = element.local_name().as_ref().to_owned();
                let mut attributes = Vec::new();
                for attribute in element.attributes() {
                    let attribute = attribute.map_err(|e| {
                        error_at(offset as u64, format!("element <{name}> has a malformed attribute: {e}"))
                    })?;
                    let key = attribute.key.as_ref().to_owned();
                    if key.contains(':') || key == "xmlns" {
                        continue;
                    }
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| error_at(offset as u64, format!("attribute {key} of <{name}>: {e}")))?;
                    attributes.push((key, value.into_owned()));
                }
                let index = nodes.len();
                nodes.push(Node {
                    name,
                    dmn: namespace,
                    attributes,
                    children: Vec::new(),
                    text: String::new(),
                    offset,
                    text_offset: None,
                    text_verbatim: true,
                });
                match stack.last() {
                    Some(&parent) => nodes[parent].children.push(index),
                    None if root.is_none() => root = Some(index),
                    None => {
                        return Err(error_at(offset as u64, "the document has more than one root element".to_owned()));
                    }
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(index);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(text) => {
                if let Some(&current) = stack.last() {
                    let content = text.xml10_content();
                    append_text(&mut nodes[current], offset, &content, true);
                }
            }
            Event::CData(data) => {
                if let Some(&current) = stack.last() {
                    let content = data.into_inner().into_owned();
                    append_text(&mut nodes[current], offset, &content, false);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(&current) = stack.last() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&reference) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(error_at(offset as u64, format!("unknown entity &{};", &*reference)));
                            }
                        },
                        Err(e) => return Err(error_at(offset as u64, format!("bad character reference: {e}"))),
                    };
                    append_text(&mut nodes[current], offset, &resolved, false);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(&open) = stack.last() {
        return Err(DefinitionError::new(
            Some(lines.position(nodes[open].offset)),
            None,
            format!("the document ends before <{}> is closed", nodes[open].name),
        ));
    }
    match root {
        Some(0) => Ok(Document { nodes, lines }),
        _ => Err(DefinitionError::new(
            Some(Position { line: 1, column: 1 }),
            None,
            "the document has no root element: expected <definitions>",
        )),
    }
}

fn resolve_dmn(namespace: &ResolveResult<'_>) -> bool {
    match namespace {
        ResolveResult::Bound(Namespace(ns)) => DMN_NAMESPACES.contains(ns),
        _ => false,
    }
}

fn append_text(node: &mut Node, offset: usize, content: &str, verbatim: bool) {
    if node.text_offset.is_none() {
        node.text_offset = Some(offset);
    }
    if !verbatim {
        node.text_verbatim = false;
    }
    node.text.push_str(content);
}

/// Reads every decision whose logic is a decision table from a DMN 1.1–1.5 XML document
/// (namespaces `https://www.omg.org/spec/DMN/20191111/MODEL/` for 1.3, `…/20211108/MODEL/` for
/// 1.4, and those of 1.1, 1.2 and 1.5).
///
/// Read: `decision/@id` (the table's id) and `@name`; `decisionTable/@hitPolicy` (default
/// `UNIQUE`) and `@aggregation`; each `input`'s `inputExpression/text` (the input's name in the
/// context; it must be a name, not an expression), `@label`, and `inputValues/text`; each
/// `output`'s `@name` (else `@label`, else, for a single output, the decision's id),
/// `outputValues/text` (literals, in priority order) and `defaultOutputEntry/text`; each `rule`'s
/// `@id` (else its 1-based number), `description`, `inputEntry/text` (S-FEEL unary tests; empty
/// means `-`) and `outputEntry/text` (a literal: string, number, boolean or null; empty means
/// null). Elements of other namespaces (diagram interchange, vendor extensions) and decisions
/// with other logic (literal expressions, contexts) are skipped.
///
/// Errors name the element and its line and column.
pub fn tables_from_dmn(xml: &str) -> Result<Vec<DecisionTable>, DefinitionError> {
    let document = parse_document(xml)?;
    let root = 0;
    let root_node = &document.nodes[root];
    if root_node.name != "definitions" || !root_node.dmn {
        return Err(DefinitionError::new(
            document.position(root),
            None,
            format!(
                "the root element is <{}>, but a DMN document starts with <definitions> in a DMN namespace ({})",
                root_node.name,
                DMN_NAMESPACES.join(", ")
            ),
        ));
    }
    let mut tables = Vec::new();
    for decision in document.children(root, "decision") {
        let Some(table) = document.child(decision, "decisionTable") else {
            continue;
        };
        tables.push(read_table(&document, decision, table)?);
    }
    Ok(tables)
}

fn read_table(doc: &Document<'_>, decision: usize, table: usize) -> Result<DecisionTable, DefinitionError> {
    let error =
        |node: usize, rule: Option<&str>, message: String| DefinitionError::new(doc.position(node), rule, message);
    let id = doc
        .attribute(decision, "id")
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| error(decision, None, "<decision> has no id attribute".to_owned()))?
        .to_owned();
    let name = doc.attribute(decision, "name").map(str::to_owned);
    let hit_policy = HitPolicy::from_names(
        doc.attribute(table, "hitPolicy").unwrap_or("UNIQUE"),
        doc.attribute(table, "aggregation"),
    )
    .map_err(|m| error(table, None, format!("decision {id}: <decisionTable>: {m}")))?;

    let mut inputs = Vec::new();
    for input in doc.children(table, "input") {
        let what = format!("decision {id}: <input> {}", inputs.len() + 1);
        let expression = doc
            .child(input, "inputExpression")
            .ok_or_else(|| error(input, None, format!("{what} has no <inputExpression>")))?;
        let text = doc
            .text_child(expression)
            .ok_or_else(|| error(expression, None, format!("{what}: <inputExpression> has no <text>")))?;
        let input_name = doc.nodes[text].text.trim().to_owned();
        if let Some(bad) = input_name.find(|c: char| "()[]{}*/+<>=,\"!?:;".contains(c)) {
            return Err(DefinitionError::new(
                doc.text_position(text, input_name[..bad].chars().count()),
                None,
                format!(
                    "{what}: `{input_name}` is an expression; only names of context entries can be input expressions"
                ),
            ));
        }
        if input_name.is_empty() {
            return Err(error(text, None, format!("{what}: the input expression is empty")));
        }
        let allowed = match doc.child(input, "inputValues").and_then(|v| doc.text_child(v)) {
            Some(values) if !doc.nodes[values].text.trim().is_empty() => {
                Some(unary(doc, values, None, &format!("{what}: <inputValues>"))?)
            }
            _ => None,
        };
        inputs.push(InputClause { name: input_name, label: doc.attribute(input, "label").map(str::to_owned), allowed });
    }

    let output_nodes: Vec<usize> = doc.children(table, "output").collect();
    let mut outputs = Vec::new();
    for &output in &output_nodes {
        let what = format!("decision {id}: <output> {}", outputs.len() + 1);
        let label = doc.attribute(output, "label").map(str::to_owned);
        let output_name = doc
            .attribute(output, "name")
            .or(label.as_deref())
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| (output_nodes.len() == 1).then(|| id.clone()))
            .ok_or_else(|| error(output, None, format!("{what} has no name attribute")))?;
        let allowed = match doc.child(output, "outputValues").and_then(|v| doc.text_child(v)) {
            Some(values) if !doc.nodes[values].text.trim().is_empty() => {
                let test = unary(doc, values, None, &format!("{what}: <outputValues>"))?;
                let items = match test {
                    UnaryTest::List(items) => items,
                    single => vec![single],
                };
                let mut values_list = Vec::new();
                for item in items {
                    match item {
                        UnaryTest::Equals(literal) => values_list.push(literal.to_json()),
                        other => {
                            return Err(error(
                                values,
                                None,
                                format!(
                                    "{what}: <outputValues>: `{other}` is not a literal; output values are a list of literals"
                                ),
                            ));
                        }
                    }
                }
                Some(values_list)
            }
            _ => None,
        };
        let default = match doc.child(output, "defaultOutputEntry").and_then(|e| doc.text_child(e)) {
            Some(text) if !doc.nodes[text].text.trim().is_empty() => {
                Some(literal(doc, text, None, &format!("{what}: <defaultOutputEntry>"))?)
            }
            _ => None,
        };
        outputs.push(OutputClause { name: output_name, label, allowed, default });
    }
    if outputs.is_empty() {
        return Err(error(table, None, format!("decision {id}: <decisionTable> has no <output>")));
    }

    let mut rules = Vec::new();
    for (index, rule) in doc.children(table, "rule").enumerate() {
        let rule_id = doc
            .attribute(rule, "id")
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map_or_else(|| (index + 1).to_string(), str::to_owned);
        let rule_ref = Some(rule_id.as_str());
        let entries: Vec<usize> = doc.children(rule, "inputEntry").collect();
        if entries.len() != inputs.len() {
            return Err(error(
                rule,
                rule_ref,
                format!(
                    "decision {id}: <rule> has {} <inputEntry> elements, but the table has {} <input> elements",
                    entries.len(),
                    inputs.len()
                ),
            ));
        }
        let mut when = Vec::with_capacity(entries.len());
        for (column, &entry) in entries.iter().enumerate() {
            let test = match doc.text_child(entry) {
                Some(text) if !doc.nodes[text].text.trim().is_empty() => {
                    unary(doc, text, rule_ref, &format!("<inputEntry> {} ({})", column + 1, inputs[column].name))?
                }
                _ => UnaryTest::Any,
            };
            when.push(test);
        }
        let entries: Vec<usize> = doc.children(rule, "outputEntry").collect();
        if entries.len() != outputs.len() {
            return Err(error(
                rule,
                rule_ref,
                format!(
                    "decision {id}: <rule> has {} <outputEntry> elements, but the table has {} <output> elements",
                    entries.len(),
                    outputs.len()
                ),
            ));
        }
        let mut then = Vec::with_capacity(entries.len());
        for (column, &entry) in entries.iter().enumerate() {
            let value = match doc.text_child(entry) {
                Some(text) if !doc.nodes[text].text.trim().is_empty() => {
                    literal(doc, text, rule_ref, &format!("<outputEntry> {} ({})", column + 1, outputs[column].name))?
                }
                _ => serde_json::Value::Null,
            };
            then.push(value);
        }
        let description =
            doc.child(rule, "description").map(|d| doc.nodes[d].text.trim().to_owned()).filter(|d| !d.is_empty());
        rules.push(Rule { id: rule_id, when, then, description, position: doc.position(rule) });
    }

    Ok(DecisionTable { id, name, hit_policy, inputs, outputs, rules })
}

fn unary(doc: &Document<'_>, text: usize, rule: Option<&str>, what: &str) -> Result<UnaryTest, DefinitionError> {
    let content = doc.nodes[text].text.trim();
    parse_unary_tests(content).map_err(|e| {
        DefinitionError::new(
            doc.text_position(text, e.offset),
            rule,
            format!("{what}: `{content}` is not a unary test: {}", e.message),
        )
    })
}

fn literal(
    doc: &Document<'_>,
    text: usize,
    rule: Option<&str>,
    what: &str,
) -> Result<serde_json::Value, DefinitionError> {
    let content = doc.nodes[text].text.trim();
    parse_literal(content).map(|l: Literal| l.to_json()).map_err(|e| {
        DefinitionError::new(
            doc.text_position(text, e.offset),
            rule,
            format!(
                "{what}: `{content}` is not a literal (a string in double quotes, a number, true, false or null): {}",
                e.message
            ),
        )
    })
}
