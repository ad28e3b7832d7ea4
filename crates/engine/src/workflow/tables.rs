//! Reading the decision tables and the classifiers a definition defines.
//!
//! An inline table is read by the decision-table YAML reader itself, from a copy of the
//! definition in which everything but the table is blanked out (so lines and columns stay those
//! of the definition) and the table's key is written in as its `id`.

use std::collections::HashMap;
use std::sync::Arc;

use super::load::{Draft, Loader, Scope};
use super::node::{Node, Yaml};
use crate::classify::{ClassRule, Classifier, RuleClassifier};
use crate::decision::{DecisionTable, DefinitionError, Position, tables_from_dmn};

/// A table of the definition, read or not.
pub(super) struct TableEntry {
    /// Its key in `tables` (the id `decide` steps use).
    pub(super) key: String,
    /// Where the key is.
    key_position: Option<Position>,
    /// The file it is in, for a table in a file of its own (as problems name it).
    file: Option<String>,
    /// The table, when it could be read.
    pub(super) table: Option<Arc<DecisionTable>>,
    /// Problems found reading it (file, position, message), reported once it is known which
    /// steps use it.
    pending: Vec<(String, Option<Position>, String)>,
}

impl Loader<'_> {
    /// Reads `tables:`. Problems in the tables are kept with them until the steps are read.
    pub(super) fn tables(&mut self, node: &Node) -> Vec<TableEntry> {
        let Some(map) = node.as_map() else {
            self.report(
                node.position(),
                None,
                format!("`tables` is a mapping from table ids to tables, not {}", node.describe()),
            );
            return Vec::new();
        };
        let mut tables: Vec<TableEntry> = Vec::new();
        for (key, value) in map {
            let Some(name) = key.as_str().map(str::trim).filter(|k| !k.is_empty()) else {
                self.report(key.position(), None, format!("`tables`: a table's id is a name, not {}", key.describe()));
                continue;
            };
            if tables.iter().any(|t| t.key == name) {
                self.report(key.position(), None, format!("`tables`: the table `{name}` is defined twice"));
                continue;
            }
            let mut entry = TableEntry {
                key: name.to_owned(),
                key_position: key.position(),
                file: None,
                table: None,
                pending: Vec::new(),
            };
            match value.as_map() {
                Some(entries) if entries.iter().any(|(k, _)| k.as_str() == Some("file")) => {
                    self.file_table(value, &mut entry);
                }
                Some(_) => self.inline_table(value, &mut entry),
                None => self.report(
                    value.position(),
                    None,
                    format!(
                        "table `{name}` is a decision table (a mapping) or a reference to a file \
                         ({{ file: tables/{name}.yaml }}), not {}",
                        value.describe()
                    ),
                ),
            }
            tables.push(entry);
        }
        tables
    }

    fn inline_table(&mut self, value: &Node, entry: &mut TableEntry) {
        let key = entry.key.clone();
        let main = self.file.to_owned();
        let own_id = value.as_map().and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("id")));
        if let Some((_, id)) = own_id
            && id.as_str().map(str::trim) != Some(key.as_str())
        {
            entry.pending.push((
                main.clone(),
                id.position(),
                format!("table `{key}`: an inline table's id is its key: leave `id` out, or make it `{key}`"),
            ));
            return;
        }
        let Some(text) = self.table_text(value, &key, own_id.is_none()) else {
            entry.pending.push((main, value.position(), format!("table `{key}`: the table could not be delimited")));
            return;
        };
        match DecisionTable::from_yaml(&text.text) {
            Ok(table) => entry.table = Some(Arc::new(table)),
            Err(error) => {
                let at = match definition_position(&error) {
                    Some(p) if Some(p.line) != text.synthetic_line => Some(p),
                    _ => entry.key_position,
                };
                entry.pending.push((main, at, table_message(&key, &error)));
            }
        }
    }

    /// The definition with everything but `value` blanked out (lines and columns kept) and, when
    /// `add_id`, `id: <key>` written on the line before it.
    fn table_text(&self, value: &Node, key: &str, add_id: bool) -> Option<TableText> {
        let source = self.source;
        let start = value.offset()?;
        let flow = source.get(start..)?.starts_with('{');
        let mut subtree = Vec::new();
        value.walk(&mut |node| subtree.push(node));
        let end = if flow {
            let mut scalars: Vec<(usize, usize)> = subtree
                .iter()
                .filter(|n| n.is_scalar())
                .filter_map(|n| {
                    let span = n.location.span();
                    let from = usize::try_from(span.byte_offset()?).ok()?;
                    let len = usize::try_from(span.byte_len()?).ok()?;
                    (from >= start).then_some((from, len))
                })
                .collect();
            scalars.sort_unstable();
            flow_end(source, start, &scalars)?
        } else {
            // A block mapping runs to the next node of the document.
            let last = subtree.iter().filter_map(|n| n.offset()).filter(|&o| o >= start).max().unwrap_or(start);
            self.offsets.iter().copied().find(|&o| o > last).unwrap_or(source.len())
        };
        let line = value.position()?.line;
        let synthetic_line = if add_id { Some(line.checked_sub(1).filter(|&l| l >= 1)?) } else { None };
        let quoted = serde_json::Value::String(key.to_owned()).to_string();
        let synthetic = if flow {
            format!("{{id: {quoted},")
        } else {
            let column = value.position()?.column;
            format!("{}id: {quoted}", " ".repeat(column.saturating_sub(1)))
        };
        let mut text = String::with_capacity(source.len() + synthetic.len());
        let mut offset = 0;
        for (index, source_line) in source.split_inclusive('\n').enumerate() {
            if synthetic_line == Some(index + 1) {
                text.push_str(&synthetic);
                if source_line.ends_with('\n') {
                    text.push('\n');
                }
            } else {
                for (i, c) in source_line.char_indices() {
                    let at = offset + i;
                    let moved_brace = add_id && flow && at == start;
                    if c == '\n' {
                        text.push('\n');
                    } else if (start..end).contains(&at) && !moved_brace {
                        text.push(c);
                    } else {
                        text.push(' ');
                    }
                }
            }
            offset += source_line.len();
        }
        Some(TableText { text, synthetic_line })
    }

    fn file_table(&mut self, value: &Node, entry: &mut TableEntry) {
        let key = entry.key.clone();
        let what = format!("the reference to table `{key}`");
        let Some(e) = self.entries(value, &what, None, &["file", "decision"], &[]) else {
            return;
        };
        let Some(file_node) = e.get("file") else { return };
        let Some(path) = self.text(file_node, "file", None) else { return };
        let decision = match e.get("decision") {
            None => None,
            Some(n) => match self.text(n, "decision", None) {
                Some(d) => Some((d, n.position())),
                None => return,
            },
        };
        let shown = relative_to(self.file, &path);
        if !self.other_files.contains(&shown) {
            self.other_files.push(shown.clone());
        }
        let main = self.file.to_owned();
        let text = match (self.resolve)(&path) {
            Ok(text) => text,
            Err(message) => {
                entry.pending.push((
                    main,
                    file_node.position(),
                    format!("table `{key}`: `{path}` cannot be read: {message}"),
                ));
                return;
            }
        };
        entry.file = Some(shown.clone());
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".dmn") || lower.ends_with(".xml") {
            let tables = match tables_from_dmn(&text) {
                Ok(tables) => tables,
                Err(error) => {
                    entry.pending.push((shown, definition_position(&error), table_message(&key, &error)));
                    return;
                }
            };
            let ids = || tables.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", ");
            let chosen = match &decision {
                Some((decision, at)) => match tables.iter().position(|t| t.id == *decision) {
                    Some(i) => Some(i),
                    None => {
                        let message =
                            format!("table `{key}`: `{path}` has no decision table `{decision}` (it has: {})", ids());
                        entry.pending.push((main, *at, message));
                        None
                    }
                },
                None if tables.len() == 1 => Some(0),
                None => match tables.iter().position(|t| t.id == key) {
                    Some(i) => Some(i),
                    None => {
                        let message = if tables.is_empty() {
                            format!("table `{key}`: `{path}` has no decision table")
                        } else {
                            format!(
                                "table `{key}`: `{path}` has {} decision tables ({}): name one with `decision`",
                                tables.len(),
                                ids()
                            )
                        };
                        entry.pending.push((main, file_node.position(), message));
                        None
                    }
                },
            };
            if let Some(i) = chosen {
                entry.table = tables.into_iter().nth(i).map(Arc::new);
            }
        } else {
            if let Some((_, at)) = decision {
                entry.pending.push((
                    main.clone(),
                    at,
                    format!("table `{key}`: `decision` picks a decision of a DMN file, and `{path}` is YAML"),
                ));
            }
            match DecisionTable::from_yaml(&text) {
                Ok(table) if table.id != key => entry.pending.push((
                    main,
                    file_node.position(),
                    format!("table `{key}`: `{path}` holds the table `{}`: a table's key must be its id", table.id),
                )),
                Ok(table) => entry.table = Some(Arc::new(table)),
                Err(error) => entry.pending.push((shown, definition_position(&error), table_message(&key, &error))),
            }
        }
    }

    /// Reports the problems of the tables (those found reading them, and those
    /// [`DecisionTable::check`] finds), each with the first step that uses the table.
    pub(super) fn check_tables(&mut self, tables: &[TableEntry], drafts: &[Draft]) {
        for entry in tables {
            let users: Vec<&str> = drafts
                .iter()
                .filter(|d| d.kind == Some("decide") && d.table.as_deref() == Some(entry.key.as_str()))
                .filter_map(|d| d.id.as_deref())
                .collect();
            let also = match users.get(1..) {
                Some(rest) if !rest.is_empty() => format!(" (the table is also used by {})", rest.join(", ")),
                _ => String::new(),
            };
            let step = users.first().copied();
            for (file, at, message) in &entry.pending {
                self.report_in(file.clone(), *at, step, format!("{message}{also}"));
            }
            let Some(table) = &entry.table else { continue };
            for problem in table.check() {
                let (file, at) = match (&entry.file, problem.position) {
                    (Some(file), at) => (file.clone(), at),
                    (None, Some(at)) => (self.file.to_owned(), Some(at)),
                    (None, None) => (self.file.to_owned(), entry.key_position),
                };
                self.report_in(file, at, step, format!("table `{}`: {}{also}", entry.key, problem.message));
            }
        }
    }

    /// Reads `classifiers:`.
    pub(super) fn classifiers(&mut self, node: &Node) -> Option<HashMap<String, Arc<dyn Classifier>>> {
        let Some(map) = node.as_map() else {
            self.report(
                node.position(),
                None,
                format!("`classifiers` is a mapping from names to classifiers, not {}", node.describe()),
            );
            return None;
        };
        let mut classifiers: HashMap<String, Arc<dyn Classifier>> = HashMap::new();
        let mut fine = true;
        for (key, value) in map {
            let Some(name) = key.as_str().map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned) else {
                self.report(
                    key.position(),
                    None,
                    format!("`classifiers`: a classifier's name is a name, not {}", key.describe()),
                );
                fine = false;
                continue;
            };
            if classifiers.contains_key(&name) {
                self.report(key.position(), None, format!("`classifiers`: the classifier `{name}` is defined twice"));
                fine = false;
                continue;
            }
            match self.classifier(&name, value) {
                Some(classifier) => {
                    classifiers.insert(name, Arc::new(classifier));
                }
                None => fine = false,
            }
        }
        fine.then_some(classifiers)
    }

    fn classifier(&mut self, name: &str, node: &Node) -> Option<RuleClassifier> {
        let what = format!("the classifier `{name}`");
        let e = self.entries(node, &what, None, &["rules", "otherwise"], &[])?;
        let rules = self
            .required(&e, "rules", &what, None, " (a list of { label, when, confidence, reason })")
            .and_then(|node| {
                let Yaml::Seq(items) = &node.value else {
                    self.report(
                        node.position(),
                        None,
                        format!("classifier `{name}`: `rules` is a list of rules, not {}", node.describe()),
                    );
                    return None;
                };
                if items.is_empty() {
                    self.report(node.position(), None, format!("classifier `{name}`: `rules` is empty"));
                    return None;
                }
                let mut rules = Vec::new();
                let mut fine = true;
                for (i, item) in items.iter().enumerate() {
                    match self.class_rule(name, i, item) {
                        Some(rule) => rules.push(rule),
                        None => fine = false,
                    }
                }
                fine.then_some(rules)
            });
        let otherwise = match e.get("otherwise") {
            None => Some(None),
            Some(node) => {
                let what = format!("the `otherwise` of classifier `{name}`");
                self.entries(node, &what, None, &["label", "confidence"], &[]).and_then(|o| {
                    let field = |key: &str| format!("classifiers.{name}.otherwise.{key}");
                    let label =
                        self.required(&o, "label", &what, None, "").and_then(|n| self.text(n, &field("label"), None));
                    let confidence = self
                        .required(&o, "confidence", &what, None, " (from 0 to 1)")
                        .and_then(|n| self.confidence(n, &field("confidence")));
                    Some(Some((label?, confidence?)))
                })
            }
        };
        Some(RuleClassifier { name: name.to_owned(), rules: rules?, otherwise: otherwise? })
    }

    fn class_rule(&mut self, name: &str, i: usize, node: &Node) -> Option<ClassRule> {
        let what = format!("rule {} of classifier `{name}`", i + 1);
        let e = self.entries(node, &what, None, &["label", "when", "confidence", "reason"], &[])?;
        let field = |key: &str| format!("classifiers.{name}.rules[{i}].{key}");
        let label = self.required(&e, "label", &what, None, "").and_then(|n| self.text(n, &field("label"), None));
        let when = self
            .required(&e, "when", &what, None, " (a condition)")
            .and_then(|n| self.expr(n, &field("when"), None, Scope::Step));
        let confidence = self
            .required(&e, "confidence", &what, None, " (from 0 to 1)")
            .and_then(|n| self.confidence(n, &field("confidence")));
        let reason = self
            .required(&e, "reason", &what, None, " (why, for people)")
            .and_then(|n| self.text(n, &field("reason"), None));
        Some(ClassRule { label: label?, when: when?, confidence: confidence?, reason: reason? })
    }

    fn confidence(&mut self, node: &Node, field: &str) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        let value = match node.value {
            Yaml::Float(f) => Some(f),
            Yaml::Int(i) => Some(i as f64),
            Yaml::UInt(u) => Some(u as f64),
            _ => None,
        };
        match value {
            Some(value) if (0.0..=1.0).contains(&value) => Some(value),
            _ => {
                self.report(
                    node.position(),
                    None,
                    format!("`{field}` must be a number from 0 to 1, not {}", node.describe()),
                );
                None
            }
        }
    }
}

