//! Payloads: the typed metadata of an object, as filters see it and every engine stores it.
//! The contract's `PayloadValue` arrives here through `api/convert.rs`; engines keep their own
//! forms (the embedded log its protobuf records, PostgreSQL `jsonb`).

use std::collections::HashMap;

use crate::error::{Result, invalid};

/// An object's metadata: keys to values.
pub type Payload = HashMap<String, PayloadValue>;

/// One payload value.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadValue {
    /// Null (also what an unset value means).
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// A string.
    Text(String),
    /// A list of values (lists may nest).
    List(Vec<PayloadValue>),
}

/// Largest payload string or object text, in bytes.
pub(crate) const MAX_TEXT_BYTES: usize = 64 * 1024;
const MAX_PAYLOAD_KEYS: usize = 256;
const MAX_KEY_BYTES: usize = 128;
const MAX_LIST_DEPTH: usize = 8;

/// Checks a payload's size, keys and values; `field` names it in errors.
pub(crate) fn check_payload(payload: &Payload, field: &str) -> Result<()> {
    if payload.len() > MAX_PAYLOAD_KEYS {
        return Err(invalid(format!(
            "{field}: more than {MAX_PAYLOAD_KEYS} keys"
        )));
    }
    for (key, value) in payload {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(invalid(format!(
                "{field}: key '{key}' must be 1 to {MAX_KEY_BYTES} bytes"
            )));
        }
        check_value(value, &format!("{field}['{key}']"), 0)?;
    }
    Ok(())
}

fn check_value(value: &PayloadValue, field: &str, depth: usize) -> Result<()> {
    match value {
        PayloadValue::Double(d) if !d.is_finite() => {
            Err(invalid(format!("{field}: must be finite")))
        }
        PayloadValue::Text(s) if s.len() > MAX_TEXT_BYTES => Err(invalid(format!(
            "{field}: longer than {MAX_TEXT_BYTES} bytes"
        ))),
        PayloadValue::List(values) => {
            if depth >= MAX_LIST_DEPTH {
                return Err(invalid(format!(
                    "{field}: lists nest at most {MAX_LIST_DEPTH} deep"
                )));
            }
            values
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| check_value(v, &format!("{field}[{i}]"), depth + 1))
        }
        _ => Ok(()),
    }
}
