//! The vector service's collections and writes over a real socket: create, describe, list,
//! delete; upsert (unary and streamed), replace, delete, get and compact; and the error cases
//! the contract names for them (`search_api.rs` has text, ranking and the demo collection).

mod common;

use chatmesh_proto::vector as pb;
use common::*;
use tonic::Code;

async fn collections_are_created_described_listed_and_deleted(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    created_with_defaults_and_bad_ones_refused(c).await;
    listed_in_pages(c).await;
    deleted_with_their_objects(c).await;
    svc.stop().await;
}

/// A collection gets the documented defaults; a second of the same name and each bad field are
/// refused with a message naming it.
async fn created_with_defaults_and_bad_ones_refused(c: &mut Client) {
    let created = c
        .create_collection(create("faq", 64, pb::Distance::Unspecified))
        .await
        .unwrap()
        .into_inner();
    let faq = created.collection.unwrap();
    assert_eq!(faq.distance(), pb::Distance::Cosine);
    assert_eq!(faq.embedder, "hashing-v1");
    assert_eq!(
        faq.hnsw_config,
        Some(pb::HnswConfig {
            m: 16,
            ef_construction: 200,
            ef_search: 64
        })
    );
    assert!(faq.create_time.is_some());

    let (code_, message) = code(
        c.create_collection(create("faq", 64, pb::Distance::L2))
            .await,
    );
    assert_eq!(code_, Code::AlreadyExists, "{message}");
    for (request, expected) in [
        (
            create("9lives", 8, pb::Distance::L2),
            "not a collection name",
        ),
        (
            create("bad name", 8, pb::Distance::L2),
            "not a collection name",
        ),
        (
            create("zero", 0, pb::Distance::L2),
            "dimension: must be 1 to 4096, got 0",
        ),
        (create("huge", 5000, pb::Distance::L2), "dimension"),
        (
            pb::CreateCollectionRequest {
                embedder: "word2vec".into(),
                ..create("w", 64, pb::Distance::L2)
            },
            "unknown embedder",
        ),
        (
            pb::CreateCollectionRequest {
                hnsw_config: Some(pb::HnswConfig {
                    m: 1,
                    ..Default::default()
                }),
                ..create("m", 8, pb::Distance::L2)
            },
            "hnsw_config.m",
        ),
        (
            pb::CreateCollectionRequest {
                distance: 9,
                ..create("d", 8, pb::Distance::L2)
            },
            "distance",
        ),
    ] {
        let (code_, message) = code(c.create_collection(request).await);
        assert_eq!(code_, Code::InvalidArgument, "{message}");
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
}

/// Pages of two list every collection in name order; forged tokens and negative sizes are
/// refused.
async fn listed_in_pages(c: &mut Client) {
    for name in ["a1", "a2", "a3", "a4"] {
        c.create_collection(create(name, 4, pb::Distance::L2))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_collections(pb::ListCollectionsRequest {
                page_size: 2,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.collections.len() <= 2);
        names.extend(page.collections.into_iter().map(|c| c.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(names, ["a1", "a2", "a3", "a4", "faq"]);
    let bad_token = pb::ListCollectionsRequest {
        page_size: 2,
        page_token: "forged".into(),
    };
    assert_eq!(
        code(c.list_collections(bad_token).await).0,
        Code::InvalidArgument
    );
    let negative = pb::ListCollectionsRequest {
        page_size: -1,
        page_token: String::new(),
    };
    assert_eq!(
        code(c.list_collections(negative).await).0,
        Code::InvalidArgument
    );
}

/// Deleting a collection says how many objects went with it; after that it is NOT_FOUND.
async fn deleted_with_their_objects(c: &mut Client) {
    c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "a1".into(),
        objects: vec![object("x", vec![1.0, 0.0, 0.0, 0.0], &[])],
    })
    .await
    .unwrap();
    let deleted = c
        .delete_collection(pb::DeleteCollectionRequest { name: "a1".into() })
        .await
        .unwrap();
    assert_eq!(deleted.into_inner().deleted_object_count, 1);
    let gone = c
        .get_collection(pb::GetCollectionRequest { name: "a1".into() })
        .await;
    assert_eq!(code(gone).0, Code::NotFound);
    let again = c
        .delete_collection(pb::DeleteCollectionRequest { name: "a1".into() })
        .await;
    assert_eq!(code(again).0, Code::NotFound);
}

async fn upsert_replace_delete_get_and_compact(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    c.create_collection(create("v", 3, pb::Distance::L2))
        .await
        .unwrap();
    upserts_count_and_replace(c).await;
    get_with_and_without_the_vector(c).await;
    delete_then_compact(c, engine).await;
    svc.stop().await;
}

/// Upserts count what they created and replaced; a replaced object is found only where its new
/// vector is.
async fn upserts_count_and_replace(c: &mut Client) {
    let upsert = |objects| pb::UpsertObjectsRequest {
        collection: "v".into(),
        objects,
    };
    let first = c
        .upsert_objects(upsert(vec![
            object("a", vec![0.0, 0.0, 0.0], &[("n", int(1))]),
            object("b", vec![1.0, 0.0, 0.0], &[("n", int(2))]),
            object("c", vec![5.0, 5.0, 5.0], &[("n", int(3))]),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            first.upserted_count,
            first.created_count,
            first.replaced_count
        ),
        (3, 3, 0)
    );

    // Replacing "a" far away and adding "d": the old "a" must never be found again.
    let second = c
        .upsert_objects(upsert(vec![
            object("a", vec![9.0, 9.0, 9.0], &[("n", int(10))]),
            object("d", vec![0.1, 0.0, 0.0], &[]),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((second.created_count, second.replaced_count), (1, 1));
    let near_origin = c
        .search(near_vector("v", vec![0.0, 0.0, 0.0], 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&near_origin), ["d", "b"]);
    let hit = &near_origin.hits[0];
    assert!(
        (hit.distance - 0.1).abs() < 1e-6 && (hit.score + 0.1).abs() < 1e-6,
        "{hit:?}"
    );
}

/// GetObject returns the latest payload, the vector only when asked, NOT_FOUND for an unknown id.
async fn get_with_and_without_the_vector(c: &mut Client) {
    let got = c
        .get_object(pb::GetObjectRequest {
            collection: "v".into(),
            id: "a".into(),
            include_vector: true,
        })
        .await
        .unwrap()
        .into_inner()
        .object
        .unwrap();
    assert_eq!(got.vector, vec![9.0, 9.0, 9.0]);
    assert_eq!(got.payload["n"], int(10));
    let without = c
        .get_object(pb::GetObjectRequest {
            collection: "v".into(),
            id: "a".into(),
            include_vector: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(without.object.unwrap().vector.is_empty());
    let missing = c.get_object(pb::GetObjectRequest {
        collection: "v".into(),
        id: "zz".into(),
        include_vector: false,
    });
    assert_eq!(code(missing.await).0, Code::NotFound);
}

/// Deleting ignores unknown ids; compaction removes the tombstones (the embedded engine's) and
/// changes no search result.
async fn delete_then_compact(c: &mut Client, engine: Engine) {
    let deleted = c
        .delete_objects(pb::DeleteObjectsRequest {
            collection: "v".into(),
            ids: vec!["d".into(), "nope".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_count, 1);
    let all = c
        .search(near_vector("v", vec![0.0, 0.0, 0.0], 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&all), ["b", "c", "a"]);

    let info = c
        .get_collection(pb::GetCollectionRequest { name: "v".into() })
        .await
        .unwrap()
        .into_inner();
    let info = info.collection.unwrap();
    assert_eq!(
        (info.object_count, info.tombstone_count),
        (3, engine.tombstones(2))
    );
    let compacted = c
        .compact_collection(pb::CompactCollectionRequest {
            collection: "v".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(compacted.removed_tombstone_count, engine.tombstones(2));
    let info = c
        .get_collection(pb::GetCollectionRequest { name: "v".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.collection.unwrap().tombstone_count, 0);
    let after = c
        .search(near_vector("v", vec![0.0, 0.0, 0.0], 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&after), ["b", "c", "a"]);
    let unknown = c.compact_collection(pb::CompactCollectionRequest {
        collection: "nope".into(),
    });
    assert_eq!(code(unknown.await).0, Code::NotFound);
}

/// A range filter on `rank` with the given bounds.
fn range(gt: Option<f64>, gte: Option<f64>, lt: Option<f64>, lte: Option<f64>) -> pb::Filter {
    pb::Filter {
        kind: Some(pb::filter::Kind::RangeCondition(pb::RangeCondition {
            key: "rank".into(),
            gt,
            gte,
            lt,
            lte,
        })),
    }
}

async fn bad_writes_change_nothing_and_bad_searches_are_refused(engine: Engine) {
    let mut svc = Service::on(engine, &["--max-batch", "5", "--max-k", "50"]).await;
    let c = &mut svc.client;
    c.create_collection(create("v", 4, pb::Distance::Cosine))
        .await
        .unwrap();
    bad_upserts_write_nothing(c).await;
    c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "v".into(),
        objects: vec![object("good", vec![1.0, 2.0, 3.0, 4.0], &[])],
    })
    .await
    .unwrap();
    bad_searches_are_refused(c).await;
    let too_many = pb::DeleteObjectsRequest {
        collection: "v".into(),
        ids: (0..6).map(|i| i.to_string()).collect(),
    };
    assert_eq!(
        code(c.delete_objects(too_many).await).0,
        Code::InvalidArgument
    );
    svc.stop().await;
}

/// Each bad batch (with `--max-batch 5`) is refused whole, naming the object and the fault, and
/// leaves the collection empty; an unknown collection is NOT_FOUND.
async fn bad_upserts_write_nothing(c: &mut Client) {
    let upsert = |objects| pb::UpsertObjectsRequest {
        collection: "v".into(),
        objects,
    };
    let good = || object("good", vec![1.0, 2.0, 3.0, 4.0], &[]);

    let cases: Vec<(Vec<pb::VectorObject>, &str)> = vec![
        (
            vec![good(), object("short", vec![1.0, 2.0, 3.0], &[])],
            "expected dimension 4, got 3",
        ),
        (
            vec![good(), object("nan", vec![1.0, f32::NAN, 0.0, 0.0], &[])],
            "component 1 is not a finite number",
        ),
        (
            vec![
                good(),
                object("inf", vec![f32::INFINITY, 0.0, 0.0, 0.0], &[]),
            ],
            "not a finite number",
        ),
        (vec![good(), object("zero", vec![0.0; 4], &[])], "all-zero"),
        (vec![good(), good()], "appears twice"),
        (vec![good(), object("", vec![1.0; 4], &[])], "objects[1].id"),
        (
            vec![good(), object("none", vec![], &[])],
            "needs a vector or a text",
        ),
        (
            (0..6)
                .map(|i| object(&format!("o{i}"), vec![1.0; 4], &[]))
                .collect(),
            "send 1 to 5",
        ),
        (vec![], "send 1 to 5"),
    ];
    for (objects, expected) in cases {
        let (code_, message) = code(c.upsert_objects(upsert(objects)).await);
        assert_eq!(code_, Code::InvalidArgument, "{message}");
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
    let info = c
        .get_collection(pb::GetCollectionRequest { name: "v".into() })
        .await
        .unwrap()
        .into_inner();
    let info = info.collection.unwrap();
    assert_eq!(
        (info.object_count, info.tombstone_count),
        (0, 0),
        "nothing was written"
    );
    let unknown = c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "nope".into(),
        objects: vec![good()],
    });
    assert_eq!(code(unknown.await).0, Code::NotFound);
}

/// Bad searches (with `--max-k 50`) get the code and message the contract names, contradictory
/// range bounds included.
async fn bad_searches_are_refused(c: &mut Client) {
    let searches: Vec<(pb::SearchRequest, Code, &str)> = vec![
        (
            near_vector("v", vec![1.0; 3], 1),
            Code::InvalidArgument,
            "expected dimension 4, got 3",
        ),
        (
            near_vector("v", vec![f32::NAN; 4], 1),
            Code::InvalidArgument,
            "finite",
        ),
        (
            near_vector("v", vec![1.0; 4], 51),
            Code::InvalidArgument,
            "k: must be 0 to 50, got 51",
        ),
        (
            near_vector("v", vec![1.0; 4], -1),
            Code::InvalidArgument,
            "k:",
        ),
        (
            pb::SearchRequest {
                ef: Some(0),
                ..near_vector("v", vec![1.0; 4], 1)
            },
            Code::InvalidArgument,
            "ef:",
        ),
        (
            pb::SearchRequest {
                query: None,
                ..near_vector("v", vec![1.0; 4], 1)
            },
            Code::InvalidArgument,
            "query",
        ),
        (near_vector("nope", vec![1.0; 4], 1), Code::NotFound, "nope"),
        (
            pb::SearchRequest {
                filter: Some(pb::Filter::default()),
                ..near_vector("v", vec![1.0; 4], 1)
            },
            Code::InvalidArgument,
            "filter: no operator set",
        ),
        (
            pb::SearchRequest {
                filter: Some(range(Some(1.0), Some(2.0), None, None)),
                ..near_vector("v", vec![1.0; 4], 1)
            },
            Code::InvalidArgument,
            "filter.range_condition: set gt or gte, not both",
        ),
        (
            pb::SearchRequest {
                filter: Some(range(None, None, Some(1.0), Some(2.0))),
                ..near_vector("v", vec![1.0; 4], 1)
            },
            Code::InvalidArgument,
            "filter.range_condition: set lt or lte, not both",
        ),
    ];
    for (request, expected_code, expected) in searches {
        let (code_, message) = code(c.search(request).await);
        assert_eq!(code_, expected_code, "{message}");
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
}

async fn stream_upsert_commits_batch_by_batch(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    c.create_collection(create("s", 2, pb::Distance::L2))
        .await
        .unwrap();
    let batch = |collection: &str, from: usize| pb::StreamUpsertObjectsRequest {
        collection: collection.into(),
        objects: (from..from + 10)
            .map(|i| object(&format!("o{i}"), vec![i as f32, 0.0], &[]))
            .collect(),
    };
    let totals = c
        .stream_upsert_objects(tokio_stream::iter([
            batch("s", 0),
            batch("s", 10),
            batch("s", 5),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            totals.batch_count,
            totals.created_count,
            totals.replaced_count
        ),
        (3, 20, 10)
    );

    let (code_, message) = code(
        c.stream_upsert_objects(tokio_stream::iter([batch("s", 100), batch("other", 0)]))
            .await,
    );
    assert_eq!(code_, Code::InvalidArgument);
    assert!(message.contains("1 batches were committed"), "{message}");
    let info = c
        .get_collection(pb::GetCollectionRequest { name: "s".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        info.collection.unwrap().object_count,
        30,
        "the first batch stayed"
    );
    let empty = c
        .stream_upsert_objects(tokio_stream::iter(
            Vec::<pb::StreamUpsertObjectsRequest>::new(),
        ))
        .await;
    assert_eq!(code(empty).0, Code::InvalidArgument);
    svc.stop().await;
}

on_both_engines!(
    collections_are_created_described_listed_and_deleted,
    upsert_replace_delete_get_and_compact,
    bad_writes_change_nothing_and_bad_searches_are_refused,
    stream_upsert_commits_batch_by_batch,
);
