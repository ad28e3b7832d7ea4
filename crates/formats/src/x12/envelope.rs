//! X12 envelopes: interchanges (ISA/IEA) holding functional groups (GS/GE) holding transaction
//! sets (ST/SE), with their control counts and numbers checked.

use super::syntax::{Segment, shorten};
use crate::{Location, Problem};

/// The functional group (GS01) each supported transaction set travels in.
pub(crate) const GROUP_OF_SET: &[(&str, &str)] =
    &[("850", "PO"), ("855", "PR"), ("856", "SH"), ("810", "IN"), ("846", "IB"), ("997", "FA")];

/// One interchange.
pub(crate) struct Interchange<'a> {
    /// Its ISA header.
    pub isa: &'a Segment,
    /// Its functional groups.
    pub groups: Vec<Group<'a>>,
    /// Problems of the interchange envelope itself.
    pub problems: Vec<Problem>,
}

impl Interchange<'_> {
    /// ISA13, the interchange control number.
    pub fn control(&self) -> &str {
        self.isa.el(13)
    }
}

/// One functional group.
pub(crate) struct Group<'a> {
    /// Its GS header.
    pub gs: &'a Segment,
    /// Its transaction sets.
    pub sets: Vec<TransactionSet<'a>>,
    /// Problems of the group envelope.
    pub problems: Vec<Problem>,
    /// The 997 AK905 error codes for those problems.
    pub codes: Vec<&'static str>,
    /// GE01 as declared, when readable.
    pub declared_sets: Option<u32>,
}

/// One transaction set.
pub(crate) struct TransactionSet<'a> {
    /// Its ST header.
    pub st: &'a Segment,
    /// The segments between ST and SE.
    pub body: &'a [Segment],
    /// Problems of the set envelope.
    pub problems: Vec<Problem>,
    /// The 997 AK502 error codes for those problems.
    pub codes: Vec<&'static str>,
}

impl TransactionSet<'_> {
    /// ST01, the transaction set identifier (`850`).
    pub fn code(&self) -> &str {
        self.st.el(1)
    }
    /// ST02, the transaction set control number.
    pub fn control(&self) -> &str {
        self.st.el(2)
    }
}

fn missing(index: usize, tag: &str, message: String) -> Problem {
    Problem::new(Location::Segment { index, tag: tag.to_owned(), element: None, component: None }, message)
}

/// Whether two control numbers agree: numerically when both are digits (`0001` = `1`).
fn same_control(a: &str, b: &str) -> bool {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) if a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()) => x == y,
        _ => a == b,
    }
}

/// Checks a count element against the actual count; the problem when they differ.
fn count(seg: &Segment, n: usize, actual: usize, what: &str) -> Option<Problem> {
    let raw = seg.el(n);
    match raw.parse::<usize>() {
        Ok(v) if v == actual && raw.bytes().all(|b| b.is_ascii_digit()) => None,
        Ok(_) if raw.bytes().all(|b| b.is_ascii_digit()) => {
            Some(seg.problem(n, format!("{}{n:02} says {raw} {what}, but there are {actual}", seg.tag)))
        }
        _ => Some(
            seg.problem(n, format!("{}{n:02} {:?} is not a count: expected {actual} {what}", seg.tag, shorten(raw))),
        ),
    }
}

/// Reads the envelopes of a document: its interchanges, and problems with segments outside any.
pub(crate) fn interchanges(segs: &[Segment]) -> (Vec<Interchange<'_>>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut stray = Vec::new();
    let mut i = 0;
    while let Some(s) = segs.get(i) {
        if s.tag != "ISA" {
            stray.push(s.whole(format!("segment {} is outside an interchange: expected ISA", shorten(&s.tag))));
            i += 1;
            continue;
        }
        i += 1;
        let mut ic = Interchange { isa: s, groups: Vec::new(), problems: Vec::new() };
        check_isa(s, &mut ic.problems);
        loop {
            match segs.get(i) {
                None => {
                    ic.problems.push(missing(
                        segs.len() + 1,
                        "IEA",
                        format!("the interchange {} ends without its IEA trailer", ic.control()),
                    ));
                    break;
                }
                Some(g) if g.tag == "GS" => {
                    i += 1;
                    ic.groups.push(read_group(g, segs, &mut i));
                }
                Some(t) if t.tag == "IEA" => {
                    i += 1;
                    ic.problems.extend(count(t, 1, ic.groups.len(), "functional groups"));
                    if !same_control(t.el(2), ic.control()) {
                        ic.problems.push(t.problem(
                            2,
                            format!(
                                "IEA02 {:?} does not match the interchange control number ISA13 {:?}",
                                shorten(t.el(2)),
                                ic.control()
                            ),
                        ));
                    }
                    break;
                }
                Some(t) if t.tag == "ISA" => {
                    ic.problems.push(missing(
                        t.index,
                        "IEA",
                        format!("the interchange {} has no IEA trailer before the next ISA", ic.control()),
                    ));
                    break;
                }
                Some(t) => {
                    ic.problems.push(t.whole(format!(
                        "segment {} is outside a functional group: expected GS or IEA",
                        shorten(&t.tag)
                    )));
                    i += 1;
                }
            }
        }
        out.push(ic);
    }
    (out, stray)
}

