//! EDIFACT syntax (ISO 9735): the service string advice (UNA), the delimiters, the release
//! character and the tokenizer that cuts an interchange into segments, elements and components.

use crate::{Location, Problem};

/// The service characters of an interchange, from its UNA or the defaults of ISO 9735.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delimiters {
    /// Separates the components of a composite element (`:`).
    pub component: u8,
    /// Separates the elements of a segment (`+`).
    pub element: u8,
    /// The decimal mark of numbers (`.` or `,`).
    pub decimal: u8,
    /// Makes the next character literal (`?`).
    pub release: u8,
    /// The repetition separator in syntax version 4, reserved before (`*` or a space).
    pub reserved: u8,
    /// Ends a segment (`'`).
    pub terminator: u8,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self { component: b':', element: b'+', decimal: b'.', release: b'?', reserved: b' ', terminator: b'\'' }
    }
}

/// One segment: its tag and its elements, each a list of components with release characters
/// removed. `index` is the segment's 1-based position in the interchange (a UNA counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The 1-based position in the interchange.
    pub index: usize,
    /// The tag (`UNH`, `BGM`, `LIN`).
    pub tag: String,
    /// The elements after the tag; each has at least one component.
    pub elements: Vec<Vec<String>>,
}

impl Segment {
    /// The components of element `e` (1-based), when present.
    pub fn element(&self, e: usize) -> Option<&[String]> {
        e.checked_sub(1).and_then(|i| self.elements.get(i)).map(Vec::as_slice)
    }

    /// Component `c` of element `e` (both 1-based), trimmed; empty when absent.
    pub fn value(&self, e: usize, c: usize) -> &str {
        self.element(e).and_then(|comps| c.checked_sub(1).and_then(|i| comps.get(i))).map_or("", |s| s.trim())
    }

    /// Component `c` of element `e`, or `None` when absent or empty.
    pub fn get(&self, e: usize, c: usize) -> Option<&str> {
        Some(self.value(e, c)).filter(|v| !v.is_empty())
    }

    /// The place of this segment, or of one of its elements or components.
    pub fn at(&self, element: Option<usize>, component: Option<usize>) -> Location {
        Location::Segment { index: self.index, tag: self.tag.clone(), element, component }
    }

    /// The segment as written with default delimiters, shortened, for messages.
    pub fn show(&self) -> String {
        let mut s = self.tag.clone();
        for e in &self.elements {
            s.push('+');
            s.push_str(&e.join(":"));
        }
        if s.chars().count() > 60 {
            s = s.chars().take(57).collect::<String>() + "...";
        }
        s
    }
}

/// An interchange cut into segments.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// The delimiters in force.
    pub delimiters: Delimiters,
    /// The segments after the UNA, in order.
    pub segments: Vec<Segment>,
    /// How many packages (UNO … UNP) there are; their binary objects are skipped.
    pub packages: usize,
}

/// Reads the UNA (when present) and cuts the rest into segments. Problems with the UNA or
/// the segment layout are reported; what could be read is still returned.
pub fn tokenize(bytes: &[u8], problems: &mut Vec<Problem>) -> Tokens {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let mut rest = bytes.get(start..).unwrap_or_default();
    let mut delimiters = Delimiters::default();
    let mut index = 0;
    if rest.starts_with(b"UNA") {
        index = 1;
        match rest.get(3..9) {
            Some(&[component, element, decimal, release, reserved, terminator]) => {
                delimiters = Delimiters { component, element, decimal, release, reserved, terminator };
                check_una(&delimiters, problems);
                rest = rest.get(9..).unwrap_or_default();
            }
            _ => {
                problems.push(Problem::rule(
                    Location::Segment { index: 1, tag: "UNA".into(), element: None, component: None },
                    "0085-13",
                    "the UNA service string advice is cut short: it needs six characters after UNA \
                     (component, element, decimal mark, release, reserved, terminator), such as UNA:+.? '"
                        .into(),
                ));
                rest = &[];
            }
        }
    }
    let mut segments = Vec::new();
    let mut packages = 0;
    let d = delimiters;
    let mut pos = 0;
    while pos < rest.len() {
        // Tolerate line breaks and indentation between segments.
        while rest.get(pos).is_some_and(|b| b.is_ascii_whitespace() && !is_delimiter(&d, *b)) {
            pos += 1;
        }
        if pos >= rest.len() {
            break;
        }
        index += 1;
        let (elements, next, terminated) = read_segment(rest, pos, &d);
        pos = next;
        let tag = elements.first().and_then(|e| e.first()).cloned().unwrap_or_default();
        let segment = Segment { index, tag: tag.trim().to_owned(), elements: elements.into_iter().skip(1).collect() };
        if !terminated {
            problems.push(Problem::rule(
                segment.at(None, None),
                "0085-18",
                format!(
                    "segment {} is not ended by the segment terminator {:?}; the interchange is cut short",
                    segment.show(),
                    char::from(d.terminator)
                ),
            ));
        }
        if !is_tag(&segment.tag) {
            problems.push(Problem::rule(
                segment.at(None, None),
                "0085-22",
                format!(
                    "{:?} is not a segment tag: a segment starts with three upper-case letters or digits (UNH, BGM, LIN)",
                    segment.tag
                ),
            ));
        }
        if segment.tag == "UNO" {
            // A package (ISO 9735-8): the object follows the UNO, its length in octets in UNO04.
            packages += 1;
            match segment.value(4, 1).parse::<usize>() {
                Ok(len) if pos.checked_add(len).is_some_and(|end| end <= rest.len()) => pos += len,
                _ => {
                    problems.push(Problem::rule(
                        segment.at(Some(4), Some(1)),
                        "0085-12",
                        format!(
                            "UNO04 object length {:?} is not a number of octets that fits in the rest of the interchange",
                            segment.value(4, 1)
                        ),
                    ));
                    pos = rest.len();
                }
            }
        }
        segments.push(segment);
    }
    Tokens { delimiters, segments, packages }
}

