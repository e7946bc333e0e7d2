//! The graph tools: `graph_query` (one read-only Cypher statement), `graph_neighbors` (the
//! nodes around one node) and `graph_shortest_path` (how two nodes are connected). Nodes can be
//! named by id or by their `name` property, which is how people, teams and services are known
//! ([`nodes`]); [`render`] writes the results for people to read.

mod nodes;
mod render;

use chatmesh_proto::graph::{
    AccessMode, Direction, ExecuteQueryRequest, FindShortestPathRequest, ListNeighborsRequest,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::arguments::{ToolArgs, free_object};
use super::validate::ArgError;
use super::{Failure, Output, ToolDef, ToolKind};
use crate::backends::{Backends, CallContext};
use nodes::NodeArg;

pub(crate) use render::{neighbor_lines, query_text};

/// Rows `graph_query` returns when `row_limit` is not given.
const DEFAULT_ROW_LIMIT: i32 = 100;
/// Neighbours `graph_neighbors` lists when `limit` is not given.
const DEFAULT_NEIGHBOR_LIMIT: i32 = 100;
/// Hops `graph_shortest_path` considers when `max_depth` is not given.
const DEFAULT_PATH_DEPTH: i32 = 15;

/// The arguments of `graph_query`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryArgs {
    /// One Cypher statement that only reads.
    #[schemars(length(min = 1, max = 65536))]
    cypher: String,
    /// Values for the $name references in the query: strings, numbers (whole numbers are
    /// integers), booleans, null, lists and maps.
    #[serde(default)]
    #[schemars(schema_with = "free_object")]
    parameters: Option<Map<String, Json>>,
    /// At most this many rows are returned.
    #[serde(default = "row_limit")]
    #[schemars(range(min = 1, max = 10000))]
    row_limit: i32,
}

fn row_limit() -> i32 {
    DEFAULT_ROW_LIMIT
}

impl ToolArgs for QueryArgs {}

/// Which relationships to follow.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Walk {
    Outgoing,
    Incoming,
    #[default]
    Both,
}

impl Walk {
    fn direction(self) -> Direction {
        match self {
            Self::Outgoing => Direction::Outgoing,
            Self::Incoming => Direction::Incoming,
            Self::Both => Direction::Both,
        }
    }
}

/// The arguments of `graph_neighbors`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NeighborsArgs {
    /// The start node: its `name` property, e.g. "Ada Lovelace", "Platform" or "billing", or
    /// its node id written in digits, e.g. "42".
    node: NodeArg,
    /// When `node` is a name: only consider nodes with this label (Person, Team or Service).
    #[schemars(length(min = 1, max = 128))]
    label: Option<String>,
    /// Which relationships to follow: outgoing, incoming or both ways.
    #[serde(default)]
    direction: Walk,
    /// Follow only these relationship types, e.g. ["MANAGES"]; absent or empty follows every
    /// type.
    #[serde(default)]
    #[schemars(length(max = 32), inner(length(min = 1, max = 128)))]
    relationship_types: Vec<String>,
    /// List nodes up to this many hops away (1 = direct neighbours).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    max_depth: i32,
    /// At most this many neighbours are listed.
    #[serde(default = "neighbor_limit")]
    #[schemars(range(min = 1, max = 1000))]
    limit: i32,
}

fn one() -> i32 {
    1
}

fn neighbor_limit() -> i32 {
    DEFAULT_NEIGHBOR_LIMIT
}

impl ToolArgs for NeighborsArgs {
    fn lenient(arguments: &mut Map<String, Json>) -> Result<(), ArgError> {
        nodes::lenient(arguments, "node")
    }

    fn check(&self) -> Result<(), ArgError> {
        self.node.check("node")
    }
}

/// The arguments of `graph_shortest_path`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShortestPathArgs {
    /// The node the path starts at: its `name` property, e.g. "Ada Lovelace", "Platform" or
    /// "billing", or its node id written in digits, e.g. "42".
    from: NodeArg,
    /// The node the path ends at, named the same way as `from`.
    to: NodeArg,
    /// Which relationships to follow: outgoing, incoming or both ways.
    #[serde(default)]
    direction: Walk,
    /// Follow only these relationship types, e.g. ["MANAGES"]; absent or empty follows every
    /// type.
    #[serde(default)]
    #[schemars(length(max = 32), inner(length(min = 1, max = 128)))]
    relationship_types: Vec<String>,
    /// Only paths of at most this many hops count.
    #[serde(default = "path_depth")]
    #[schemars(range(min = 1, max = 100))]
    max_depth: i32,
}

fn path_depth() -> i32 {
    DEFAULT_PATH_DEPTH
}

impl ToolArgs for ShortestPathArgs {
    fn lenient(arguments: &mut Map<String, Json>) -> Result<(), ArgError> {
        nodes::lenient(arguments, "from")?;
        nodes::lenient(arguments, "to")
    }

    fn check(&self) -> Result<(), ArgError> {
        self.from.check("from")?;
        self.to.check("to")
    }
}

