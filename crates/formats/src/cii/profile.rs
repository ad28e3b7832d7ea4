//! Factur-X / ZUGFeRD profiles (BT-24, the specification identifier) and the ones that cannot
//! become a canonical invoice.

use crate::xml::Document;

use super::{RAM, RSM};

/// BT-24: `rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID`.
pub(super) fn guideline(doc: &Document) -> Option<&str> {
    doc.text_at(
        doc.root(),
        &[(RSM, "ExchangedDocumentContext"), (RAM, "GuidelineSpecifiedDocumentContextParameter"), (RAM, "ID")],
    )
}

/// The name of a profile that carries no invoice lines (Factur-X / ZUGFeRD 2.x MINIMUM and
/// BASIC WL), from its specification identifier.
pub(super) fn lineless_profile(guideline: &str) -> Option<&'static str> {
    let id = guideline.to_ascii_lowercase();
    if id.ends_with(":minimum") {
        Some("MINIMUM")
    } else if id.ends_with(":basicwl") {
        Some("BASIC WL")
    } else {
        None
    }
}

/// What Backroom accepts instead, for rejection messages.
pub(super) const ACCEPTED: &str = "profiles with invoice lines: Factur-X / ZUGFeRD BASIC \
    (urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic), EN 16931 / COMFORT (urn:cen.eu:en16931:2017), \
    EXTENDED, or XRechnung";
