//! EPC identifiers: pure-identity URNs (`urn:epc:id:sgtin:…`), class URNs (`urn:epc:class:lgtin:…`),
//! pattern URNs (`urn:epc:idpat:sgtin:…`) and GS1 Digital Link URIs, turned into GTINs for
//! trade items and into constrained canonical Digital Link URIs for the event hash.

/// What an identifier names, as far as stock is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Identified {
    /// One trade item instance (SGTIN, `/01/…/21/…`): counted.
    Instance { gtin: String },
    /// A class of trade items (LGTIN, GTIN pattern, `/01/…` or `/01/…/10/…`): carries a quantity.
    Class { gtin: String },
    /// Anything else (SSCC, GRAI, GIAI, SGLN, private identifiers): kept as written.
    Other,
}

/// The GS1 mod-10 check digit of a string of digits.
pub(crate) fn check_digit(digits: &str) -> Option<char> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 =
        digits.bytes().rev().enumerate().map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    char::from_digit((10 - sum % 10) % 10, 10)
}

/// Appends the check digit to `digits`.
fn with_check(digits: &str) -> Option<String> {
    check_digit(digits).map(|c| format!("{digits}{c}"))
}

/// Splits an EPC URN body of the scheme `scheme` (`urn:epc:id:sgtin:` → `0614141.107346.2017`).
fn epc_body<'a>(uri: &'a str, prefix: &str) -> Option<&'a str> {
    uri.strip_prefix(prefix)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// GTIN-14 from a company prefix and an indicator/item reference (`0614141`, `107346`).
fn gtin_from_parts(company: &str, indicator_item: &str) -> Option<String> {
    if !digits(company) || !digits(indicator_item) || company.len() + indicator_item.len() != 13 {
        return None;
    }
    let (indicator, item) = indicator_item.split_at(1);
    with_check(&format!("{indicator}{company}{item}"))
}

/// The GTIN-14 in a GS1 Digital Link `/01/` value, zero-padded from GTIN-8/12/13.
fn gtin_from_link(value: &str) -> Option<String> {
    if !digits(value) || !matches!(value.len(), 8 | 12 | 13 | 14) {
        return None;
    }
    let padded = format!("{value:0>14}");
    let (body, check) = padded.split_at(13);
    (check_digit(body)?.to_string() == check).then_some(padded)
}

/// Classifies an identifier as written in an event.
pub(crate) fn identify(uri: &str) -> Identified {
    let uri = uri.trim();
    if let Some(body) = epc_body(uri, "urn:epc:id:sgtin:") {
        let mut parts = body.splitn(3, '.');
        if let (Some(c), Some(i), Some(_)) = (parts.next(), parts.next(), parts.next())
            && let Some(gtin) = gtin_from_parts(c, i)
        {
            return Identified::Instance { gtin };
        }
        return Identified::Other;
    }
    for prefix in ["urn:epc:class:lgtin:", "urn:epc:idpat:sgtin:"] {
        if let Some(body) = epc_body(uri, prefix) {
            let mut parts = body.splitn(3, '.');
            if let (Some(c), Some(i)) = (parts.next(), parts.next())
                && let Some(gtin) = gtin_from_parts(c, i)
            {
                return Identified::Class { gtin };
            }
            return Identified::Other;
        }
    }
    if let Some(link) = DigitalLink::parse(uri)
        && let Some((_, gtin)) = link.pairs.first().filter(|(ai, _)| ai == "01")
        && let Some(gtin) = gtin_from_link(gtin)
    {
        return if link.pairs.iter().any(|(ai, _)| ai == "21") {
            Identified::Instance { gtin }
        } else {
            Identified::Class { gtin }
        };
    }
    Identified::Other
}

/// The primary GS1 keys a Digital Link path may start with.
const PRIMARY_KEYS: &[&str] =
    &["00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017", "8018"];

/// The key qualifiers kept in a constrained canonical Digital Link, per primary key.
fn qualifiers(primary: &str) -> &'static [&'static str] {
    match primary {
        "01" => &["21", "10", "235"],
        "414" => &["254"],
        "8006" => &["21", "10"],
        "8010" => &["8011"],
        _ => &[],
    }
}

/// A GS1 Digital Link URI read into its (AI, value) pairs, primary key first.
#[derive(Clone, Debug)]
pub(crate) struct DigitalLink {
    /// The application identifiers and values, in path order.
    pub(crate) pairs: Vec<(String, String)>,
}

impl DigitalLink {
    /// Reads an `http(s)://` URI whose path holds a primary GS1 key and its qualifiers.
    pub(crate) fn parse(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let (_host, path) = rest.split_once('/')?;
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let start = segments.iter().position(|s| PRIMARY_KEYS.contains(s))?;
        let tail = segments.get(start..)?;
        if tail.len() % 2 != 0 || tail.is_empty() {
            return None;
        }
        let pairs: Vec<(String, String)> =
            tail.chunks(2).filter_map(|c| Some(((*c.first()?).to_owned(), (*c.get(1)?).to_owned()))).collect();
        if !pairs.iter().skip(1).all(|(ai, _)| digits(ai)) {
            return None;
        }
        Some(Self { pairs })
    }

    /// The constrained canonical form: `https://id.gs1.org`, no query string, only the most
    /// fine-grained key qualifier combination the hash algorithm keeps.
    pub(crate) fn canonical(&self) -> String {
        let mut out = String::from("https://id.gs1.org");
        let Some((primary, value)) = self.pairs.first() else { return out };
        out.push_str(&format!("/{primary}/{value}"));
        let allowed = qualifiers(primary);
        if let Some((ai, v)) = self.pairs.iter().skip(1).find(|(ai, _)| allowed.contains(&ai.as_str())) {
            out.push_str(&format!("/{ai}/{v}"));
        }
        out
    }
}

