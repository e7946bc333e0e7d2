//! ListNeighbors' answer written in protobuf wire form straight from the walk's nodes.
//!
//! Building the answer as generated messages first copied every label, property key and string
//! value of every node into its own allocation, put the properties into a fresh hash map per
//! node, encoded that tree and freed it again: in the profile of the graph service under
//! ListNeighbors (docs/benchmarks.md) that was most of the handler's time and about 70 of its
//! 110 allocations per call. Here the answer is measured, then written into one buffer from the
//! store's own (shared) nodes. The writer follows `proto/chatmesh/graph/v1/graph.proto` field by
//! field; the tests decode its output with the generated messages and compare it with the
//! conversions the other RPCs use ([`node_to_pb`](super::node_to_pb),
//! [`relationship_to_pb`](super::relationship_to_pb)).
//!
//! Like prost, the writer leaves out proto3 fields that hold their default (zero, empty), and
//! writes map entries in key order (the store keeps properties sorted).

use chatmesh_proto::graph as pb;
use chatmesh_proto::wire::Encoded;
use prost::bytes::BufMut;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};

use crate::api::neighbors::Page;
use crate::model::{Neighbor, Node, Properties, Relationship, Value};

/// One page of a ListNeighbors answer, encoded.
pub(crate) fn neighbors_answer(
    page: &Page,
    start_node_id: u64,
) -> Encoded<pb::ListNeighborsResponse> {
    let sizes: Vec<NeighborSize> = page.neighbors.iter().map(NeighborSize::of).collect();
    let len = sizes
        .iter()
        .map(|s| delimited_len(1, s.total))
        .sum::<usize>()
        + string_len(2, &page.next_page_token)
        + bool_len(3, page.limit_reached)
        + uint_len(4, start_node_id);
    let mut buf = Vec::with_capacity(len);
    for (neighbor, size) in page.neighbors.iter().zip(&sizes) {
        put_header(1, size.total, &mut buf);
        put_neighbor(neighbor, size, &mut buf);
    }
    put_string(2, &page.next_page_token, &mut buf);
    put_bool(3, page.limit_reached, &mut buf);
    put_uint(4, start_node_id, &mut buf);
    debug_assert_eq!(buf.len(), len);
    Encoded::from_wire(buf)
}

/// The encoded lengths of one `Neighbor` and of the two messages inside it.
struct NeighborSize {
    node: usize,
    relationship: usize,
    total: usize,
}

impl NeighborSize {
    fn of(neighbor: &Neighbor) -> Self {
        let node = node_len(&neighbor.node);
        let relationship = relationship_len(&neighbor.relationship);
        let total =
            delimited_len(1, node) + uint_len(2, depth(neighbor)) + delimited_len(3, relationship);
        Self {
            node,
            relationship,
            total,
        }
    }
}

/// `Neighbor.depth` is an `int32`; walks are far shallower than `i32::MAX`.
fn depth(neighbor: &Neighbor) -> u64 {
    i64::from(neighbor.depth.min(i32::MAX as u32)) as u64
}

fn put_neighbor(neighbor: &Neighbor, size: &NeighborSize, buf: &mut Vec<u8>) {
    put_header(1, size.node, buf);
    put_node(&neighbor.node, buf);
    put_uint(2, depth(neighbor), buf);
    put_header(3, size.relationship, buf);
    put_relationship(&neighbor.relationship, buf);
}

fn node_len(node: &Node) -> usize {
    uint_len(1, node.id)
        + node
            .labels
            .iter()
            .map(|l| delimited_len(2, l.len()))
            .sum::<usize>()
        + properties_len(3, &node.properties)
}

fn put_node(node: &Node, buf: &mut Vec<u8>) {
    put_uint(1, node.id, buf);
    for label in &node.labels {
        put_header(2, label.len(), buf);
        buf.put_slice(label.as_bytes());
    }
    put_properties(3, &node.properties, buf);
}

fn relationship_len(relationship: &Relationship) -> usize {
    uint_len(1, relationship.id)
        + string_len(2, &relationship.rel_type)
        + uint_len(3, relationship.start)
        + uint_len(4, relationship.end)
        + properties_len(5, &relationship.properties)
}

