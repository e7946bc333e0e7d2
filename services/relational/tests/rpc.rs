//! The RelationalService writes through gRPC over a real socket, on SQLite and on PostgreSQL:
//! create, get, update (mask and version), delete, explicit and assigned ids, and the error codes
//! of each. The reads are in `listing.rs`.

mod common;

use chatmesh_proto::relational as pb;
use common::{Engine, Service, TestDb, assert_code, create, export_all, get, new_order};
use prost_types::{FieldMask, Timestamp};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

both_engines!(
    create_get_update_delete,
    update_masks_and_versions,
    validation_names_the_field,
    explicit_ids_and_assigned_ids,
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

    stale_and_missing_versions(&mut client, &all).await;
    bad_updates(&mut client, &all).await;
    service.stop().await.unwrap();
}

/// Updates of `all` (at version 2) with a stale version or for an unknown order.
async fn stale_and_missing_versions(client: &mut common::Client, all: &pb::Order) {
    let id = all.id;
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
    let now = get(client, pb::GetOrderRequest { id }).await;
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
}

/// Updates of `all` (at version 2) that are refused before any change: the mask, the status,
/// the version, the order.
async fn bad_updates(client: &mut common::Client, all: &pb::Order) {
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
}

async fn validation_names_the_field(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    invalid_creates(&mut client).await;
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
    invalid_lists(&mut client).await;
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
    largest_ids(&service, &mut client).await;
    service.stop().await.unwrap();
}

/// A client cannot pick an id that would leave no room for assigned ones (i64::MAX made every
/// later CreateOrder fail on SQLite, and took the database out of service): ids above 2^53 - 1
/// are refused and change nothing, the largest allowed one still leaves assigned ids room.
async fn largest_ids(service: &Service, client: &mut common::Client) {
    const MAX_CLIENT_ID: i64 = (1 << 53) - 1;
    let with_id = |id| pb::CreateOrderRequest {
        id: Some(id),
        ..new_order("Edsger Dijkstra", "semaphore", 1, 10)
    };
    let before = export_all(client).await;
    for id in [i64::MAX, MAX_CLIENT_ID + 1] {
        assert_code(
            client.create_order(with_id(id)).await,
            Code::InvalidArgument,
            "id",
        );
    }
    assert_eq!(
        export_all(client).await,
        before,
        "refused creates change nothing"
    );
    assert_eq!(
        create(client, with_id(MAX_CLIENT_ID)).await.id,
        MAX_CLIENT_ID
    );
    for _ in 0..3 {
        let assigned = create(client, new_order("Edsger Dijkstra", "after", 1, 10)).await;
        assert!(assigned.id > MAX_CLIENT_ID, "assigned {}", assigned.id);
    }
    assert_eq!(service.health().await, ServingStatus::Serving);
}

/// CreateOrder requests with one bad field each.
async fn invalid_creates(client: &mut common::Client) {
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
            "id: must be 1 to 9007199254740991, got 0",
        ),
    ];
    for (request, needle) in cases {
        assert_code(
            client.create_order(request).await,
            Code::InvalidArgument,
            needle,
        );
    }
}

/// ListOrders requests with one bad field each.
async fn invalid_lists(client: &mut common::Client) {
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
}
