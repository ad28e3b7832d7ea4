//! The interchange envelope: UNB/UNZ around everything, optional UNG/UNE functional groups,
//! and UNH/UNT around each message, with their control counts and references checked.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::syntax::{Segment, Tokens};
use crate::{Location, Problem};

/// The message directories accepted: D.96A through D.16B.
pub const DIRECTORIES: &str = "D.96A through D.16B (UNH02 such as ORDERS:D:96A:UN)";

/// An interchange: its header data and its messages.
#[derive(Clone, Debug)]
pub struct Interchange {
    /// UNB02-1, the interchange sender identification.
    pub sender: String,
    /// UNB05, the interchange control reference (0020).
    pub control_reference: String,
    /// UNB04, the date and time of preparation, when readable.
    pub prepared_at: Option<NaiveDateTime>,
    /// The messages in order.
    pub messages: Vec<Message>,
}

/// One message between its UNH and UNT.
#[derive(Clone, Debug)]
pub struct Message {
    /// The UNH segment.
    pub header: Segment,
    /// UNH01, the message reference number (0062).
    pub reference: String,
    /// UNH02-1, the message type (`ORDERS`).
    pub message_type: String,
    /// The segments between UNH and UNT.
    pub body: Vec<Segment>,
}

#[derive(Default)]
struct Group {
    header: Option<Segment>,
    messages: usize,
}

/// Reads the envelope structure, checking control counts and references, the syntax
/// identifier, dates and the message directory of every message.
pub fn read(tokens: Tokens, problems: &mut Vec<Problem>) -> Interchange {
    let mut segments = tokens.segments.into_iter();
    let mut interchange =
        Interchange { sender: String::new(), control_reference: String::new(), prepared_at: None, messages: vec![] };
    let mut last_index = 0;
    let first = segments.next();
    let mut pending = None;
    match first {
        Some(unb) if unb.tag == "UNB" => {
            last_index = unb.index;
            read_unb(&unb, &mut interchange, problems);
        }
        Some(other) => {
            problems.push(Problem::rule(
                other.at(None, None),
                "0085-13",
                format!("the interchange starts with {} instead of the UNB interchange header", other.tag),
            ));
            pending = Some(other);
        }
        None => {
            problems.push(Problem::rule(
                Location::Segment { index: 1, tag: "UNB".into(), element: None, component: None },
                "0085-13",
                "the interchange has no UNB interchange header".into(),
            ));
        }
    }
    let mut open: Option<(Segment, Vec<Segment>)> = None;
    let mut group: Option<Group> = None;
    let mut groups = 0;
    let mut messages = 0;
    let mut trailer: Option<Segment> = None;
    let mut saw_unh = false;
    for seg in pending.into_iter().chain(segments) {
        last_index = seg.index;
        if let Some(unz) = &trailer {
            problems.push(Problem::rule(
                seg.at(None, None),
                "0085-15",
                format!("segment {} follows the UNZ interchange trailer (segment {})", seg.tag, unz.index),
            ));
            continue;
        }
        match seg.tag.as_str() {
            "UNH" => {
                saw_unh = true;
                messages += 1;
                if let Some(g) = group.as_mut() {
                    g.messages += 1;
                }
                if let Some((unh, _)) = open.take() {
                    problems.push(missing_unt(&unh, &seg));
                }
                open = Some((seg, Vec::new()));
            }
            "UNT" => match open.take() {
                Some((unh, body)) => {
                    check_unt(&unh, &body, &seg, problems);
                    interchange.messages.push(message(unh, body, problems));
                }
                None => problems.push(Problem::rule(
                    seg.at(None, None),
                    "0085-15",
                    "UNT message trailer without a UNH message header before it".into(),
                )),
            },
            "UNG" => {
                close_open(&mut open, &seg, problems);
                if let Some(Group { header: Some(ung), .. }) = &group {
                    problems.push(Problem::rule(
                        seg.at(None, None),
                        "0085-13",
                        format!("UNG starts a group while the group of UNG segment {} has no UNE", ung.index),
                    ));
                }
                groups += 1;
                group = Some(Group { header: Some(seg), messages: 0 });
            }
            "UNE" => {
                close_open(&mut open, &seg, problems);
                match group.take() {
                    Some(Group { header: Some(ung), messages }) => check_une(&ung, messages, &seg, problems),
                    _ => problems.push(Problem::rule(
                        seg.at(None, None),
                        "0085-15",
                        "UNE group trailer without a UNG group header before it".into(),
                    )),
                }
            }
            "UNZ" => {
                close_open(&mut open, &seg, problems);
                if let Some(Group { header: Some(ung), .. }) = group.take() {
                    problems.push(Problem::rule(
                        ung.at(None, None),
                        "0085-13",
                        format!("the group started by UNG segment {} has no UNE group trailer", ung.index),
                    ));
                }
                check_unz(&interchange, groups, messages, tokens.packages, &seg, problems);
                trailer = Some(seg);
            }
            "UNO" | "UNP" if open.is_none() => {}
            "UNB" | "UNA" => problems.push(Problem::rule(
                seg.at(None, None),
                "0085-15",
                format!("{} inside an interchange: send one interchange per document", seg.tag),
            )),
            _ => match open.as_mut() {
                Some((_, body)) => body.push(seg),
                None => problems.push(Problem::rule(
                    seg.at(None, None),
                    "0085-15",
                    format!("segment {} is outside any message: it must stand between a UNH and its UNT", seg.show()),
                )),
            },
        }
    }
    let end = Location::Segment { index: last_index + 1, tag: "UNZ".into(), element: None, component: None };
    if let Some((unh, _)) = open {
        problems.push(Problem::rule(
            Location::Segment { index: last_index + 1, tag: "UNT".into(), element: None, component: None },
            "0085-13",
            format!("message {:?} (UNH segment {}) has no UNT message trailer", unh.value(1, 1), unh.index),
        ));
    }
    if let Some(Group { header: Some(ung), .. }) = group {
        problems.push(Problem::rule(
            ung.at(None, None),
            "0085-13",
            format!("the group started by UNG segment {} has no UNE group trailer", ung.index),
        ));
    }
    if trailer.is_none() {
        problems.push(Problem::rule(
            end,
            "0085-13",
            format!(
                "the interchange has no UNZ interchange trailer; expected UNZ+{messages}+{} at the end",
                interchange.control_reference
            ),
        ));
    }
    if !saw_unh {
        problems.push(Problem::rule(
            Location::Segment { index: 1, tag: "UNB".into(), element: None, component: None },
            "0085-32",
            "the interchange holds no message (UNH … UNT)".into(),
        ));
    }
    interchange
}

