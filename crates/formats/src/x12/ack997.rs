//! 997 Functional Acknowledgment: what it says, built from a group as read, and read back.

use super::envelope::{Group, TransactionSet, interchanges};
use super::syntax::{self, Segment, shorten};
use crate::{Location, Problem};

/// An acknowledgement code (AK501, AK901).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckStatus {
    /// `A`: accepted.
    Accepted,
    /// `E`: accepted, but errors were noted.
    AcceptedWithErrors,
    /// `P`: some transaction sets of the group accepted, others rejected (AK901 only).
    PartiallyAccepted,
    /// `R`: rejected.
    Rejected,
}

impl AckStatus {
    /// The X12 code (`A`, `E`, `P`, `R`).
    pub fn code(self) -> &'static str {
        match self {
            AckStatus::Accepted => "A",
            AckStatus::AcceptedWithErrors => "E",
            AckStatus::PartiallyAccepted => "P",
            AckStatus::Rejected => "R",
        }
    }

    /// The status of an X12 code; `None` for codes Backroom does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "A" => Some(AckStatus::Accepted),
            "E" => Some(AckStatus::AcceptedWithErrors),
            "P" => Some(AckStatus::PartiallyAccepted),
            "R" => Some(AckStatus::Rejected),
            _ => None,
        }
    }
}

/// A 997: the acknowledgement of one functional group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionalAck {
    /// AK101: the functional identifier of the acknowledged group (`PO`, `IN`).
    pub group_code: String,
    /// AK102: its control number (GS06).
    pub group_control: String,
    /// AK103: its version (GS08), written from version 005010 on.
    pub version: Option<String>,
    /// One AK2 loop per acknowledged transaction set.
    pub sets: Vec<SetAck>,
    /// AK901: the verdict on the group.
    pub status: AckStatus,
    /// AK902: the number of transaction sets the group declared (GE01).
    pub included: u32,
    /// AK903: the number received.
    pub received: u32,
    /// AK904: the number accepted.
    pub accepted: u32,
    /// AK905–AK909: group error codes (at most five are written) (element 716: 3 trailer missing, 4 control numbers differ,
    /// 5 set count wrong…).
    pub errors: Vec<String>,
}

/// The acknowledgement of one transaction set (AK2 … AK5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAck {
    /// AK201: the transaction set identifier (`850`).
    pub set_code: String,
    /// AK202: its control number (ST02).
    pub control: String,
    /// AK501: the verdict.
    pub status: AckStatus,
    /// AK502–AK506: set error codes (at most five are written) (element 718: 1 not supported, 2 trailer missing,
    /// 3 control numbers differ, 4 segment count wrong, 5 segments in error…).
    pub errors: Vec<String>,
    /// AK3 notes on segments in error.
    pub segments: Vec<SegmentNote>,
}

/// A segment in error (AK3), with its elements in error (AK4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentNote {
    /// AK301: the segment tag.
    pub tag: String,
    /// AK302: its position in the transaction set (ST is 1).
    pub position: u32,
    /// AK303: the loop identifier, when given.
    pub loop_id: Option<String>,
    /// AK304: the segment error code (element 720; 8 = data element errors).
    pub error: Option<String>,
    /// The AK4 notes.
    pub elements: Vec<ElementNote>,
}

/// An element in error (AK4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementNote {
    /// AK401-1: the element position in the segment.
    pub position: u32,
    /// AK401-2: the component position, when one component is at fault.
    pub component: Option<u32>,
    /// AK402: the data element reference number, when given.
    pub reference: Option<String>,
    /// AK403: the element error code (element 723: 1 mandatory missing, 7 invalid code, 8 invalid date…).
    pub error: String,
    /// AK404: a copy of the bad value.
    pub value: Option<String>,
}

impl FunctionalAck {
    /// Marks every set and the group rejected (the document was refused as a whole).
    pub(crate) fn reject_all(&mut self) {
        for s in &mut self.sets {
            s.status = AckStatus::Rejected;
        }
        self.status = AckStatus::Rejected;
        self.accepted = 0;
    }
}