fn check_isa(isa: &Segment, problems: &mut Vec<Problem>) {
    for (n, what) in [(6, "sender id"), (8, "receiver id"), (13, "interchange control number")] {
        if isa.el(n).is_empty() {
            problems.push(isa.problem(n, format!("ISA{n:02} ({what}) is empty")));
        }
    }
    let control = isa.el(13);
    if !control.is_empty() && !control.bytes().all(|b| b.is_ascii_digit()) {
        problems
            .push(isa.problem(13, format!("ISA13 {:?} is not a control number: expected 9 digits", shorten(control))));
    }
    if !matches!(isa.el(15), "P" | "T" | "I") {
        problems.push(isa.problem(15, format!("ISA15 {:?} is not a usage indicator: expected P, T or I", isa.el(15))));
    }
}

fn read_group<'a>(gs: &'a Segment, segs: &'a [Segment], i: &mut usize) -> Group<'a> {
    let mut group = Group { gs, sets: Vec::new(), problems: Vec::new(), codes: Vec::new(), declared_sets: None };
    let version = gs.el(8);
    if !(version.starts_with("004") || version.starts_with("005")) {
        group.problems.push(gs.problem(
            8,
            format!(
                "version {:?} is not supported: Backroom reads X12 versions 004010 to 005050 (004010, 004010VICS, 005010…)",
                shorten(version)
            ),
        ));
        group.codes.push("2");
    }
    if gs.el(6).is_empty() {
        group.problems.push(gs.problem(6, "GS06 (group control number) is empty".to_owned()));
        group.codes.push("6");
    }
    loop {
        match segs.get(*i) {
            None => {
                group.problems.push(missing(
                    segs.len() + 1,
                    "GE",
                    format!("the functional group {} ends without its GE trailer", gs.el(6)),
                ));
                group.codes.push("3");
                break;
            }
            Some(st) if st.tag == "ST" => {
                *i += 1;
                let set = read_set(st, segs, i);
                if group.sets.iter().any(|s| same_control(s.control(), set.control())) {
                    let mut set = set;
                    set.problems.push(st.problem(
                        2,
                        format!(
                            "transaction set control number {:?} is used twice in functional group {}",
                            set.control(),
                            gs.el(6)
                        ),
                    ));
                    set.codes.push("23");
                    group.sets.push(set);
                } else {
                    group.sets.push(set);
                }
            }
            Some(ge) if ge.tag == "GE" => {
                *i += 1;
                group.declared_sets = ge.el(1).parse().ok();
                if let Some(p) = count(ge, 1, group.sets.len(), "transaction sets") {
                    group.problems.push(p);
                    group.codes.push("5");
                }
                if !same_control(ge.el(2), gs.el(6)) {
                    group.problems.push(ge.problem(
                        2,
                        format!(
                            "GE02 {:?} does not match the group control number GS06 {:?}",
                            shorten(ge.el(2)),
                            gs.el(6)
                        ),
                    ));
                    group.codes.push("4");
                }
                break;
            }
            Some(t) if matches!(t.tag.as_str(), "GS" | "IEA" | "ISA") => {
                group.problems.push(missing(
                    t.index,
                    "GE",
                    format!("the functional group {} has no GE trailer before {}", gs.el(6), t.tag),
                ));
                group.codes.push("3");
                break;
            }
            Some(t) => {
                group.problems.push(
                    t.whole(format!("segment {} is outside a transaction set: expected ST or GE", shorten(&t.tag))),
                );
                *i += 1;
            }
        }
    }
    group
}

fn read_set<'a>(st: &'a Segment, segs: &'a [Segment], i: &mut usize) -> TransactionSet<'a> {
    let start = *i;
    let mut problems = Vec::new();
    let mut codes = Vec::new();
    if st.el(2).is_empty() {
        problems.push(st.problem(2, "ST02 (transaction set control number) is empty".to_owned()));
        codes.push("7");
    }
    loop {
        match segs.get(*i) {
            Some(se) if se.tag == "SE" => {
                let body = segs.get(start..*i).unwrap_or_default();
                *i += 1;
                if let Some(p) = count(se, 1, body.len() + 2, "segments (ST and SE included)") {
                    problems.push(p);
                    codes.push("4");
                }
                if !same_control(se.el(2), st.el(2)) {
                    problems.push(se.problem(
                        2,
                        format!(
                            "SE02 {:?} does not match the transaction set control number ST02 {:?}",
                            shorten(se.el(2)),
                            st.el(2)
                        ),
                    ));
                    codes.push("3");
                }
                return TransactionSet { st, body, problems, codes };
            }
            Some(t) if !matches!(t.tag.as_str(), "ST" | "GE" | "GS" | "IEA" | "ISA") => *i += 1,
            next => {
                let index = next.map_or(segs.len() + 1, |t| t.index);
                problems.push(missing(
                    index,
                    "SE",
                    format!("the transaction set {} {} ends without its SE trailer", st.el(1), st.el(2)),
                ));
                codes.push("2");
                let body = segs.get(start..*i).unwrap_or_default();
                return TransactionSet { st, body, problems, codes };
            }
        }
    }
}
