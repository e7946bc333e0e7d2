//! The RelationalService reads through gRPC over a real socket, on SQLite and on PostgreSQL:
//! list (filters, sort, paging, tokens), aggregate, export, the demo seed, and the error codes
//! of each. The writes are in `rpc.rs`.

mod common;

use chatmesh_proto::relational as pb;
use common::{Engine, Service, TestDb, assert_code, create, export_all, new_order};
use prost_types::Timestamp;
use tonic::Code;

both_engines!(
    list_filters_sorts_and_pages,
    page_tokens_are_checked,
    aggregate_groups,
    export_streams_in_batches,
    demo_seed_is_idempotent,
);

/// Creates `n` orders over 3 customers and all statuses; returns them in creation order.
async fn populate(client: &mut common::Client, n: usize) -> Vec<pb::Order> {
    let customers = ["Ada Lovelace", "Grace Hopper", "Alan Turing"];
    let mut orders = Vec::new();
    for i in 0..n {
        let request = pb::CreateOrderRequest {
            status: (i % 6 + 1) as i32,
            ..new_order(
                customers[i % 3],
                &format!("product-{}", i % 4),
                (i % 5 + 1) as i32,
                (i * 100) as i64,
            )
        };
        orders.push(create(client, request).await);
    }
    orders
}

async fn list_all(
    client: &mut common::Client,
    request: pb::ListOrdersRequest,
) -> (Vec<pb::Order>, usize, i64) {
    let mut request = request;
    let mut orders = Vec::new();
    let mut pages = 0;
    let mut total = -1;
    loop {
        let page = client
            .list_orders(request.clone())
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(total == -1 || total == page.total_size);
        total = page.total_size;
        orders.extend(page.orders);
        if page.next_page_token.is_empty() {
            return (orders, pages, total);
        }
        request.page_token = page.next_page_token;
    }
}

/// Lists every page of `all` sorted by `order_by` and compares with `all` sorted by `cmp`.
async fn assert_listing(
    client: &mut common::Client,
    all: &[pb::Order],
    order_by: &str,
    page_size: i32,
    cmp: impl FnMut(&pb::Order, &pb::Order) -> std::cmp::Ordering,
) {
    let request = pb::ListOrdersRequest {
        order_by: order_by.into(),
        page_size,
        ..Default::default()
    };
    let (listed, pages, total) = list_all(client, request).await;
    let mut expected = all.to_vec();
    expected.sort_by(cmp);
    assert_eq!(listed, expected, "order_by {order_by:?}");
    assert_eq!(total, all.len() as i64);
    assert_eq!(pages, all.len().div_ceil(page_size as usize));
}

async fn list_filters_sorts_and_pages(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let all = populate(&mut client, 30).await;
    sorts_page_through_everything(&mut client, &all).await;
    filters_by_customer_and_statuses(&mut client, &all).await;
    filters_by_time_range_and_product(&mut client, &all).await;
    page_size_zero_means_fifty(&mut client).await;
    service.stop().await.unwrap();
    page_sizes_above_the_cap_are_lowered(&db).await;
}

async fn sorts_page_through_everything(client: &mut common::Client, all: &[pb::Order]) {
    // Default: newest first, id as tie-breaker, pages of 7.
    let created = |o: &pb::Order| o.create_time.map(|t| (t.seconds, t.nanos));
    assert_listing(client, all, "", 7, |a, b| {
        created(b).cmp(&created(a)).then(a.id.cmp(&b.id))
    })
    .await;
    // A multi-key sort with a text key, paged.
    assert_listing(client, all, "customer, total_cents DESC", 4, |a, b| {
        a.customer
            .cmp(&b.customer)
            .then(b.total_cents.cmp(&a.total_cents))
            .then(a.id.cmp(&b.id))
    })
    .await;
    // Status sorts by enum number, descending here.
    assert_listing(client, all, "status desc, id desc", 5, |a, b| {
        b.status.cmp(&a.status).then(b.id.cmp(&a.id))
    })
    .await;
}

