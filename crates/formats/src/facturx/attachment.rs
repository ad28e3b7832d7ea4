//! Finding the invoice embedded in a Factur-X / ZUGFeRD PDF: the file specifications listed in
//! the catalog's associated files (`/AF`, PDF/A-3) and in its `/Names /EmbeddedFiles` name tree,
//! the one named like an invoice, and its stream decoded through its filters.
//!
//! Every call into the PDF library runs under [`std::panic::catch_unwind`]: a PDF that makes it
//! panic is reported as unreadable, never brought down the caller.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use crate::{Location, Problem};

/// The names the embedded invoice has, by standard: Factur-X and ZUGFeRD 2.1+, ZUGFeRD 2.0,
/// and XRechnung in a ZUGFeRD PDF. Compared without regard to case (`ZUGFeRD-invoice.xml`).
pub const INVOICE_FILE_NAMES: [&str; 3] = ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"];

/// The most any one stream may decode to (object streams while loading, and the invoice).
const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;
/// The deepest name tree walked.
const MAX_TREE_DEPTH: usize = 32;
/// The most file specifications looked at.
const MAX_FILE_SPECS: usize = 10_000;

/// The invoice file found in a PDF.
#[derive(Debug)]
pub struct EmbeddedInvoice {
    /// Its file name as the PDF gives it.
    pub name: String,
    /// Its decoded content.
    pub content: Vec<u8>,
}

/// The embedded invoice of a PDF, or why there is none.
pub fn embedded_invoice(pdf: &[u8]) -> Result<EmbeddedInvoice, Problem> {
    match catch_unwind(AssertUnwindSafe(|| find(pdf))) {
        Ok(found) => found,
        Err(_) => Err(unreadable("the PDF structure is damaged beyond reading")),
    }
}

fn unreadable(why: &str) -> Problem {
    Problem::new(
        Location::Document,
        format!("the PDF cannot be read ({why}); expected a Factur-X / ZUGFeRD PDF/A-3 with an embedded factur-x.xml"),
    )
}

/// One file specification: the names it goes by and its dictionary.
struct FileSpec<'a> {
    names: Vec<String>,
    dict: &'a Dictionary,
}

fn find(pdf: &[u8]) -> Result<EmbeddedInvoice, Problem> {
    let options = LoadOptions { max_decompressed_size: Some(MAX_STREAM_BYTES), ..LoadOptions::default() };
    let doc = Document::load_mem_with_options(pdf, options).map_err(|e| unreadable(&e.to_string()))?;
    let catalog = doc.catalog().map_err(|e| unreadable(&format!("no document catalog: {e}")))?;
    let mut specs = Vec::new();
    if let Ok(af) = catalog.get_deref(b"AF", &doc).and_then(Object::as_array) {
        for entry in af.iter().take(MAX_FILE_SPECS) {
            if let Ok((_, Object::Dictionary(dict))) = doc.dereference(entry) {
                specs.push(FileSpec { names: Vec::new(), dict });
            }
        }
    }
    let tree = catalog
        .get_deref(b"Names", &doc)
        .and_then(Object::as_dict)
        .and_then(|names| names.get_deref(b"EmbeddedFiles", &doc))
        .and_then(Object::as_dict);
    if let Ok(tree) = tree {
        let mut seen = HashSet::new();
        walk_name_tree(&doc, tree, 0, &mut seen, &mut specs);
    }
    for spec in &mut specs {
        for key in [&b"UF"[..], b"F"] {
            if let Some(name) = spec.dict.get_deref(key, &doc).ok().and_then(text) {
                spec.names.push(name);
            }
        }
    }
    let wanted = |spec: &FileSpec<'_>, file: &str| spec.names.iter().any(|n| base_name(n).eq_ignore_ascii_case(file));
    let chosen = INVOICE_FILE_NAMES.iter().find_map(|file| specs.iter().find(|s| wanted(s, file)).map(|s| (*file, s)));
    let Some((file, spec)) = chosen else {
        return Err(no_invoice(&specs));
    };
    let name = spec.names.iter().find(|n| base_name(n).eq_ignore_ascii_case(file)).cloned().unwrap_or_default();
    let content = embedded_stream(&doc, spec.dict)
        .map_err(|why| Problem::new(Location::Document, format!("the embedded {name} cannot be read: {why}")))?;
    Ok(EmbeddedInvoice { name, content })
}

/// Collects the file specifications of an `/EmbeddedFiles` name tree node and its kids.
fn walk_name_tree<'a>(
    doc: &'a Document,
    node: &'a Dictionary,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    specs: &mut Vec<FileSpec<'a>>,
) {
    if depth > MAX_TREE_DEPTH || specs.len() >= MAX_FILE_SPECS {
        return;
    }
    if let Ok(names) = node.get_deref(b"Names", doc).and_then(Object::as_array) {
        for pair in names.chunks(2) {
            if let [key, value] = pair
                && let Ok((_, Object::Dictionary(dict))) = doc.dereference(value)
            {
                specs.push(FileSpec { names: text(key).into_iter().collect(), dict });
            }
        }
    }
    if let Ok(kids) = node.get_deref(b"Kids", doc).and_then(Object::as_array) {
        for kid in kids {
            if let Ok((id, Object::Dictionary(child))) = doc.dereference(kid) {
                if id.is_some_and(|id| !seen.insert(id)) {
                    continue;
                }
                walk_name_tree(doc, child, depth + 1, seen, specs);
            }
        }
    }
}

/// The decoded content of a file specification's embedded file stream (`/EF /UF` or `/EF /F`).
fn embedded_stream(doc: &Document, spec: &Dictionary) -> Result<Vec<u8>, String> {
    let ef = spec
        .get_deref(b"EF", doc)
        .and_then(Object::as_dict)
        .map_err(|_| "its file specification has no /EF embedded file stream".to_owned())?;
    let stream = [&b"UF"[..], b"F"]
        .into_iter()
        .find_map(|key| ef.get_deref(key, doc).and_then(Object::as_stream).ok())
        .ok_or_else(|| "its /EF entry holds no stream".to_owned())?;
    stream.get_plain_content_with_limit(MAX_STREAM_BYTES).map_err(|e| format!("its stream does not decode: {e}"))
}

/// A PDF text string (UTF-16BE with byte-order mark, UTF-8 with one, else PDFDocEncoding).
fn text(object: &Object) -> Option<String> {
    lopdf::decode_text_string(object).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The last path component of a file name (`/x/factur-x.xml` or `C:\x\factur-x.xml`).
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

fn no_invoice(specs: &[FileSpec<'_>]) -> Problem {
    let mut found: Vec<&str> = specs.iter().flat_map(|s| s.names.iter().map(String::as_str)).collect();
    found.sort_unstable();
    found.dedup();
    let listed = if found.is_empty() {
        "it has no embedded files".to_owned()
    } else {
        format!("its embedded files are {}", found.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "))
    };
    Problem::new(
        Location::Document,
        format!(
            "the PDF carries no embedded invoice: {listed}; expected a Factur-X / ZUGFeRD PDF with an embedded {} \
             (the visible pages are not read)",
            INVOICE_FILE_NAMES.join(", ")
        ),
    )
}
