//! Every RPC of `chatmesh.vector.v1.VectorService` over a real socket, including the error
//! cases the contract names.

mod common;

use chatmesh_proto::vector::{self as pb, search_request::Query};
use common::*;
use tonic::Code;

fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> (Code, String) {
    let status = result.expect_err("expected an error");
    (status.code(), status.message().to_owned())
}

#[expect(
    clippy::cognitive_complexity,
    reason = "one scenario read top to bottom; as a #[tokio::test] body the lint did not see it"
)]
async fn collections_are_created_described_listed_and_deleted(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;

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
    svc.stop().await;
}

#[expect(
    clippy::cognitive_complexity,
    reason = "one scenario read top to bottom; as a #[tokio::test] body the lint did not see it"
)]
async fn upsert_replace_delete_get_and_compact(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    c.create_collection(create("v", 3, pb::Distance::L2))
        .await
        .unwrap();
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
    svc.stop().await;
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

    c.upsert_objects(upsert(vec![good()])).await.unwrap();
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

#[expect(
    clippy::cognitive_complexity,
    reason = "one scenario read top to bottom; as a #[tokio::test] body the lint did not see it"
)]
async fn text_is_embedded_with_the_collections_embedder(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    c.create_collection(create("faq", 128, pb::Distance::Cosine))
        .await
        .unwrap();
    let doc = |id: &str, text: &str| pb::VectorObject {
        text: Some(text.into()),
        ..object(id, vec![], &[])
    };
    c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "faq".into(),
        objects: vec![
            doc("pw", "How do I reset my password?"),
            doc("refund", "How do I refund an order?"),
            doc("deploy", "How do I deploy a service to production?"),
        ],
    })
    .await
    .unwrap();
    let text_query = |text: &str| pb::SearchRequest {
        collection: "faq".into(),
        query: Some(Query::NearText(text.into())),
        k: 3,
        include_payload: true,
        ..Default::default()
    };
    let found = c
        .search(text_query("forgot password, need a reset"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.hits[0].id, "pw");
    assert_eq!(
        found.hits[0].text.as_deref(),
        Some("How do I reset my password?")
    );
    let refund = c
        .search(text_query("refunding orders"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refund.hits[0].id, "refund");

    let by_collection = c
        .embed_text(pb::EmbedTextRequest {
            source: Some(pb::embed_text_request::Source::Collection("faq".into())),
            texts: vec!["reset".into()],
            dimension: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let by_name = c
        .embed_text(pb::EmbedTextRequest {
            source: Some(pb::embed_text_request::Source::Embedder(
                "hashing-v1".into(),
            )),
            texts: vec!["reset".into()],
            dimension: 128,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (by_collection.embedder.as_str(), by_collection.dimension),
        ("hashing-v1", 128)
    );
    assert_eq!(by_collection.embeddings, by_name.embeddings);
    let unknown = pb::EmbedTextRequest {
        source: Some(pb::embed_text_request::Source::Embedder("word2vec".into())),
        texts: vec!["x".into()],
        dimension: 0,
    };
    assert_eq!(code(c.embed_text(unknown).await).0, Code::InvalidArgument);
    let wrong_dimension = pb::EmbedTextRequest {
        source: Some(pb::embed_text_request::Source::Collection("faq".into())),
        texts: vec!["x".into()],
        dimension: 64,
    };
    assert_eq!(
        code(c.embed_text(wrong_dimension).await).0,
        Code::InvalidArgument
    );

    // A collection that takes vectors only refuses text, with a reason.
    c.create_collection(pb::CreateCollectionRequest {
        embedder: "none".into(),
        ..create("raw", 4, pb::Distance::L2)
    })
    .await
    .unwrap();
    let refused = c
        .search(pb::SearchRequest {
            collection: "raw".into(),
            ..text_query("anything")
        })
        .await;
    let (code_, message) = code(refused);
    assert_eq!(code_, Code::FailedPrecondition);
    assert!(message.contains("no text embedder"), "{message}");
    let text_only = c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "raw".into(),
        objects: vec![doc("x", "text")],
    });
    assert_eq!(code(text_only.await).0, Code::FailedPrecondition);
    let empty_text = c.search(text_query("")).await;
    assert_eq!(code(empty_text).0, Code::InvalidArgument);
    svc.stop().await;
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

async fn l2_and_dot_rank_and_score_as_documented(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    for (name, distance) in [("l2", pb::Distance::L2), ("dot", pb::Distance::Dot)] {
        c.create_collection(create(name, 2, distance))
            .await
            .unwrap();
        c.upsert_objects(pb::UpsertObjectsRequest {
            collection: name.into(),
            objects: vec![
                object("small", vec![1.0, 0.0], &[]),
                object("big", vec![10.0, 0.0], &[]),
                object("opposite", vec![-3.0, 0.0], &[]),
            ],
        })
        .await
        .unwrap();
    }
    let l2 = c
        .search(near_vector("l2", vec![2.0, 0.0], 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&l2), ["small", "opposite", "big"]);
    assert_eq!((l2.hits[0].distance, l2.hits[0].score), (1.0, -1.0));
    let dot = c
        .search(near_vector("dot", vec![2.0, 0.0], 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&dot), ["big", "small", "opposite"]);
    assert_eq!((dot.hits[0].score, dot.hits[0].distance), (20.0, -20.0));
    svc.stop().await;
}

async fn the_demo_collection_answers_questions_about_the_organisation(engine: Engine) {
    let mut svc = Service::on(engine, &["--seed-demo"]).await;
    let c = &mut svc.client;
    let info = c
        .get_collection(pb::GetCollectionRequest {
            name: "docs".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.collection.unwrap().object_count, 30);
    let found = c
        .search(pb::SearchRequest {
            collection: "docs".into(),
            query: Some(Query::NearText(
                "how can I get access to the production cluster".into(),
            )),
            k: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.hits[0].id, "doc-001");
    // Seeding again (a restart with --seed-demo) adds nothing.
    let mut svc = svc.restart(&["--seed-demo"]).await;
    let info = svc
        .client
        .get_collection(pb::GetCollectionRequest {
            name: "docs".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let info = info.collection.unwrap();
    assert_eq!((info.object_count, info.tombstone_count), (30, 0));
    svc.stop().await;
}

on_both_engines!(
    collections_are_created_described_listed_and_deleted,
    upsert_replace_delete_get_and_compact,
    bad_writes_change_nothing_and_bad_searches_are_refused,
    text_is_embedded_with_the_collections_embedder,
    stream_upsert_commits_batch_by_batch,
    l2_and_dot_rank_and_score_as_documented,
    the_demo_collection_answers_questions_about_the_organisation,
);