/// The acknowledgement of a set, from the problems found in it.
pub(crate) fn set_ack(set: &TransactionSet<'_>, problems: &[Problem], codes: Vec<&'static str>) -> SetAck {
    let mut errors: Vec<String> = Vec::new();
    for c in codes {
        if !errors.iter().any(|e| e == c) && errors.len() < 5 {
            errors.push(c.to_owned());
        }
    }
    let mut segments: Vec<SegmentNote> = Vec::new();
    for p in problems {
        let Location::Segment { index, element, component, .. } = &p.location else { continue };
        let Some(seg) = set.body.iter().find(|s| s.index == *index) else { continue };
        let position = u32::try_from(index.saturating_sub(set.st.index) + 1).unwrap_or(u32::MAX);
        let note = match segments.iter_mut().find(|n| n.position == position) {
            Some(n) => n,
            None => {
                segments.push(SegmentNote {
                    tag: seg.tag.clone(),
                    position,
                    loop_id: None,
                    error: Some("8".to_owned()),
                    elements: Vec::new(),
                });
                let Some(n) = segments.last_mut() else { continue };
                n
            }
        };
        if let Some(e) = element {
            let error = if p.message.contains("missing") || p.message.contains("is empty") {
                "1"
            } else if p.message.contains("not a date") {
                "8"
            } else if p.message.contains("not a time") {
                "9"
            } else {
                "7"
            };
            let value: String = seg.el(*e).chars().filter(|c| !c.is_control()).take(99).collect();
            note.elements.push(ElementNote {
                position: u32::try_from(*e).unwrap_or(u32::MAX),
                component: component.and_then(|c| u32::try_from(c).ok()),
                reference: None,
                error: error.to_owned(),
                value: (!value.is_empty()).then_some(value),
            });
        }
    }
    SetAck {
        set_code: set.code().to_owned(),
        control: set.control().to_owned(),
        status: if problems.is_empty() { AckStatus::Accepted } else { AckStatus::Rejected },
        errors,
        segments,
    }
}

/// The acknowledgement of a group, from its sets' acknowledgements.
pub(crate) fn group_ack(group: &Group<'_>, sets: Vec<SetAck>) -> FunctionalAck {
    let received = u32::try_from(sets.len()).unwrap_or(u32::MAX);
    let accepted = u32::try_from(sets.iter().filter(|s| s.status == AckStatus::Accepted).count()).unwrap_or(0);
    let status = if !group.problems.is_empty() || accepted == 0 && received > 0 {
        AckStatus::Rejected
    } else if accepted == received {
        AckStatus::Accepted
    } else {
        AckStatus::PartiallyAccepted
    };
    let version = group.gs.el(8);
    let mut errors: Vec<String> = Vec::new();
    for c in &group.codes {
        if !errors.iter().any(|e| e == c) && errors.len() < 5 {
            errors.push((*c).to_owned());
        }
    }
    FunctionalAck {
        group_code: group.gs.el(1).to_owned(),
        group_control: group.gs.el(6).to_owned(),
        version: (!version.starts_with("004") && !version.is_empty()).then(|| version.to_owned()),
        sets,
        status,
        included: group.declared_sets.unwrap_or(received),
        received,
        accepted: if status == AckStatus::Rejected { 0 } else { accepted },
        errors,
    }
}

