//! Between the wire and the domain: each request message becomes validated domain values (an
//! INVALID_ARGUMENT names the field by its path in the request), and domain values become
//! response messages.

use chatmesh_proto::relational as pb;
use prost_types::{FieldMask, Timestamp};

use crate::error::{Error, Result};
use crate::order::{
    NewOrder, Order, Patch, Status, check_new_id, check_positive, check_quantity, check_text,
    check_total,
};
use crate::page_token;
use crate::query::{Filter, Group, GroupBy, ListQuery, Sort};

/// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range a Timestamp may hold.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// An order as the contract shows it.
pub(crate) fn order_to_pb(order: Order) -> pb::Order {
    pb::Order {
        id: order.id,
        customer: order.customer,
        product: order.product,
        quantity: order.quantity,
        status: order.status as i32,
        total_cents: order.total_cents,
        create_time: Some(micros_to_timestamp(order.created_at)),
        update_time: Some(micros_to_timestamp(order.updated_at)),
        version: order.version,
    }
}

/// A group as the contract shows it: status keys become `ORDER_STATUS_*` names.
pub(crate) fn group_to_pb(group: Group, group_by: GroupBy) -> pb::OrderGroup {
    let key = match (group_by, Status::from_db(&group.key)) {
        (GroupBy::Status, Some(status)) => pb::OrderStatus::try_from(status as i32)
            .map(|s| s.as_str_name().to_owned())
            .unwrap_or(group.key),
        _ => group.key,
    };
    pb::OrderGroup {
        key,
        order_count: group.count,
        total_cents_sum: group.total_cents,
        quantity_sum: group.quantity,
    }
}

/// Microseconds since the epoch as a Timestamp.
pub(crate) fn micros_to_timestamp(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// A Timestamp as microseconds since the epoch, rounded up: the stored precision is a
/// microsecond, and `created_at >= t` / `created_at < t` mean the same after rounding up.
fn timestamp_to_micros(field: &str, t: &Timestamp) -> Result<i64> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&t.seconds) || !(0..1_000_000_000).contains(&t.nanos) {
        return Err(Error::invalid(
            field,
            "is not a valid timestamp (years 1 to 9999, nanos 0 to 999999999)",
        ));
    }
    Ok(t.seconds * 1_000_000 + (i64::from(t.nanos) + 999) / 1_000)
}

/// A contract status number: UNSPECIFIED gives `unspecified`, unknown numbers are refused.
fn status(field: &str, number: i32, unspecified: Option<Status>) -> Result<Status> {
    match (number, unspecified) {
        (0, Some(default)) => Ok(default),
        (0, None) => Err(Error::invalid(
            field,
            "must not be ORDER_STATUS_UNSPECIFIED",
        )),
        (n, _) => Status::from_number(n)
            .ok_or_else(|| Error::invalid(field, format!("{n} is not an OrderStatus"))),
    }
}

/// Validates a CreateOrder request.
pub fn new_order(request: pb::CreateOrderRequest) -> Result<NewOrder> {
    if let Some(id) = request.id {
        check_new_id("id", id)?;
    }
    check_text("customer", &request.customer)?;
    check_text("product", &request.product)?;
    check_quantity("quantity", request.quantity)?;
    check_total("total_cents", request.total_cents)?;
    Ok(NewOrder {
        id: request.id,
        status: status("status", request.status, Some(Status::Pending))?,
        customer: request.customer,
        product: request.product,
        quantity: request.quantity,
        total_cents: request.total_cents,
    })
}

/// The fields an update mask may name.
const MASK_PATHS: [&str; 5] = ["customer", "product", "quantity", "status", "total_cents"];

/// Validates an UpdateOrder request: `(id, patch, expected_version)`.
pub fn update(request: pb::UpdateOrderRequest) -> Result<(i64, Patch, i64)> {
    let order = request
        .order
        .ok_or_else(|| Error::invalid("order", "is required"))?;
    check_positive("order.id", order.id)?;
    check_positive("expected_version", request.expected_version)?;
    let paths = mask_paths(request.update_mask)?;
    let mut patch = Patch::default();
    for path in paths {
        match path {
            "customer" => {
                check_text("order.customer", &order.customer)?;
                patch.customer = Some(order.customer.clone());
            }
            "product" => {
                check_text("order.product", &order.product)?;
                patch.product = Some(order.product.clone());
            }
            "quantity" => {
                check_quantity("order.quantity", order.quantity)?;
                patch.quantity = Some(order.quantity);
            }
            "status" => patch.status = Some(status("order.status", order.status, None)?),
            _ => {
                check_total("order.total_cents", order.total_cents)?;
                patch.total_cents = Some(order.total_cents);
            }
        }
    }
    Ok((order.id, patch, request.expected_version))
}

