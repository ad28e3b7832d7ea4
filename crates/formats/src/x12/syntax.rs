//! X12 syntax: the delimiters an ISA header declares and the segments they cut a document into.

use crate::{Location, Problem};

/// The four delimiters of an interchange, all read from its ISA header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delimiters {
    /// Separates elements: the byte right after `ISA`.
    pub element: u8,
    /// Separates repeated values of an element: ISA11 from version 00402 on.
    pub repetition: Option<u8>,
    /// Separates the components of a composite element: ISA16.
    pub component: u8,
    /// Ends a segment: the byte after ISA16.
    pub segment: u8,
}

/// One segment, its elements split but not interpreted.
#[derive(Clone, Debug)]
pub(crate) struct Segment {
    /// 1-based position in the document.
    pub index: usize,
    /// The tag (`ISA`, `BEG`).
    pub tag: String,
    /// The elements after the tag, as written (element 1 is `elements[0]`).
    pub elements: Vec<String>,
    /// The component separator in force.
    pub component: u8,
}

impl Segment {
    /// Element `n` (1-based), trimmed; empty when absent.
    pub fn el(&self, n: usize) -> &str {
        n.checked_sub(1).and_then(|i| self.elements.get(i)).map_or("", |s| s.trim())
    }

    /// Element `n` as written (only line ends removed); empty when absent.
    pub fn raw(&self, n: usize) -> &str {
        n.checked_sub(1).and_then(|i| self.elements.get(i)).map_or("", String::as_str)
    }

    /// Component `c` (1-based) of element `n`, trimmed; empty when absent.
    pub fn component(&self, n: usize, c: usize) -> &str {
        let sep = char::from(self.component);
        c.checked_sub(1).and_then(|i| self.el(n).split(sep).nth(i)).map_or("", str::trim)
    }

    /// The number of elements, trailing empty ones included.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// This segment, or one of its elements, as a problem location.
    pub fn at(&self, element: Option<usize>) -> Location {
        Location::Segment { index: self.index, tag: self.tag.clone(), element, component: None }
    }

    /// A problem with element `n` of this segment.
    pub fn problem(&self, element: usize, message: String) -> Problem {
        Problem::new(self.at(Some(element)), message)
    }

    /// A problem with the segment as a whole.
    pub fn whole(&self, message: String) -> Problem {
        Problem::new(self.at(None), message)
    }
}

/// The component separator of an interchange whose ISA16 is empty: a byte no text holds.
const NO_COMPONENT: u8 = 0x1F;

/// Whether the line after `from` (the next non-empty one) ends with `byte`: then `byte`, read
/// as ISA16 just before a line break, is really the segment terminator and ISA16 was left empty.
fn ends_lines(bytes: &[u8], from: usize, byte: u8) -> bool {
    let rest = bytes.get(from..).unwrap_or_default();
    let start = rest.iter().position(|&b| !is_layout(b)).unwrap_or(rest.len());
    let line = rest.get(start..).unwrap_or_default();
    let end = line.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(line.len());
    line.get(..end).and_then(|l| l.last()) == Some(&byte)
}

