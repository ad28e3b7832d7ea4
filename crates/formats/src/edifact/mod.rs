//! Skeleton.
use crate::{Context, Parsed, Problem, Sniff};
/// Whether the document is in this format.
pub fn detect(_: &Sniff<'_>) -> bool {
    false
}
/// Reads a document.
pub fn parse(_: &[u8], _: &Context) -> Result<Parsed, Vec<Problem>> {
    Err(Vec::new())
}