async fn filters_by_customer_and_statuses(client: &mut common::Client, all: &[pb::Order]) {
    // Filters: customer and statuses.
    let filter = pb::OrderFilter {
        customer: "Grace Hopper".into(),
        statuses: vec![
            pb::OrderStatus::Paid as i32,
            pb::OrderStatus::Refunded as i32,
        ],
        ..Default::default()
    };
    let (listed, _, total) = list_all(
        client,
        pb::ListOrdersRequest {
            filter: Some(filter),
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    let expected: Vec<i64> = all
        .iter()
        .filter(|o| o.customer == "Grace Hopper" && [2, 6].contains(&o.status))
        .map(|o| o.id)
        .collect();
    let mut got: Vec<i64> = listed.iter().map(|o| o.id).collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(total, expected.len() as i64);
}

async fn filters_by_time_range_and_product(client: &mut common::Client, all: &[pb::Order]) {
    let from = all[10].create_time;
    let before = all[20].create_time;
    let filter = pb::OrderFilter {
        create_time_after: from,
        create_time_before: before,
        product: "product-1".into(),
        ..Default::default()
    };
    let page = client
        .list_orders(pb::ListOrdersRequest {
            filter: Some(filter),
            order_by: "id".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let key = |t: Option<Timestamp>| t.map(|t| (t.seconds, t.nanos));
    let expected: Vec<i64> = all
        .iter()
        .filter(|o| {
            key(o.create_time) >= key(from)
                && key(o.create_time) < key(before)
                && o.product == "product-1"
        })
        .map(|o| o.id)
        .collect();
    assert_eq!(
        page.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        expected
    );
}

async fn page_size_zero_means_fifty(client: &mut common::Client) {
    let page = client
        .list_orders(pb::ListOrdersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((page.orders.len(), page.next_page_token.as_str()), (30, ""));
}

async fn page_sizes_above_the_cap_are_lowered(db: &TestDb) {
    let capped = Service::start(db, &["--max-page-size", "3"]).await;
    let mut client = capped.client().await;
    let page = client
        .list_orders(pb::ListOrdersRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.orders.len(), 3);
    assert!(!page.next_page_token.is_empty());
    capped.stop().await.unwrap();
}

async fn page_tokens_are_checked(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    populate(&mut client, 5).await;
    let first = client
        .list_orders(pb::ListOrdersRequest {
            page_size: 2,
            order_by: "product".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = first.next_page_token;
    assert!(!token.is_empty());
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    for (bad, order_by, needle) in [
        (
            String::from_utf8(tampered).unwrap(),
            "product",
            "page_token",
        ),
        ("not a token".into(), "product", "page_token"),
        (token.clone(), "customer", "another filter or order_by"),
    ] {
        let result = client
            .list_orders(pb::ListOrdersRequest {
                page_size: 2,
                order_by: order_by.into(),
                page_token: bad,
                ..Default::default()
            })
            .await;
        assert_code(result, Code::InvalidArgument, needle);
    }
    service.stop().await.unwrap();
}

async fn aggregate_groups(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let all = populate(&mut client, 24).await;
    let groups = client
        .aggregate_orders(pb::AggregateOrdersRequest {
            filter: None,
            group_by: pb::GroupBy::Status as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .groups;
    let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ORDER_STATUS_PENDING",
            "ORDER_STATUS_PAID",
            "ORDER_STATUS_SHIPPED",
            "ORDER_STATUS_DELIVERED",
            "ORDER_STATUS_CANCELLED",
            "ORDER_STATUS_REFUNDED"
        ]
    );
    for (i, group) in groups.iter().enumerate() {
        let members: Vec<&pb::Order> = all.iter().filter(|o| o.status == i as i32 + 1).collect();
        assert_eq!(group.order_count, members.len() as i64);
        assert_eq!(
            group.total_cents_sum,
            members.iter().map(|o| o.total_cents).sum::<i64>()
        );
        assert_eq!(
            group.quantity_sum,
            members.iter().map(|o| i64::from(o.quantity)).sum::<i64>()
        );
    }
    let filter = pb::OrderFilter {
        product: "product-2".into(),
        ..Default::default()
    };
    let by_customer = client
        .aggregate_orders(pb::AggregateOrdersRequest {
            filter: Some(filter),
            group_by: pb::GroupBy::Customer as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .groups;
    let keys: Vec<&str> = by_customer.iter().map(|g| g.key.as_str()).collect();
    let mut expected: Vec<&str> = all
        .iter()
        .filter(|o| o.product == "product-2")
        .map(|o| o.customer.as_str())
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(keys, expected, "byte order");
    let total: i64 = by_customer.iter().map(|g| g.order_count).sum();
    assert_eq!(
        total,
        all.iter().filter(|o| o.product == "product-2").count() as i64
    );
    service.stop().await.unwrap();
}

async fn export_streams_in_batches(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let all = populate(&mut client, 25).await;
    let mut stream = client
        .export_orders(pb::ExportOrdersRequest {
            filter: Some(pb::OrderFilter {
                customer: "Ada Lovelace".into(),
                ..Default::default()
            }),
            batch_size: 3,
        })
        .await
        .unwrap()
        .into_inner();
    let mut batches = Vec::new();
    while let Some(batch) = stream.message().await.unwrap() {
        assert!(!batch.orders.is_empty() && batch.orders.len() <= 3);
        batches.push(batch.orders);
    }
    let exported: Vec<pb::Order> = batches.concat();
    let expected: Vec<pb::Order> = all
        .iter()
        .filter(|o| o.customer == "Ada Lovelace")
        .cloned()
        .collect();
    assert_eq!(exported, expected, "ascending id order, every match once");
    assert_eq!(batches.len(), expected.len().div_ceil(3));

    let mut empty = client
        .export_orders(pb::ExportOrdersRequest {
            filter: Some(pb::OrderFilter {
                customer: "nobody".into(),
                ..Default::default()
            }),
            batch_size: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        empty.message().await.unwrap().is_none(),
        "no matches: no message, OK"
    );
    service.stop().await.unwrap();
}

async fn demo_seed_is_idempotent(engine: Engine) {
    let db = TestDb::new(engine).await;
    for _ in 0..2 {
        let service = Service::start(&db, &["--seed-demo"]).await;
        let mut client = service.client().await;
        let orders = export_all(&mut client).await;
        assert_eq!(orders.len(), 24);
        for customer in chatmesh_relational::internals::seed::DEMO_CUSTOMERS {
            assert!(orders.iter().any(|o| o.customer == customer), "{customer}");
        }
        // A new order after the seed gets an id past the demo ids.
        let next = create(&mut client, new_order("Ken Thompson", "unix", 1, 1)).await;
        assert!(
            next.id > chatmesh_relational::internals::seed::FIRST_DEMO_ID + 23,
            "{}",
            next.id
        );
        client
            .delete_order(pb::DeleteOrderRequest {
                id: next.id,
                expected_version: None,
            })
            .await
            .unwrap();
        service.stop().await.unwrap();
    }
}
