//! Mapping the rows of a CSV file to raw event JSON.

use std::collections::HashMap;

use ::csv::{ByteRecord, ErrorKind, ReaderBuilder};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::dates::{ParsedTime, local_date, rfc3339, to_utc};
use super::mapping::{CsvMapping, DateOutput, DateSource, Node, Rule, Test};
use super::template::{DecimalError, DecimalExpr, PLAIN_DECIMAL, Part, Template, decimal_text, parse_decimal};

/// One event mapped from a CSV file, with the rows it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct MappedEvent {
    /// The line of the CSV file where the event's first row starts (1-based; the header is line 1).
    pub first_row: usize,
    /// The line of the CSV file where the event's last row starts.
    pub last_row: usize,
    /// The raw event, `{"id", "type", "source", "occurred_at", "data"}`, ready for
    /// [`backroom_model::validate_events`].
    pub event: Value,
}

/// The first problem met while mapping a CSV file: where it is and what would be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {row}{}: {message}", column_part(.column.as_deref()))]
pub struct CsvError {
    /// The 1-based line of the CSV file where the row starts (the header is line 1).
    pub row: usize,
    /// The column concerned, by its header name, when the problem is in one column.
    pub column: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

fn column_part(column: Option<&str>) -> String {
    column.map_or_else(String::new, |c| format!(", column {c:?}"))
}

fn error(row: usize, column: Option<&str>, message: String) -> CsvError {
    CsvError { row, column: column.map(str::to_owned), message }
}

/// Maps a CSV file (its first line is the header) to raw events, one per row or one per group
/// of consecutive rows (see the [module documentation](super)).
///
/// The whole file is mapped or none of it: the first problem met (a column the mapping names
/// but the header lacks, a date or number that cannot be read, an empty cell that a template
/// needs) is returned with its row and column. Business rules are not checked here: pass the
/// events to [`backroom_model::validate_events`].
pub fn map_csv(bytes: &[u8], mapping: &CsvMapping) -> Result<Vec<MappedEvent>, CsvError> {
    let mut reader =
        ReaderBuilder::new().delimiter(mapping.delimiter).has_headers(true).flexible(false).from_reader(bytes);
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| read_error(&e, mapping.delimiter, &mut LineCounter { bytes, at: 0, line: 1 }))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            if i == 0 { h.trim_start_matches('\u{feff}').to_owned() } else { h.into_owned() }
        })
        .collect();
    let mapper = Mapper { columns: Columns::resolve(&headers, mapping)?, mapping, zone: mapping.time_zone };

    let mut events = Vec::new();
    let mut group: Vec<Row> = Vec::new();
    let mut group_key = String::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut record = ByteRecord::new();
    let mut lines = LineCounter { bytes, at: 0, line: 1 };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(read_error(&e, mapping.delimiter, &mut lines)),
        }
        let line = lines.line_at(record.position().map_or(0, ::csv::Position::byte));
        let row = Row { line, record: std::mem::take(&mut record) };
        if !mapper.kept(&row)? {
            record = row.record;
            continue;
        }
        let Some(column) = &mapping.group_by else {
            events.push(mapper.event(std::slice::from_ref(&row))?);
            record = row.record;
            continue;
        };
        let key = mapper.columns.cell(&row, column)?;
        if key.is_empty() {
            return Err(error(
                line,
                Some(column),
                format!(
                    "the cell is empty, but rows are grouped into events by {column:?}: give every row a value, or \
                     leave such rows out with skip_when = {{ column = {column:?}, empty = true }}"
                ),
            ));
        }
        if !group.is_empty() && key == group_key {
            group.push(row);
            continue;
        }
        if let Some(first) = seen.get(key) {
            return Err(error(
                line,
                Some(column),
                format!(
                    "{key:?} already made the event that starts at row {first}, and rows of other events come in \
                     between; the rows of one event must be consecutive: sort the file by {column:?}"
                ),
            ));
        }
        let key = key.to_owned();
        if !group.is_empty() {
            events.push(mapper.event(&group)?);
            group.clear();
        }
        seen.insert(key.clone(), line);
        group_key = key;
        group.push(row);
    }
    if !group.is_empty() {
        events.push(mapper.event(&group)?);
    }
    Ok(events)
}