/// Bytes that may separate segments besides the terminator (pretty-printed files).
fn is_layout(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The delimiters of the ISA header starting at `start`, and where the header ends (the index
/// of its terminator). ISA fields may be unpadded, so the header is read by counting element
/// separators rather than by fixed offsets.
fn read_delimiters(bytes: &[u8], start: usize, index: usize) -> Result<(Delimiters, usize), Problem> {
    let at = |element: Option<usize>| Location::Segment { index, tag: "ISA".to_owned(), element, component: None };
    let Some(&element) = bytes.get(start + 3) else {
        return Err(Problem::new(at(None), "the ISA header is cut short: expected 16 elements".to_owned()));
    };
    if element.is_ascii_alphanumeric() || is_layout(element) {
        return Err(Problem::new(
            at(Some(1)),
            format!(
                "{:?} cannot be the element separator: the byte after ISA must be a punctuation character such as *",
                char::from(element)
            ),
        ));
    }
    let mut seen = 0;
    let mut pos = start + 3;
    let mut starts = Vec::with_capacity(16);
    while seen < 16 {
        match bytes.get(pos) {
            Some(&b) if b == element => {
                seen += 1;
                starts.push(pos + 1);
            }
            Some(_) => {}
            None => {
                return Err(Problem::new(
                    at(None),
                    format!("the ISA header is cut short: found {seen} of its 16 elements"),
                ));
            }
        }
        pos += 1;
    }
    // `pos` is now the first byte of ISA16, the component separator; the terminator follows.
    let (Some(&component), Some(&segment)) = (bytes.get(pos), bytes.get(pos + 1)) else {
        return Err(Problem::new(
            at(Some(16)),
            "the ISA header ends without ISA16 (component separator) and a segment terminator".to_owned(),
        ));
    };
    let isa11 = starts.get(10).and_then(|&s| bytes.get(s)).copied();
    let isa12 = starts.get(11).and_then(|&s| bytes.get(s..s + 5)).unwrap_or(b"");
    let repetition = match isa11 {
        // 00402 and later carry the repetition separator in ISA11; earlier versions (and many
        // later files by mistake) carry the letter `U`, which is no separator.
        Some(b) if isa12 >= b"00402".as_slice() && isa12.iter().all(u8::is_ascii_digit) => {
            Some(b).filter(|b| !b.is_ascii_alphanumeric())
        }
        _ => None,
    };
    if (segment == b'\n' || segment == b'\r') && ends_lines(bytes, pos + 1, component) {
        // ISA16 left empty: the byte read as ISA16 is the terminator that ends every line.
        let delimiters = Delimiters { element, repetition, component: NO_COMPONENT, segment: component };
        return Ok((delimiters, pos));
    }
    let delimiters = Delimiters { element, repetition, component, segment };
    let mut problems = Vec::new();
    if component.is_ascii_alphanumeric() || component == b' ' || component == element || component == segment {
        problems.push(Problem::new(
            at(Some(16)),
            format!(
                "{:?} cannot be the component separator: ISA16 must be one punctuation character differing from the element separator and segment terminator",
                char::from(component)
            ),
        ));
    }
    if segment.is_ascii_alphanumeric() || segment == b' ' || segment == element {
        problems.push(Problem::new(
            at(Some(16)),
            format!(
                "{:?} cannot be the segment terminator: the byte after ISA16 must be a character such as ~ or a line feed",
                char::from(segment)
            ),
        ));
    }
    if let Some(r) = repetition
        && (r == element || r == component || r == segment)
    {
        problems.push(Problem::new(
            at(Some(11)),
            format!(
                "{:?} cannot be the repetition separator: ISA11 must differ from the other delimiters",
                char::from(r)
            ),
        ));
    }
    match problems.into_iter().next() {
        Some(p) => Err(p),
        None => Ok((delimiters, pos + 1)),
    }
}

/// Cuts a document into segments. Every ISA sets the delimiters until the next one. Layout
/// between segments (line breaks, tabs, spaces) is skipped; a last segment without terminator is
/// accepted. A line break inside a segment is reported: it usually means a missing terminator.
/// Problems that stop the reading (no ISA, a broken ISA header) are the error; the others come
/// with the segments.
pub(crate) fn segments(bytes: &[u8]) -> Result<(Vec<Segment>, Vec<Problem>), Vec<Problem>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out: Vec<Segment> = Vec::new();
    let mut problems = Vec::new();
    let mut delimiters: Option<Delimiters> = None;
    let mut pos = 0;
    loop {
        while bytes.get(pos).is_some_and(|&b| is_layout(b)) {
            pos += 1;
        }
        if pos >= bytes.len() {
            break;
        }
        let index = out.len() + 1;
        let rest = &bytes[pos..];
        let mut isa_end = None;
        if rest.starts_with(b"ISA") {
            match read_delimiters(bytes, pos, index) {
                Ok((d, end)) => {
                    delimiters = Some(d);
                    isa_end = Some(end);
                }
                Err(p) => {
                    problems.push(p);
                    return Err(problems);
                }
            }
        }
        let Some(d) = delimiters else {
            problems.push(Problem::new(
                Location::Segment { index, tag: String::new(), element: None, component: None },
                "the document does not start with an ISA interchange header".to_owned(),
            ));
            return Err(problems);
        };
        let end = match isa_end {
            Some(e) => e,
            None => rest.iter().position(|&b| b == d.segment).map_or(bytes.len(), |p| pos + p),
        };
        let mut content = &bytes[pos..end];
        while let Some((&last, init)) = content.split_last() {
            if last == b'\r' || last == b'\n' {
                content = init;
            } else {
                break;
            }
        }
        let text = String::from_utf8_lossy(content);
        let mut parts = text.split(char::from(d.element)).map(str::to_owned);
        let tag = parts.next().unwrap_or_default();
        let elements: Vec<String> = parts.collect();
        let segment = Segment { index, tag: tag.trim().to_owned(), elements, component: d.component };
        let tag_ok = (2..=3).contains(&segment.tag.len())
            && segment.tag.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && segment.tag.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
        if !tag_ok {
            problems.push(segment.whole(format!(
                "{:?} is not a segment tag: a segment starts with 2 or 3 capital letters or digits (ST, BEG, N1)",
                shorten(&segment.tag)
            )));
        }
        if d.segment != b'\n' && content.iter().any(|&b| b == b'\n' || b == b'\r') {
            problems.push(segment.whole(format!(
                "the segment runs over a line break; the segment terminator {:?} is probably missing before the next line",
                char::from(d.segment)
            )));
        }
        out.push(segment);
        pos = end + 1;
    }
    Ok((out, problems))
}

/// A value cut to a length fit for a message.
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() > 40 { format!("{}…", s.chars().take(40).collect::<String>()) } else { s.to_owned() }
}
