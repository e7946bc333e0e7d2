//! Fuzzes the validation of CreateOrder, UpdateOrder, AggregateOrders and ExportOrders requests
//! (the first byte picks one; the rest is the request's protobuf bytes): each becomes validated
//! domain values or an INVALID_ARGUMENT naming a field of that request, never a panic, and what
//! is accepted keeps the table's rules (ids and versions >= 1, quantity > 0, totals >= 0, text
//! that is neither empty nor blank, an update mask that changes something).

#![no_main]

use chatmesh_proto::relational as pb;
use chatmesh_relational::internals::convert;
use chatmesh_relational::internals::error::{Error, Result};
use chatmesh_relational::internals::order::{Patch, check_text};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 4 {
        0 => create(bytes),
        1 => update(bytes),
        2 => aggregate(bytes),
        _ => export(bytes),
    }
});

fn create(bytes: &[u8]) {
    let Ok(request) = pb::CreateOrderRequest::decode(bytes) else {
        return;
    };
    let fields = [
        "id",
        "customer",
        "product",
        "quantity",
        "status",
        "total_cents",
    ];
    if let Some(order) = accepted(convert::new_order(request), &fields) {
        assert!(order.id.is_none_or(|id| id >= 1));
        assert!(check_text("customer", &order.customer).is_ok());
        assert!(check_text("product", &order.product).is_ok());
        assert!(order.quantity > 0 && order.total_cents >= 0);
    }
}

fn update(bytes: &[u8]) {
    let Ok(request) = pb::UpdateOrderRequest::decode(bytes) else {
        return;
    };
    let fields = ["order", "update_mask", "expected_version"];
    if let Some((id, patch, version)) = accepted(convert::update(request), &fields) {
        assert!(id >= 1 && version >= 1);
        assert_ne!(
            patch,
            Patch::default(),
            "an accepted mask must change something"
        );
        for text in [&patch.customer, &patch.product].into_iter().flatten() {
            assert!(check_text("order", text).is_ok());
        }
        assert!(patch.quantity.is_none_or(|q| q > 0));
        assert!(patch.total_cents.is_none_or(|t| t >= 0));
    }
}

fn aggregate(bytes: &[u8]) {
    let Ok(request) = pb::AggregateOrdersRequest::decode(bytes) else {
        return;
    };
    let checked = convert::filter("filter", request.filter)
        .and_then(|filter| Ok((filter, convert::group_by(request.group_by)?)));
    accepted(checked, &["filter.", "group_by"]);
}

fn export(bytes: &[u8]) {
    let Ok(request) = pb::ExportOrdersRequest::decode(bytes) else {
        return;
    };
    let checked = convert::filter("filter", request.filter).and_then(|filter| {
        Ok((
            filter,
            convert::size("batch_size", request.batch_size, 100, 1000)?,
        ))
    });
    if let Some((_, batch)) = accepted(checked, &["filter.", "batch_size"]) {
        assert!((1..=1000).contains(&batch));
    }
}

/// The accepted value, or `None` after checking that the refusal names one of `fields` (a
/// prefix ending in `.` stands for the fields under it).
fn accepted<T>(outcome: Result<T>, fields: &[&str]) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(Error::InvalidArgument { field, reason }) => {
            let named = |f: &&str| match f.strip_suffix('.') {
                Some(_) => field.starts_with(f),
                None => field == *f || field.starts_with(&format!("{f}.")),
            };
            assert!(fields.iter().any(named), "{field}: {reason}");
            assert!(!reason.is_empty());
            None
        }
        Err(other) => panic!("validation failed with a non-argument error: {other:?}"),
    }
}
