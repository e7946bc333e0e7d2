//! What is particular to the PostgreSQL engine (`--database-url`): it ranks and scores exactly
//! as the embedded engine does, builds an HNSW index per collection with the metric's operator
//! class, and follows its database: NOT_SERVING and UNAVAILABLE at once while the database is
//! away, SERVING again when it is back, with nothing lost. The behaviour both engines share is
//! in grpc_api.rs and filters.rs, one body for two engines. Two replicas share one database.
//!
//! These need a server: `export CHATMESH_TEST_POSTGRES_URL=…; cargo test -p chatmesh-vector
//! -- --ignored postgres`.

mod common;

use std::time::{Duration, Instant};

use chatmesh_proto::vector as pb;
use chatmesh_test_support::grpc;
use chatmesh_vector::internals::testdata::Lcg;
use common::*;
use tonic_health::pb::health_check_response::ServingStatus;

async fn fill(svc: &mut Service, name: &str, distance: pb::Distance, vectors: &[Vec<f32>]) {
    svc.client
        .create_collection(create(name, 8, distance))
        .await
        .unwrap();
    let objects = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| object(&format!("o{i:03}"), v.clone(), &[("i", int(i as i64))]))
        .collect();
    svc.client
        .upsert_objects(pb::UpsertObjectsRequest {
            collection: name.into(),
            objects,
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn postgres_ranks_and_scores_like_the_embedded_engine_on_every_metric() {
    let mut rng = Lcg(7);
    let mut vectors: Vec<Vec<f32>> = (0..200).map(|_| rng.vector(8)).collect();
    // Ties: the same vector under several ids, broken by id on both engines.
    for i in 0..5 {
        vectors[150 + i] = vectors[3].clone();
    }
    let mut embedded = Service::on(Engine::Embedded, &[]).await;
    let mut postgres = Service::on(Engine::Postgres, &[]).await;
    let metrics = [
        ("cosine", pb::Distance::Cosine),
        ("l2", pb::Distance::L2),
        ("dot", pb::Distance::Dot),
    ];
    for (name, distance) in metrics {
        fill(&mut embedded, name, distance, &vectors).await;
        fill(&mut postgres, name, distance, &vectors).await;
        let mut queries: Vec<Vec<f32>> = (0..20).map(|_| rng.vector(8)).collect();
        queries.push(vectors[3].clone());
        for query in queries {
            let request = pb::SearchRequest {
                ef: Some(200),
                include_vector: true,
                ..near_vector(name, query, 10)
            };
            let want = embedded.client.search(request.clone()).await.unwrap();
            let got = postgres.client.search(request).await.unwrap();
            let (want, got) = (want.into_inner(), got.into_inner());
            assert_eq!(ids(&got), ids(&want), "{name}");
            for (g, w) in got.hits.iter().zip(&want.hits) {
                assert_eq!(
                    (g.score, g.distance),
                    (w.score, w.distance),
                    "{name} {}",
                    g.id
                );
                assert_eq!(g.payload, w.payload);
                assert_eq!(g.vector, w.vector);
            }
        }
    }
    // One HNSW index per collection, with the metric's operator class.
    let indexes = postgres
        .database()
        .query("SELECT indexdef FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%' ORDER BY 1")
        .await;
    for class in ["vector_cosine_ops", "vector_ip_ops", "vector_l2_ops"] {
        assert_eq!(
            indexes.iter().filter(|d| d.contains(class)).count(),
            1,
            "{indexes:?}"
        );
    }
    embedded.stop().await;
    postgres.stop().await;
}

/// A search on the `l2` collection, and how long its answer took.
async fn timed_search(svc: &mut Service) -> (Result<pb::SearchResponse, tonic::Status>, Duration) {
    let started = Instant::now();
    let result = svc
        .client
        .search(near_vector("l2", vec![0.5; 8], 3))
        .await
        .map(tonic::Response::into_inner);
    (result, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn postgres_taken_away_is_not_serving_and_unavailable_fast_until_it_is_back() {
    let mut svc = Service::on(Engine::Postgres, &["--database-probe-interval", "200ms"]).await;
    let fqn = chatmesh_vector::INFO.fqn;
    let limit = Duration::from_secs(10);
    grpc::wait_for_health(svc.addr, fqn, ServingStatus::Serving, limit).await;
    let mut rng = Lcg(3);
    let vectors: Vec<Vec<f32>> = (0..20).map(|_| rng.vector(8)).collect();
    fill(&mut svc, "l2", pb::Distance::L2, &vectors).await;
    let (before, _) = timed_search(&mut svc).await;
    let before = ids(&before.unwrap());

    svc.database().take_away().await;
    // The first call may be the one that meets the broken connection; it wakes the probe.
    let _ = timed_search(&mut svc).await;
    grpc::wait_for_health(svc.addr, fqn, ServingStatus::NotServing, limit).await;
    let liveness = grpc::health(svc.addr, "").await.unwrap();
    assert_eq!(liveness, ServingStatus::Serving, "only readiness drops");
    let (away, took) = timed_search(&mut svc).await;
    assert_eq!(away.unwrap_err().code(), tonic::Code::Unavailable);
    assert!(took < Duration::from_millis(500), "took {took:?}");
    let write = svc
        .client
        .upsert_objects(pb::UpsertObjectsRequest {
            collection: "l2".into(),
            objects: vec![object("late", vec![0.0; 8], &[])],
        })
        .await;
    assert_eq!(write.unwrap_err().code(), tonic::Code::Unavailable);

    svc.database().bring_back().await;
    grpc::wait_for_health(svc.addr, fqn, ServingStatus::Serving, limit).await;
    let (after, _) = timed_search(&mut svc).await;
    assert_eq!(ids(&after.unwrap()), before, "nothing was lost");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn postgres_two_replicas_on_one_database_serve_the_same_collections() {
    let mut first = Service::on(Engine::Postgres, &["--seed-demo"]).await;
    let url = first.database().url.clone();
    let data = tempfile::tempdir().unwrap();
    let mut second = Service::start(data.path(), &["--database-url", &url, "--seed-demo"]).await;
    let mut rng = Lcg(11);
    let vectors: Vec<Vec<f32>> = (0..10).map(|_| rng.vector(8)).collect();
    fill(&mut first, "l2", pb::Distance::L2, &vectors).await;
    let found = second
        .client
        .search(near_vector("l2", vectors[4].clone(), 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&found), ["o004"]);
    // The demo collection was seeded once, by whichever replica came first.
    let docs = second
        .client
        .get_collection(pb::GetCollectionRequest {
            name: "docs".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .collection
        .unwrap();
    assert_eq!(docs.object_count, 30);
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn postgres_unreachable_at_start_is_waited_for_and_a_stop_meanwhile_is_clean() {
    let fqn = chatmesh_vector::INFO.fqn;
    let limit = Duration::from_secs(10);
    let db = chatmesh_test_support::postgres::TestDatabase::create().await;
    db.take_away().await;
    let data = tempfile::tempdir().unwrap();
    let args = [
        "--database-url",
        db.url.as_str(),
        "--database-probe-interval",
        "200ms",
    ];
    let mut svc = Service::start(data.path(), &args).await;
    grpc::wait_for_health(svc.addr, fqn, ServingStatus::NotServing, limit).await;
    let listed = svc
        .client
        .list_collections(pb::ListCollectionsRequest::default())
        .await;
    assert_eq!(listed.unwrap_err().code(), tonic::Code::Unavailable);
    db.bring_back().await;
    grpc::wait_for_health(svc.addr, fqn, ServingStatus::Serving, limit).await;
    fill(&mut svc, "l2", pb::Distance::L2, &[vec![1.0; 8]]).await;
    svc.stop().await;

    // Stopped while still waiting for the database: a clean exit, not a start-up error.
    db.take_away().await;
    let svc = Service::start(data.path(), &args).await;
    svc.stop().await;
    db.bring_back().await;
}