fn put_relationship(relationship: &Relationship, buf: &mut Vec<u8>) {
    put_uint(1, relationship.id, buf);
    put_string(2, &relationship.rel_type, buf);
    put_uint(3, relationship.start, buf);
    put_uint(4, relationship.end, buf);
    put_properties(5, &relationship.properties, buf);
}

/// A `map<string, Value>` is a repeated entry message: key = 1, value = 2.
fn properties_len(tag: u32, properties: &Properties) -> usize {
    properties
        .iter()
        .map(|(key, value)| delimited_len(tag, entry_len(key, value)))
        .sum()
}

fn entry_len(key: &str, value: &Value) -> usize {
    entry_len_with(key, value_len(value))
}

/// A map entry's length once its value's is known (the writer measures each value once).
fn entry_len_with(key: &str, value_len: usize) -> usize {
    delimited_len(1, key.len()) + delimited_len(2, value_len)
}

fn put_properties(tag: u32, properties: &Properties, buf: &mut Vec<u8>) {
    for (key, value) in properties {
        let value_len = value_len(value);
        put_header(tag, entry_len_with(key, value_len), buf);
        put_header(1, key.len(), buf);
        buf.put_slice(key.as_bytes());
        put_header(2, value_len, buf);
        put_value(value, buf);
    }
}

/// `Value`'s `kind` is a oneof, so its field is written even when it holds a default.
fn value_len(value: &Value) -> usize {
    match value {
        Value::Null => key_len(1) + 1,
        Value::Bool(_) => key_len(2) + 1,
        Value::Int(i) => key_len(3) + encoded_len_varint(*i as u64),
        Value::Float(_) => key_len(4) + 8,
        Value::String(s) => delimited_len(5, s.len()),
        Value::List(items) => delimited_len(6, list_len(items)),
    }
}

/// `ValueList`: its values as field 1.
fn list_len(items: &[Value]) -> usize {
    items.iter().map(|v| delimited_len(1, value_len(v))).sum()
}

fn put_value(value: &Value, buf: &mut Vec<u8>) {
    match value {
        Value::Null => {
            encode_key(1, WireType::Varint, buf);
            encode_varint(prost_types::NullValue::NullValue as u64, buf);
        }
        Value::Bool(b) => {
            encode_key(2, WireType::Varint, buf);
            encode_varint(u64::from(*b), buf);
        }
        Value::Int(i) => {
            encode_key(3, WireType::Varint, buf);
            encode_varint(*i as u64, buf);
        }
        Value::Float(f) => {
            encode_key(4, WireType::SixtyFourBit, buf);
            buf.put_f64_le(*f);
        }
        Value::String(s) => {
            put_header(5, s.len(), buf);
            buf.put_slice(s.as_bytes());
        }
        Value::List(items) => {
            put_header(6, list_len(items), buf);
            for item in items {
                put_header(1, value_len(item), buf);
                put_value(item, buf);
            }
        }
    }
}

/// A length-delimited field of `len` bytes: key, length, bytes.
fn delimited_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn put_header(tag: u32, len: usize, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
}

/// A proto3 varint field (`uint64`, `int32` of a non-negative value): absent when zero.
fn uint_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(value)
    }
}

fn put_uint(tag: u32, value: u64, buf: &mut Vec<u8>) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value, buf);
    }
}

fn bool_len(tag: u32, value: bool) -> usize {
    uint_len(tag, u64::from(value))
}

fn put_bool(tag: u32, value: bool, buf: &mut Vec<u8>) {
    put_uint(tag, u64::from(value), buf);
}

/// A proto3 string field: absent when empty.
fn string_len(tag: u32, value: &str) -> usize {
    if value.is_empty() {
        0
    } else {
        delimited_len(tag, value.len())
    }
}

