//! GetSchema: counts of the labels, relationship types and property keys in use.

use std::collections::BTreeMap;

use chatmesh_proto::graph as pb;

use super::graph::GraphState;

/// Summarizes the graph; every list sorted by name in byte order.
pub fn summarize(state: &GraphState) -> pb::GetSchemaResponse {
    let mut labels: BTreeMap<&str, i64> = BTreeMap::new();
    let mut types: BTreeMap<&str, i64> = BTreeMap::new();
    let mut keys: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
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
    pb::GetSchemaResponse {
        labels: labels
            .into_iter()
            .map(|(label, node_count)| pb::LabelCount {
                label: label.to_owned(),
                node_count,
            })
            .collect(),
        relationship_types: types
            .into_iter()
            .map(|(t, relationship_count)| pb::RelationshipTypeCount {
                r#type: t.to_owned(),
                relationship_count,
            })
            .collect(),
        property_keys: keys
            .into_iter()
            .map(
                |(key, (node_count, relationship_count))| pb::PropertyKeyCount {
                    key: key.to_owned(),
                    node_count,
                    relationship_count,
                },
            )
            .collect(),
        node_count: state.node_count() as i64,
        relationship_count: state.relationship_count() as i64,
    }
}
