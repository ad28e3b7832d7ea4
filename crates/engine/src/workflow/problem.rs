//! What is wrong with a workflow definition: every problem, with where it is.

use std::fmt;

/// One problem in a definition: the file, line and column it is at, the step it is in, and what
/// is wrong (and what would be accepted).
///
/// Displays as `{file}:{line}:{column}: step {step}: {message}`, leaving out the parts that are
/// absent (a line and column of 0 mean the position is unknown), e.g.
/// ``workflows/replenishment.yaml:41:15: step route: `next`: no step has the id `aprove` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in: the definition, or a decision-table file it refers to.
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column, in characters; 0 when unknown.
    pub column: usize,
    /// The id of the step the problem is in (or the step that uses the table it is in).
    pub step: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut located = false;
        if !self.file.is_empty() {
            f.write_str(&self.file)?;
            located = true;
        }
        if self.line > 0 {
            if located {
                f.write_str(":")?;
            }
            write!(f, "{}:{}", self.line, self.column)?;
            located = true;
        }
        if located {
            f.write_str(": ")?;
        }
        if let Some(step) = &self.step {
            write!(f, "step {step}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

/// Every problem found in a definition, in source order (the definition's own problems first,
/// then those in the table files it refers to). Displays one problem per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
