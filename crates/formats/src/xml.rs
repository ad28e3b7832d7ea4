//! A namespace-aware XML tree with positions, shared by the XML formats (EPCIS XML, UBL, CII,
//! POSLog).
//!
//! Documents are small (one business document or one batch of events), so the whole tree is
//! built in memory. Every element remembers where it starts, so a problem found while mapping
//! can name its line and column as well as its path (`/Invoice/cac:InvoiceLine[2]/cbc:ID`).
//! No DTDs or external entities are ever read.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::problem::{Lines, Location, Problem};

/// An element's index in its [`Document`].
pub type ElementId = usize;

/// One element.
#[derive(Clone, Debug)]
pub struct Element {
    /// The namespace URI, empty when the element has none.
    pub namespace: String,
    /// The local name, without prefix.
    pub name: String,
    /// The prefix as written (`cbc`), for paths.
    pub prefix: String,
    /// Attributes without namespace declarations: (namespace URI or empty, local name, value).
    pub attributes: Vec<(String, String, String)>,
    /// Child elements, in document order.
    pub children: Vec<ElementId>,
    /// The text directly inside the element (entities resolved, CDATA included), untrimmed.
    pub text: String,
    /// The parent, `None` for the root.
    pub parent: Option<ElementId>,
    /// Byte offset of the start tag.
    pub offset: usize,
}

/// A parsed XML document.
#[derive(Clone, Debug)]
pub struct Document {
    elements: Vec<Element>,
    lines: Lines,
}

impl Document {
    /// Parses a document. A document that is not well formed, or has no root element, is an
    /// error with the line and column where reading stopped.
    pub fn parse(bytes: &[u8]) -> Result<Document, Problem> {
        let lines = Lines::new(bytes);
        let mut reader = NsReader::from_reader(bytes);
        reader.config_mut().expand_empty_elements = false;
        let mut elements: Vec<Element> = Vec::new();
        let mut stack: Vec<ElementId> = Vec::new();
        let at = |offset: u64, message: String| {
            let (line, column) = lines.position(usize::try_from(offset).unwrap_or(usize::MAX));
            Problem::new(Location::Text { line, column, path: String::new() }, message)
        };
        loop {
            let offset = reader.buffer_position();
            let (ns, event) = match reader.read_resolved_event() {
                Ok(read) => read,
                Err(e) => {
                    let message = format!("the XML is not well formed: {e}");
                    return Err(at(reader.error_position(), message));
                }
            };
            let namespace = match ns {
                ResolveResult::Bound(n) => n.as_ref().to_owned(),
                ResolveResult::Unbound => String::new(),
                ResolveResult::Unknown(p) => {
                    return Err(at(offset, format!("undeclared namespace prefix {:?}", p)));
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let name = e.local_name().as_ref().to_owned();
                    let prefix = e.name().prefix().map(|p| p.as_ref().to_owned());
                    let mut attributes = Vec::new();
                    for a in e.attributes() {
                        let a =
                            a.map_err(|err| at(offset, format!("element <{name}> has a malformed attribute: {err}")))?;
                        let key = a.key;
                        if key.as_ref() == "xmlns" || key.prefix().is_some_and(|p| p.as_ref() == "xmlns") {
                            continue;
                        }
                        let (ans, local) = reader.resolver().resolve_attribute(key);
                        let ans = match ans {
                            ResolveResult::Bound(n) => n.as_ref().to_owned(),
                            _ => String::new(),
                        };
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| at(offset, format!("attribute of <{name}>: {err}")))?
                            .into_owned();
                        attributes.push((ans, local.as_ref().to_owned(), value));
                    }
                    let id = elements.len();
                    let parent = stack.last().copied();
                    elements.push(Element {
                        namespace,
                        name,
                        prefix: prefix.unwrap_or_default(),
                        attributes,
                        children: Vec::new(),
                        text: String::new(),
                        parent,
                        offset: usize::try_from(offset).unwrap_or(usize::MAX),
                    });
                    match parent {
                        Some(p) => elements[p].children.push(id),
                        None if id == 0 => {}
                        None => return Err(at(offset, "the document has more than one root element".into())),
                    }
                    if matches!(event, Event::Start(_)) {
                        stack.push(id);
                    }
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    if let Some(&current) = stack.last() {
                        elements[current].text.push_str(&t.xml10_content());
                    } else if !t.xml10_content().trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').is_empty()
                    {
                        return Err(at(offset, "text outside the root element".into()));
                    }
                }
                Event::CData(d) => {
                    if let Some(&current) = stack.last() {
                        elements[current].text.push_str(&d.into_inner());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(&current) = stack.last() {
                        let resolved = match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                                Some(s) => s.to_owned(),
                                None => return Err(at(offset, format!("unknown entity &{};", &*r))),
                            },
                            Err(e) => return Err(at(offset, format!("bad character reference: {e}"))),
                        };
                        elements[current].text.push_str(&resolved);
                    }
                }
                Event::DocType(_) => {
                    return Err(at(offset, "document type declarations are not accepted".into()));
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
        if let Some(&open) = stack.last() {
            let (line, column) = lines.position(elements[open].offset);
            return Err(Problem::new(
                Location::Text { line, column, path: String::new() },
                format!("the document ends before <{}> is closed", elements[open].name),
            ));
        }
        if elements.is_empty() {
            return Err(Problem::new(
                Location::Text { line: 1, column: 1, path: String::new() },
                "the document has no root element".into(),
            ));
        }
        Ok(Document { elements, lines })
    }

    /// The root element.
    pub fn root(&self) -> ElementId {
        0
    }

    /// An element.
    pub fn get(&self, id: ElementId) -> &Element {
        &self.elements[id]
    }

    /// The children of `id` with this namespace and local name.
    pub fn children<'a>(
        &'a self,
        id: ElementId,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = ElementId> + 'a {
        self.elements[id]
            .children
            .iter()
            .copied()
            .filter(move |&c| self.elements[c].name == name && self.elements[c].namespace == namespace)
    }