/// Converts an EPC URN (pure identity, class or pattern) into its canonical GS1 Digital Link
/// URI; `None` for schemes without a Digital Link form here.
fn epc_to_link(uri: &str) -> Option<String> {
    let (scheme, body) = if let Some(b) = uri.strip_prefix("urn:epc:id:") {
        b.split_once(':').map(|(s, b)| (s.to_owned(), b))?
    } else if let Some(b) = uri.strip_prefix("urn:epc:class:") {
        b.split_once(':').map(|(s, b)| (format!("class:{s}"), b))?
    } else if let Some(b) = uri.strip_prefix("urn:epc:idpat:") {
        b.split_once(':').map(|(s, b)| (format!("idpat:{s}"), b))?
    } else {
        return None;
    };
    let parts: Vec<&str> = body.split('.').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("");
    let joined = |c: &str, r: &str| if digits(c) && digits(r) { with_check(&format!("{c}{r}")) } else { None };
    let link = match scheme.as_str() {
        "sgtin" if parts.len() == 3 => format!("/01/{}/21/{}", gtin_from_parts(part(0), part(1))?, part(2)),
        "class:lgtin" if parts.len() == 3 => format!("/01/{}/10/{}", gtin_from_parts(part(0), part(1))?, part(2)),
        "idpat:sgtin" if parts.len() >= 2 => format!("/01/{}", gtin_from_parts(part(0), part(1))?),
        "sscc" if parts.len() == 2 && !part(1).is_empty() => {
            let (ext, serial) = part(1).split_at(1);
            format!("/00/{}", with_check(&format!("{ext}{}{serial}", part(0))).filter(|s| s.len() == 18)?)
        }
        "sgln" if parts.len() == 3 => {
            let gln = joined(part(0), part(1)).filter(|g| g.len() == 13)?;
            if part(2) == "0" { format!("/414/{gln}") } else { format!("/414/{gln}/254/{}", part(2)) }
        }
        "pgln" if parts.len() == 2 => format!("/417/{}", joined(part(0), part(1)).filter(|g| g.len() == 13)?),
        "grai" if parts.len() == 3 => {
            format!("/8003/0{}{}", joined(part(0), part(1)).filter(|g| g.len() == 13)?, part(2))
        }
        "giai" if parts.len() == 2 => format!("/8004/{}{}", part(0), part(1)),
        "gsrn" if parts.len() == 2 => format!("/8018/{}", joined(part(0), part(1)).filter(|g| g.len() == 18)?),
        "gsrnp" if parts.len() == 2 => format!("/8017/{}", joined(part(0), part(1)).filter(|g| g.len() == 18)?),
        "gdti" if parts.len() == 3 => {
            format!("/253/{}{}", joined(part(0), part(1)).filter(|g| g.len() == 13)?, part(2))
        }
        "sgcn" if parts.len() == 3 => {
            format!("/255/{}{}", joined(part(0), part(1)).filter(|g| g.len() == 13)?, part(2))
        }
        "ginc" if parts.len() == 2 => format!("/401/{}{}", part(0), part(1)),
        "gsin" if parts.len() == 2 => format!("/402/{}", joined(part(0), part(1)).filter(|g| g.len() == 17)?),
        "cpi" if parts.len() == 3 => format!("/8010/{}{}/8011/{}", part(0), part(1), part(2)),
        _ => return None,
    };
    Some(format!("https://id.gs1.org{link}"))
}

/// Normalises an identifier or URI for the event hash: EPC URNs become canonical Digital
/// Links, Digital Links on any host become constrained canonical ones, anything else is
/// returned trimmed.
pub(crate) fn hash_form(uri: &str) -> String {
    let uri = uri.trim();
    if uri.starts_with("urn:epc:") {
        return epc_to_link(uri).unwrap_or_else(|| uri.to_owned());
    }
    match DigitalLink::parse(uri) {
        Some(link) => link.canonical(),
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_and_links_name_gtins() {
        let sgtin = Identified::Instance { gtin: "10614141073464".into() };
        assert_eq!(identify("urn:epc:id:sgtin:0614141.107346.2017"), sgtin);
        assert_eq!(identify("https://example.com/01/10614141073464/21/2017"), sgtin);
        let class = Identified::Class { gtin: "04012345123456".into() };
        assert_eq!(identify("urn:epc:class:lgtin:4012345.012345.998877"), class);
        assert_eq!(identify("urn:epc:idpat:sgtin:4012345.012345.*"), class);
        assert_eq!(identify("https://id.gs1.org/01/04012345123456/10/L1?x=1"), class);
        assert_eq!(identify("urn:epc:id:sscc:0614141.1234567890"), Identified::Other);
        assert_eq!(identify("https://id.gs1.org/01/04012345123457"), Identified::Other);
    }

    #[test]
    fn hash_forms_follow_digital_link() {
        assert_eq!(hash_form("urn:epc:id:sgtin:0614141.107346.2017"), "https://id.gs1.org/01/10614141073464/21/2017");
        assert_eq!(hash_form("urn:epc:id:sgln:0614141.07346.1234"), "https://id.gs1.org/414/0614141073467/254/1234");
        assert_eq!(hash_form("urn:epc:id:sgln:0614141.00777.0"), "https://id.gs1.org/414/0614141007776");
        assert_eq!(hash_form("urn:epc:id:sscc:4012345.0000000333"), "https://id.gs1.org/00/040123450000003338");
        assert_eq!(
            hash_form("https://example.org/01/09521141012345/22/x/21/7?a=b"),
            "https://id.gs1.org/01/09521141012345/21/7"
        );
        assert_eq!(hash_form("http://transaction.acme.com/po/12345678"), "http://transaction.acme.com/po/12345678");
    }
}
