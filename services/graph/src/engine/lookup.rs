//! Lookup indexes kept beside the graph: node ids by label, and node ids by (property key,
//! value) for the values equality can find by hash. A pattern such as `(p:Person {name: $name})`
//! then starts from the few nodes that can match instead of comparing every node (the chat
//! path's name → node lookup was a scan of the whole graph, issue 17's profile).
//!
//! Invariants:
//! - [`GraphState::apply`](super::GraphState) is the only writer, and it updates these maps in
//!   the same step as the graph, undo included, so they never disagree with it.
//! - A lookup returns a superset of the nodes that can match: callers still check each
//!   candidate, so two values sharing a 64-bit hash cost a comparison, never a wrong answer.
//! - Only values whose Cypher equality is exact hashing are indexed: strings, booleans,
//!   integers, and floats (an integral float and the integer equal to it share a key, because
//!   `1 = 1.0` in Cypher). A probe that could equal a value hashed differently (an integer or
//!   integral float beyond 2^53, where `i as f64` rounds; a list) answers "no index" and the
//!   caller scans.
//!
//! Hand-written rather than taken from a library: it must follow each mutation and its undo
//! exactly, and it keeps a 64-bit hash per value rather than a copy, so a graph of large string
//! properties does not hold them twice.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, RandomState};

use crate::model::{Node, Value};

/// Largest magnitude below which every integer is exactly an `f64`.
const EXACT_F64_INT: i64 = 1 << 53;

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookup {
    by_label: HashMap<String, BTreeSet<u64>>,
    by_value: HashMap<u64, BTreeSet<u64>>,
    hasher: RandomState,
}

/// How a value is hashed: the form every value equal to it shares.
#[derive(Hash)]
enum Key<'v> {
    Str(&'v str),
    Bool(bool),
    Int(i64),
    Float(u64),
}

/// The key of a stored property value (`None`: not indexed).
fn stored_key(value: &Value) -> Option<Key<'_>> {
    match value {
        Value::String(s) => Some(Key::Str(s)),
        Value::Bool(b) => Some(Key::Bool(*b)),
        Value::Int(i) => Some(Key::Int(*i)),
        Value::Float(f) => Some(float_key(*f)),
        Value::Null | Value::List(_) => None,
    }
}

/// The key to probe with for `value` (`None`: the index cannot answer, scan instead).
fn probe_key(value: &Value) -> Option<Key<'_>> {
    match value {
        Value::Int(i) if i.unsigned_abs() > EXACT_F64_INT as u64 => None,
        Value::Float(f) if f.fract() == 0.0 && f.abs() > EXACT_F64_INT as f64 => None,
        Value::Float(f) if !f.is_finite() => None,
        other => stored_key(other),
    }
}

/// An integral float shares its integer's key; any other float is keyed by its bits.
fn float_key(f: f64) -> Key<'static> {
    if f.fract() == 0.0 && f.abs() <= EXACT_F64_INT as f64 {
        Key::Int(f as i64)
    } else {
        Key::Float(f.to_bits())
    }
}

impl Lookup {
    fn slot(&self, property: &str, key: &Key<'_>) -> u64 {
        self.hasher.hash_one((property, key))
    }

    /// Records a node that joined the graph.
    pub(crate) fn add_node(&mut self, node: &Node) {
        for label in &node.labels {
            self.add_label(node.id, label);
        }
        for (property, value) in &node.properties {
            self.add_property(node.id, property, value);
        }
    }

    /// Forgets a node that left the graph.
    pub(crate) fn remove_node(&mut self, node: &Node) {
        for label in &node.labels {
            self.remove_label(node.id, label);
        }
        for (property, value) in &node.properties {
            self.remove_property(node.id, property, value);
        }
    }

    pub(crate) fn add_label(&mut self, id: u64, label: &str) {
        match self.by_label.get_mut(label) {
            Some(ids) => {
                ids.insert(id);
            }
            None => {
                self.by_label.insert(label.to_owned(), BTreeSet::from([id]));
            }
        }
    }

