//! A YAML document read as a tree of nodes that keep their positions.
//!
//! The loader reads the definition into this generic tree first (serde stops at the first
//! problem; walking the tree lets the loader report every one), then interprets it.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, NonFiniteFloatPolicy, Spanned};

use crate::decision::Position;
use crate::decision::yaml::position;

/// A YAML node and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The value.
    pub(crate) value: Yaml,
    /// Where it is (for an alias, where the alias is).
    pub(crate) location: Location,
}

/// A YAML value. Scalars are typed by the YAML 1.2 core schema (`yes` is a string).
#[derive(Debug, Clone)]
pub(crate) enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in source order; repeated keys are kept (the loader reports them).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Where the node starts.
    pub(crate) fn position(&self) -> Option<Position> {
        position(&self.location)
    }

    /// The node's byte offset in the source, when known.
    pub(crate) fn offset(&self) -> Option<usize> {
        self.location.span().byte_offset().and_then(|o| usize::try_from(o).ok())
    }

    /// The source text of a scalar (with its quotes), when known.
    pub(crate) fn raw<'s>(&self, source: &'s str) -> Option<&'s str> {
        let span = self.location.span();
        let from = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        source.get(from..from.checked_add(len)?)
    }

    /// The text of a string scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Yaml::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a list.
    pub(crate) fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Yaml::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Whether it is a scalar (not a list or mapping).
    pub(crate) fn is_scalar(&self) -> bool {
        !matches!(self.value, Yaml::Seq(_) | Yaml::Map(_))
    }

    /// What kind of value it is, with the value when short: `a number (5)`, `a list`.
    pub(crate) fn describe(&self) -> String {
        let short = |text: String| {
            if text.chars().count() > 40 { format!("{}…", text.chars().take(40).collect::<String>()) } else { text }
        };
        match &self.value {
            Yaml::Null => "empty".to_owned(),
            Yaml::Bool(b) => format!("a boolean ({b})"),
            Yaml::Int(i) => format!("a number ({i})"),
            Yaml::UInt(u) => format!("a number ({u})"),
            Yaml::Float(f) => format!("a number ({f})"),
            Yaml::Str(s) => format!("text ({})", short(format!("{s:?}"))),
            Yaml::Seq(_) => "a list".to_owned(),
            Yaml::Map(_) => "a mapping".to_owned(),
        }
    }

    /// Calls `f` on this node and every node below it (keys included), in document order.
    pub(crate) fn walk<'n>(&'n self, f: &mut dyn FnMut(&'n Node)) {
        f(self);
        match &self.value {
            Yaml::Seq(items) => items.iter().for_each(|item| item.walk(f)),
            Yaml::Map(entries) => entries.iter().for_each(|(k, v)| {
                k.walk(f);
                v.walk(f);
            }),
            _ => {}
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Yaml>::deserialize(deserializer)?;
        Ok(Node { value: spanned.value, location: spanned.referenced })
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct YamlVisitor;
        impl<'de> Visitor<'de> for YamlVisitor {
            type Value = Yaml;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
                Ok(Yaml::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
                Ok(Yaml::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
                Yaml::deserialize(deserializer)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Yaml, E> {
                Ok(Yaml::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Yaml, E> {
                Ok(Yaml::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Yaml, E> {
                Ok(Yaml::UInt(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Yaml, E> {
                Ok(Yaml::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Yaml, E> {
                Ok(Yaml::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Yaml, E> {
                Ok(Yaml::Str(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Yaml, E> {
                Ok(Yaml::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Yaml::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Node, Node>()? {
                    entries.push(entry);
                }
                Ok(Yaml::Map(entries))
            }
        }
        deserializer.deserialize_any(YamlVisitor)
    }
}

/// A YAML document that cannot be read: where, and why.
pub(crate) struct SyntaxError {
    pub(crate) position: Option<Position>,
    pub(crate) message: String,
}

/// Reads a YAML document into a tree. Booleans are YAML 1.2 (`true`/`false` only), repeated
/// keys are kept for the loader to report, and `.nan`/`.inf` are read as text.
pub(crate) fn parse(source: &str) -> Result<Node, SyntaxError> {
    let options = serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        non_finite_float_policy: NonFiniteFloatPolicy::AsString,
    };
    serde_saphyr::from_str_with_options::<Node>(source, options).map_err(|e| syntax_error(source, &e))
}

fn syntax_error(source: &str, error: &serde_saphyr::Error) -> SyntaxError {
    let error = error.without_snippet();
    let location = error.location();
    let mut message = error.to_string();
    if let Some(location) = &location {
        let suffix = format!(" at line {}, column {}", location.line(), location.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
    }
    let position = location.as_ref().and_then(position);
    if let Some(hint) = position.and_then(|p| quoting_hint(source, p)) {
        message.push_str(&hint);
    }
    SyntaxError { position, message: format!("this is not valid YAML: {message}") }
}

/// An expression such as `"Approve " + inputs.sku` or `!has(x)` starts with a character YAML
/// reads differently; when a YAML error is on a line whose value starts with one, say to quote
/// the whole expression.
fn quoting_hint(source: &str, position: Position) -> Option<String> {
    let line = source.lines().nth(position.line.checked_sub(1)?)?;
    let content = line.trim_start().trim_start_matches("- ");
    let value = match content.split_once(": ") {
        Some((_, value)) => value.trim(),
        None => content.trim(),
    };
    let first = value.chars().next()?;
    let quoted_then_more = (first == '"' || first == '\'') && !value.ends_with(first);
    if !quoted_then_more && !"!&*>|%@`".contains(first) {
        return None;
    }
    let quoted = value.replace('\'', "''");
    Some(format!(
        "; if `{value}` is an expression, quote the whole of it, as YAML reads `{first}` at the start of a value \
         differently: '{quoted}'"
    ))
}
