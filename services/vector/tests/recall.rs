//! Quality floor of the approximate search: on clustered data, recall@10 at the default ef
//! against exact brute force. (A quality assertion, not a speed one.)

use chatmesh_proto::vector as pb;
use chatmesh_vector::internals::testdata::clustered;
use chatmesh_vector::internals::{Collection, CollectionSpec, Metric, Object};

fn recall_at_10(distance: pb::Distance) -> f64 {
    let dimension = 32;
    let data = clustered(5000, 25, dimension, 7);
    let metric = match distance {
        pb::Distance::L2 => Metric::L2,
        pb::Distance::Dot => Metric::Dot,
        _ => Metric::Cosine,
    };
    let spec = CollectionSpec::new("recall", dimension, metric);
    let ef = spec.ef_search;
    let mut collection = Collection::new(spec);
    // Measure the graph, not the exact scan small collections get.
    collection.set_full_scan_threshold(0);
    // Batches below the parallel-insert size keep the graph (and so this figure) deterministic.
    for (n, chunk) in data.chunks(50).enumerate() {
        collection.apply_upsert(
            chunk
                .iter()
                .enumerate()
                .map(|(i, v)| Object {
                    id: format!("p{:05}", n * 50 + i),
                    vector: v.clone(),
                    payload: Default::default(),
                    text: None,
                })
                .collect(),
        );
    }
    let queries = clustered(200, 25, dimension, 99);
    let mut found = 0usize;
    for query in &queries {
        let approximate: std::collections::HashSet<usize> = collection
            .search(query, 10, ef, None)
            .into_iter()
            .map(|h| h.slot)
            .collect();
        let mut exact: Vec<(f32, usize)> = (0..data.len())
            .map(|slot| (-score(distance, query, &data[slot]), slot))
            .collect();
        exact.sort_by(|a, b| a.0.total_cmp(&b.0));
        found += exact[..10]
            .iter()
            .filter(|(_, slot)| approximate.contains(slot))
            .count();
    }
    found as f64 / (queries.len() * 10) as f64
}

fn score(distance: pb::Distance, a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    match distance {
        pb::Distance::L2 => -a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt(),
        pb::Distance::Dot => dot,
        _ => {
            dot / (a.iter().map(|x| x * x).sum::<f32>().sqrt()
                * b.iter().map(|x| x * x).sum::<f32>().sqrt())
        }
    }
}

#[test]
fn recall_at_default_ef_meets_the_floor_for_every_metric() {
    let recalls: Vec<(pb::Distance, f64)> =
        [pb::Distance::Cosine, pb::Distance::L2, pb::Distance::Dot]
            .into_iter()
            .map(|d| (d, recall_at_10(d)))
            .collect();
    println!("recall@10: {recalls:?}");
    for (distance, recall) in recalls {
        assert!(recall >= 0.95, "{distance:?}: recall@10 {recall:.3} < 0.95");
    }
}
