//! GS1 EPCIS 2.0.
use crate::{Context, Parsed, Problem, Sniff};
/// Whether the document is EPCIS JSON.
pub fn detect_json(_: &Sniff<'_>) -> bool {
    false
}
/// Whether the document is EPCIS XML.
pub fn detect_xml(_: &Sniff<'_>) -> bool {
    false
}
/// Reads EPCIS JSON.
pub fn parse_json(_: &[u8], _: &Context) -> Result<Parsed, Vec<Problem>> {
    Err(Vec::new())
}
/// Reads EPCIS XML.
pub fn parse_xml(_: &[u8], _: &Context) -> Result<Parsed, Vec<Problem>> {
    Err(Vec::new())
}