/// The mask's paths, each one of [`MASK_PATHS`]; `*` alone means all of them.
fn mask_paths(mask: Option<FieldMask>) -> Result<Vec<&'static str>> {
    const FIELD: &str = "update_mask";
    let paths = mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(Error::invalid(
            FIELD,
            "is required and must name at least one field",
        ));
    }
    if paths.iter().any(|p| p == "*") {
        if paths.len() > 1 {
            return Err(Error::invalid(FIELD, "\"*\" must be the only path"));
        }
        return Ok(MASK_PATHS.to_vec());
    }
    let mut known = Vec::with_capacity(paths.len());
    for path in &paths {
        match MASK_PATHS.iter().find(|p| **p == path.as_str()) {
            Some(p) if !known.contains(p) => known.push(*p),
            Some(_) => {}
            None if ["id", "create_time", "update_time", "version"].contains(&path.as_str()) => {
                return Err(Error::invalid(FIELD, format!("'{path}' is output only")));
            }
            None => {
                return Err(Error::invalid(
                    FIELD,
                    format!(
                        "unknown path '{}'; allowed: {} or \"*\"",
                        path.escape_debug(),
                        MASK_PATHS.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(known)
}

/// Validates an optional filter (`field` is its path, e.g. `filter`).
pub fn filter(field: &str, filter: Option<pb::OrderFilter>) -> Result<Filter> {
    let Some(f) = filter else {
        return Ok(Filter::default());
    };
    let text = |name: &str, value: String| -> Result<Option<String>> {
        if value.is_empty() {
            return Ok(None);
        }
        check_text(&format!("{field}.{name}"), &value)?;
        Ok(Some(value))
    };
    let mut statuses = f
        .statuses
        .iter()
        .map(|n| status(&format!("{field}.statuses"), *n, None))
        .collect::<Result<Vec<_>>>()?;
    statuses.sort();
    statuses.dedup();
    let time = |name: &str, t: Option<Timestamp>| {
        t.map(|t| timestamp_to_micros(&format!("{field}.{name}"), &t))
            .transpose()
    };
    let created_from = time("create_time_after", f.create_time_after)?;
    let created_before = time("create_time_before", f.create_time_before)?;
    if let (Some(from), Some(before)) = (created_from, created_before)
        && before <= from
    {
        return Err(Error::invalid(
            format!("{field}.create_time_before"),
            "must be later than create_time_after",
        ));
    }
    Ok(Filter {
        customer: text("customer", f.customer)?,
        product: text("product", f.product)?,
        statuses,
        created_from,
        created_before,
    })
}

/// Validates a ListOrders request: its filter, `order_by`, page size (0 means `default_size`,
/// at most `max_size`) and page token (which must belong to that filter and sort).
pub fn list_query(
    request: pb::ListOrdersRequest,
    default_size: u32,
    max_size: u32,
) -> Result<ListQuery> {
    let filter = filter("filter", request.filter)?;
    let sort = Sort::parse(&request.order_by)?;
    let limit = size("page_size", request.page_size, default_size, max_size)?;
    let after = match request.page_token.as_str() {
        "" => None,
        token => Some(page_token::decode(token, &filter, &sort)?),
    };
    Ok(ListQuery {
        filter,
        sort,
        limit,
        after,
    })
}

/// A GroupBy number; UNSPECIFIED and unknown numbers are refused.
pub fn group_by(number: i32) -> Result<GroupBy> {
    match pb::GroupBy::try_from(number) {
        Ok(pb::GroupBy::Status) => Ok(GroupBy::Status),
        Ok(pb::GroupBy::Customer) => Ok(GroupBy::Customer),
        Ok(pb::GroupBy::Product) => Ok(GroupBy::Product),
        _ => Err(Error::invalid(
            "group_by",
            "is required: GROUP_BY_STATUS, GROUP_BY_CUSTOMER or GROUP_BY_PRODUCT",
        )),
    }
}

/// A page or batch size: negative is refused, 0 means `default`, above `cap` means `cap`.
pub fn size(field: &str, requested: i32, default: u32, cap: u32) -> Result<u32> {
    match requested {
        n if n < 0 => Err(Error::invalid(
            field,
            format!("must not be negative, got {n}"),
        )),
        0 => Ok(default.min(cap)),
        n => Ok((n as u32).min(cap)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_at_microsecond_precision() {
        for micros in [0, 1, -1, 1_700_000_000_123_456, -62_135_596_800_000_000] {
            let t = micros_to_timestamp(micros);
            assert_eq!(timestamp_to_micros("t", &t).unwrap(), micros);
        }
        let t = Timestamp {
            seconds: 1,
            nanos: 1,
        };
        assert_eq!(timestamp_to_micros("t", &t).unwrap(), 1_000_001);
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert!(timestamp_to_micros("filter.x", &bad).is_err());
    }

    #[test]
    fn masks_are_checked() {
        let mask = |paths: &[&str]| {
            Some(FieldMask {
                paths: paths.iter().map(|p| p.to_string()).collect(),
            })
        };
        assert_eq!(mask_paths(mask(&["*"])).unwrap().len(), 5);
        assert_eq!(
            mask_paths(mask(&["status", "status"])).unwrap(),
            vec!["status"]
        );
        for bad in [vec![], vec!["*", "status"], vec!["version"], vec!["price"]] {
            let err = mask_paths(mask(&bad)).unwrap_err();
            assert!(err.to_string().starts_with("update_mask: "), "{err}");
        }
        assert!(mask_paths(None).is_err());
    }

    #[test]
    fn sizes_default_and_cap() {
        assert_eq!(size("page_size", 0, 50, 500).unwrap(), 50);
        assert_eq!(size("page_size", 9999, 50, 500).unwrap(), 500);
        assert!(size("page_size", -1, 50, 500).is_err());
    }
}