/// An inline table's text, and the line its `id` was written on (if it was).
struct TableText {
    text: String,
    synthetic_line: Option<usize>,
}

/// The byte offset just after the flow collection starting at `start`, skipping the scalars
/// (sorted byte spans) and comments in it.
fn flow_end(source: &str, start: usize, scalars: &[(usize, usize)]) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    let mut k = 0;
    while i < bytes.len() {
        while scalars.get(k).is_some_and(|&(from, len)| from + len <= i) {
            k += 1;
        }
        if let Some(&(from, len)) = scalars.get(k)
            && from <= i
        {
            i = from + len.max(1);
            continue;
        }
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'#' if i == start || bytes[i - 1].is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn definition_position(error: &DefinitionError) -> Option<Position> {
    (error.line > 0).then_some(Position { line: error.line, column: error.column })
}

fn table_message(key: &str, error: &DefinitionError) -> String {
    match &error.rule {
        Some(rule) => format!("table `{key}`: rule {rule}: {}", error.message),
        None => format!("table `{key}`: {}", error.message),
    }
}

/// A path relative to the definition, as problems name it: `tables/x.yaml` next to
/// `workflows/w.yaml` is `workflows/tables/x.yaml`.
fn relative_to(definition: &str, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_owned();
    }
    match definition.rsplit_once('/') {
        Some((directory, _)) => format!("{directory}/{path}"),
        None => path.to_owned(),
    }
}