fn put_string(tag: u32, value: &str, buf: &mut Vec<u8>) {
    if !value.is_empty() {
        put_header(tag, value.len(), buf);
        buf.put_slice(value.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;
    use crate::api::convert::{node_to_pb, relationship_to_pb};

    fn node(id: u64, labels: &[&str], properties: Vec<(&str, Value)>) -> Node {
        Node {
            id,
            labels: labels
                .iter()
                .map(|l| l.to_string())
                .collect::<BTreeSet<_>>(),
            properties: properties
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    fn neighbor(depth: u32, node: Node, relationship: Relationship) -> Neighbor {
        Neighbor {
            node: Arc::new(node),
            depth,
            relationship,
        }
    }

    /// Every kind of value a property holds, with the edges of each encoding: zero, negative
    /// and large integers, an empty string, multi-byte UTF-8, a long string (two-byte length),
    /// lists empty and mixed, and ids of every varint width.
    fn page() -> Page {
        let everything = node(
            u64::MAX,
            &["Person", "Émigré"],
            vec![
                ("zero", Value::Int(0)),
                ("negative", Value::Int(-5)),
                ("big", Value::Int(i64::MAX)),
                ("float", Value::Float(-0.25)),
                ("nil_float", Value::Float(0.0)),
                ("yes", Value::Bool(true)),
                ("no", Value::Bool(false)),
                ("empty", Value::String(String::new())),
                ("name", Value::String("Grace Hopper — 提督".into())),
                ("long", Value::String("x".repeat(300))),
                ("none", Value::List(vec![])),
                (
                    "mixed",
                    Value::List(vec![
                        Value::Int(1),
                        Value::String("two".into()),
                        Value::Float(3.5),
                        Value::Bool(false),
                    ]),
                ),
            ],
        );
        let relationship =
            |id: u64, start: u64, end: u64, properties: Vec<(&str, Value)>| Relationship {
                id,
                rel_type: "MANAGES".into(),
                start,
                end,
                properties: properties
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            };
        Page {
            neighbors: vec![
                neighbor(1, node(2, &[], vec![]), relationship(1, 1, 2, vec![])),
                neighbor(
                    2,
                    everything,
                    relationship(300, u64::MAX, 2, vec![("since", Value::Int(1987))]),
                ),
                neighbor(
                    127,
                    node(128, &["Team"], vec![("size", Value::Int(12))]),
                    relationship(u64::MAX, 128, 2, vec![]),
                ),
            ],
            next_page_token: "token".into(),
            limit_reached: true,
        }
    }

    /// The answer as the generated messages, built with the conversions every other RPC uses.
    fn expected(page: &Page, start_node_id: u64) -> pb::ListNeighborsResponse {
        pb::ListNeighborsResponse {
            neighbors: page
                .neighbors
                .iter()
                .map(|n| pb::Neighbor {
                    node: Some(node_to_pb(n.node.as_ref().clone())),
                    depth: n.depth as i32,
                    relationship: Some(relationship_to_pb(n.relationship.clone())),
                })
                .collect(),
            next_page_token: page.next_page_token.clone(),
            limit_reached: page.limit_reached,
            start_node_id,
        }
    }

    #[test]
    fn decodes_as_the_contract_message() {
        let page = page();
        for start in [0, 1, 300, u64::MAX] {
            let answer = neighbors_answer(&page, start);
            assert_eq!(answer.decode_message().unwrap(), expected(&page, start));
        }
    }

    #[test]
    fn leaves_out_defaults_as_prost_does() {
        // No neighbors, no token, no limit, start 0: every field at its default, nothing sent.
        let empty = Page {
            neighbors: vec![],
            next_page_token: String::new(),
            limit_reached: false,
        };
        assert!(neighbors_answer(&empty, 0).as_bytes().is_empty());
        // One bare neighbor: the same bytes as prost (no maps, so no ordering question).
        let one = Page {
            neighbors: vec![neighbor(
                1,
                node(7, &["A"], vec![]),
                Relationship {
                    id: 3,
                    rel_type: "KNOWS".into(),
                    start: 1,
                    end: 7,
                    properties: Default::default(),
                },
            )],
            next_page_token: String::new(),
            limit_reached: false,
        };
        let answer = neighbors_answer(&one, 1);
        assert_eq!(
            answer.as_bytes(),
            prost::Message::encode_to_vec(&expected(&one, 1))
        );
    }
}