    pub(crate) fn remove_label(&mut self, id: u64, label: &str) {
        if let Some(ids) = self.by_label.get_mut(label) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_label.remove(label);
            }
        }
    }

    pub(crate) fn add_property(&mut self, id: u64, property: &str, value: &Value) {
        if let Some(key) = stored_key(value) {
            let slot = self.slot(property, &key);
            self.by_value.entry(slot).or_default().insert(id);
        }
    }

    pub(crate) fn remove_property(&mut self, id: u64, property: &str, value: &Value) {
        if let Some(key) = stored_key(value) {
            let slot = self.slot(property, &key);
            if let Some(ids) = self.by_value.get_mut(&slot) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_value.remove(&slot);
                }
            }
        }
    }

    /// Ids (ascending) of a superset of the nodes that carry every label in `labels` and every
    /// (key, value) in `properties`, from the smallest index set that applies; `None` when no
    /// index applies (no label, no indexable value), so the caller scans.
    pub(crate) fn candidates<'a>(
        &'a self,
        labels: &[String],
        properties: &[(&str, Value)],
    ) -> Option<&'a BTreeSet<u64>> {
        static EMPTY: BTreeSet<u64> = BTreeSet::new();
        let mut best: Option<&BTreeSet<u64>> = None;
        let mut consider = |set: Option<&'a BTreeSet<u64>>| {
            let set = set.unwrap_or(&EMPTY);
            if best.is_none_or(|b| set.len() < b.len()) {
                best = Some(set);
            }
        };
        for label in labels {
            consider(self.by_label.get(label.as_str()));
        }
        for (property, value) in properties {
            if let Some(key) = probe_key(value) {
                consider(self.by_value.get(&self.slot(property, &key)));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Properties;

    fn node(id: u64, labels: &[&str], properties: &[(&str, Value)]) -> Node {
        Node {
            id,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            properties: properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Properties>(),
        }
    }

    fn ids(set: Option<&BTreeSet<u64>>) -> Option<Vec<u64>> {
        set.map(|s| s.iter().copied().collect())
    }

    #[test]
    fn labels_and_values_narrow_to_the_smallest_set() {
        let mut lookup = Lookup::default();
        lookup.add_node(&node(
            1,
            &["Person"],
            &[("name", Value::String("Ada".into()))],
        ));
        lookup.add_node(&node(
            2,
            &["Person"],
            &[("name", Value::String("Bo".into()))],
        ));
        lookup.add_node(&node(
            3,
            &["Team"],
            &[("name", Value::String("Ada".into()))],
        ));
        let person = ["Person".to_string()];
        assert_eq!(ids(lookup.candidates(&person, &[])), Some(vec![1, 2]));
        let ada = [("name", Value::String("Ada".into()))];
        assert_eq!(ids(lookup.candidates(&[], &ada)), Some(vec![1, 3]));
        assert_eq!(
            ids(lookup.candidates(&person, &ada)).map(|v| v.len()),
            Some(2)
        );
        let nobody = [("name", Value::String("Cy".into()))];
        assert_eq!(ids(lookup.candidates(&person, &nobody)), Some(vec![]));
        assert_eq!(ids(lookup.candidates(&["Ghost".into()], &[])), Some(vec![]));
        assert_eq!(ids(lookup.candidates(&[], &[])), None);
    }

    #[test]
    fn numbers_that_cypher_calls_equal_share_a_key() {
        let mut lookup = Lookup::default();
        lookup.add_node(&node(1, &[], &[("n", Value::Float(2.0))]));
        lookup.add_node(&node(2, &[], &[("n", Value::Int(2))]));
        lookup.add_node(&node(3, &[], &[("n", Value::Float(2.5))]));
        assert_eq!(
            ids(lookup.candidates(&[], &[("n", Value::Int(2))])),
            Some(vec![1, 2])
        );
        assert_eq!(
            ids(lookup.candidates(&[], &[("n", Value::Float(2.0))])),
            Some(vec![1, 2])
        );
        assert_eq!(
            ids(lookup.candidates(&[], &[("n", Value::Float(2.5))])),
            Some(vec![3])
        );
        // Beyond 2^53 an integer may equal a float it does not hash like: no index.
        let big = [("n", Value::Int((1 << 53) + 1))];
        assert_eq!(ids(lookup.candidates(&[], &big)), None);
        let list = [("n", Value::List(vec![Value::Int(2)]))];
        assert_eq!(ids(lookup.candidates(&[], &list)), None);
    }

    #[test]
    fn removals_and_changes_are_followed() {
        let mut lookup = Lookup::default();
        let ada = node(1, &["Person"], &[("name", Value::String("Ada".into()))]);
        lookup.add_node(&ada);
        lookup.remove_property(1, "name", &Value::String("Ada".into()));
        lookup.add_property(1, "name", &Value::String("Bo".into()));
        let probe = |name: &str| [("name", Value::String(name.into()))];
        assert_eq!(ids(lookup.candidates(&[], &probe("Ada"))), Some(vec![]));
        assert_eq!(ids(lookup.candidates(&[], &probe("Bo"))), Some(vec![1]));
        lookup.remove_label(1, "Person");
        assert_eq!(
            ids(lookup.candidates(&["Person".into()], &[])),
            Some(vec![])
        );
        lookup.add_label(1, "Person");
        lookup.remove_node(&node(
            1,
            &["Person"],
            &[("name", Value::String("Bo".into()))],
        ));
        assert!(lookup.by_label.is_empty() && lookup.by_value.is_empty());
    }
}
