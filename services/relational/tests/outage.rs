//! Losing the database and getting it back, with the service running throughout: while the
//! database is gone health is NOT_SERVING and calls answer UNAVAILABLE at once; when it is back
//! the service reconnects by itself and serves the same data. No restart.
//!
//! How the database is really taken away:
//! - SQLite: the directory holding the database is renamed, as when its volume goes away. Pooled
//!   connections would keep the old file open, so the service's probe opens a fresh connection
//!   that may not create the file; it fails, and the service drops its pools. Renaming the
//!   directory back brings the same file (and its WAL) back.
//! - PostgreSQL: the test database stops accepting connections (`ALLOW_CONNECTIONS false`) and
//!   every backend serving it is terminated, which is what the service sees when the server or
//!   the network goes away; `ALLOW_CONNECTIONS true` brings it back. Only this test's database
//!   is affected, so the other tests keep running against the same server.

mod common;

use chatmesh_proto::relational as pb;
use common::{Engine, Service, TestDb, create, new_order};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

both_engines!(database_down_and_back);

async fn take_away(db: &TestDb) {
    match db.engine {
        Engine::Sqlite => {
            let dir = db.sqlite_dir();
            std::fs::rename(&dir, dir.with_extension("away")).unwrap();
        }
        Engine::Postgres => {
            let name = db.pg_name().to_owned();
            db.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
                .await;
            db.admin(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .await;
        }
    }
}

async fn bring_back(db: &TestDb) {
    match db.engine {
        Engine::Sqlite => {
            let dir = db.sqlite_dir();
            std::fs::rename(dir.with_extension("away"), &dir).unwrap();
        }
        Engine::Postgres => {
            let name = db.pg_name().to_owned();
            db.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                .await;
        }
    }
}

async fn database_down_and_back(engine: Engine) {
    let db = TestDb::new(engine).await;
    let service = Service::start(&db, &[]).await;
    let mut client = service.client().await;
    let order = create(&mut client, new_order("Linus Torvalds", "kernel", 1, 100)).await;

    take_away(&db).await;
    service.wait_for(ServingStatus::NotServing).await;
    // Only readiness drops: liveness ("") stays SERVING, so the process is not restarted.
    assert_eq!(service.health_of("").await, ServingStatus::Serving);
    calls_fail_fast_as_unavailable(&mut client, order.id).await;

    bring_back(&db).await;
    service.wait_for(ServingStatus::Serving).await;
    works_again_with_nothing_lost(&mut client, &order).await;
    service.stop().await.unwrap();
}

/// While the database is away, reads and writes answer UNAVAILABLE (every time, not once).
async fn calls_fail_fast_as_unavailable(client: &mut common::Client, id: i64) {
    for _ in 0..3 {
        let get = client.get_order(pb::GetOrderRequest { id }).await;
        assert_eq!(get.unwrap_err().code(), Code::Unavailable);
        let create = client
            .create_order(new_order("Linus Torvalds", "git", 1, 1))
            .await;
        assert_eq!(create.unwrap_err().code(), Code::Unavailable);
    }
}

/// Once it is back, the same client reads and writes again, and no row was lost or doubled.
async fn works_again_with_nothing_lost(client: &mut common::Client, order: &pb::Order) {
    let got = client
        .get_order(pb::GetOrderRequest { id: order.id })
        .await
        .expect("the same connection works again")
        .into_inner()
        .order
        .unwrap();
    assert_eq!(&got, order);
    client
        .create_order(new_order("Linus Torvalds", "git", 1, 1))
        .await
        .expect("writes work again");
    let page = client
        .list_orders(pb::ListOrdersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total_size, 2, "nothing lost, nothing doubled");
}
