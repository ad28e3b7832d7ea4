//! Where a definition came from, and what was wrong with it.

use std::fmt;

/// A place in a source text: 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A decision table (YAML or DMN) that cannot be read: where, in which rule, and what is wrong.
///
/// Displays as `line 12, column 7: rule r3: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct DefinitionError {
    /// 1-based line of the problem; 0 when the source gives no position.
    pub line: usize,
    /// 1-based column (in characters) of the problem; 0 when the source gives no position.
    pub column: usize,
    /// The id of the rule the problem is in, if it is in a rule.
    pub rule: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl DefinitionError {
    pub(crate) fn new(position: Option<Position>, rule: Option<&str>, message: impl Into<String>) -> Self {
        let position = position.unwrap_or(Position { line: 0, column: 0 });
        DefinitionError {
            line: position.line,
            column: position.column,
            rule: rule.map(str::to_owned),
            message: message.into(),
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if self.line > 0 {
            out.push_str(&format!("line {}, column {}: ", self.line, self.column));
        }
        if let Some(rule) = &self.rule {
            out.push_str(&format!("rule {rule}: "));
        }
        out.push_str(&self.message);
        out
    }
}

/// Turns byte offsets of a source text into lines and columns.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of a byte offset (clamped to the text, and to a character boundary).
    pub(crate) fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        let column = self.text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        Position { line: line.max(1), column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_become_lines_and_columns() {
        let index = LineIndex::new("ab\ncé\nx");
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(2), Position { line: 1, column: 3 });
        assert_eq!(index.position(3), Position { line: 2, column: 1 });
        assert_eq!(index.position(6), Position { line: 2, column: 3 });
        assert_eq!(index.position(5), Position { line: 2, column: 2 }, "inside é: the character's start");
        assert_eq!(index.position(7), Position { line: 3, column: 1 });
        assert_eq!(index.position(100), Position { line: 3, column: 2 });
    }

    #[test]
    fn renders_position_and_rule() {
        let e = DefinitionError::new(Some(Position { line: 12, column: 7 }), Some("r3"), "bad");
        assert_eq!(e.to_string(), "line 12, column 7: rule r3: bad");
        assert_eq!(DefinitionError::new(None, None, "bad").to_string(), "bad");
    }
}
