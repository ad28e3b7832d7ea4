//! Between JSON and CEL values.
//!
//! Into CEL: `null`, booleans and strings as themselves (strings borrowed, not copied), integers as
//! `int` (or `uint` above `i64::MAX`), other numbers as `double`, arrays as lists and objects as
//! maps with string keys.
//!
//! Back to JSON: `int`, `uint`, `double` as numbers (a non-finite double is an error), `string`,
//! `bool` and `null` as themselves, lists as arrays, maps as objects (non-string keys written as
//! text), `timestamp` as RFC 3339 text, `duration` as a number of seconds, `bytes` as base64
//! text, an optional as its value or `null`, a type value as its name.

use std::collections::HashMap;

use cel::Value;
use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt};
use cel::common::value::Val;
use cel::objects::{Key, OptionalValue};

use super::ExprError;

/// A JSON value as a CEL value, borrowing its strings from `value`.
pub(crate) fn to_cel(value: &serde_json::Value) -> Box<dyn Val + '_> {
    match value {
        serde_json::Value::Null => Box::new(CelNull),
        serde_json::Value::Bool(b) => Box::new(CelBool::from(*b)),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        serde_json::Value::String(s) => Box::new(CelString::from(s.as_str())),
        serde_json::Value::Array(items) => Box::new(CelList::from(items.iter().map(to_cel).collect::<Vec<_>>())),
        serde_json::Value::Object(fields) => {
            let map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> =
                fields.iter().map(|(k, v)| (CelMapKey::from(k.as_str()), to_cel(v))).collect();
            Box::new(CelMap::from(map))
        }
    }
}

/// A CEL result as JSON.
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, ExprError> {
    Ok(match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::UInt(u) => serde_json::Value::from(*u),
        Value::Float(f) => float(*f)?,
        Value::String(s) => serde_json::Value::String(s.as_str().to_owned()),
        Value::Bytes(b) => serde_json::Value::String(base64(b)),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(map) => {
            let mut object = serde_json::Map::new();
            for (key, value) in map.map.iter() {
                let key = match key {
                    Key::String(s) => s.as_str().to_owned(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                object.insert(key, to_json(value)?);
            }
            serde_json::Value::Object(object)
        }
        Value::Timestamp(t) => serde_json::Value::String(t.to_rfc3339()),
        Value::Duration(d) => {
            let seconds = d.num_seconds();
            let nanos = d.subsec_nanos();
            if nanos == 0 { serde_json::Value::from(seconds) } else { float(seconds as f64 + f64::from(nanos) / 1e9)? }
        }
        Value::Opaque(opaque) => match opaque.downcast_ref::<OptionalValue>() {
            Some(optional) => match optional.value() {
                Some(inner) => to_json(inner)?,
                None => serde_json::Value::Null,
            },
            None => opaque.json().ok_or_else(|| ExprError::NotRepresentable {
                message: format!("a value of type {}", opaque.runtime_type_name()),
            })?,
        },
        other => return Err(ExprError::NotRepresentable { message: format!("{other:?}") }),
    })
}

fn float(f: f64) -> Result<serde_json::Value, ExprError> {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .ok_or_else(|| ExprError::NotRepresentable { message: format!("the number {f} is not finite") })
}

/// Standard base64 with padding (RFC 4648), for `bytes` results.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
