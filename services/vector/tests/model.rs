//! Property test: random sequences of upserts, deletes and searches give the same results as a
//! brute-force model (a map from id to vector).

use std::collections::BTreeMap;

use chatmesh_vector::internals::{Collection, CollectionSpec, Metric, Object};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Upsert(Vec<(u8, [i8; 3])>),
    Delete(Vec<u8>),
    Search([i8; 3], usize),
    Compact,
}

fn step() -> impl Strategy<Value = Step> {
    let point = (0u8..40, prop::array::uniform3(-5i8..=5));
    prop_oneof![
        4 => prop::collection::vec(point, 1..8).prop_map(Step::Upsert),
        2 => prop::collection::vec(0u8..40, 1..5).prop_map(Step::Delete),
        3 => (prop::array::uniform3(-5i8..=5), 1usize..50).prop_map(|(q, k)| Step::Search(q, k)),
        1 => Just(Step::Compact),
    ]
}

fn vector(v: &[i8; 3]) -> Vec<f32> {
    v.iter().map(|x| f32::from(*x)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn sequences_match_a_brute_force_model(steps in prop::collection::vec(step(), 1..40)) {
        let mut collection = Collection::new(CollectionSpec::new("model", 3, Metric::L2));
        let mut model: BTreeMap<String, Vec<f32>> = BTreeMap::new();
        for step in steps {
            match step {
                Step::Upsert(points) => {
                    // Later duplicates within a batch are refused by validation; keep the first.
                    let mut seen = std::collections::HashSet::new();
                    let objects: Vec<Object> = points.iter()
                        .filter(|(id, _)| seen.insert(*id))
                        .map(|(id, v)| Object { id: format!("id{id:02}"), vector: vector(v), payload: Default::default(), text: None })
                        .collect();
                    collection.apply_upsert(objects.clone());
                    for o in objects { model.insert(o.id, o.vector); }
                }
                Step::Delete(ids) => {
                    let ids: Vec<String> = ids.iter().map(|id| format!("id{id:02}")).collect();
                    let expected = ids.iter().collect::<std::collections::HashSet<_>>().into_iter().filter(|id| model.contains_key(*id)).count();
                    prop_assert_eq!(collection.apply_delete(&ids) as usize, expected);
                    for id in &ids { model.remove(id); }
                }
                Step::Compact => collection = collection.compacted_source().build(),
                Step::Search(q, k) => {
                    let q = vector(&q);
                    let got: Vec<String> = collection.search(&q, k, 64, None).iter().map(|h| collection.object(h.slot).id.clone()).collect();
                    let mut expected: Vec<(f32, &String)> = model.iter()
                        .map(|(id, v)| (v.iter().zip(&q).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt(), id))
                        .collect();
                    expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
                    let expected: Vec<String> = expected.into_iter().take(k).map(|(_, id)| id.clone()).collect();
                    prop_assert_eq!(got, expected);
                }
            }
            prop_assert_eq!(collection.len(), model.len());
            for (id, v) in &model {
                prop_assert_eq!(&collection.get(id).unwrap().vector, v);
            }
        }
    }
}
