//! Searching the vector service over a real socket: text embedded with each collection's
//! embedder, L2 and dot product ranked and scored as documented, and the demo collection
//! answering questions about the organisation (`grpc_api.rs` has collections and writes).

mod common;

use chatmesh_proto::vector::{self as pb, search_request::Query};
use common::*;
use tonic::Code;

/// An object with text only: the collection embeds it.
fn doc(id: &str, text: &str) -> pb::VectorObject {
    pb::VectorObject {
        text: Some(text.into()),
        ..object(id, vec![], &[])
    }
}

/// Search the `faq` collection near a text, three hits with their payloads.
fn text_query(text: &str) -> pb::SearchRequest {
    pb::SearchRequest {
        collection: "faq".into(),
        query: Some(Query::NearText(text.into())),
        k: 3,
        include_payload: true,
        ..Default::default()
    }
}

async fn text_is_embedded_with_the_collections_embedder(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    c.create_collection(create("faq", 128, pb::Distance::Cosine))
        .await
        .unwrap();
    questions_are_found_by_their_text(c).await;
    embed_text_by_collection_or_by_name(c).await;
    collections_of_vectors_only_refuse_text(c).await;
    svc.stop().await;
}

/// Objects written as text are found by a paraphrase, their text returned with the hit.
async fn questions_are_found_by_their_text(c: &mut Client) {
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
}

/// EmbedText gives the same vector through the collection as through the embedder's name;
/// an unknown embedder or a dimension other than the collection's is refused.
async fn embed_text_by_collection_or_by_name(c: &mut Client) {
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
}

/// A collection that takes vectors only refuses text, with a reason.
async fn collections_of_vectors_only_refuse_text(c: &mut Client) {
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

/// The same searches asked again between writes: each answer reflects every write before it
/// (the embedded engine keeps repeated searches, `store/embedded/searches.rs`).
async fn repeated_searches_see_every_write(engine: Engine) {
    let (mut svc, near) = rep(engine, &[]).await;
    let c = &mut svc.client;
    let blue = pb::SearchRequest {
        filter: Some(pb::Filter {
            kind: Some(pb::filter::Kind::MatchCondition(pb::MatchCondition {
                key: "colour".into(),
                value: Some(text("blue")),
            })),
        }),
        ..near.clone()
    };
    assert_eq!(ids(&twice(c, &near).await), ["a", "b"]);
    assert_eq!(ids(&twice(c, &blue).await), ["b"]);
    object_writes_between_searches(c, &near, &blue).await;

    // A new collection of the same name answers from its own objects.
    c.delete_collection(pb::DeleteCollectionRequest { name: "rep".into() })
        .await
        .unwrap();
    c.create_collection(create("rep", 4, pb::Distance::Cosine))
        .await
        .unwrap();
    upsert_rep(c, vec![coloured("z", 2, "red")]).await;
    assert_eq!(ids(&twice(c, &near).await), ["z"]);
    svc.stop().await;
}

/// An object nearer than any, then its payload changed, then deleted, then a compaction.
async fn object_writes_between_searches(
    c: &mut Client,
    near: &pb::SearchRequest,
    blue: &pb::SearchRequest,
) {
    let nearest = |colour| object("c", vec![1.0, 0.2, 0.0, 0.0], &[("colour", text(colour))]);
    upsert_rep(c, vec![nearest("blue")]).await;
    assert_eq!(ids(&twice(c, near).await), ["c", "a"]);
    assert_eq!(ids(&twice(c, blue).await), ["c", "b"]);

    upsert_rep(c, vec![nearest("red")]).await;
    let found = twice(c, near).await;
    assert_eq!(ids(&found), ["c", "a"]);
    assert_eq!(found.hits[0].payload["colour"], text("red"));
    assert_eq!(ids(&twice(c, blue).await), ["b"]);

    c.delete_objects(pb::DeleteObjectsRequest {
        collection: "rep".into(),
        ids: vec!["c".into()],
    })
    .await
    .unwrap();
    assert_eq!(ids(&twice(c, near).await), ["a", "b"]);
    c.compact_collection(pb::CompactCollectionRequest {
        collection: "rep".into(),
    })
    .await
    .unwrap();
    assert_eq!(ids(&twice(c, near).await), ["a", "b"]);
}

/// A service with the collection `rep` holding a (red) and b (blue), and a search of it whose
/// nearest is a, then b.
async fn rep(engine: Engine, flags: &[&str]) -> (Service, pb::SearchRequest) {
    let mut svc = Service::on(engine, flags).await;
    let c = &mut svc.client;
    c.create_collection(create("rep", 4, pb::Distance::Cosine))
        .await
        .unwrap();
    upsert_rep(c, vec![coloured("a", 0, "red"), coloured("b", 1, "blue")]).await;
    (svc, near_vector("rep", vec![1.0, 0.2, 0.0, 0.0], 2))
}

/// An object of `rep` on the axis `axis`, with a colour.
fn coloured(id: &str, axis: usize, colour: &str) -> pb::VectorObject {
    let mut vector = vec![0.0; 4];
    vector[axis] = 1.0;
    object(id, vector, &[("colour", text(colour))])
}

async fn upsert_rep(c: &mut Client, objects: Vec<pb::VectorObject>) {
    c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "rep".into(),
        objects,
    })
    .await
    .unwrap();
}