/// `graph_query`.
pub(super) fn query_tool() -> ToolDef {
    ToolDef::new::<QueryArgs>(
        crate::free_query::TOOL,
        "Query the organisation graph (read-only Cypher)",
        "Run one read-only Cypher query on the organisation graph (people, teams and \
            services: (:Person {name, title}), (:Team {name}), (:Service {name}); relationships \
            MANAGES (manager to report), MEMBER_OF (person to team), LEADS (person to team), \
            OWNS (team to service)). Supports MATCH, OPTIONAL MATCH, WHERE, WITH, RETURN with \
            aggregates, ORDER BY, SKIP, LIMIT and $parameters; writing clauses are refused. \
            Example: MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name.",
        ToolKind::GraphQuery,
    )
}

/// `graph_neighbors`.
pub(super) fn neighbors_tool() -> ToolDef {
    ToolDef::new::<NeighborsArgs>(
        "graph_neighbors",
        "Nodes around a node of the organisation graph",
        "List the nodes around one node of the organisation graph: for a person \
            their manager, reports, team and led team; for a team its members, lead and \
            services. Each neighbour comes with its depth (hops) and the relationship that \
            reached it.",
        ToolKind::GraphNeighbors,
    )
}

/// `graph_shortest_path`.
pub(super) fn shortest_path_tool() -> ToolDef {
    ToolDef::new::<ShortestPathArgs>(
        "graph_shortest_path",
        "How two nodes of the organisation graph are connected",
        "Find how two nodes of the organisation graph are connected: one shortest \
            path (fewest hops) from one to the other, e.g. the management chain between two \
            people or how a person relates to a service.",
        ToolKind::GraphShortestPath,
    )
}

/// The graph service refuses a writing statement on a read-only call with advice for gRPC
/// callers ("send ACCESS_MODE_WRITE"), which a tool caller cannot follow: say instead that
/// the tool only reads.
fn graph_failure(status: &tonic::Status) -> Failure {
    let message = status.message();
    let refused_write = status.code() == tonic::Code::InvalidArgument
        && (message.contains("ACCESS_MODE_WRITE") || message.contains("access_mode is READ"));
    if !refused_write {
        return Failure::backend("graph", status);
    }
    let clause = message
        .split_once("writes (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(clause, _)| format!(" ({clause})"))
        .unwrap_or_default();
    Failure::Tool(format!(
        "the graph service answered INVALID_ARGUMENT: the query writes{clause}, and graph_query \
         is read-only: it runs only reading clauses (MATCH, OPTIONAL MATCH, WHERE, WITH, RETURN, \
         ORDER BY, SKIP, LIMIT)"
    ))
}

/// Runs `graph_query`.
pub(super) async fn query(
    backends: &Backends,
    ctx: &CallContext,
    args: QueryArgs,
) -> Result<Output, Failure> {
    let parameters = args
        .parameters
        .unwrap_or_default()
        .iter()
        .map(|(name, value)| (name.clone(), nodes::json_to_graph(value)))
        .collect();
    let request = ExecuteQueryRequest {
        cypher: args.cypher,
        parameters,
        access_mode: AccessMode::Read as i32,
        row_limit: args.row_limit,
    };
    let response = backends
        .graph
        .query(ctx, request)
        .await
        .map_err(|status| graph_failure(&status))?;
    Ok(Output::new(
        query_text(&response),
        &response,
        "chatmesh.graph.v1.ExecuteQueryResponse",
    ))
}

/// Runs `graph_neighbors`.
pub(super) async fn neighbors(
    backends: &Backends,
    ctx: &CallContext,
    args: NeighborsArgs,
) -> Result<Output, Failure> {
    let start = nodes::resolve(backends, ctx, &args.node, "node", args.label.as_deref()).await?;
    let request = ListNeighborsRequest {
        node_id: start.id,
        direction: args.direction.direction() as i32,
        relationship_types: args.relationship_types,
        min_depth: 1,
        max_depth: args.max_depth,
        limit: args.limit,
        page_size: args.limit,
        page_token: String::new(),
        start: None,
    };
    let response = backends
        .graph
        .list_neighbors(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    Ok(Output::new(
        render::neighbors_text(&start, args.max_depth, &response),
        &response,
        "chatmesh.graph.v1.ListNeighborsResponse",
    ))
}

/// Runs `graph_shortest_path`.
pub(super) async fn shortest_path(
    backends: &Backends,
    ctx: &CallContext,
    args: ShortestPathArgs,
) -> Result<Output, Failure> {
    let from = nodes::resolve(backends, ctx, &args.from, "from", None).await?;
    let to = nodes::resolve(backends, ctx, &args.to, "to", None).await?;
    let request = FindShortestPathRequest {
        source_node_id: from.id,
        target_node_id: to.id,
        direction: args.direction.direction() as i32,
        relationship_types: args.relationship_types,
        max_depth: args.max_depth,
        weight_property: None,
        default_weight: None,
    };
    let response = backends
        .graph
        .find_shortest_path(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    Ok(Output::new(
        render::path_text(&from, &to, &response),
        &response,
        "chatmesh.graph.v1.FindShortestPathResponse",
    ))
}
