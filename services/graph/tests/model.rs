//! Property test: on random small graphs, random MATCH patterns (labels, property maps, edge
//! types, all three directions, variable length, WHERE, grouping) give the same rows as a naive
//! reference evaluator that enumerates nodes, relationships and trails by brute force.

use std::collections::{BTreeSet, HashMap};

use chatmesh_graph::internals::{
    Budget, Graph, GraphState, Properties, QueryValue, Txn, Value, execute, parse,
};
use proptest::prelude::*;

/// A generated node: labels among A and B, and maybe a property `k` in 0..3.
#[derive(Debug, Clone)]
struct NodeSpec {
    a: bool,
    b: bool,
    k: Option<i64>,
}

/// A generated relationship: type R or S between two node indices.
#[derive(Debug, Clone)]
struct EdgeSpec {
    from: usize,
    to: usize,
    s: bool,
}

#[derive(Debug, Clone)]
struct GraphSpec {
    nodes: Vec<NodeSpec>,
    edges: Vec<EdgeSpec>,
}

fn graph() -> impl Strategy<Value = GraphSpec> {
    let node = (any::<bool>(), any::<bool>(), prop::option::of(0i64..3))
        .prop_map(|(a, b, k)| NodeSpec { a, b, k });
    prop::collection::vec(node, 1..7).prop_flat_map(|nodes| {
        let n = nodes.len();
        let edge = (0..n, 0..n, any::<bool>()).prop_map(|(from, to, s)| EdgeSpec { from, to, s });
        prop::collection::vec(edge, 0..12).prop_map(move |edges| GraphSpec {
            nodes: nodes.clone(),
            edges,
        })
    })
}

/// A generated pattern `(a:L {k: v})-[r:T *min..max]->(b:L) WHERE a.k < b.k`.
#[derive(Debug, Clone)]
struct PatternSpec {
    a_label: Option<bool>,
    a_k: Option<i64>,
    b_label: Option<bool>,
    rel_type: Option<bool>,
    direction: u8,
    length: Option<(u32, u32)>,
    compare: bool,
}

fn pattern() -> impl Strategy<Value = PatternSpec> {
    (
        prop::option::of(any::<bool>()),
        prop::option::of(0i64..3),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        0u8..3,
        prop::option::of((0u32..3, 0u32..3).prop_map(|(a, b)| (a.min(b), a.max(b)))),
        any::<bool>(),
    )
        .prop_map(
            |(a_label, a_k, b_label, rel_type, direction, length, compare)| PatternSpec {
                a_label,
                a_k,
                b_label,
                rel_type,
                direction,
                length,
                compare,
            },
        )
}

fn label(b: bool) -> &'static str {
    if b { "B" } else { "A" }
}

impl PatternSpec {
    fn cypher(&self) -> String {
        let a_label = self
            .a_label
            .map_or(String::new(), |l| format!(":{}", label(l)));
        let a_k = self.a_k.map_or(String::new(), |k| format!(" {{k: {k}}}"));
        let b_label = self
            .b_label
            .map_or(String::new(), |l| format!(":{}", label(l)));
        let rel_type = self
            .rel_type
            .map_or(String::new(), |s| format!(":{}", if s { "S" } else { "R" }));
        let length = self
            .length
            .map_or(String::new(), |(min, max)| format!("*{min}..{max}"));
        let (left, right) = match self.direction {
            0 => ("-", "->"),
            1 => ("<-", "-"),
            _ => ("-", "-"),
        };
        let filter = if self.compare { " WHERE a.k < b.k" } else { "" };
        format!(
            "MATCH (a{a_label}{a_k}){left}[{rel_type}{length}]{right}(b{b_label}){filter} \
             RETURN id(a), id(b), count(*)"
        )
    }

    /// The reference: every trail from every start node, counted per (a, b).
    fn reference(&self, g: &GraphSpec) -> BTreeSet<(i64, i64, i64)> {
        let node_fits = |i: usize, want: Option<bool>| {
            want.is_none_or(|b| if b { g.nodes[i].b } else { g.nodes[i].a })
        };
        let (min, max) = self.length.unwrap_or((1, 1));
        let mut counts: HashMap<(usize, usize), i64> = HashMap::new();
        for a in 0..g.nodes.len() {
            if !node_fits(a, self.a_label) || self.a_k.is_some_and(|k| g.nodes[a].k != Some(k)) {
                continue;
            }
            // Trails: (current node, used edges).
            let mut stack = vec![(a, Vec::<usize>::new())];
            while let Some((at, used)) = stack.pop() {
                let hops = used.len() as u32;
                if hops >= min && node_fits(at, self.b_label) {
                    let passes = !self.compare
                        || matches!((g.nodes[a].k, g.nodes[at].k), (Some(x), Some(y)) if x < y);
                    if passes {
                        *counts.entry((a, at)).or_default() += 1;
                    }
                }
                if hops >= max {
                    continue;
                }
                for (e, edge) in g.edges.iter().enumerate() {
                    if used.contains(&e) || self.rel_type.is_some_and(|s| s != edge.s) {
                        continue;
                    }
                    let mut next = Vec::new();
                    if self.direction != 1 && edge.from == at {
                        next.push(edge.to);
                    }
                    if self.direction != 0
                        && edge.to == at
                        && !(self.direction == 2 && edge.from == at)
                    {
                        next.push(edge.from);
                    }
                    for to in next {
                        let mut used = used.clone();
                        used.push(e);
                        stack.push((to, used));
                    }
                }
            }
        }
        counts
            .into_iter()
            .map(|((a, b), n)| (a as i64 + 1, b as i64 + 1, n))
            .collect()
    }
}

fn build(spec: &GraphSpec) -> GraphState {
    let mut state = GraphState::new();
    let mut txn = Txn::new(&mut state);
    for node in &spec.nodes {
        let mut labels = BTreeSet::new();
        if node.a {
            labels.insert("A".to_owned());
        }
        if node.b {
            labels.insert("B".to_owned());
        }
        let mut properties = Properties::new();
        if let Some(k) = node.k {
            properties.insert("k".into(), Value::Int(k));
        }
        txn.create_node(labels, properties).unwrap();
    }
    for edge in &spec.edges {
        let rel_type = if edge.s { "S" } else { "R" };
        txn.create_relationship(
            edge.from as u64 + 1,
            edge.to as u64 + 1,
            rel_type.into(),
            Properties::new(),
        )
        .unwrap();
    }
    drop(txn);
    state
}

fn int(value: &QueryValue) -> i64 {
    match value {
        QueryValue::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn patterns_match_a_brute_force_reference(g in graph(), p in pattern()) {
        let state = build(&g);
        let cypher = p.cypher();
        let statement = parse(&cypher).unwrap();
        let output = execute(
            Graph::Read(&state),
            &statement,
            &HashMap::new(),
            &Budget::new(None),
            None,
        )
        .unwrap();
        let got: BTreeSet<(i64, i64, i64)> = output
            .rows
            .iter()
            .map(|r| (int(&r.values[0]), int(&r.values[1]), int(&r.values[2])))
            .collect();
        prop_assert_eq!(got.len(), output.rows.len(), "groups are unique");
        prop_assert_eq!(got, p.reference(&g), "{}", cypher);
    }
}
