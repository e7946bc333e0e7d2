//! Hostile text through every RPC that takes text: SQL injection attempts, quotes, comment and
//! dollar-quote markers, wildcards, control characters and very long strings. Each is either
//! stored and returned verbatim, or refused by a limit with INVALID_ARGUMENT (NUL, too long) or
//! RESOURCE_EXHAUSTED (larger than a message may be); afterwards the table holds exactly the
//! baseline rows plus the intended ones, unchanged.

mod common;

use chatmesh_proto::relational as pb;
use common::{Client, Engine, Service, TestDb, assert_code, create, export_all, get, new_order};
use prost_types::FieldMask;
use tonic::Code;

both_engines!(hostile_strings_are_data_never_sql);

fn corpus() -> Vec<String> {
    [
        "'; DROP TABLE orders; --",
        "Robert'); DELETE FROM orders WHERE ('1'='1",
        "' OR '1'='1",
        "\" OR \"\"=\"",
        "1; UPDATE orders SET total_cents = 0",
        "' UNION SELECT version, description FROM _sqlx_migrations --",
        "%' OR customer LIKE '%",
        "_%_",
        "\\'; DROP TABLE orders; --",
        "$$; DROP TABLE orders; $$",
        "$1",
        "?",
        "/* */ --",
        "O'Brien",
        "\u{1}\u{1b}[31mred\u{7f}",
        "emoji 😀 and right-to-left \u{202e}override",
        "line\nbreak\ttab\rreturn",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["'".repeat(256), "é".repeat(256)])
    .collect()
}

async fn hostile_strings_are_data_never_sql(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;

    let mut expected = Vec::new();
    for i in 0..5 {
        let order = create(
            &mut client,
            new_order("Margaret Hamilton", &format!("apollo-{i}"), 1, 100),
        )
        .await;
        expected.push(order);
    }

    for hostile in corpus() {
        let created = stored_and_matched_verbatim(&mut client, &hostile).await;
        expected.push(updated_verbatim(&mut client, &created, &hostile).await);
        refused_as_syntax(&mut client, &created, &hostile).await;
    }

    refused_by_limits(&mut client).await;

    // The table holds exactly the baseline and the intended rows.
    let mut all = export_all(&mut client).await;
    all.sort_by_key(|o| o.id);
    assert_eq!(all, expected);
    service.stop().await.unwrap();
}

/// `hostile` is stored verbatim as customer and product, and as a filter it matches exactly
/// that row, nothing more.
async fn stored_and_matched_verbatim(client: &mut Client, hostile: &str) -> pb::Order {
    let created = client
        .create_order(new_order(hostile, hostile, 1, 1))
        .await
        .unwrap_or_else(|e| panic!("{hostile:?}: {e}"))
        .into_inner()
        .order
        .unwrap();
    assert_eq!((&*created.customer, &*created.product), (hostile, hostile));
    let got = get(client, pb::GetOrderRequest { id: created.id }).await;
    assert_eq!(got, created, "{hostile:?}");

    let page = client
        .list_orders(pb::ListOrdersRequest {
            filter: Some(pb::OrderFilter {
                customer: hostile.to_owned(),
                product: hostile.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.orders, vec![created.clone()], "{hostile:?}");
    created
}

/// As an update value `hostile` is stored verbatim too; the row as it is afterwards.
async fn updated_verbatim(client: &mut Client, created: &pb::Order, hostile: &str) -> pb::Order {
    let updated = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(pb::Order {
                id: created.id,
                product: format!("{hostile}!"),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["product".into()],
            }),
            expected_version: 1,
        })
        .await
        .ok()
        .and_then(|r| r.into_inner().order);
    match updated {
        Some(updated) => {
            assert_eq!(updated.product, format!("{hostile}!"));
            updated
        }
        None => {
            // 256 characters plus "!" is over the limit: refused, nothing changed.
            assert_eq!(hostile.chars().count(), 256);
            created.clone()
        }
    }
}

/// As order_by, page_token or an update_mask path `hostile` is refused.
async fn refused_as_syntax(client: &mut Client, created: &pb::Order, hostile: &str) {
    let bad_sort = client
        .list_orders(pb::ListOrdersRequest {
            order_by: hostile.to_owned(),
            ..Default::default()
        })
        .await;
    assert_code(bad_sort, Code::InvalidArgument, "order_by");
    let bad_token = client
        .list_orders(pb::ListOrdersRequest {
            page_token: hostile.to_owned(),
            ..Default::default()
        })
        .await;
    assert_code(bad_token, Code::InvalidArgument, "page_token");
    let bad_mask = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(created.clone()),
            update_mask: Some(FieldMask {
                paths: vec![hostile.to_owned()],
            }),
            expected_version: 2,
        })
        .await;
    assert_code(bad_mask, Code::InvalidArgument, "update_mask");
}

/// NUL and over-long text are refused by limits, before the database sees them.
async fn refused_by_limits(client: &mut Client) {
    let nul = client.create_order(new_order("a\0b", "x", 1, 1)).await;
    assert_code(nul, Code::InvalidArgument, "customer: must not contain NUL");
    let megabyte = "x".repeat(1 << 20);
    let long = client.create_order(new_order("x", &megabyte, 1, 1)).await;
    assert_code(
        long,
        Code::InvalidArgument,
        "product: is 1048576 characters",
    );
    let long_filter = client
        .list_orders(pb::ListOrdersRequest {
            filter: Some(pb::OrderFilter {
                customer: megabyte.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await;
    assert_code(long_filter, Code::InvalidArgument, "filter.customer");
    let huge = "x".repeat(5 << 20);
    let too_big = client.create_order(new_order(&huge, "x", 1, 1)).await;
    assert_eq!(too_big.unwrap_err().code(), Code::ResourceExhausted);
}