fn close_open(open: &mut Option<(Segment, Vec<Segment>)>, next: &Segment, problems: &mut Vec<Problem>) {
    if let Some((unh, _)) = open.take() {
        problems.push(missing_unt(&unh, next));
    }
}

fn missing_unt(unh: &Segment, next: &Segment) -> Problem {
    Problem::rule(
        next.at(None, None),
        "0085-13",
        format!(
            "message {:?} (UNH segment {}) has no UNT message trailer before this {}",
            unh.value(1, 1),
            unh.index,
            next.tag
        ),
    )
}

fn read_unb(unb: &Segment, interchange: &mut Interchange, problems: &mut Vec<Problem>) {
    let syntax = unb.value(1, 1);
    let syntax_ok = syntax.len() == 4 && syntax.starts_with("UNO") && syntax.bytes().all(|b| b.is_ascii_uppercase());
    if !syntax_ok {
        problems.push(Problem::rule(
            unb.at(Some(1), Some(1)),
            "0085-2",
            format!("UNB01 syntax identifier {syntax:?} is not a UN/ECE character repertoire (UNOA to UNOY)"),
        ));
    }
    let version = unb.value(1, 2);
    if !matches!(version, "1" | "2" | "3" | "4") {
        problems.push(Problem::rule(
            unb.at(Some(1), Some(2)),
            "0085-2",
            format!("UNB01 syntax version {version:?} is not supported; accepted: 1, 2, 3 or 4"),
        ));
    }
    interchange.sender = unb.value(2, 1).to_owned();
    if interchange.sender.is_empty() {
        problems.push(Problem::rule(
            unb.at(Some(2), Some(1)),
            "0085-13",
            "UNB02 interchange sender identification is missing".into(),
        ));
    }
    if unb.value(3, 1).is_empty() {
        problems.push(Problem::rule(
            unb.at(Some(3), Some(1)),
            "0085-13",
            "UNB03 interchange recipient identification is missing".into(),
        ));
    }
    interchange.control_reference = unb.value(5, 1).to_owned();
    if interchange.control_reference.is_empty() {
        problems.push(Problem::rule(
            unb.at(Some(5), Some(1)),
            "0085-13",
            "UNB05 interchange control reference (0020) is missing".into(),
        ));
    }
    let date = unb_date(unb.value(4, 1));
    if date.is_none() {
        problems.push(Problem::rule(
            unb.at(Some(4), Some(1)),
            "0085-12",
            format!("UNB04 date of preparation {:?} is not a date YYMMDD or CCYYMMDD", unb.value(4, 1)),
        ));
    }
    let time = unb_time(unb.value(4, 2));
    if time.is_none() {
        problems.push(Problem::rule(
            unb.at(Some(4), Some(2)),
            "0085-12",
            format!("UNB04 time of preparation {:?} is not a time HHMM", unb.value(4, 2)),
        ));
    }
    interchange.prepared_at = date.zip(time).map(|(d, t)| d.and_time(t));
}

