//! CBV 2.0 standard vocabularies as closed lists, and the JSON-LD prefixes the EPCIS 2.0
//! context defines.
//!
//! The term lists are those of the GS1 CBV 2.0 JSON-LD contexts (`cbv-context-*.jsonld`), kept
//! here as data so that nothing is ever fetched.

/// One CBV vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vocabulary {
    /// Business steps (`BizStep-`).
    BizStep,
    /// Dispositions (`Disp-`).
    Disposition,
    /// Business transaction types (`BTT-`).
    BizTransactionType,
    /// Source and destination types (`SDT-`).
    SourceDestType,
    /// Error reasons (`ER-`).
    ErrorReason,
}

const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

const DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_verified",
    "completeness_inferred",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

const BIZ_TRANSACTION_TYPES: &[&str] = &[
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
];

const SOURCE_DEST_TYPES: &[&str] = &["owning_party", "possessing_party", "location"];

const ERROR_REASONS: &[&str] = &["did_not_occur", "incorrect_data"];

/// The CBV Web URI base.
pub(crate) const CBV: &str = "https://ref.gs1.org/cbv/";

/// The prefixes the EPCIS 2.0 JSON-LD context defines, usable as CURIE prefixes everywhere.
pub(crate) const CONTEXT_PREFIXES: &[(&str, &str)] = &[
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("gs1", "https://gs1.org/voc/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms", "http://purl.org/dc/terms/"),
];

impl Vocabulary {
    fn terms(self) -> &'static [&'static str] {
        match self {
            Vocabulary::BizStep => BIZ_STEPS,
            Vocabulary::Disposition => DISPOSITIONS,
            Vocabulary::BizTransactionType => BIZ_TRANSACTION_TYPES,
            Vocabulary::SourceDestType => SOURCE_DEST_TYPES,
            Vocabulary::ErrorReason => ERROR_REASONS,
        }
    }

    /// The prefix of the term in CBV Web URIs (`BizStep-`).
    fn web_prefix(self) -> &'static str {
        match self {
            Vocabulary::BizStep => "BizStep-",
            Vocabulary::Disposition => "Disp-",
            Vocabulary::BizTransactionType => "BTT-",
            Vocabulary::SourceDestType => "SDT-",
            Vocabulary::ErrorReason => "ER-",
        }
    }

    /// The EPCIS 1.x URN prefix (`urn:epcglobal:cbv:bizstep:`).
    fn urn_prefix(self) -> &'static str {
        match self {
            Vocabulary::BizStep => "urn:epcglobal:cbv:bizstep:",
            Vocabulary::Disposition => "urn:epcglobal:cbv:disp:",
            Vocabulary::BizTransactionType => "urn:epcglobal:cbv:btt:",
            Vocabulary::SourceDestType => "urn:epcglobal:cbv:sdt:",
            Vocabulary::ErrorReason => "urn:epcglobal:cbv:er:",
        }
    }

    /// The field name used in messages.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Vocabulary::BizStep => "business step",
            Vocabulary::Disposition => "disposition",
            Vocabulary::BizTransactionType => "business transaction type",
            Vocabulary::SourceDestType => "source/destination type",
            Vocabulary::ErrorReason => "error reason",
        }
    }

    /// Reads a value written as a bare word, CBV Web URI, `cbv:` CURIE or EPCIS 1.x URN.
    /// A full URI outside the CBV is an extension value, kept verbatim. A bare word or a CBV
    /// URI/URN naming no CBV term is an error saying what would be accepted.
    pub(crate) fn read(self, raw: &str) -> Result<Term, String> {
        let raw = raw.trim();
        let web = format!("{CBV}{}", self.web_prefix());
        let curie = format!("cbv:{}", self.web_prefix());
        let word = raw
            .strip_prefix(web.as_str())
            .or_else(|| raw.strip_prefix(curie.as_str()))
            .or_else(|| raw.strip_prefix(self.urn_prefix()))
            .or_else(|| (!raw.contains(':')).then_some(raw));
        match word {
            Some(w) if self.terms().contains(&w) => Ok(Term::Cbv(w.to_owned())),
            Some(w) => Err(format!(
                "{:?} is not a CBV 2.0 {}: use one of {} (as a bare word, a {web}… URI or a {}… URN), or a full URI of your own vocabulary",
                w,
                self.what(),
                self.terms().join(", "),
                self.urn_prefix(),
            )),
            None => Ok(Term::Other(raw.to_owned())),
        }
    }

    /// The Web URI of a term.
    pub(crate) fn uri(self, term: &Term) -> String {
        match term {
            Term::Cbv(w) => format!("{CBV}{}{w}", self.web_prefix()),
            Term::Other(u) => u.clone(),
        }
    }
}

/// A vocabulary value: a CBV term by its bare word, or an extension URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Term {
    /// A CBV 2.0 term (`receiving`).
    Cbv(String),
    /// A value outside the CBV, kept as written (after CURIE expansion).
    Other(String),
}

impl Term {
    /// The bare word of a CBV term, `None` for extensions.
    pub(crate) fn word(&self) -> Option<&str> {
        match self {
            Term::Cbv(w) => Some(w),
            Term::Other(_) => None,
        }
    }

    /// The word for CBV terms, the URI for extensions.
    pub(crate) fn display(&self) -> &str {
        match self {
            Term::Cbv(w) | Term::Other(w) => w,
        }
    }
}

/// Expands a CURIE (`example:myField`) with the standard context's prefixes, then the given ones;
/// returns the input when its prefix is unknown or it is already a full URI.
pub(crate) fn expand_curie(value: &str, prefixes: &[(String, String)]) -> String {
    let Some((prefix, local)) = value.split_once(':') else { return value.to_owned() };
    if local.starts_with("//") {
        return value.to_owned();
    }
    // The standard context's prefixes are protected: a document cannot redefine them.
    if let Some((_, iri)) = CONTEXT_PREFIXES.iter().find(|(p, _)| *p == prefix) {
        return format!("{iri}{local}");
    }
    if let Some((_, iri)) = prefixes.iter().rev().find(|(p, _)| p == prefix) {
        return format!("{iri}{local}");
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_spellings_of_one_term() {
        for raw in [
            "receiving",
            "https://ref.gs1.org/cbv/BizStep-receiving",
            "cbv:BizStep-receiving",
            "urn:epcglobal:cbv:bizstep:receiving",
        ] {
            assert_eq!(Vocabulary::BizStep.read(raw), Ok(Term::Cbv("receiving".into())), "{raw}");
        }
        assert!(Vocabulary::BizStep.read("transforming").is_err());
        assert!(Vocabulary::Disposition.read("urn:epcglobal:cbv:disp:in_transport").is_err());
        assert_eq!(
            Vocabulary::BizStep.read("https://example.com/steps/quality_check"),
            Ok(Term::Other("https://example.com/steps/quality_check".into()))
        );
    }
}