/// Reads a 997 from an X12 document holding exactly one (its envelopes are checked).
pub fn read_997(bytes: &[u8]) -> Result<FunctionalAck, Vec<Problem>> {
    let (segments, mut problems) = syntax::segments(bytes)?;
    let (ics, stray) = interchanges(&segments);
    problems.extend(stray);
    let mut found = Vec::new();
    for ic in &ics {
        problems.extend(ic.problems.iter().cloned());
        for g in &ic.groups {
            problems.extend(g.problems.iter().cloned());
            for s in &g.sets {
                problems.extend(s.problems.iter().cloned());
                if s.code() == "997" {
                    found.push(s);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match found.as_slice() {
        [one] => read_set(one.body),
        [] => Err(vec![Problem::new(Location::Document, "the document holds no 997 transaction set".to_owned())]),
        more => Err(vec![Problem::new(
            Location::Document,
            format!("the document holds {} 997 transaction sets; read_997 reads one at a time", more.len()),
        )]),
    }
}

fn count(seg: &Segment, n: usize, problems: &mut Vec<Problem>) -> u32 {
    seg.el(n).parse().unwrap_or_else(|_| {
        problems.push(seg.problem(n, format!("{:?} is not a count of transaction sets", shorten(seg.el(n)))));
        0
    })
}

fn status(seg: &Segment, n: usize, problems: &mut Vec<Problem>) -> AckStatus {
    AckStatus::from_code(seg.el(n)).unwrap_or_else(|| {
        problems.push(seg.problem(n, format!("{:?} is not an acknowledgement code: expected A, E, P or R", seg.el(n))));
        AckStatus::Rejected
    })
}

fn codes(seg: &Segment, from: usize, to: usize) -> Vec<String> {
    (from..=to).map(|n| seg.el(n)).filter(|c| !c.is_empty()).map(str::to_owned).collect()
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Reads the body of a 997 (the segments between ST and SE).
pub(crate) fn read_set(body: &[Segment]) -> Result<FunctionalAck, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut ack: Option<FunctionalAck> = None;
    let mut saw_ak9 = false;
    for seg in body {
        let Some(a) = ack.as_mut() else {
            if seg.tag == "AK1" {
                ack = Some(FunctionalAck {
                    group_code: seg.el(1).to_owned(),
                    group_control: seg.el(2).to_owned(),
                    version: opt(seg.el(3)),
                    sets: Vec::new(),
                    status: AckStatus::Rejected,
                    included: 0,
                    received: 0,
                    accepted: 0,
                    errors: Vec::new(),
                });
            } else {
                problems.push(seg.whole(format!("expected AK1 as the first segment of a 997, found {}", seg.tag)));
            }
            continue;
        };
        match seg.tag.as_str() {
            "AK2" => a.sets.push(SetAck {
                set_code: seg.el(1).to_owned(),
                control: seg.el(2).to_owned(),
                status: AckStatus::Accepted,
                errors: Vec::new(),
                segments: Vec::new(),
            }),
            "AK3" => match a.sets.last_mut() {
                Some(s) => s.segments.push(SegmentNote {
                    tag: seg.el(1).to_owned(),
                    position: seg.el(2).parse().unwrap_or(0),
                    loop_id: opt(seg.el(3)),
                    error: opt(seg.el(4)),
                    elements: Vec::new(),
                }),
                None => problems.push(seg.whole("AK3 comes before any AK2".to_owned())),
            },
            "AK4" => match a.sets.last_mut().and_then(|s| s.segments.last_mut()) {
                Some(n) => n.elements.push(ElementNote {
                    position: seg.component(1, 1).parse().unwrap_or(0),
                    component: seg.component(1, 2).parse().ok(),
                    reference: opt(seg.el(2)),
                    error: seg.el(3).to_owned(),
                    value: opt(seg.el(4)),
                }),
                None => problems.push(seg.whole("AK4 comes before any AK3".to_owned())),
            },
            "AK5" => {
                let st = status(seg, 1, &mut problems);
                match a.sets.last_mut() {
                    Some(s) => {
                        s.status = st;
                        s.errors = codes(seg, 2, 6);
                    }
                    None => problems.push(seg.whole("AK5 comes before any AK2".to_owned())),
                }
            }
            "AK9" => {
                saw_ak9 = true;
                a.status = status(seg, 1, &mut problems);
                a.included = count(seg, 2, &mut problems);
                a.received = count(seg, 3, &mut problems);
                a.accepted = count(seg, 4, &mut problems);
                a.errors = codes(seg, 5, 9);
            }
            other => problems.push(seg.whole(format!("segment {} has no place in a 997", shorten(other)))),
        }
    }
    match ack {
        Some(a) if saw_ak9 && problems.is_empty() => Ok(a),
        Some(_) if !saw_ak9 => {
            problems.push(Problem::new(Location::Document, "the 997 has no AK9 segment (group verdict)".to_owned()));
            Err(problems)
        }
        None if problems.is_empty() => {
            Err(vec![Problem::new(Location::Document, "the 997 has no AK1 segment (acknowledged group)".to_owned())])
        }
        _ => Err(problems),
    }
}
