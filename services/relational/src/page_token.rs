//! The `page_token` of `ListOrders`: a keyset cursor in the runtime's one token format
//! ([`chatmesh_runtime::page_token`]), bound to the listing's filter and sort.
//!
//! The cursor is the number of sort keys, then per key a tag (0 integer, 1 text) and the value.
//! A token from another filter or sort, a truncated or edited one, or anything that is not a
//! token is INVALID_ARGUMENT. The cursor values are bound as statement parameters, never spliced
//! into SQL, so even a forged token can only move the page boundary.

use chatmesh_runtime::page_token::{self, Fields, PageTokenError, Reader};

use crate::error::{Error, Result};
use crate::query::{CursorValue, Filter, Sort};

const FIELD: &str = "page_token";

/// The token that continues after `cursor` in a listing of `filter` sorted by `sort`.
pub fn encode(filter: &Filter, sort: &Sort, cursor: &[CursorValue]) -> String {
    let fields =
        cursor.iter().fold(
            Fields::new().u64(cursor.len() as u64),
            |fields, value| match value {
                CursorValue::Int(n) => fields.u64(0).i64(*n),
                CursorValue::Text(text) => fields.u64(1).str(text),
            },
        );
    page_token::encode(fingerprint(filter, sort), &fields)
}

/// The cursor in `token`, checked against the request's `filter` and `sort`.
pub fn decode(token: &str, filter: &Filter, sort: &Sort) -> Result<Vec<CursorValue>> {
    page_token::decode(token, fingerprint(filter, sort), |r| read(r, sort)).map_err(|e| match e {
        PageTokenError::Malformed => {
            Error::invalid(FIELD, "is not a page token issued by this service")
        }
        PageTokenError::OtherRequest => Error::invalid(
            FIELD,
            "belongs to a listing with another filter or order_by",
        ),
    })
}

fn read(reader: &mut Reader<'_>, sort: &Sort) -> Option<Vec<CursorValue>> {
    if reader.u64()? != sort.keys.len() as u64 {
        return None;
    }
    sort.keys
        .iter()
        .map(|(key, _)| match (reader.u64()?, key.is_text()) {
            (0, false) => Some(CursorValue::Int(reader.i64()?)),
            (1, true) => Some(CursorValue::Text(reader.string()?)),
            _ => None,
        })
        .collect()
}

/// What a token is valid for: the filter and the sort.
fn fingerprint(filter: &Filter, sort: &Sort) -> u64 {
    let text = |fields: Fields, t: Option<&str>| match t {
        Some(t) => fields.u64(1).str(t),
        None => fields.u64(0),
    };
    let time = |fields: Fields, t: Option<i64>| match t {
        Some(t) => fields.u64(1).i64(t),
        None => fields.u64(0),
    };
    let mut fields = text(Fields::new(), filter.customer.as_deref());
    fields = text(fields, filter.product.as_deref());
    fields = time(fields, filter.created_from);
    fields = time(fields, filter.created_before);
    fields = fields.u64(filter.statuses.len() as u64);
    for status in &filter.statuses {
        fields = fields.u64(*status as u64);
    }
    for (key, descending) in &sort.keys {
        fields = fields.str(key.name()).u64(u64::from(*descending));
    }
    fields.fingerprint()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Status;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
