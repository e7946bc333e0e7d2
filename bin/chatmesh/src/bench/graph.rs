//! Graph scenarios and the graph loader, all through the public gRPC API:
//! - `bench load-graph` loads the workload's organisation graph (1,000 `Person`, 40 `Team`,
//!   keyed by `name`; `MANAGES` and `MEMBER_OF` edges) with idempotent Cypher MERGE writes;
//! - `graph-neighbors`: ListNeighbors of a random person, `MANAGES`, outgoing, depth 1..2;
//! - `graph-query`: ExecuteQuery cycling through the demo organisation's questions (who manages
//!   whom, a manager's reports two levels down, team members, services a team owns, team
//!   sizes), for the latency of Query on `chatmesh up`'s data.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chatmesh_proto::graph as pb;
use chatmesh_proto::graph::graph_service_client::GraphServiceClient;
use chatmesh_proto::graph::value::Kind;
use chatmesh_runtime::channel::TracedChannel;
use serde::Deserialize;

use super::runner::{MakeWorker, Worker};

/// The graph scenario names.
pub(crate) const SCENARIOS: [&str; 2] = ["graph-neighbors", "graph-query"];

/// The demo organisation's questions (`--seed-demo`), with their parameters.
const DEMO_QUERIES: [(&str, &str); 5] = [
    (
        "MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name",
        "Alan Turing",
    ),
    (
        "MATCH (m:Person {name: $name})-[:MANAGES*1..2]->(r:Person) RETURN r.name, r.title ORDER BY r.name",
        "Grace Hopper",
    ),
    (
        "MATCH (p:Person)-[:MEMBER_OF]->(t:Team {name: $name}) RETURN p.name ORDER BY p.name",
        "Platform",
    ),
    (
        "MATCH (t:Team {name: $name})-[:OWNS]->(s) RETURN s.name ORDER BY s.name",
        "Search",
    ),
    (
        "MATCH (p:Person)-[:MEMBER_OF]->(t:Team) WHERE t.name <> $name RETURN t.name, count(p) AS people ORDER BY people DESC",
        "",
    ),
];

#[derive(Deserialize)]
struct Workload {
    graph: GraphData,
}

#[derive(Deserialize)]
struct GraphData {
    nodes: Vec<NodeData>,
    edges: Vec<EdgeData>,
}

#[derive(Deserialize)]
struct NodeData {
    name: String,
    label: String,
    #[serde(default)]
    props: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct EdgeData {
    src: String,
    dst: String,
    #[serde(rename = "type")]
    rel_type: String,
}

fn text(s: &str) -> pb::Value {
    pb::Value {
        kind: Some(Kind::StringValue(s.to_owned())),
    }
}

/// A workload property as a graph value (strings, numbers, booleans; anything else as text).
fn value(json: &serde_json::Value) -> pb::Value {
    let kind = match json {
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        other => Kind::StringValue(other.to_string()),
    };
    pb::Value { kind: Some(kind) }
}

/// A label or type as Cypher text: backtick-quoted, so any name is safe to splice in.
fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

async fn write(
    client: &mut GraphServiceClient<TracedChannel>,
    cypher: String,
    parameters: HashMap<String, pb::Value>,
) -> Result<pb::QueryStats, String> {
    let response = client
        .execute_query(pb::ExecuteQueryRequest {
            cypher,
            parameters,
            access_mode: pb::AccessMode::Write as i32,
            row_limit: 1,
        })
        .await
        .map_err(|s| format!("ExecuteQuery: {s}"))?;
    Ok(response.into_inner().stats.unwrap_or_default())
}

/// Loads the workload's graph with MERGE (a second run changes nothing).
pub(crate) async fn load_graph(path: &Path, channel: TracedChannel) -> Result<String, String> {
    let raw = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let workload: Workload =
        serde_json::from_str(&raw).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut client = GraphServiceClient::new(channel);
    let started = std::time::Instant::now();
    let (mut nodes, mut relationships) = (0, 0);
    let labels: HashMap<&str, &str> = workload
        .graph
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.label.as_str()))
        .collect();
    for node in &workload.graph.nodes {
        let properties = node
            .props
            .iter()
            .map(|(k, v)| (k.clone(), value(v)))
            .collect::<HashMap<_, _>>();
        let parameters = HashMap::from([
            ("name".to_owned(), text(&node.name)),
            (
                "props".to_owned(),
                pb::Value {
                    kind: Some(Kind::MapValue(pb::ValueMap {
                        entries: properties,
                    })),
                },
            ),
        ]);
        let cypher = format!(
            "MERGE (n:{} {{name: $name}}) SET n += $props",
            quoted(&node.label)
        );
        nodes += write(&mut client, cypher, parameters).await?.nodes_created;
    }
    for edge in &workload.graph.edges {
        let label = |name: &str| {
            labels
                .get(name)
                .map(|l| quoted(l))
                .ok_or_else(|| format!("edge endpoint '{name}' is not a node of the workload"))
        };
        let cypher = format!(
            "MATCH (a:{} {{name: $src}}), (b:{} {{name: $dst}}) MERGE (a)-[:{}]->(b)",
            label(&edge.src)?,
            label(&edge.dst)?,
            quoted(&edge.rel_type)
        );
        let parameters = HashMap::from([
            ("src".to_owned(), text(&edge.src)),
            ("dst".to_owned(), text(&edge.dst)),
        ]);
        relationships += write(&mut client, cypher, parameters)
            .await?
            .relationships_created;
    }
    Ok(format!(
        "loaded the workload graph: {} nodes and {} relationships in the file, {nodes} nodes and {relationships} relationships created, {:.1} s",
        workload.graph.nodes.len(),
        workload.graph.edges.len(),
        started.elapsed().as_secs_f64()
    ))
}

