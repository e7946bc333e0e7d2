//! The opaque `page_token` of `ListOrders`: URL-safe base64 of a versioned keyset cursor.
//!
//! Layout (little-endian): format version `1`, an 8-byte fingerprint of the filter and sort the
//! token belongs to, the number of cursor values, each value as a tag (0 integer, 1 text) and its
//! bytes (8 bytes, or a 4-byte length and UTF-8), then an 8-byte checksum of everything before it.
//! A token from another filter or sort, a truncated or edited one, or anything that is not a token
//! is INVALID_ARGUMENT. The cursor values are bound as statement parameters, never spliced into
//! SQL, so even a forged token can only move the page boundary.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};
use crate::query::{CursorValue, Filter, Sort};

const FORMAT: u8 = 1;
const FIELD: &str = "page_token";

/// The token that continues after `cursor` in a listing of `filter` sorted by `sort`.
pub fn encode(filter: &Filter, sort: &Sort, cursor: &[CursorValue]) -> String {
    let mut bytes = vec![FORMAT];
    bytes.extend_from_slice(&fingerprint(filter, sort).to_le_bytes());
    bytes.push(cursor.len() as u8);
    for value in cursor {
        match value {
            CursorValue::Int(n) => {
                bytes.push(0);
                bytes.extend_from_slice(&n.to_le_bytes());
            }
            CursorValue::Text(text) => {
                bytes.push(1);
                bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
                bytes.extend_from_slice(text.as_bytes());
            }
        }
    }
    let sum = fnv1a(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor in `token`, checked against the request's `filter` and `sort`.
pub fn decode(token: &str, filter: &Filter, sort: &Sort) -> Result<Vec<CursorValue>> {
    let malformed = || Error::invalid(FIELD, "is not a page token issued by this service");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| malformed())?;
    let (body, sum) = bytes
        .split_at_checked(bytes.len().wrapping_sub(8))
        .ok_or_else(malformed)?;
    if sum != fnv1a(body).to_le_bytes() {
        return Err(malformed());
    }
    let mut reader = Reader(body);
    if reader.take(1).ok_or_else(malformed)? != [FORMAT] {
        return Err(malformed());
    }
    let print = u64::from_le_bytes(reader.array().ok_or_else(malformed)?);
    if print != fingerprint(filter, sort) {
        return Err(Error::invalid(
            FIELD,
            "belongs to a listing with another filter or order_by",
        ));
    }
    let count = reader.take(1).ok_or_else(malformed)?[0] as usize;
    if count != sort.keys.len() {
        return Err(malformed());
    }
    let mut cursor = Vec::with_capacity(count);
    for (key, _) in &sort.keys {
        let tag = reader.take(1).ok_or_else(malformed)?[0];
        let value = match (tag, key.is_text()) {
            (0, false) => {
                CursorValue::Int(i64::from_le_bytes(reader.array().ok_or_else(malformed)?))
            }
            (1, true) => {
                let len = u32::from_le_bytes(reader.array().ok_or_else(malformed)?) as usize;
                let text = reader.take(len).ok_or_else(malformed)?;
                CursorValue::Text(String::from_utf8(text.to_vec()).map_err(|_| malformed())?)
            }
            _ => return Err(malformed()),
        };
        cursor.push(value);
    }
    if !reader.0.is_empty() {
        return Err(malformed());
    }
    Ok(cursor)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

/// A stable hash of what a token is valid for.
fn fingerprint(filter: &Filter, sort: &Sort) -> u64 {
    let mut bytes = Vec::new();
    let mut text = |t: Option<&str>| match t {
        Some(t) => {
            bytes.push(1);
            bytes.extend_from_slice(&(t.len() as u32).to_le_bytes());
            bytes.extend_from_slice(t.as_bytes());
        }
        None => bytes.push(0),
    };
    text(filter.customer.as_deref());
    text(filter.product.as_deref());
    for time in [filter.created_from, filter.created_before] {
        match time {
            Some(t) => {
                bytes.push(1);
                bytes.extend_from_slice(&t.to_le_bytes());
            }
            None => bytes.push(0),
        }
    }
    bytes.push(filter.statuses.len() as u8);
    bytes.extend(filter.statuses.iter().map(|s| *s as u8));
    for (key, descending) in &sort.keys {
        bytes.extend_from_slice(key.name().as_bytes());
        bytes.push(if *descending { b'-' } else { b'+' });
    }
    fnv1a(&bytes)
}

/// 64-bit FNV-1a: stable across processes and versions, unlike `std`'s hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Status;

    fn listing() -> (Filter, Sort, Vec<CursorValue>) {
        let filter = Filter {
            customer: Some("Ada Lovelace".into()),
            statuses: vec![Status::Paid, Status::Shipped],
            ..Filter::default()
        };
        let sort = Sort::parse("product desc").unwrap();
        let cursor = vec![CursorValue::Text("it's; DROP".into()), CursorValue::Int(42)];
        (filter, sort, cursor)
    }

    #[test]
    fn a_token_round_trips() {
        let (filter, sort, cursor) = listing();
        let token = encode(&filter, &sort, &cursor);
        assert_eq!(decode(&token, &filter, &sort).unwrap(), cursor);
    }

    #[test]
    fn every_single_byte_edit_is_refused() {
        let (filter, sort, cursor) = listing();
        let token = encode(&filter, &sort, &cursor);
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut edited = bytes.clone();
            edited[i] ^= 0x01;
            let err = decode(&URL_SAFE_NO_PAD.encode(&edited), &filter, &sort).unwrap_err();
            assert!(err.to_string().starts_with("page_token: "), "{err}");
        }
        for garbage in ["", "!!", "AAAA", &token[..token.len() - 2]] {
            assert!(decode(garbage, &filter, &sort).is_err(), "{garbage}");
        }
    }

    #[test]
    fn a_token_is_bound_to_its_filter_and_sort() {
        let (filter, sort, cursor) = listing();
        let token = encode(&filter, &sort, &cursor);
        let other_filter = Filter::default();
        let err = decode(&token, &other_filter, &sort).unwrap_err();
        assert!(err.to_string().contains("another filter"), "{err}");
        let other_sort = Sort::parse("product asc").unwrap();
        assert!(decode(&token, &filter, &other_sort).is_err());
    }
}
