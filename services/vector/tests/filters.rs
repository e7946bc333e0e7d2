//! Filtered search through gRPC equals the brute-force filtered top-k, and returns k hits
//! whenever k objects match, even when the filter is selective; payload types and the filter
//! semantics (lists, nulls, absent keys, negation) are the same on both engines.

mod common;

use chatmesh_proto::vector::{self as pb, filter::Kind as F, payload_value::Kind};
use chatmesh_vector::internals::testdata::Lcg;
use common::*;

fn payload_for(i: usize) -> Vec<(&'static str, pb::PayloadValue)> {
    let colours = ["red", "green", "blue"];
    vec![
        ("colour", text(colours[i % 3])),
        ("rank", int((i % 17) as i64)),
    ]
}

fn matches(i: usize, filter: &Case) -> bool {
    let colour = ["red", "green", "blue"][i % 3];
    let rank = (i % 17) as i64;
    match filter {
        Case::Colour(c) => colour == *c,
        Case::RankBelow(r) => rank < *r,
        Case::ColourAndRank(c, r) => colour == *c && rank >= *r,
        Case::NotColourOrRank(c, r) => colour != *c || rank == *r,
    }
}

enum Case {
    Colour(&'static str),
    RankBelow(i64),
    ColourAndRank(&'static str, i64),
    NotColourOrRank(&'static str, i64),
}

fn to_pb(case: &Case) -> pb::Filter {
    let f = |kind| pb::Filter { kind: Some(kind) };
    let colour = |c: &str| {
        f(F::MatchCondition(pb::MatchCondition {
            key: "colour".into(),
            value: Some(text(c)),
        }))
    };
    let range = |gte: Option<f64>, lt: Option<f64>| {
        f(F::RangeCondition(pb::RangeCondition {
            key: "rank".into(),
            gte,
            lt,
            ..Default::default()
        }))
    };
    match case {
        Case::Colour(c) => colour(c),
        Case::RankBelow(r) => range(None, Some(*r as f64)),
        Case::ColourAndRank(c, r) => f(F::AndFilter(pb::FilterList {
            filters: vec![colour(c), range(Some(*r as f64), None)],
        })),
        Case::NotColourOrRank(c, r) => f(F::OrFilter(pb::FilterList {
            filters: vec![
                f(F::NotFilter(Box::new(colour(c)))),
                f(F::InCondition(pb::InCondition {
                    key: "rank".into(),
                    values: vec![int(*r)],
                })),
            ],
        })),
    }
}

async fn load(
    c: &mut pb::vector_service_client::VectorServiceClient<tonic::transport::Channel>,
    n: usize,
) -> Vec<Vec<f32>> {
    c.create_collection(create("f", 8, pb::Distance::L2))
        .await
        .unwrap();
    let mut rng = Lcg(42);
    let vectors: Vec<Vec<f32>> = (0..n).map(|_| rng.vector(8)).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let objects = chunk
            .iter()
            .map(|&i| object(&format!("o{i:05}"), vectors[i].clone(), &payload_for(i)))
            .collect();
        c.upsert_objects(pb::UpsertObjectsRequest {
            collection: "f".into(),
            objects,
        })
        .await
        .unwrap();
    }
    vectors
}

fn l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

async fn filtered_results_equal_brute_force_on_small_data(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let vectors = load(&mut svc.client, 300).await;
    let cases = [
        Case::Colour("red"),
        Case::RankBelow(4),
        Case::ColourAndRank("blue", 10),
        Case::NotColourOrRank("green", 3),
    ];
    let mut rng = Lcg(5);
    for case in &cases {
        for k in [1, 5, 20, 300] {
            let query = rng.vector(8);
            let request = pb::SearchRequest {
                filter: Some(to_pb(case)),
                ..near_vector("f", query.clone(), k)
            };
            let got = svc.client.search(request).await.unwrap().into_inner();
            let mut expected: Vec<(f32, String)> = (0..vectors.len())
                .filter(|&i| matches(i, case))
                .map(|i| (l2(&query, &vectors[i]), format!("o{i:05}")))
                .collect();
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            expected.truncate(k as usize);
            let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
            assert_eq!(ids(&got), expected, "k={k}");
        }
    }
    svc.stop().await;
}

async fn k_hits_come_back_whenever_k_objects_match_on_larger_data(engine: Engine) {
    // Always through the graph (no exact scan), with the filter applied during the walk.
    let mut svc = Service::on(engine, &["--full-scan-floats", "0"]).await;
    let vectors = load(&mut svc.client, 3000).await;
    let mut rng = Lcg(9);
    for case in [
        Case::Colour("green"),
        Case::RankBelow(1),
        Case::ColourAndRank("red", 16),
        Case::NotColourOrRank("red", 0),
    ] {
        let matching = (0..vectors.len()).filter(|&i| matches(i, &case)).count();
        for k in [10, 100] {
            let request = pb::SearchRequest {
                filter: Some(to_pb(&case)),
                ..near_vector("f", rng.vector(8), k)
            };
            let got = svc.client.search(request).await.unwrap().into_inner();
            assert_eq!(
                got.hits.len(),
                matching.min(k as usize),
                "matching={matching} k={k}"
            );
            for hit in &got.hits {
                let i: usize = hit.id[1..].parse().unwrap();
                assert!(matches(i, &case), "{} does not match", hit.id);
            }
        }
    }
    svc.stop().await;
}

fn value(kind: Kind) -> pb::PayloadValue {
    pb::PayloadValue { kind: Some(kind) }
}

fn list(values: Vec<pb::PayloadValue>) -> pb::PayloadValue {
    value(Kind::ListValue(pb::PayloadList { values }))
}

fn matching(key: &str, v: pb::PayloadValue) -> pb::Filter {
    pb::Filter {
        kind: Some(F::MatchCondition(pb::MatchCondition {
            key: key.into(),
            value: Some(v),
        })),
    }
}

/// Payloads keep their types exactly (an integral double stays a double), and filters see
/// nested lists, nulls and absent keys, numbers across types, and negations of absent keys, the
/// same on both engines.
async fn payload_types_survive_and_filters_follow_the_documented_semantics(engine: Engine) {
    let mut svc = Service::on(engine, &[]).await;
    let c = &mut svc.client;
    c.create_collection(create("p", 2, pb::Distance::L2))
        .await
        .unwrap();
    payloads_keep_their_types(c).await;
    for (filter, want) in documented_cases() {
        let request = pb::SearchRequest {
            filter: Some(filter.clone()),
            ..near_vector("p", vec![0.0, 0.0], 10)
        };
        let found = c.search(request).await.unwrap().into_inner();
        assert_eq!(ids(&found), want, "{filter:?}");
    }
    svc.stop().await;
}

/// Writes `a`, `b` and `c` to collection `p`; `a` reads back exactly as written.
async fn payloads_keep_their_types(c: &mut Client) {
    let null = value(Kind::NullValue(0));
    let a = object(
        "a",
        vec![0.0, 0.0],
        &[
            ("big", value(Kind::DoubleValue(1e17))),
            ("n", int(3)),
            ("tags", list(vec![text("x"), list(vec![text("deep")])])),
            ("nothing", null.clone()),
            ("flag", value(Kind::BoolValue(true))),
        ],
    );
    let b = object(
        "b",
        vec![1.0, 0.0],
        &[
            ("n", value(Kind::DoubleValue(3.5))),
            ("tags", list(vec![text("y")])),
            ("flag", value(Kind::BoolValue(false))),
        ],
    );
    let d = object(
        "c",
        vec![2.0, 0.0],
        &[("n", text("3")), ("tags", text("x"))],
    );
    c.upsert_objects(pb::UpsertObjectsRequest {
        collection: "p".into(),
        objects: vec![a.clone(), b, d],
    })
    .await
    .unwrap();
    let got = c
        .get_object(pb::GetObjectRequest {
            collection: "p".into(),
            id: "a".into(),
            include_vector: true,
        })
        .await
        .unwrap()
        .into_inner()
        .object
        .unwrap();
    assert_eq!(got, a);
}

/// Filters over the objects of [`payloads_keep_their_types`] and the ids each must find.
fn documented_cases() -> Vec<(pb::Filter, Vec<&'static str>)> {
    let null = value(Kind::NullValue(0));
    let f = |kind| pb::Filter { kind: Some(kind) };
    let n_at_least_3 = || {
        f(F::RangeCondition(pb::RangeCondition {
            key: "n".into(),
            gte: Some(3.0),
            ..Default::default()
        }))
    };
    vec![
        (matching("tags", text("deep")), vec!["a"]),
        (matching("tags", text("x")), vec!["a", "c"]),
        (matching("nothing", null), vec!["a", "b", "c"]),
        (matching("n", value(Kind::DoubleValue(3.0))), vec!["a"]),
        (
            f(F::InCondition(pb::InCondition {
                key: "n".into(),
                values: vec![int(3), text("3")],
            })),
            vec!["a", "c"],
        ),
        (n_at_least_3(), vec!["a", "b"]),
        (f(F::NotFilter(Box::new(n_at_least_3()))), vec!["c"]),
        (
            f(F::NotFilter(Box::new(matching(
                "flag",
                value(Kind::BoolValue(true)),
            )))),
            vec!["b", "c"],
        ),
        (
            f(F::OrFilter(pb::FilterList {
                filters: vec![
                    matching("flag", value(Kind::BoolValue(false))),
                    matching("tags", text("deep")),
                ],
            })),
            vec!["a", "b"],
        ),
        (
            f(F::AndFilter(pb::FilterList {
                filters: vec![matching("tags", text("x")), n_at_least_3()],
            })),
            vec!["a"],
        ),
    ]
}

on_both_engines!(
    filtered_results_equal_brute_force_on_small_data,
    k_hits_come_back_whenever_k_objects_match_on_larger_data,
    payload_types_survive_and_filters_follow_the_documented_semantics,
);