fn check_una(d: &Delimiters, problems: &mut Vec<Problem>) {
    let at = |c: usize| Location::Segment { index: 1, tag: "UNA".into(), element: Some(c), component: None };
    let named = [(1, "component separator", d.component), (2, "element separator", d.element)];
    let service = [named[0], named[1], (4, "release character", d.release), (6, "segment terminator", d.terminator)];
    for (i, (pos, name, c)) in service.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            problems.push(Problem::rule(
                at(*pos),
                "0085-22",
                format!("UNA {name} {:?} is a letter or digit; service characters must be punctuation", char::from(*c)),
            ));
        }
        for (pos2, name2, c2) in service.iter().skip(i + 1) {
            if c == c2 {
                problems.push(Problem::rule(
                    at(*pos2),
                    "0085-22",
                    format!("UNA {name2} {:?} is the same character as the {name}", char::from(*c2)),
                ));
            }
        }
    }
    if !matches!(d.decimal, b'.' | b',') {
        problems.push(Problem::rule(
            at(3),
            "0085-22",
            format!("UNA decimal mark {:?} is neither '.' nor ','", char::from(d.decimal)),
        ));
    }
}

fn is_delimiter(d: &Delimiters, b: u8) -> bool {
    b == d.component || b == d.element || b == d.terminator || b == d.release
}

fn is_tag(tag: &str) -> bool {
    tag.len() == 3 && tag.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Reads one segment from `pos`: its elements (the tag is the first), the position after its
/// terminator, and whether the terminator was found.
fn read_segment(data: &[u8], mut pos: usize, d: &Delimiters) -> (Vec<Vec<String>>, usize, bool) {
    let mut elements = Vec::new();
    let mut components = Vec::new();
    let mut current = Vec::new();
    let mut terminated = false;
    while let Some(&b) = data.get(pos) {
        pos += 1;
        if b == d.release {
            if let Some(&next) = data.get(pos) {
                current.push(next);
                pos += 1;
            }
        } else if b == d.terminator {
            terminated = true;
            break;
        } else if b == d.element {
            components.push(text(&std::mem::take(&mut current)));
            elements.push(std::mem::take(&mut components));
        } else if b == d.component {
            components.push(text(&std::mem::take(&mut current)));
        } else {
            current.push(b);
        }
    }
    components.push(text(&current));
    elements.push(components);
    (elements, pos, terminated)
}

/// Decodes a component: UTF-8 when it is, else ISO 8859-1 (the UNOA to UNOC repertoires).
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_character_keeps_delimiters_as_text() {
        let mut problems = Vec::new();
        let t = tokenize(b"UNA:+.? 'UNB+A?:B?+C?'D??+x:y'\nLIN+1'", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(t.segments[0].index, 2);
        assert_eq!(t.segments[0].value(1, 1), "A:B+C'D?");
        assert_eq!(t.segments[0].value(2, 2), "y");
        assert_eq!(t.segments[1].tag, "LIN");
    }

    #[test]
    fn una_changes_every_delimiter() {
        let mut problems = Vec::new();
        let t = tokenize(b"UNA|*,#^~UNB*x|y#*z~BGM*1~", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(t.delimiters.decimal, b',');
        assert_eq!(t.segments[0].value(1, 2), "y*z");
        assert_eq!(t.segments[1].tag, "BGM");
    }

    #[test]
    fn bad_una_is_reported() {
        let mut problems = Vec::new();
        tokenize(b"UNA::.? '", &mut problems);
        assert!(problems.iter().any(|p| p.message.contains("same character")), "{problems:?}");
        let mut problems = Vec::new();
        tokenize(b"UNA:+", &mut problems);
        assert!(problems.iter().any(|p| p.message.contains("cut short")), "{problems:?}");
    }
}