fn read_error(e: &::csv::Error, delimiter: u8, lines: &mut LineCounter<'_>) -> CsvError {
    let mut line = |p: Option<&::csv::Position>| lines.line_at(p.map_or(0, ::csv::Position::byte));
    match e.kind() {
        ErrorKind::UnequalLengths { pos, expected_len, len } => error(
            line(pos.as_ref()),
            None,
            format!(
                "the row has {len} fields but the header has {expected_len}; check the delimiter ({:?} in this \
                 mapping) and that fields containing it are quoted",
                char::from(delimiter)
            ),
        ),
        _ => error(line(e.position()), None, format!("the file cannot be read as CSV: {e}")),
    }
}

/// Finds the line where a record starts from the byte offset the CSV reader gives.
///
/// The reader's own line numbers are off after CRLF line ends and blank lines, and its byte
/// offset points before the line end or blank lines that precede a record: skip those, then
/// count the line breaks (LF, CRLF or a lone CR) before the record.
struct LineCounter<'b> {
    bytes: &'b [u8],
    /// How far line breaks have been counted.
    at: usize,
    /// The line at `at`.
    line: usize,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: u64) -> usize {
        let mut start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.at {
            (self.at, self.line) = (0, 1);
        }
        for i in self.at..start {
            match self.bytes.get(i) {
                Some(b'\n') => self.line += 1,
                Some(b'\r') if self.bytes.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.at = start;
        self.line
    }
}

/// One row of the CSV file.
struct Row {
    /// Its line in the file.
    line: usize,
    /// Its fields.
    record: ByteRecord,
}

/// Where each column the mapping reads sits in the header.
struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    fn resolve(headers: &[String], mapping: &CsvMapping) -> Result<Self, CsvError> {
        let mut index = HashMap::new();
        for name in mapping.columns() {
            let mut at = headers.iter().enumerate().filter(|(_, h)| *h == name).map(|(i, _)| i);
            match (at.next(), at.next()) {
                (Some(i), None) => {
                    index.insert(name.to_owned(), i);
                }
                (Some(_), Some(_)) => {
                    return Err(error(
                        1,
                        Some(name),
                        "the header has more than one column of this name, so the mapping cannot tell which to read"
                            .to_owned(),
                    ));
                }
                (None, _) => {
                    let near = headers
                        .iter()
                        .find(|h| h.trim().eq_ignore_ascii_case(name.trim()))
                        .map_or_else(String::new, |h| format!("did you mean {h:?}? "));
                    let mut listed: Vec<String> = headers.iter().take(40).map(|h| format!("{h:?}")).collect();
                    if headers.len() > 40 {
                        listed.push(format!("and {} more", headers.len() - 40));
                    }
                    return Err(error(
                        1,
                        Some(name),
                        format!(
                            "the mapping names this column but the header line has no such column; {near}the \
                             header has: {}",
                            listed.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(Self { index })
    }

    /// The text of a cell, spaces around it removed.
    fn cell<'r>(&self, row: &'r Row, column: &str) -> Result<&'r str, CsvError> {
        let Some(&i) = self.index.get(column) else {
            return Err(error(1, Some(column), "the header line has no such column".to_owned()));
        };
        let bytes = row.record.get(i).unwrap_or_default();
        std::str::from_utf8(bytes).map(str::trim).map_err(|e| {
            error(
                row.line,
                Some(column),
                format!(
                    "the cell is not UTF-8 text (bad byte after {} bytes); save the file as UTF-8",
                    e.valid_up_to()
                ),
            )
        })
    }
}

/// A template filled in from a row: the text, or the first placeholder whose cell is empty.
enum Filled<'t> {
    Text(String),
    Empty(&'t str),
}

struct Mapper<'m> {
    mapping: &'m CsvMapping,
    columns: Columns,
    zone: Option<Tz>,
}

/// What templates read: the row they are filled from and every row of its group (for sums).
#[derive(Clone, Copy)]
struct Ctx<'a> {
    group: &'a [Row],
    row: &'a Row,
}

impl Mapper<'_> {
    fn kept(&self, row: &Row) -> Result<bool, CsvError> {
        for rule in &self.mapping.keep_when {
            if !self.matches(rule, row)? {
                return Ok(false);
            }
        }
        for rule in &self.mapping.skip_when {
            if self.matches(rule, row)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn matches(&self, rule: &Rule, row: &Row) -> Result<bool, CsvError> {
        let cell = self.columns.cell(row, &rule.column)?;
        Ok(match &rule.test {
            Test::Equals(v) => cell == v,
            Test::StartsWith(v) => cell.starts_with(v.as_str()),
            Test::Empty(empty) => cell.is_empty() == *empty,
            Test::AtMost(max) => {
                let value = parse_decimal(cell).map_err(|_| {
                    error(
                        row.line,
                        Some(&rule.column),
                        format!(
                            "{cell:?} is not a number, which the rule {} needs; expected {PLAIN_DECIMAL}",
                            rule.describe()
                        ),
                    )
                })?;
                value <= *max
            }
        })
    }

    fn event(&self, group: &[Row]) -> Result<MappedEvent, CsvError> {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            return Err(error(0, None, "an event needs at least one row".to_owned()));
        };
        let m = self.mapping;
        let ctx = Ctx { group, row: first };
        let id = self.required(&m.id, first, "the event id")?;
        let source = self.required(&m.source, first, "the event source")?;
        let occurred_at = self.date(&m.occurred_at, first, "$.occurred_at")?;
        let occurred_at = to_utc(occurred_at, self.zone)
            .map_err(|e| error(first.line, Some(&m.occurred_at.column), format!("{e} (for $.occurred_at)")))?;
        let mut data = self.object(&m.data, ctx, "$.data")?;
        if let Some(lines) = &m.lines {
            let prefix = format!("$.data.{}", lines.path.join("."));
            let mut items = Vec::with_capacity(group.len());
            for (i, row) in group.iter().enumerate() {
                let mut line = self.object(&lines.template, Ctx { group, row }, &format!("{prefix}[{i}]"))?;
                if let Some(number) = &lines.number {
                    line.insert(number.clone(), Value::from(i + 1));
                }
                items.push(Value::Object(line));
            }
            insert_at(&mut data, &lines.path, Value::Array(items));
        }
        let mut event = Map::new();
        event.insert("id".into(), Value::String(id));
        event.insert("type".into(), Value::String(m.event_type.as_str().to_owned()));
        event.insert("source".into(), Value::String(source));
        event.insert("occurred_at".into(), Value::String(rfc3339(occurred_at)));
        event.insert("data".into(), Value::Object(data));
        Ok(MappedEvent { first_row: first.line, last_row: last.line, event: Value::Object(event) })
    }

    fn fill<'t>(&self, t: &'t Template, row: &Row) -> Result<Filled<'t>, CsvError> {
        let mut out = String::new();
        for part in &t.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Column(c) => {
                    let cell = self.columns.cell(row, c)?;
                    if cell.is_empty() {
                        return Ok(Filled::Empty(c));
                    }
                    out.push_str(cell);
                }
            }
        }
        Ok(Filled::Text(out))
    }

    /// Fills a template whose every placeholder needs a value.
    fn required(&self, t: &Template, row: &Row, what: &str) -> Result<String, CsvError> {
        match self.fill(t, row)? {
            Filled::Text(s) => Ok(s),
            Filled::Empty(c) => Err(error(
                row.line,
                Some(c),
                format!("the cell is empty, but {what} (template {:?}) needs a value", t.source),
            )),
        }
    }

    fn date(&self, source: &DateSource, row: &Row, path: &str) -> Result<ParsedTime, CsvError> {
        let cell = self.columns.cell(row, &source.column)?;
        source.format.read(cell).map_err(|e| error(row.line, Some(&source.column), format!("{e} (for {path})")))
    }

    fn decimal(&self, expr: &DecimalExpr, abs: bool, negate: bool, row: &Row, path: &str) -> Result<Decimal, CsvError> {
        let mut value = Decimal::ONE;
        for factor in &expr.factors {
            let column = factor.columns().next();
            let text = match self.fill(factor, row)? {
                Filled::Text(s) => s,
                Filled::Empty(c) => {
                    return Err(error(
                        row.line,
                        Some(c),
                        format!("the cell is empty, but {path} needs a number; expected {PLAIN_DECIMAL}"),
                    ));
                }
            };
            let d = parse_decimal(&text).map_err(|e| {
                let message = match e {
                    DecimalError::OutOfRange => format!("{text:?} (for {path}) {e}"),
                    _ => format!("{text:?} is not a number (for {path}); expected {PLAIN_DECIMAL}"),
                };
                error(row.line, column, message)
            })?;
            value = value.checked_mul(d).ok_or_else(|| {
                error(row.line, column, format!("{} is too large to compute exactly (for {path})", expr.source))
            })?;
        }
        if abs {
            value = value.abs();
        }
        if negate {
            value = -value;
        }
        Ok(value)
    }

    fn object(&self, entries: &[(String, Node)], ctx: Ctx<'_>, path: &str) -> Result<Map<String, Value>, CsvError> {
        let mut out = Map::new();
        for (key, node) in entries {
            if let Some(v) = self.node(node, ctx, &format!("{path}.{key}"))? {
                out.insert(key.clone(), v);
            }
        }
        Ok(out)
    }

    /// Renders a template value; `None` leaves it out (a lone placeholder whose cell is empty).
    fn node(&self, node: &Node, ctx: Ctx<'_>, path: &str) -> Result<Option<Value>, CsvError> {
        let row = ctx.row;
        Ok(Some(match node {
            Node::Text(t) => match self.fill(t, row)? {
                Filled::Text(s) => Value::String(s),
                Filled::Empty(_) if t.single_column().is_some() => return Ok(None),
                Filled::Empty(c) => {
                    return Err(error(
                        row.line,
                        Some(c),
                        format!(
                            "the cell is empty, but the template {:?} for {path} needs a value (only a template \
                             that is a single placeholder is left out when its cell is empty)",
                            t.source
                        ),
                    ));
                }
            },
            Node::Literal(v) => v.clone(),
            Node::Object(entries) => Value::Object(self.object(entries, ctx, path)?),
            Node::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(v) = self.node(item, ctx, &format!("{path}[{i}]"))? {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            Node::Date { source, output } => {
                let t = self.date(source, row, path)?;
                match output {
                    DateOutput::Date => Value::String(local_date(t, self.zone).format("%Y-%m-%d").to_string()),
                    DateOutput::Datetime => Value::String(rfc3339(
                        to_utc(t, self.zone)
                            .map_err(|e| error(row.line, Some(&source.column), format!("{e} (for {path})")))?,
                    )),
                }
            }
            Node::Decimal { expr, abs, negate } => {
                Value::String(decimal_text(self.decimal(expr, *abs, *negate, row, path)?))
            }
            Node::Sum { expr, currency, abs, negate } => {
                let amount_path = format!("{path}.amount");
                let mut total = Decimal::ZERO;
                for r in ctx.group {
                    let v = self.decimal(expr, *abs, *negate, r, &amount_path)?;
                    total = total.checked_add(v).ok_or_else(|| {
                        error(r.line, None, format!("the sum for {path} is too large to compute exactly"))
                    })?;
                }
                let currency = self.required(currency, row, &format!("{path}.currency"))?;
                let mut money = Map::new();
                money.insert("amount".into(), Value::String(decimal_text(total)));
                money.insert("currency".into(), Value::String(currency));
                Value::Object(money)
            }
        }))
    }
}

