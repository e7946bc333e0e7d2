//! The order tools: `get_order` (one order by id) and `list_orders` (orders matching a
//! customer, product and statuses, a page at a time).

use chatmesh_proto::relational::{
    GetOrderRequest, ListOrdersRequest, ListOrdersResponse, Order, OrderFilter, OrderStatus,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::arguments::ToolArgs;
use super::{Failure, Output, ToolDef, ToolKind};
use crate::backends::{Backends, CallContext};

/// Orders per page when `page_size` is not given.
const DEFAULT_PAGE_SIZE: i32 = 20;

/// The arguments of `get_order`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetOrderArgs {
    /// The order's id, e.g. 100001.
    #[schemars(range(min = 1))]
    order_id: i64,
}

impl ToolArgs for GetOrderArgs {}

/// An order status as the tools spell it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

/// The statuses with their protobuf values, in the order the tools list them.
const STATUSES: [(&str, OrderStatus); 6] = [
    ("pending", OrderStatus::Pending),
    ("paid", OrderStatus::Paid),
    ("shipped", OrderStatus::Shipped),
    ("delivered", OrderStatus::Delivered),
    ("cancelled", OrderStatus::Cancelled),
    ("refunded", OrderStatus::Refunded),
];

impl Status {
    fn proto(self) -> OrderStatus {
        STATUSES[self as usize].1
    }
}

/// The arguments of `list_orders`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListOrdersArgs {
    /// Only this customer's orders (exact, case-sensitive).
    #[schemars(length(min = 1, max = 256))]
    customer: Option<String>,
    /// Only orders of this product (exact), e.g. "4k monitor".
    #[schemars(length(min = 1, max = 256))]
    product: Option<String>,
    /// Only orders in one of these statuses.
    #[serde(default)]
    #[schemars(length(max = 6))]
    statuses: Vec<Status>,
    /// Comma-separated keys, each optionally followed by asc or desc: id, customer, product,
    /// quantity, status, total_cents, create_time, update_time; e.g. "total_cents desc". The
    /// default is "create_time desc".
    #[schemars(length(max = 256))]
    order_by: Option<String>,
    /// At most this many orders per page.
    #[serde(default = "page_size")]
    #[schemars(range(min = 1, max = 500))]
    page_size: i32,
    /// The page_token a previous call returned, for the next page (with the same filters and
    /// order_by).
    #[schemars(length(max = 4096))]
    page_token: Option<String>,
}

fn page_size() -> i32 {
    DEFAULT_PAGE_SIZE
}

impl ToolArgs for ListOrdersArgs {}

/// `get_order`.
pub(super) fn get_order_tool() -> ToolDef {
    ToolDef::new::<GetOrderArgs>(
        "get_order",
        "Look up an order",
        "Look up one order by its id: customer, product, quantity, status, total \
            and when it was created and last changed. Demo order ids start at 100001.",
        ToolKind::GetOrder,
    )
}

/// `list_orders`.
pub(super) fn list_orders_tool() -> ToolDef {
    ToolDef::new::<ListOrdersArgs>(
        "list_orders",
        "List orders",
        "List orders, newest first unless order_by says otherwise, optionally only \
            those of one customer (a person's full name, e.g. \"Ada Lovelace\"), one product or \
            some statuses. Returns one page and, when there are more, a page_token for the \
            next one.",
        ToolKind::ListOrders,
    )
}

/// Runs `get_order`.
pub(super) async fn get_order(
    backends: &Backends,
    ctx: &CallContext,
    args: GetOrderArgs,
) -> Result<Output, Failure> {
    let id = args.order_id;
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
    args: ListOrdersArgs,
) -> Result<Output, Failure> {
    let filter = OrderFilter {
        customer: args.customer.unwrap_or_default(),
        statuses: args.statuses.iter().map(|s| s.proto() as i32).collect(),
        create_time_after: None,
        create_time_before: None,
        product: args.product.unwrap_or_default(),
    };
    let request = ListOrdersRequest {
        filter: Some(filter),
        order_by: args.order_by.unwrap_or_default(),
        page_size: args.page_size,
        page_token: args.page_token.unwrap_or_default(),
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
pub(crate) fn list_text(response: &ListOrdersResponse) -> String {
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
pub(crate) fn describe(order: &Order) -> String {
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