/// A UNB date: YYMMDD (syntax versions 1 to 3) or CCYYMMDD (version 4).
fn unb_date(s: &str) -> Option<NaiveDate> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.len() {
        6 => {
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
            NaiveDate::from_ymd_opt(year, s.get(2..4)?.parse().ok()?, s.get(4..6)?.parse().ok()?)
        }
        8 => NaiveDate::parse_from_str(s, "%Y%m%d").ok(),
        _ => None,
    }
}

fn unb_time(s: &str) -> Option<NaiveTime> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.len() {
        4 => NaiveTime::parse_from_str(s, "%H%M").ok(),
        6 => NaiveTime::parse_from_str(s, "%H%M%S").ok(),
        _ => None,
    }
}

fn count(seg: &Segment, element: usize, what: &str, problems: &mut Vec<Problem>) -> Option<usize> {
    let raw = seg.value(element, 1);
    match raw.parse::<usize>() {
        Ok(n) if raw.bytes().all(|b| b.is_ascii_digit()) => Some(n),
        _ => {
            problems.push(Problem::rule(
                seg.at(Some(element), None),
                "0085-12",
                format!("{}{element:02} {what} {raw:?} is not a whole number", seg.tag),
            ));
            None
        }
    }
}

fn check_unt(unh: &Segment, body: &[Segment], unt: &Segment, problems: &mut Vec<Problem>) {
    let actual = body.len() + 2;
    if let Some(n) = count(unt, 1, "number of segments in the message", problems)
        && n != actual
    {
        problems.push(Problem::rule(
            unt.at(Some(1), None),
            "0085-29",
            format!(
                "UNT01 segment count is {n} but message {:?} has {actual} segments, UNH and UNT included",
                unh.value(1, 1)
            ),
        ));
    }
    if unt.value(2, 1) != unh.value(1, 1) {
        problems.push(Problem::rule(
            unt.at(Some(2), None),
            "0085-28",
            format!(
                "UNT02 message reference {:?} differs from UNH01 {:?} (segment {})",
                unt.value(2, 1),
                unh.value(1, 1),
                unh.index
            ),
        ));
    }
}

fn check_une(ung: &Segment, messages: usize, une: &Segment, problems: &mut Vec<Problem>) {
    if let Some(n) = count(une, 1, "number of messages in the group", problems)
        && n != messages
    {
        problems.push(Problem::rule(
            une.at(Some(1), None),
            "0085-29",
            format!("UNE01 message count is {n} but the group has {messages} messages"),
        ));
    }
    if une.value(2, 1) != ung.value(5, 1) {
        problems.push(Problem::rule(
            une.at(Some(2), None),
            "0085-28",
            format!(
                "UNE02 group reference {:?} differs from UNG05 {:?} (segment {})",
                une.value(2, 1),
                ung.value(5, 1),
                ung.index
            ),
        ));
    }
}

