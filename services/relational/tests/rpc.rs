//! The whole RelationalService surface through gRPC over a real socket, on SQLite and on
//! PostgreSQL: create, get, update (mask and version), delete, list (filters, sort, paging,
//! tokens), aggregate, export, the demo seed, and the error codes of each.

mod common;

use chatmesh_proto::relational as pb;
use common::{Engine, Service, TestDb, assert_code, create, export_all, get, new_order};
use prost_types::{FieldMask, Timestamp};
use tonic::Code;

both_engines!(
    create_get_update_delete,
    update_masks_and_versions,
    validation_names_the_field,
    explicit_ids_and_assigned_ids,
    list_filters_sorts_and_pages,
    page_tokens_are_checked,
    aggregate_groups,
    export_streams_in_batches,
    demo_seed_is_idempotent,
);

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

async fn create_get_update_delete(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;

    let created = create(
        &mut client,
        new_order("Ada Lovelace", "analytical engine", 2, 1999),
    )
    .await;
    assert!(created.id >= 1);
    assert_eq!(created.version, 1);
    assert_eq!(created.status, pb::OrderStatus::Pending as i32);
    assert_eq!(created.create_time, created.update_time);
    assert!(created.create_time.is_some());

    let got = get(&mut client, pb::GetOrderRequest { id: created.id }).await;
    assert_eq!(got, created);

    update_status_only(&mut client, &created).await;
    delete_checks_the_version(&mut client, created.id).await;
    service.stop().await.unwrap();
}

/// An update with mask ["status"] changes the status and the version, nothing else.
async fn update_status_only(client: &mut common::Client, created: &pb::Order) {
    let updated = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(pb::Order {
                id: created.id,
                status: pb::OrderStatus::Paid as i32,
                quantity: 999,
                ..Default::default()
            }),
            update_mask: mask(&["status"]),
            expected_version: 1,
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.status, pb::OrderStatus::Paid as i32);
    assert_eq!(updated.quantity, 2, "fields outside the mask stay");
    assert_eq!(updated.create_time, created.create_time);
    let time = |t: Option<Timestamp>| t.map(|t| (t.seconds, t.nanos));
    assert!(time(updated.update_time) >= time(created.update_time));
}

/// A delete at the wrong version is ABORTED; at the right one it removes the order for good.
async fn delete_checks_the_version(client: &mut common::Client, id: i64) {
    assert_code(
        client
            .delete_order(pb::DeleteOrderRequest {
                id,
                expected_version: Some(1),
            })
            .await,
        Code::Aborted,
        "version 2",
    );
    client
        .delete_order(pb::DeleteOrderRequest {
            id,
            expected_version: Some(2),
        })
        .await
        .unwrap();
    assert_code(
        client.get_order(pb::GetOrderRequest { id }).await,
        Code::NotFound,
        &id.to_string(),
    );
    assert_code(
        client
            .delete_order(pb::DeleteOrderRequest {
                id,
                expected_version: None,
            })
            .await,
        Code::NotFound,
        "does not exist",
    );
}

async fn update_masks_and_versions(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let id = create(&mut client, new_order("Grace Hopper", "compiler", 1, 100))
        .await
        .id;
    let all = pb::Order {
        id,
        customer: "Grace B. Hopper".into(),
        product: "COBOL".into(),
        quantity: 3,
        status: pb::OrderStatus::Shipped as i32,
        total_cents: 300,
        ..Default::default()
    };
    let order = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(all.clone()),
            update_mask: mask(&["*"]),
            expected_version: 1,
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(
        (
            order.customer.as_str(),
            order.product.as_str(),
            order.quantity,
            order.status,
            order.total_cents,
            order.version
        ),
        (
            "Grace B. Hopper",
            "COBOL",
            3,
            pb::OrderStatus::Shipped as i32,
            300,
            2
        )
    );

    // A stale version is ABORTED and changes nothing.
    let stale = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(pb::Order {
                total_cents: 1,
                ..all.clone()
            }),
            update_mask: mask(&["total_cents"]),
            expected_version: 1,
        })
        .await;
    assert_code(stale, Code::Aborted, "expected version 1");
    let now = get(&mut client, pb::GetOrderRequest { id }).await;
    assert_eq!((now.total_cents, now.version), (300, 2));

    // Unknown order: NOT_FOUND, even with a version.
    let missing = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(pb::Order {
                id: id + 1000,
                ..all.clone()
            }),
            update_mask: mask(&["quantity"]),
            expected_version: 1,
        })
        .await;
    assert_code(missing, Code::NotFound, "does not exist");

    for (paths, needle) in [
        (vec![], "update_mask"),
        (vec!["version"], "output only"),
        (vec!["price"], "unknown path"),
        (vec!["*", "status"], "only path"),
    ] {
        let bad = client
            .update_order(pb::UpdateOrderRequest {
                order: Some(all.clone()),
                update_mask: mask(&paths),
                expected_version: 2,
            })
            .await;
        assert_code(bad, Code::InvalidArgument, needle);
    }
    let unspecified = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(pb::Order {
                status: 0,
                ..all.clone()
            }),
            update_mask: mask(&["status"]),
            expected_version: 2,
        })
        .await;
    assert_code(unspecified, Code::InvalidArgument, "order.status");
    let no_version = client
        .update_order(pb::UpdateOrderRequest {
            order: Some(all.clone()),
            update_mask: mask(&["status"]),
            expected_version: 0,
        })
        .await;
    assert_code(no_version, Code::InvalidArgument, "expected_version");
    let no_order = client
        .update_order(pb::UpdateOrderRequest {
            order: None,
            update_mask: mask(&["status"]),
            expected_version: 1,
        })
        .await;
    assert_code(no_order, Code::InvalidArgument, "order");
    service.stop().await.unwrap();
}

