//! Fuzzes page-token decoding. Random text almost never gets past a token's checksum, so most
//! inputs are forged the way an attacker who knows the format would: a real token's header for
//! the listing (version and filter fingerprint, or fuzzed ones), a fuzzed body, and a correct
//! checksum. Whatever the token, decoding gives a cursor or an INVALID_ARGUMENT for
//! `page_token`; an accepted cursor fits the sort (one value per key, of the key's type) and
//! re-encodes to exactly the token it came from. Cursors built from the input also round-trip.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatmesh_relational::internals::error::Error;
use chatmesh_relational::internals::order::Status;
use chatmesh_relational::internals::page_token::{decode, encode};
use chatmesh_relational::internals::query::{CursorValue, Filter, Sort};
use libfuzzer_sys::fuzz_target;

/// Flags in the first byte.
const RAW_TEXT: u8 = 1;
const FORGED_HEADER: u8 = 2;
/// Version byte plus the 8-byte fingerprint that open every token.
const HEADER_LEN: usize = 9;

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(flags) = input.byte() else { return };
    let sort = Sort::parse(&input.text()).unwrap_or_else(|_| Sort::parse("").unwrap());
    let filter = filter(flags, input.text());
    let rest = input.0;

    let token = if flags & RAW_TEXT != 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        forge(&filter, &sort, flags & FORGED_HEADER != 0, rest)
    };
    check_decode(&token, &filter, &sort);

    if let Some(cursor) = cursor_for(&sort, rest) {
        let issued = encode(&filter, &sort, &cursor);
        assert_eq!(decode(&issued, &filter, &sort), Ok(cursor));
    }
});

fn check_decode(token: &str, filter: &Filter, sort: &Sort) {
    match decode(token, filter, sort) {
        Ok(cursor) => {
            assert_eq!(cursor.len(), sort.keys.len());
            for (value, (key, _)) in cursor.iter().zip(&sort.keys) {
                assert_eq!(matches!(value, CursorValue::Text(_)), key.is_text());
            }
            assert_eq!(encode(filter, sort, &cursor), token);
        }
        Err(Error::InvalidArgument { field, reason }) => {
            assert_eq!(field, "page_token");
            assert!(!reason.is_empty());
        }
        Err(other) => panic!("decoding failed with a non-argument error: {other:?}"),
    }
}

/// A token with a valid checksum: the listing's real header (or the body's own first bytes when
/// `own_header`), then `body`.
fn forge(filter: &Filter, sort: &Sort, own_header: bool, body: &[u8]) -> String {
    let mut bytes = if own_header {
        Vec::new()
    } else {
        let real = URL_SAFE_NO_PAD
            .decode(encode(filter, sort, &[]))
            .expect("issued tokens are base64");
        real[..HEADER_LEN].to_vec()
    };
    bytes.extend_from_slice(body);
    let sum = fnv1a(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The token format's checksum (64-bit FNV-1a), so forged bodies get past it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn filter(flags: u8, customer: String) -> Filter {
    let statuses = Status::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| flags & (4 << i) != 0)
        .map(|(_, s)| s)
        .collect();
    Filter {
        customer: (!customer.is_empty()).then_some(customer),
        statuses,
        created_from: (flags & 0x80 != 0).then_some(i64::from(flags)),
        ..Filter::default()
    }
}

/// A cursor of the sort's shape from the input's bytes, if there are enough.
fn cursor_for(sort: &Sort, bytes: &[u8]) -> Option<Vec<CursorValue>> {
    let mut input = Input(bytes);
    sort.keys
        .iter()
        .map(|(key, _)| {
            if key.is_text() {
                Some(CursorValue::Text(input.text()))
            } else {
                Some(CursorValue::Int(i64::from_le_bytes(
                    input.take(8)?.try_into().ok()?,
                )))
            }
        })
        .collect()
}

/// Reads length-prefixed fields off the front of the fuzz input.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    /// A string of up to 255 bytes (its length is the first byte); lossy UTF-8.
    fn text(&mut self) -> String {
        let len = usize::from(self.byte().unwrap_or(0)).min(self.0.len());
        String::from_utf8_lossy(self.take(len).unwrap_or_default()).into_owned()
    }
}