fn check_unz(
    interchange: &Interchange,
    groups: usize,
    messages: usize,
    packages: usize,
    unz: &Segment,
    problems: &mut Vec<Problem>,
) {
    if let Some(n) = count(unz, 1, "interchange control count", problems) {
        let ok = if groups > 0 { n == groups } else { n == messages || n == messages + packages };
        if !ok {
            let what = if groups > 0 { format!("{groups} groups") } else { format!("{messages} messages") };
            problems.push(Problem::rule(
                unz.at(Some(1), None),
                "0085-29",
                format!("UNZ01 control count is {n} but the interchange has {what}"),
            ));
        }
    }
    if unz.value(2, 1) != interchange.control_reference {
        problems.push(Problem::rule(
            unz.at(Some(2), None),
            "0085-28",
            format!(
                "UNZ02 interchange control reference {:?} differs from UNB05 {:?}",
                unz.value(2, 1),
                interchange.control_reference
            ),
        ));
    }
}

/// Checks a UNH and builds its message.
fn message(header: Segment, body: Vec<Segment>, problems: &mut Vec<Problem>) -> Message {
    let reference = header.value(1, 1).to_owned();
    if reference.is_empty() {
        problems.push(Problem::rule(
            header.at(Some(1), None),
            "0085-13",
            "UNH01 message reference number is missing".into(),
        ));
    }
    let message_type = header.value(2, 1).to_owned();
    if message_type.is_empty() {
        problems.push(Problem::rule(
            header.at(Some(2), Some(1)),
            "0085-13",
            format!("UNH02 message type is missing (in {}); expected a type such as ORDERS or INVOIC", header.show()),
        ));
    }
    let (version, release, agency) = (header.value(2, 2), header.value(2, 3), header.value(2, 4));
    if version != "D" || !directory_supported(release) {
        let component = if version != "D" { 2 } else { 3 };
        problems.push(Problem::rule(
            header.at(Some(2), Some(component)),
            "0085-14",
            format!("message directory {version}:{release} is not supported; accepted: {DIRECTORIES}"),
        ));
    }
    if agency != "UN" {
        problems.push(Problem::rule(
            header.at(Some(2), Some(4)),
            "0085-14",
            format!("UNH02 controlling agency {agency:?} is not supported; accepted: UN"),
        ));
    }
    Message { header, reference, message_type, body }
}

/// Whether a directory release (`96A`, `01B`, `16B`) lies between D.96A and D.16B.
fn directory_supported(release: &str) -> bool {
    let bytes = release.as_bytes();
    let [y1, y2, letter] = bytes else {
        return false;
    };
    if !y1.is_ascii_digit() || !y2.is_ascii_digit() {
        return false;
    }
    let yy = u32::from(y1 - b'0') * 10 + u32::from(y2 - b'0');
    let year = if yy >= 90 { 1900 + yy } else { 2000 + yy };
    match letter {
        b'A' | b'B' => (1996..=2016).contains(&year),
        b'C' => year == 2001,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_from_96a_to_16b() {
        for ok in ["96A", "99B", "01C", "03B", "16B"] {
            assert!(directory_supported(ok), "{ok}");
        }
        for bad in ["95B", "17A", "02C", "9A", "", "96AB"] {
            assert!(!directory_supported(bad), "{bad}");
        }
    }

    #[test]
    fn unb_dates_in_both_syntax_versions() {
        assert_eq!(unb_date("990420"), NaiveDate::from_ymd_opt(1999, 4, 20));
        assert_eq!(unb_date("160321"), NaiveDate::from_ymd_opt(2016, 3, 21));
        assert_eq!(unb_date("20051107"), NaiveDate::from_ymd_opt(2005, 11, 7));
        assert_eq!(unb_date("2005110"), None);
    }
}
