//! GetSchema: counts of the labels, relationship types and property keys in use, gathered by
//! one pass over the in-memory graph.

use std::collections::BTreeMap;

use super::state::GraphState;
use crate::model::{KeyCount, Schema};

/// Summarizes the graph; every list sorted by name in byte order.
pub(crate) fn summarize(state: &GraphState) -> Schema {
    let mut labels: BTreeMap<&str, u64> = BTreeMap::new();
    let mut types: BTreeMap<&str, u64> = BTreeMap::new();
    let mut keys: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for node in state.nodes() {
        for label in &node.labels {
            *labels.entry(label).or_default() += 1;
        }
        for key in node.properties.keys() {
            keys.entry(key).or_default().0 += 1;
        }
    }
    for (data, _, _) in state.relationships() {
        *types.entry(&data.rel_type).or_default() += 1;
        for key in data.properties.keys() {
            keys.entry(key).or_default().1 += 1;
        }
    }
    Schema {
        labels: owned(labels),
        relationship_types: owned(types),
        property_keys: keys
            .into_iter()
            .map(|(key, (node_count, relationship_count))| KeyCount {
                key: key.to_owned(),
                node_count,
                relationship_count,
            })
            .collect(),
        node_count: state.node_count() as u64,
        relationship_count: state.relationship_count() as u64,
    }
}

fn owned(counts: BTreeMap<&str, u64>) -> Vec<(String, u64)> {
    counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect()
}