async fn validation_names_the_field(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let good = new_order("Alan Turing", "bombe", 1, 0);
    let cases: Vec<(pb::CreateOrderRequest, &str)> = vec![
        (
            pb::CreateOrderRequest {
                customer: String::new(),
                ..good.clone()
            },
            "customer: is required",
        ),
        (
            pb::CreateOrderRequest {
                customer: " \t ".into(),
                ..good.clone()
            },
            "customer: must not be only whitespace",
        ),
        (
            pb::CreateOrderRequest {
                product: "x".repeat(257),
                ..good.clone()
            },
            "product: is 257 characters",
        ),
        (
            pb::CreateOrderRequest {
                quantity: 0,
                ..good.clone()
            },
            "quantity: must be > 0",
        ),
        (
            pb::CreateOrderRequest {
                total_cents: -1,
                ..good.clone()
            },
            "total_cents: must be >= 0",
        ),
        (
            pb::CreateOrderRequest {
                status: 42,
                ..good.clone()
            },
            "status: 42 is not an OrderStatus",
        ),
        (
            pb::CreateOrderRequest {
                id: Some(0),
                ..good.clone()
            },
            "id: must be >= 1",
        ),
    ];
    for (request, needle) in cases {
        assert_code(
            client.create_order(request).await,
            Code::InvalidArgument,
            needle,
        );
    }
    assert_code(
        client.get_order(pb::GetOrderRequest { id: -5 }).await,
        Code::InvalidArgument,
        "id",
    );
    assert_code(
        client
            .delete_order(pb::DeleteOrderRequest {
                id: 1,
                expected_version: Some(0),
            })
            .await,
        Code::InvalidArgument,
        "expected_version",
    );
    let list = |filter: pb::OrderFilter, order_by: &str, page_size: i32| pb::ListOrdersRequest {
        filter: Some(filter),
        order_by: order_by.into(),
        page_size,
        page_token: String::new(),
    };
    let t = |seconds| Some(Timestamp { seconds, nanos: 0 });
    for (request, needle) in [
        (
            list(
                pb::OrderFilter {
                    statuses: vec![0],
                    ..Default::default()
                },
                "",
                0,
            ),
            "filter.statuses",
        ),
        (list(Default::default(), "price desc", 0), "order_by"),
        (list(Default::default(), "", -1), "page_size"),
        (
            list(
                pb::OrderFilter {
                    create_time_after: t(100),
                    create_time_before: t(100),
                    ..Default::default()
                },
                "",
                0,
            ),
            "filter.create_time_before",
        ),
        (
            list(
                pb::OrderFilter {
                    create_time_after: Some(Timestamp {
                        seconds: 0,
                        nanos: -1,
                    }),
                    ..Default::default()
                },
                "",
                0,
            ),
            "filter.create_time_after",
        ),
    ] {
        assert_code(
            client.list_orders(request).await,
            Code::InvalidArgument,
            needle,
        );
    }
    assert_code(
        client
            .aggregate_orders(pb::AggregateOrdersRequest {
                filter: None,
                group_by: 0,
            })
            .await,
        Code::InvalidArgument,
        "group_by",
    );
    assert_code(
        client
            .export_orders(pb::ExportOrdersRequest {
                filter: None,
                batch_size: -1,
            })
            .await
            .map(|_| ()),
        Code::InvalidArgument,
        "batch_size",
    );
    assert!(
        export_all(&mut client).await.is_empty(),
        "nothing was written"
    );
    service.stop().await.unwrap();
}

async fn explicit_ids_and_assigned_ids(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let with_id = |id| pb::CreateOrderRequest {
        id: Some(id),
        ..new_order("Edsger Dijkstra", "semaphore", 1, 10)
    };
    let order = create(&mut client, with_id(500)).await;
    assert_eq!(order.id, 500);
    assert_code(
        client.create_order(with_id(500)).await,
        Code::AlreadyExists,
        "500",
    );
    // The next assigned id comes after the explicit one, never colliding with it.
    let next = create(
        &mut client,
        new_order("Edsger Dijkstra", "shortest path", 1, 10),
    )
    .await;
    assert!(next.id > 500, "assigned {}", next.id);
    client.create_order(with_id(1000)).await.unwrap();
    let later = create(&mut client, new_order("Edsger Dijkstra", "goto", 1, 10)).await;
    assert!(later.id > 1000, "assigned {}", later.id);
    service.stop().await.unwrap();
}

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
        for customer in chatmesh_relational::seed::DEMO_CUSTOMERS {
            assert!(orders.iter().any(|o| o.customer == customer), "{customer}");
        }
        // A new order after the seed gets an id past the demo ids.
        let next = create(&mut client, new_order("Ken Thompson", "unix", 1, 1)).await;
        assert!(
            next.id > chatmesh_relational::seed::FIRST_DEMO_ID + 23,
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
