//! Fuzzes ListOrders validation with arbitrary request bytes, decoded as the gRPC server would:
//! every request becomes a query or an INVALID_ARGUMENT naming one of its fields, never a panic,
//! and an accepted query keeps the promises the store relies on (a total sort ending in a unique
//! key, a page size within the cap, an ordered status set, a non-empty time window) and survives
//! a round trip: its sort written back as `order_by` parses to the same sort, and a page token it
//! accepted is the one the service would issue for that cursor.

#![no_main]

use chatmesh_proto::relational as pb;
use chatmesh_relational::internals::convert;
use chatmesh_relational::internals::error::Error;
use chatmesh_relational::internals::page_token;
use chatmesh_relational::internals::query::{ListQuery, Sort, SortKey};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

const DEFAULT_SIZE: u32 = 50;
const MAX_SIZE: u32 = 500;
const FIELDS: [&str; 4] = ["filter.", "order_by", "page_size", "page_token"];

fuzz_target!(|data: &[u8]| {
    let Ok(request) = pb::ListOrdersRequest::decode(data) else {
        return;
    };
    let token = request.page_token.clone();
    match convert::list_query(request, DEFAULT_SIZE, MAX_SIZE) {
        Ok(query) => check_query(&query, &token),
        Err(Error::InvalidArgument { field, reason }) => {
            assert!(FIELDS.iter().any(|f| field.starts_with(f)), "{field}");
            assert!(!reason.is_empty());
        }
        Err(other) => panic!("validation failed with a non-argument error: {other:?}"),
    }
});

fn check_query(query: &ListQuery, token: &str) {
    assert!((1..=MAX_SIZE).contains(&query.limit));
    let filter = &query.filter;
    assert!(filter.statuses.windows(2).all(|w| w[0] < w[1]));
    if let (Some(from), Some(before)) = (filter.created_from, filter.created_before) {
        assert!(from < before);
    }
    for text in [&filter.customer, &filter.product].into_iter().flatten() {
        assert!(!text.trim().is_empty() && !text.contains('\0'));
    }
    check_sort(&query.sort);
    match &query.after {
        None => assert!(token.is_empty()),
        Some(cursor) => assert_eq!(page_token::encode(filter, &query.sort, cursor), token),
    }
}

fn check_sort(sort: &Sort) {
    let keys: Vec<SortKey> = sort.keys.iter().map(|(k, _)| *k).collect();
    assert!(keys.contains(&SortKey::Id));
    for (i, key) in keys.iter().enumerate() {
        assert!(!keys[..i].contains(key), "{key:?} twice");
    }
    let written = sort
        .keys
        .iter()
        .map(|(k, desc)| format!("{} {}", k.name(), if *desc { "desc" } else { "asc" }))
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(Sort::parse(&written).as_ref(), Ok(sort), "{written}");
}
