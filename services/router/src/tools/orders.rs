//! The order tools: `get_order` (one order by id) and `list_orders` (orders matching a
//! customer, product and statuses, a page at a time).

use chatmesh_proto::relational::{
    GetOrderRequest, ListOrdersRequest, ListOrdersResponse, Order, OrderFilter, OrderStatus,
};
use serde_json::json;

use super::{Args, Failure, Output, ToolDef, ToolKind};
use crate::backends::{Backends, CallContext};

/// Orders per page when `page_size` is not given.
const DEFAULT_PAGE_SIZE: i32 = 20;

/// The statuses as the tools spell them, with their protobuf values.
const STATUSES: [(&str, OrderStatus); 6] = [
    ("pending", OrderStatus::Pending),
    ("paid", OrderStatus::Paid),
    ("shipped", OrderStatus::Shipped),
    ("delivered", OrderStatus::Delivered),
    ("cancelled", OrderStatus::Cancelled),
    ("refunded", OrderStatus::Refunded),
];

/// `get_order`.
pub(super) fn get_order_tool() -> ToolDef {
    ToolDef {
        name: "get_order",
        description: "Look up one order by its id: customer, product, quantity, status, total \
            and when it was created and last changed. Demo order ids start at 100001.",
        schema: json!({
            "type": "object",
            "properties": {
                "order_id": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The order's id, e.g. 100001.",
                },
            },
            "required": ["order_id"],
            "additionalProperties": false,
        }),
        kind: ToolKind::GetOrder,
    }
}

/// `list_orders`.
pub(super) fn list_orders_tool() -> ToolDef {
    let statuses: Vec<&str> = STATUSES.iter().map(|(name, _)| *name).collect();
    ToolDef {
        name: "list_orders",
        description: "List orders, newest first unless order_by says otherwise, optionally only \
            those of one customer (a person's full name, e.g. \"Ada Lovelace\"), one product or \
            some statuses. Returns one page and, when there are more, a page_token for the \
            next one.",
        schema: json!({
            "type": "object",
            "properties": {
                "customer": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 256,
                    "description": "Only this customer's orders (exact, case-sensitive).",
                },
                "product": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 256,
                    "description": "Only orders of this product (exact), e.g. \"4k monitor\".",
                },
                "statuses": {
                    "type": "array",
                    "items": {"type": "string", "enum": statuses},
                    "maxItems": 6,
                    "description": "Only orders in one of these statuses.",
                },
                "order_by": {
                    "type": "string",
                    "maxLength": 256,
                    "default": "create_time desc",
                    "description": "Comma-separated keys, each optionally followed by asc or \
                                    desc: id, customer, product, quantity, status, total_cents, \
                                    create_time, update_time; e.g. \"total_cents desc\".",
                },
                "page_size": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 500,
                    "default": DEFAULT_PAGE_SIZE,
                    "description": "At most this many orders per page.",
                },
                "page_token": {
                    "type": "string",
                    "maxLength": 4096,
                    "description": "The page_token a previous call returned, for the next \
                                    page (with the same filters and order_by).",
                },
            },
            "additionalProperties": false,
        }),
        kind: ToolKind::ListOrders,
    }
}

/// Runs `get_order`.
pub(super) async fn get_order(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let id = args
        .integer("order_id")?
        .ok_or_else(|| args.invalid("order_id", "is required"))?;
    let response = backends
        .relational
        .get_order(ctx, GetOrderRequest { id })
        .await
        .map_err(|status| Failure::backend("relational", &status))?;
    let text = match &response.order {
        Some(order) => describe(order),
        None => format!("order {id}: the relational service returned no order"),
    };
    Ok(Output::new(
        text,
        &response,
        "chatmesh.relational.v1.GetOrderResponse",
    ))
}

/// Runs `list_orders`.
pub(super) async fn list_orders(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let statuses = args
        .strings("statuses")?
        .iter()
        .map(|name| {
            STATUSES
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, status)| *status as i32)
                .ok_or_else(|| args.invalid("statuses", &format!("has an unknown status {name:?}")))
        })
        .collect::<Result<Vec<i32>, _>>()?;
    let filter = OrderFilter {
        customer: args.string("customer")?.unwrap_or_default().to_owned(),
        statuses,
        create_time_after: None,
        create_time_before: None,
        product: args.string("product")?.unwrap_or_default().to_owned(),
    };
    let request = ListOrdersRequest {
        filter: Some(filter),
        order_by: args.string("order_by")?.unwrap_or_default().to_owned(),
        page_size: args.int32("page_size")?.unwrap_or(DEFAULT_PAGE_SIZE),
        page_token: args.string("page_token")?.unwrap_or_default().to_owned(),
    };
    let response = backends
        .relational
        .list_orders(ctx, request)
        .await
        .map_err(|status| Failure::backend("relational", &status))?;
    Ok(Output::new(
        list_text(&response),
        &response,
        "chatmesh.relational.v1.ListOrdersResponse",
    ))
}

/// A page of orders for people to read.
pub(super) fn list_text(response: &ListOrdersResponse) -> String {
    let mut text = format!(
        "{} order{} on this page, {} matching in all:",
        response.orders.len(),
        if response.orders.len() == 1 { "" } else { "s" },
        response.total_size
    );
    for order in &response.orders {
        text.push_str("\n- ");
        text.push_str(&describe(order));
    }
    if !response.next_page_token.is_empty() {
        text.push_str(&format!(
            "\nMore orders: call list_orders again with page_token {:?}.",
            response.next_page_token
        ));
    }
    text
}

/// One order for people to read.
pub(super) fn describe(order: &Order) -> String {
    let status = STATUSES
        .iter()
        .find(|(_, status)| *status as i32 == order.status)
        .map_or("unknown", |(name, _)| *name);
    let mut text = format!(
        "order {}: {} ordered {} x {}, status {status}, total {}.{:02}",
        order.id,
        order.customer,
        order.quantity,
        order.product,
        order.total_cents / 100,
        order.total_cents % 100
    );
    if let Some(created) = order.create_time.as_ref().and_then(timestamp) {
        text.push_str(&format!(", created {created}"));
    }
    if order.update_time != order.create_time
        && let Some(updated) = order.update_time.as_ref().and_then(timestamp)
    {
        text.push_str(&format!(", updated {updated}"));
    }
    text
}

fn timestamp(ts: &prost_types::Timestamp) -> Option<String> {
    let time = std::time::SystemTime::try_from(*ts).ok()?;
    Some(humantime::format_rfc3339_seconds(time).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_read_naturally() {
        let order = Order {
            id: 100001,
            customer: "Ada Lovelace".into(),
            product: "4k monitor".into(),
            quantity: 2,
            status: OrderStatus::Shipped as i32,
            total_cents: 77_805,
            create_time: Some(prost_types::Timestamp {
                seconds: 1_736_154_000,
                nanos: 0,
            }),
            update_time: Some(prost_types::Timestamp {
                seconds: 1_736_154_000,
                nanos: 0,
            }),
            version: 1,
        };
        assert_eq!(
            describe(&order),
            "order 100001: Ada Lovelace ordered 2 x 4k monitor, status shipped, total 778.05, \
             created 2025-01-06T09:00:00Z"
        );
    }
}