    /// The first child of `id` with this namespace and local name.
    pub fn child(&self, id: ElementId, namespace: &str, name: &str) -> Option<ElementId> {
        self.children(id, namespace, name).next()
    }

    /// Follows a chain of children in one namespace each: `[(ns, "A"), (ns, "B")]` is `A/B`.
    pub fn descend(&self, id: ElementId, steps: &[(&str, &str)]) -> Option<ElementId> {
        steps.iter().try_fold(id, |at, (ns, name)| self.child(at, ns, name))
    }

    /// The trimmed text of an element.
    pub fn text(&self, id: ElementId) -> &str {
        self.elements[id].text.trim()
    }

    /// The trimmed text at a chain of children, when present and not empty.
    pub fn text_at(&self, id: ElementId, steps: &[(&str, &str)]) -> Option<&str> {
        self.descend(id, steps).map(|e| self.text(e)).filter(|t| !t.is_empty())
    }

    /// An attribute without namespace.
    pub fn attribute(&self, id: ElementId, name: &str) -> Option<&str> {
        self.elements[id].attributes.iter().find(|(ns, n, _)| ns.is_empty() && n == name).map(|(_, _, v)| v.as_str())
    }

    /// The element's path from the root, with prefixes as written and 1-based positions among
    /// same-named siblings where there is more than one: `/Invoice/cac:InvoiceLine[2]/cbc:ID`.
    pub fn path(&self, id: ElementId) -> String {
        let mut parts = Vec::new();
        let mut at = Some(id);
        while let Some(e) = at {
            let el = &self.elements[e];
            let mut part = if el.prefix.is_empty() { el.name.clone() } else { format!("{}:{}", el.prefix, el.name) };
            if let Some(p) = el.parent {
                let same: Vec<ElementId> = self.children(p, &el.namespace, &el.name).collect();
                if same.len() > 1 {
                    let n = same.iter().position(|&s| s == e).unwrap_or(0) + 1;
                    part.push_str(&format!("[{n}]"));
                }
            }
            parts.push(part);
            at = el.parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// The location of an element: its line, column and path.
    pub fn location(&self, id: ElementId) -> Location {
        let (line, column) = self.lines.position(self.elements[id].offset);
        Location::Text { line, column, path: self.path(id) }
    }

    /// A problem at an element.
    pub fn problem(&self, id: ElementId, message: impl Into<String>) -> Problem {
        Problem::new(self.location(id), message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UBL: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

    #[test]
    fn resolves_namespaces_and_reports_paths_and_positions() {
        let xml = br#"<?xml version="1.0"?>
<Invoice xmlns="urn:x" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>A&amp;1</cbc:ID>
  <Line><cbc:ID>1</cbc:ID></Line>
  <Line><cbc:ID unitCode="EA">2</cbc:ID></Line>
</Invoice>"#;
        let d = Document::parse(xml).unwrap();
        let root = d.root();
        assert_eq!(d.get(root).name, "Invoice");
        assert_eq!(d.text_at(root, &[(UBL, "ID")]), Some("A&1"));
        let lines: Vec<_> = d.children(root, "urn:x", "Line").collect();
        assert_eq!(lines.len(), 2);
        let id = d.child(lines[1], UBL, "ID").unwrap();
        assert_eq!(d.attribute(id, "unitCode"), Some("EA"));
        match d.location(id) {
            Location::Text { line, path, .. } => {
                assert_eq!(line, 5);
                assert_eq!(path, "/Invoice/Line[2]/cbc:ID");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_documents_are_errors_with_positions() {
        for bad in
            [&b"<a><b></a>"[..], b"<a>", b"", b"<a/><b/>", b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", b"<p:a/>"]
        {
            let e = Document::parse(bad).unwrap_err();
            assert!(matches!(e.location, Location::Text { .. }), "{e}");
        }
    }
}
