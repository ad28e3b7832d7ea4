//! Problems found in a document, each with the place it was found.

use std::fmt;

/// Where in a document a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A place in a JSON or XML text: 1-based line and column, and the JSON path (`$.epcisBody.eventList[2].action`)
    /// or XPath (`/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount`); the path is empty when
    /// the text could not be read that far.
    Text {
        /// The 1-based line.
        line: usize,
        /// The 1-based column, in characters.
        column: usize,
        /// The JSON path or XPath, possibly empty.
        path: String,
    },
    /// A place in an EDI interchange (X12 or EDIFACT).
    Segment {
        /// The 1-based position of the segment in the interchange.
        index: usize,
        /// The segment tag (`ISA`, `BEG`, `UNH`).
        tag: String,
        /// The 1-based element position within the segment, when one element is at fault.
        element: Option<usize>,
        /// The 1-based component position within the element, when one component is at fault.
        component: Option<usize>,
    },
    /// A row of a CSV file, and the column by its header name.
    Row {
        /// The 1-based line where the row starts (the header is line 1).
        row: usize,
        /// The column, when one column is at fault.
        column: Option<String>,
    },
    /// The document as a whole (a PDF without an embedded invoice, a document of no known format).
    Document,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Text { line, column, path } if path.is_empty() => write!(f, "line {line}, column {column}"),
            Location::Text { line, column, path } => write!(f, "line {line}, column {column} ({path})"),
            Location::Segment { index, tag, element, component } => {
                write!(f, "segment {index} ({tag})")?;
                if let Some(e) = element {
                    write!(f, ", element {tag}{e:02}")?;
                }
                if let Some(c) = component {
                    write!(f, ", component {c}")?;
                }
                Ok(())
            }
            Location::Row { row, column: None } => write!(f, "row {row}"),
            Location::Row { row, column: Some(c) } => write!(f, "row {row}, column {c:?}"),
            Location::Document => f.write_str("document"),
        }
    }
}

/// One problem: where, which rule when a standard names one (`BR-CO-10`, `PEPPOL-EN16931-R003`),
/// and what is wrong and what would be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where the problem is.
    pub location: Location,
    /// The rule broken, when the standard gives it an id.
    pub rule: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl Problem {
    /// A problem with no rule id.
    pub fn new(location: Location, message: String) -> Self {
        Self { location, rule: None, message }
    }

    /// A problem breaking the rule `rule`.
    pub fn rule(location: Location, rule: &str, message: String) -> Self {
        Self { location, rule: Some(rule.to_owned()), message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "{}: [{rule}] {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

/// Byte offsets of line starts, to turn an offset into a line and column.
#[derive(Clone, Debug)]
pub struct Lines {
    starts: Vec<usize>,
    text: Vec<u8>,
}

impl Lines {
    /// Indexes the lines of `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
        Self { starts, text: bytes.to_vec() }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = String::from_utf8_lossy(&self.text[start..offset]).chars().count() + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let lines = Lines::new("ab\ncé\nx".as_bytes());
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(3), (2, 1));
        assert_eq!(lines.position(6), (2, 3));
        assert_eq!(lines.position(7), (3, 1));
        assert_eq!(lines.position(100), (3, 2));
    }
}
