//! Migrations on both engines: a fresh database gets every version, recorded; running them again
//! (a restart, or `chatmesh-relational migrate`) changes nothing; and a database at version 1
//! with rows in it is upgraded in place, keeping the rows.

mod common;

use std::process::Command;

use chatmesh_proto::relational as pb;
use common::{Engine, Service, TestDb, create, direct_query, export_all, new_order};
use sqlx::Connection;
use sqlx::migrate::Migrator;

both_engines!(
    a_fresh_database_gets_every_migration,
    migrate_command_is_idempotent,
    upgrade_from_version_1_keeps_rows
);

const VERSIONS_SQL: &str =
    "SELECT CAST(version AS TEXT) FROM _sqlx_migrations WHERE success ORDER BY version";

async fn indexes(db: &TestDb) -> Vec<String> {
    let sql = match db.engine {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' \
             AND name LIKE 'orders_%' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'orders' \
             AND indexname LIKE 'orders_%idx' ORDER BY indexname"
        }
    };
    direct_query(db, sql).await
}

const V2_INDEXES: [&str; 3] = [
    "orders_created_idx",
    "orders_customer_created_idx",
    "orders_status_created_idx",
];

async fn a_fresh_database_gets_every_migration(engine: Engine) {
    let db = TestDb::new(engine).await;
    for _ in 0..2 {
        let service = Service::start(&db, &[]).await;
        service.stop().await.unwrap();
        assert_eq!(direct_query(&db, VERSIONS_SQL).await, ["1", "2"]);
    }
    assert_eq!(indexes(&db).await, V2_INDEXES);
}

fn migrate_command(db: &TestDb) -> String {
    let output = Command::new(chatmesh_test_support::process::built(env!(
        "CARGO_BIN_EXE_chatmesh-relational"
    )))
    .args(["migrate", "--database-url", &db.url])
    .env_remove("CHATMESH_DATABASE_URL")
    .output()
    .expect("run chatmesh-relational migrate");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "migrate failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn migrate_command_is_idempotent(engine: Engine) {
    let db = TestDb::new(engine).await;
    for _ in 0..2 {
        let stdout = migrate_command(&db);
        assert!(stdout.contains("database is at migration 2"), "{stdout}");
        assert!(stdout.contains("create orders"), "{stdout}");
    }
    assert_eq!(direct_query(&db, VERSIONS_SQL).await, ["1", "2"]);
}

/// Applies only the first migration of the engine, as an older release would have.
async fn apply_version_1(db: &TestDb) {
    let (folder, file) = match db.engine {
        Engine::Sqlite => ("sqlite", "0001_create_orders.sql"),
        Engine::Postgres => ("postgres", "0001_create_orders.sql"),
    };
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(folder)
        .join(file);
    let only_v1 = tempfile::tempdir().unwrap();
    std::fs::copy(&source, only_v1.path().join(file)).unwrap();
    let migrator = Migrator::new(only_v1.path()).await.unwrap();
    let insert = "INSERT INTO orders \
        (id, customer, product, quantity, status, total_cents, created_at, updated_at, version) \
        VALUES (7, 'Barbara Liskov', 'CLU', 2, 'refunded', 4200, 1000000, 1000000, 1), \
               (8, 'Barbara Liskov', 'Argus', 1, 'paid', 99, 2000000, 2000000, 1), \
               (9, 'Ken Thompson', 'B', 3, 'shipped', 0, 3000000, 3000000, 1)";
    match db.engine {
        Engine::Sqlite => {
            std::fs::create_dir_all(db.sqlite_dir()).unwrap();
            let url = format!("{}?mode=rwc", db.url);
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            migrator.run(&mut conn).await.unwrap();
            sqlx::query(insert).execute(&mut conn).await.unwrap();
        }
        Engine::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            migrator.run(&mut conn).await.unwrap();
            sqlx::query(insert).execute(&mut conn).await.unwrap();
        }
    }
}

async fn upgrade_from_version_1_keeps_rows(engine: Engine) {
    let db = TestDb::new(engine).await;
    apply_version_1(&db).await;
    assert_eq!(direct_query(&db, VERSIONS_SQL).await, ["1"]);
    assert!(indexes(&db).await.is_empty());

    let service = Service::start(&db, &[]).await;
    assert_eq!(direct_query(&db, VERSIONS_SQL).await, ["1", "2"]);
    assert_eq!(indexes(&db).await, V2_INDEXES);
    let mut client = service.client().await;
    version_1_rows_are_served(&mut client).await;
    service.stop().await.unwrap();
}

/// The rows written under version 1 read back whole, filter, and new ids follow them.
async fn version_1_rows_are_served(client: &mut common::Client) {
    let orders = export_all(client).await;
    assert_eq!(orders.iter().map(|o| o.id).collect::<Vec<_>>(), [7, 8, 9]);
    assert_eq!(orders[0].status, pb::OrderStatus::Refunded as i32);
    assert_eq!(orders[0].create_time.unwrap().seconds, 1);
    let page = client
        .list_orders(pb::ListOrdersRequest {
            filter: Some(pb::OrderFilter {
                customer: "Barbara Liskov".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total_size, 2);
    let created = create(client, new_order("Barbara Liskov", "Thor", 1, 1)).await;
    assert!(created.id > 9, "{}", created.id);
}