/// Ids of every `Person` node, for scenarios that start at a random person.
async fn person_ids(channel: TracedChannel) -> Result<Vec<u64>, String> {
    let response = GraphServiceClient::new(channel)
        .execute_query(pb::ExecuteQueryRequest {
            cypher: "MATCH (p:Person) RETURN id(p)".into(),
            row_limit: 10_000,
            ..Default::default()
        })
        .await
        .map_err(|s| format!("listing people: {s}"))?
        .into_inner();
    let ids: Vec<u64> = response
        .rows
        .iter()
        .filter_map(|row| match row.values.first()?.kind {
            Some(Kind::IntValue(id)) => u64::try_from(id).ok(),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Err("the graph has no Person nodes; run `chatmesh bench load-graph` first".into());
    }
    Ok(ids)
}

/// A small, fast pseudo-random sequence (xorshift64*), one per worker.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Self(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    }
}

/// The worker factory for a graph scenario (it reads the people's ids from the service).
pub(crate) async fn scenario(name: &str, channel: TracedChannel) -> Result<MakeWorker, String> {
    match name {
        "graph-neighbors" => {
            let ids = Arc::new(person_ids(channel).await?);
            Ok(Arc::new(move |index, channel| -> Worker {
                let client = GraphServiceClient::new(channel);
                let ids = ids.clone();
                let mut rng = Rng::new(index);
                Box::new(move || {
                    let mut client = client.clone();
                    let node_id = ids[rng.below(ids.len())];
                    Box::pin(async move {
                        client
                            .list_neighbors(pb::ListNeighborsRequest {
                                node_id,
                                direction: pb::Direction::Outgoing as i32,
                                relationship_types: vec!["MANAGES".into()],
                                min_depth: 1,
                                max_depth: 2,
                                ..Default::default()
                            })
                            .await
                            .map(|_| ())
                    })
                })
            }))
        }
        "graph-query" => Ok(Arc::new(|index, channel| -> Worker {
            let client = GraphServiceClient::new(channel);
            let mut next = index;
            Box::new(move || {
                let mut client = client.clone();
                let (cypher, name) = DEMO_QUERIES[next % DEMO_QUERIES.len()];
                next += 1;
                Box::pin(async move {
                    client
                        .execute_query(pb::ExecuteQueryRequest {
                            cypher: cypher.into(),
                            parameters: HashMap::from([("name".to_owned(), text(name))]),
                            ..Default::default()
                        })
                        .await
                        .map(|_| ())
                })
            })
        })),
        other => Err(format!("'{other}' is not a graph scenario")),
    }
}