/// The embedded engine's search cache on `GET /metrics`: a search asked twice is searched once
/// and answered once from what was kept; a write makes the next one search again. With
/// `--search-cache-bytes 0` nothing is kept and the answers are the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_cache_shows_on_metrics() {
    for (flags, counts) in [
        (&[][..], [1, 2, 2]),
        (&["--search-cache-bytes", "0"][..], [0, 0, 0]),
    ] {
        let (mut svc, near) = rep(Engine::Embedded, flags).await;
        let c = &mut svc.client;
        assert_eq!(ids(&twice(c, &near).await), ["a", "b"]);
        upsert_rep(c, vec![coloured("c", 2, "red")]).await;
        assert_eq!(
            ids(&c.search(near.clone()).await.unwrap().into_inner()),
            ["a", "b"]
        );

        let (status, page) = chatmesh_test_support::http::get(svc.addr, "/metrics").await;
        assert_eq!(status, 200);
        let sample = |name: &str| {
            page.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {name} in {page}"))
        };
        let [hits, misses, entries] = counts;
        assert_eq!(
            sample("chatmesh_vector_search_cache_hits_total"),
            hits,
            "{flags:?}"
        );
        assert_eq!(
            sample("chatmesh_vector_search_cache_misses_total"),
            misses,
            "{flags:?}"
        );
        // The search of the first version stays kept (never found again) until evicted.
        assert_eq!(
            sample("chatmesh_vector_search_cache_entries"),
            entries,
            "{flags:?}"
        );
        svc.stop().await;
    }
}

/// A query text's vector is kept by embedder, dimension and text: the same question asked of
/// two collections of `hashing-v1` at different dimensions gets each its own vector, a text
/// with nothing to embed is refused every time, and `GET /metrics` counts the kept vectors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_vectors_are_kept_by_embedder_dimension_and_text() {
    let mut svc = Service::on(Engine::Embedded, &[]).await;
    let c = &mut svc.client;
    for (name, dimension) in [("small", 64), ("large", 256)] {
        c.create_collection(create(name, dimension, pb::Distance::Cosine))
            .await
            .unwrap();
        c.upsert_objects(pb::UpsertObjectsRequest {
            collection: name.into(),
            objects: vec![doc("pw", "How do I reset my password?")],
        })
        .await
        .unwrap();
    }
    let near = |collection: &str, text: &str| pb::SearchRequest {
        collection: collection.into(),
        ..text_query(text)
    };
    for collection in ["small", "large", "small", "large"] {
        let found = c.search(near(collection, "reset password")).await.unwrap();
        assert_eq!(ids(&found.into_inner()), ["pw"], "{collection}");
    }
    for _ in 0..2 {
        let (code, message) = code(c.search(near("small", "?! …")).await);
        assert_eq!(code, Code::InvalidArgument);
        assert!(message.contains("no words to embed"), "{message}");
    }
    let (_, page) = chatmesh_test_support::http::get(svc.addr, "/metrics").await;
    let sample = |name: &str| {
        page.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {page}"))
    };
    // One question at two dimensions and one wordless text: three vectors, each asked for twice.
    assert_eq!(sample("chatmesh_vector_query_vector_cache_misses_total"), 3);
    assert_eq!(sample("chatmesh_vector_query_vector_cache_hits_total"), 3);
    assert_eq!(sample("chatmesh_vector_query_vector_cache_entries"), 3);
    svc.stop().await;
}

/// Asks `request` twice, so that the second answer may come from what the first kept; both
/// must be the same.
async fn twice(c: &mut Client, request: &pb::SearchRequest) -> pb::SearchResponse {
    let first = c.search(request.clone()).await.unwrap().into_inner();
    let again = c.search(request.clone()).await.unwrap().into_inner();
    assert_eq!(first.hits, again.hits);
    again
}

on_both_engines!(
    repeated_searches_see_every_write,
    text_is_embedded_with_the_collections_embedder,
    l2_and_dot_rank_and_score_as_documented,
    the_demo_collection_answers_questions_about_the_organisation,
);