/// Puts `value` at the dotted `path` inside `data`, creating the objects on the way.
fn insert_at(data: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut level = data;
    for p in parents {
        let entry = level.entry(p.clone()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            // Loading the mapping refuses a path through a non-object; replace rather than panic.
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        level = next;
    }
    level.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"
type = "pos.sale"
source = "shop/{Store}"
id = "{No}"
time_zone = "Europe/London"
occurred_at = { column = "When", format = "%Y-%m-%d %H:%M" }
"#;

    fn mapping(rest: &str) -> CsvMapping {
        CsvMapping::from_toml(&format!("{HEAD}{rest}")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(rest: &str, csv: &str) -> Result<Vec<MappedEvent>, CsvError> {
        map_csv(csv.as_bytes(), &mapping(rest))
    }

    const CSV: &str = "Store,No,When,Sku,Qty,Price,Customer\n\
                       S1,1,2026-03-02 10:00,A,2,1.50,\n\
                       S1,1,2026-03-02 10:00,B,-1,4,K9\n\
                       S2,2,2026-03-02 11:00,C,3,0.1,K7\n";

    #[test]
    fn without_group_by_every_row_is_an_event() {
        let events = run("[data]\nsku = \"{Sku}\"\n", CSV).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!((events[1].first_row, events[1].last_row), (3, 3));
        assert_eq!(events[1].event["id"], "1");
        assert_eq!(events[2].event["source"], "shop/S2");
        assert_eq!(events[2].event["type"], "pos.sale");
        assert_eq!(events[2].event["occurred_at"], "2026-03-02T11:00:00Z");
        assert_eq!(events[2].event["data"], serde_json::json!({"sku": "C"}));
    }

    #[test]
    fn groups_take_data_from_the_first_row_and_lines_from_every_row() {
        let events = run(
            r#"group_by = "No"
[data]
customer = "{Customer}"
note = "order {No}"
flag = true
count = 3
tags = ["{Customer}", "x"]
total = { sum = "{Qty} * {Price}", currency = "GBP" }
refund = { sum = "{Qty} * {Price}", abs = true, negate = true, currency = "GBP" }
[lines]
path = "order.lines"
number = "n"
[lines.template]
sku = "{Sku}"
qty = { decimal = "{Qty}", abs = true }
at = { column = "When", format = "%Y-%m-%d %H:%M" }
"#,
            CSV,
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].first_row, events[0].last_row), (2, 3));
        let data = &events[0].event["data"];
        assert_eq!(data.get("customer"), None, "an empty lone placeholder is left out");
        assert_eq!(data["note"], "order 1");
        assert_eq!((&data["flag"], &data["count"]), (&Value::Bool(true), &Value::from(3)));
        assert_eq!(data["tags"], serde_json::json!(["x"]));
        // 2 × 1.50 - 1 × 4 = -1; with abs per row: 3 + 4 = 7, negated.
        assert_eq!(data["total"], serde_json::json!({"amount": "-1", "currency": "GBP"}));
        assert_eq!(data["refund"], serde_json::json!({"amount": "-7", "currency": "GBP"}));
        assert_eq!(
            data["order"]["lines"],
            serde_json::json!([
                {"n": 1, "sku": "A", "qty": "2", "at": "2026-03-02T10:00:00Z"},
                {"n": 2, "sku": "B", "qty": "1", "at": "2026-03-02T10:00:00Z"},
            ])
        );
        assert_eq!(events[1].event["data"]["total"]["amount"], "0.3");
    }

    #[test]
    fn rows_are_kept_and_skipped_by_rules() {
        let ids = |rules: &str| -> Vec<String> {
            run(&format!("{rules}\n[data]\n"), CSV)
                .unwrap()
                .iter()
                .map(|e| format!("{}{}", e.event["id"].as_str().unwrap(), e.first_row))
                .collect()
        };
        assert_eq!(ids("skip_when = { column = \"Qty\", at_most = 0 }"), ["12", "24"]);
        assert_eq!(ids("skip_when = { column = \"Customer\", empty = true }"), ["13", "24"]);
        assert_eq!(ids("keep_when = { column = \"Customer\", empty = false }"), ["13", "24"]);
        assert_eq!(
            ids("keep_when = [{ column = \"Store\", equals = \"S1\" }, { column = \"Sku\", starts_with = \"B\" }]"),
            ["13"]
        );
        assert_eq!(
            ids("[[skip_when]]\ncolumn = \"Sku\"\nequals = \"A\"\n[[skip_when]]\ncolumn = \"Sku\"\nequals = \"C\""),
            ["13"]
        );
        let e = run("skip_when = { column = \"Sku\", at_most = \"1\" }\n[data]\n", CSV).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (2, Some("Sku")), "{e}");
        assert!(e.message.contains("at_most"), "{e}");
    }

    #[test]
    fn the_rows_of_a_group_must_be_consecutive() {
        let csv = format!("{CSV}S1,1,2026-03-02 12:00,D,1,1,\n");
        let e = run("group_by = \"No\"\n[data]\n", &csv).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (5, Some("No")), "{e}");
        assert!(e.message.contains("starts at row 2") && e.message.contains("sort the file"), "{e}");
        // Rows left out in between do not break a group.
        let csv = "Store,No,When\nS,1,2026-03-02 10:00\nS,X,2026-03-02 10:00\nS,1,2026-03-02 10:00\n";
        let events = run("group_by = \"No\"\nskip_when = { column = \"No\", equals = \"X\" }\n[data]\n", csv).unwrap();
        assert_eq!((events.len(), events[0].first_row, events[0].last_row), (1, 2, 4));
        let e = run("group_by = \"Customer\"\n[data]\n", CSV).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (2, Some("Customer")), "{e}");
        assert!(e.message.contains("empty = true"), "{e}");
    }

    #[test]
    fn empty_cells_that_a_value_needs_are_errors() {
        let e = run("[data]\nc = \"cust-{Customer}\"\n", CSV).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (2, Some("Customer")), "{e}");
        assert!(e.message.contains("$.data.c"), "{e}");
        let e = map_csv(CSV.as_bytes(), &mapping("[data]\n").with_id("{Customer}")).unwrap_err();
        assert!(e.message.contains("the event id"), "{e}");
        let e = run("[data]\nq = { decimal = \"{Customer}\" }\n", CSV).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (2, Some("Customer")), "{e}");
        assert!(e.message.contains("needs a number"), "{e}");
    }

    #[test]
    fn errors_name_row_column_and_path() {
        let e = run("[data]\nq = { decimal = \"{Qty} * {Store}\" }\n", CSV).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("row 2, column \"Store\": \"S1\" is not a number (for $.data.q); expected {PLAIN_DECIMAL}")
        );
        let e = run(
            "[data]\n[lines]\npath = \"lines\"\n[lines.template]\nd = { column = \"Sku\", format = \"%Y\" }\n",
            CSV,
        )
        .unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (2, Some("Sku")), "{e}");
        assert!(e.message.contains("$.data.lines[0].d"), "{e}");
        let e = run("[data]\n", "Store,No,When\nS,1,2026-03-29 01:30\n").unwrap_err();
        assert!(e.to_string().contains("clocks went forward"), "{e}");
    }

    #[test]
    fn header_problems_are_row_1() {
        let e = run("[data]\nx = \"{sku}\"\n", CSV).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (1, Some("sku")), "{e}");
        assert!(e.message.contains("did you mean \"Sku\"?"), "{e}");
        let e = run("[data]\n", "No,When,No\n1,2026-03-02 10:00,2\n").unwrap_err();
        assert!(e.message.contains("more than one column"), "{e}");
        assert_eq!(run("[data]\n", "").unwrap_err().row, 1);
    }

    #[test]
    fn odd_files() {
        // A byte order mark, CRLF line ends, quoted fields, no final line end.
        let text = "\u{feff}Store,No,When\r\n\"S,1\",1,\"2026-03-02 10:00\"\r\nS,2,2026-03-02 10:00";
        let events = run("[data]\n", text).unwrap();
        assert_eq!(events.iter().map(|e| e.first_row).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(events[0].event["source"], "shop/S,1");
        // Row numbers are lines of the file, past blank lines, lone CRs and line breaks in quotes.
        let text = "Store,No,When\n\nS,1,2026-03-02 10:00\r\r\"S\n2\",2,2026-03-02 10:00\n\nS,3,2026-03-02 10:00\n";
        let events = run("[data]\n", text).unwrap();
        assert_eq!(events.iter().map(|e| e.first_row).collect::<Vec<_>>(), [3, 5, 8]);
        let e = run("[data]\n", "Store,No,When\r\nS,1,2026-03-02 10:00\r\n\r\nS,2\r\n").unwrap_err();
        assert_eq!(e.row, 4, "{e}");
        // A header only.
        assert_eq!(run("[data]\n", "Store,No,When\n").unwrap(), vec![]);
        // A short row.
        let e = run("[data]\n", "Store,No,When\nS,1\n").unwrap_err();
        assert_eq!(e.row, 2);
        assert!(e.message.contains("2 fields but the header has 3"), "{e}");
        // Bytes that are not UTF-8 are an error only in a column the mapping reads.
        let mut bytes = b"Store,No,When,Note\nS,1,2026-03-02 10:00,caf".to_vec();
        bytes.extend([0xe9, b'\n']);
        assert_eq!(map_csv(&bytes, &mapping("[data]\n")).unwrap().len(), 1);
        let e = map_csv(&bytes, &mapping("[data]\nn = \"{Note}\"\n")).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (2, Some("Note")), "{e}");
        assert!(e.message.contains("UTF-8"), "{e}");
    }

    #[test]
    fn other_delimiters() {
        let m = CsvMapping::from_toml(&format!("delimiter = \";\"\n{HEAD}[data]\nq = {{ decimal = \"{{Qty}}\" }}\n"))
            .unwrap();
        let events = map_csv("Store;No;When;Qty\nS;1;2026-03-02 10:00; 1.5 \n".as_bytes(), &m).unwrap();
        assert_eq!(events[0].event["data"]["q"], "1.5");
    }

    impl CsvMapping {
        fn with_id(mut self, id: &str) -> Self {
            self.id = Template::parse(id).unwrap();
            self
        }
    }
}
