//! The graph tools: `graph_query` (one read-only Cypher statement), `graph_neighbors` (the
//! nodes around one node) and `graph_shortest_path` (how two nodes are connected). Nodes can be
//! named by id or by their `name` property, which is how people, teams and services are known.

use chatmesh_proto::graph::{
    self as pb, AccessMode, Direction, ExecuteQueryRequest, FindShortestPathRequest,
    ListNeighborsRequest, value::Kind,
};
use serde_json::{Value as Json, json};

use super::{Args, Failure, Output, ToolDef, ToolKind};
use crate::backends::{Backends, CallContext};

/// Rows `graph_query` returns when `row_limit` is not given.
const DEFAULT_ROW_LIMIT: i32 = 100;
/// Neighbours `graph_neighbors` lists when `limit` is not given.
const DEFAULT_NEIGHBOR_LIMIT: i32 = 100;
/// Hops `graph_shortest_path` considers when `max_depth` is not given.
const DEFAULT_PATH_DEPTH: i32 = 15;

fn node_schema(what: &str) -> Json {
    json!({
        "type": ["integer", "string"],
        "minimum": 1,
        "minLength": 1,
        "description": format!(
            "The {what}: its node id (an integer), or the value of its `name` property \
             (a string), e.g. \"Ada Lovelace\", \"Platform\" or \"billing\"."
        ),
    })
}

fn direction_schema() -> Json {
    json!({
        "type": "string",
        "enum": ["outgoing", "incoming", "both"],
        "default": "both",
        "description": "Which relationships to follow: outgoing, incoming or both ways.",
    })
}

fn relationship_types_schema() -> Json {
    json!({
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": 128},
        "maxItems": 32,
        "description": "Follow only these relationship types, e.g. [\"MANAGES\"]; \
                        absent or empty follows every type.",
    })
}

/// `graph_query`.
pub(super) fn query_tool() -> ToolDef {
    ToolDef {
        name: "graph_query",
        description: "Run one read-only Cypher query on the organisation graph (people, teams and \
            services: (:Person {name, title}), (:Team {name}), (:Service {name}); relationships \
            MANAGES (manager to report), MEMBER_OF (person to team), LEADS (person to team), \
            OWNS (team to service)). Supports MATCH, OPTIONAL MATCH, WHERE, WITH, RETURN with \
            aggregates, ORDER BY, SKIP, LIMIT and $parameters; writing clauses are refused. \
            Example: MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name.",
        schema: json!({
            "type": "object",
            "properties": {
                "cypher": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 65536,
                    "description": "One Cypher statement that only reads.",
                },
                "parameters": {
                    "type": "object",
                    "description": "Values for the $name references in the query: strings, \
                                    numbers (whole numbers are integers), booleans, null, \
                                    lists and maps.",
                },
                "row_limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10000,
                    "default": DEFAULT_ROW_LIMIT,
                    "description": "At most this many rows are returned.",
                },
            },
            "required": ["cypher"],
            "additionalProperties": false,
        }),
        kind: ToolKind::GraphQuery,
    }
}

/// `graph_neighbors`.
pub(super) fn neighbors_tool() -> ToolDef {
    ToolDef {
        name: "graph_neighbors",
        description: "List the nodes around one node of the organisation graph: for a person \
            their manager, reports, team and led team; for a team its members, lead and \
            services. Each neighbour comes with its depth (hops) and the relationship that \
            reached it.",
        schema: json!({
            "type": "object",
            "properties": {
                "node": node_schema("start node"),
                "label": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 128,
                    "description": "When `node` is a name: only consider nodes with this \
                                    label (Person, Team or Service).",
                },
                "direction": direction_schema(),
                "relationship_types": relationship_types_schema(),
                "max_depth": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10,
                    "default": 1,
                    "description": "List nodes up to this many hops away (1 = direct \
                                    neighbours).",
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "default": DEFAULT_NEIGHBOR_LIMIT,
                    "description": "At most this many neighbours are listed.",
                },
            },
            "required": ["node"],
            "additionalProperties": false,
        }),
        kind: ToolKind::GraphNeighbors,
    }
}

/// `graph_shortest_path`.
pub(super) fn shortest_path_tool() -> ToolDef {
    ToolDef {
        name: "graph_shortest_path",
        description: "Find how two nodes of the organisation graph are connected: one shortest \
            path (fewest hops) from one to the other, e.g. the management chain between two \
            people or how a person relates to a service.",
        schema: json!({
            "type": "object",
            "properties": {
                "from": node_schema("node the path starts at"),
                "to": node_schema("node the path ends at"),
                "direction": direction_schema(),
                "relationship_types": relationship_types_schema(),
                "max_depth": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100,
                    "default": DEFAULT_PATH_DEPTH,
                    "description": "Only paths of at most this many hops count.",
                },
            },
            "required": ["from", "to"],
            "additionalProperties": false,
        }),
        kind: ToolKind::GraphShortestPath,
    }
}

/// Runs `graph_query`.
pub(super) async fn query(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let parameters = args
        .object("parameters")?
        .map(|object| {
            object
                .iter()
                .map(|(name, value)| (name.clone(), json_to_graph(value)))
                .collect()
        })
        .unwrap_or_default();
    let request = ExecuteQueryRequest {
        cypher: args.required_string("cypher")?.to_owned(),
        parameters,
        access_mode: AccessMode::Read as i32,
        row_limit: args.int32("row_limit")?.unwrap_or(DEFAULT_ROW_LIMIT),
    };
    let response = backends
        .graph
        .query(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    Ok(Output::new(
        query_text(&response),
        &response,
        "chatmesh.graph.v1.ExecuteQueryResponse",
    ))
}

/// A query result for people to read: the row count, then one line per row.
pub(super) fn query_text(response: &pb::ExecuteQueryResponse) -> String {
    let mut text = format!(
        "{} row{}",
        response.rows.len(),
        if response.rows.len() == 1 { "" } else { "s" }
    );
    if response.truncated {
        text.push_str(" (truncated: raise row_limit to see more)");
    }
    text.push(':');
    for row in &response.rows {
        let cells: Vec<String> = response
            .columns
            .iter()
            .zip(&row.values)
            .map(|(column, value)| format!("{column} = {}", render_value(value)))
            .collect();
        text.push_str("\n- ");
        text.push_str(&cells.join(", "));
    }
    text
}

/// Runs `graph_neighbors`.
pub(super) async fn neighbors(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let label = args.string("label")?;
    let start = resolve_node(backends, ctx, args, "node", label).await?;
    let max_depth = args.int32("max_depth")?.unwrap_or(1);
    let limit = args.int32("limit")?.unwrap_or(DEFAULT_NEIGHBOR_LIMIT);
    let request = ListNeighborsRequest {
        node_id: start.id,
        direction: direction(args)? as i32,
        relationship_types: args.strings("relationship_types")?,
        min_depth: 1,
        max_depth,
        limit,
        page_size: limit,
        page_token: String::new(),
    };
    let response = backends
        .graph
        .list_neighbors(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    let within = if max_depth == 1 {
        "1 hop".to_owned()
    } else {
        format!("{max_depth} hops")
    };
    let mut text = format!(
        "{} neighbour{} of {} within {within}",
        response.neighbors.len(),
        if response.neighbors.len() == 1 {
            ""
        } else {
            "s"
        },
        start.describe()
    );
    if response.limit_reached {
        text.push_str(" (limit reached: raise limit to see more)");
    }
    text.push(':');
    text.push_str(&neighbor_lines(&response));
    Ok(Output::new(
        text,
        &response,
        "chatmesh.graph.v1.ListNeighborsResponse",
    ))
}

/// One line per neighbour, each starting with a newline.
pub(super) fn neighbor_lines(response: &pb::ListNeighborsResponse) -> String {
    let mut text = String::new();
    for neighbor in &response.neighbors {
        let Some(node) = &neighbor.node else { continue };
        text.push_str(&format!(
            "\n- {}, depth {}",
            node_label(node),
            neighbor.depth
        ));
        if let Some(rel) = &neighbor.relationship {
            text.push_str(&format!(
                ", via (node {})-[:{}]->(node {})",
                rel.start_node_id, rel.r#type, rel.end_node_id
            ));
        }
    }
    text
}

/// Runs `graph_shortest_path`.
pub(super) async fn shortest_path(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let from = resolve_node(backends, ctx, args, "from", None).await?;
    let to = resolve_node(backends, ctx, args, "to", None).await?;
    let request = FindShortestPathRequest {
        source_node_id: from.id,
        target_node_id: to.id,
        direction: direction(args)? as i32,
        relationship_types: args.strings("relationship_types")?,
        max_depth: args.int32("max_depth")?.unwrap_or(DEFAULT_PATH_DEPTH),
        weight_property: None,
        default_weight: None,
    };
    let response = backends
        .graph
        .find_shortest_path(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    let rendered = response.path.as_ref().map(render_path).unwrap_or_default();
    let text = format!(
        "Shortest path from {} to {}, {} hop{}: {rendered}",
        from.describe(),
        to.describe(),
        response.hop_count,
        if response.hop_count == 1 { "" } else { "s" }
    );
    Ok(Output::new(
        text,
        &response,
        "chatmesh.graph.v1.FindShortestPathResponse",
    ))
}

fn direction(args: Args<'_>) -> Result<Direction, Failure> {
    Ok(match args.string("direction")? {
        Some("outgoing") => Direction::Outgoing,
        Some("incoming") => Direction::Incoming,
        Some("both") | None => Direction::Both,
        Some(_) => {
            return Err(args
                .invalid("direction", "must be one of outgoing, incoming, both")
                .into());
        }
    })
}

/// A node the caller named, with what is known of it for the text.
#[derive(Debug)]
struct NodeRef {
    id: u64,
    name: Option<String>,
}

impl NodeRef {
    fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} (node {})", self.id),
            None => format!("node {}", self.id),
        }
    }
}

/// The node an argument names: an id as given, or the one node whose `name` property (and
/// label, when given) matches. No such node, or several, is a tool failure that says what to
/// do instead.
async fn resolve_node(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
    argument: &str,
    label: Option<&str>,
) -> Result<NodeRef, Failure> {
    // The schema allows an integer (an id) or a string (a name).
    if !matches!(args.get(argument), Some(Json::String(_))) {
        let id = args
            .integer(argument)?
            .ok_or_else(|| args.invalid(argument, "is required"))?;
        let id = u64::try_from(id).map_err(|_| args.invalid(argument, "must be at least 1"))?;
        return Ok(NodeRef { id, name: None });
    }
    let name = args.required_string(argument)?;
    let mut parameters = std::collections::HashMap::from([("name".to_owned(), string_value(name))]);
    let cypher = match label {
        Some(label) => {
            parameters.insert("label".to_owned(), string_value(label));
            "MATCH (n) WHERE n.name = $name AND $label IN labels(n) RETURN id(n) ORDER BY id(n)"
        }
        None => "MATCH (n) WHERE n.name = $name RETURN id(n) ORDER BY id(n)",
    };
    let request = ExecuteQueryRequest {
        cypher: cypher.to_owned(),
        parameters,
        access_mode: AccessMode::Read as i32,
        row_limit: 10,
    };
    let response = backends
        .graph
        .query(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    let ids: Vec<u64> = response
        .rows
        .iter()
        .filter_map(
            |row| match row.values.first().and_then(|v| v.kind.as_ref()) {
                Some(Kind::IntValue(id)) => u64::try_from(*id).ok(),
                _ => None,
            },
        )
        .collect();
    let with_label = label
        .map(|l| format!(" with label {l}"))
        .unwrap_or_default();
    match ids.as_slice() {
        [id] => Ok(NodeRef {
            id: *id,
            name: Some(name.to_owned()),
        }),
        [] => Err(Failure::Tool(format!(
            "no node{with_label} is named {name:?}; check the spelling, or find it with \
             graph_query"
        ))),
        several => Err(Failure::Tool(format!(
            "{} nodes{with_label} are named {name:?} (ids {}); pass `{argument}` as one of \
             these ids{}",
            several.len(),
            several
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            if label.is_some() {
                ""
            } else {
                " or give a label"
            }
        ))),
    }
}

fn string_value(s: &str) -> pb::Value {
    pb::Value {
        kind: Some(Kind::StringValue(s.to_owned())),
    }
}

/// A JSON parameter as a Cypher value: whole numbers are integers, other numbers floats.
fn json_to_graph(value: &Json) -> pb::Value {
    let kind = match value {
        Json::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(pb::ValueList {
            values: items.iter().map(json_to_graph).collect(),
        }),
        Json::Object(object) => Kind::MapValue(pb::ValueMap {
            entries: object
                .iter()
                .map(|(k, v)| (k.clone(), json_to_graph(v)))
                .collect(),
        }),
    };
    pb::Value { kind: Some(kind) }
}

/// A node for people to read: `Grace Hopper [Person] (node 2)`.
fn node_label(node: &pb::Node) -> String {
    let labels = if node.labels.is_empty() {
        String::new()
    } else {
        format!(" [{}]", node.labels.join(", "))
    };
    match node.properties.get("name").and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(name)) => format!("{name}{labels} (node {})", node.id),
        _ => format!("node {}{labels}", node.id),
    }
}

fn node_name(node: &pb::Node) -> String {
    match node.properties.get("name").and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(name)) => name.clone(),
        _ => format!("node {}", node.id),
    }
}

/// A path for people to read: `Ada Lovelace -[:MANAGES]-> Grace Hopper <-[:LEADS]- ...`.
fn render_path(path: &pb::Path) -> String {
    let mut text = path.nodes.first().map(node_name).unwrap_or_default();
    for (i, rel) in path.relationships.iter().enumerate() {
        let Some(next) = path.nodes.get(i + 1) else {
            break;
        };
        let forward = path
            .nodes
            .get(i)
            .is_some_and(|from| from.id == rel.start_node_id);
        let arrow = if forward {
            format!(" -[:{}]-> ", rel.r#type)
        } else {
            format!(" <-[:{}]- ", rel.r#type)
        };
        text.push_str(&arrow);
        text.push_str(&node_name(next));
    }
    text
}

/// A Cypher value for people to read (strings bare at the top level, quoted inside lists).
fn render_value(value: &pb::Value) -> String {
    match &value.kind {
        Some(Kind::StringValue(s)) => s.clone(),
        _ => render_nested(value),
    }
}

fn render_nested(value: &pb::Value) -> String {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => "null".to_owned(),
        Some(Kind::BoolValue(b)) => b.to_string(),
        Some(Kind::IntValue(i)) => i.to_string(),
        Some(Kind::DoubleValue(d)) => d.to_string(),
        Some(Kind::StringValue(s)) => format!("{s:?}"),
        Some(Kind::ListValue(list)) => format!(
            "[{}]",
            list.values
                .iter()
                .map(render_nested)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Kind::MapValue(map)) => {
            let mut entries: Vec<_> = map.entries.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", render_nested(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Some(Kind::NodeValue(node)) => node_label(node),
        Some(Kind::RelationshipValue(rel)) => format!(
            "(node {})-[:{}]->(node {})",
            rel.start_node_id, rel.r#type, rel.end_node_id
        ),
        Some(Kind::PathValue(path)) => render_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64, name: &str) -> pb::Node {
        pb::Node {
            id,
            labels: vec!["Person".into()],
            properties: [("name".to_owned(), string_value(name))].into(),
        }
    }

    #[test]
    fn paths_show_the_direction_of_each_relationship() {
        let rel = |id, start, end, t: &str| pb::Relationship {
            id,
            r#type: t.into(),
            start_node_id: start,
            end_node_id: end,
            properties: Default::default(),
        };
        let path = pb::Path {
            nodes: vec![node(1, "Ada"), node(2, "Grace"), node(9, "Platform")],
            relationships: vec![rel(1, 1, 2, "MANAGES"), rel(5, 9, 2, "OWNS")],
        };
        assert_eq!(
            render_path(&path),
            "Ada -[:MANAGES]-> Grace <-[:OWNS]- Platform"
        );
    }

    #[test]
    fn values_render_readably() {
        let list = pb::Value {
            kind: Some(Kind::ListValue(pb::ValueList {
                values: vec![
                    string_value("a"),
                    json_to_graph(&json!(2)),
                    json_to_graph(&json!(null)),
                ],
            })),
        };
        assert_eq!(render_value(&list), "[\"a\", 2, null]");
        assert_eq!(render_value(&string_value("Ada")), "Ada");
        let node_value = pb::Value {
            kind: Some(Kind::NodeValue(node(4, "Alan Turing"))),
        };
        assert_eq!(render_value(&node_value), "Alan Turing [Person] (node 4)");
    }

    #[test]
    fn json_parameters_become_typed_cypher_values() {
        assert_eq!(json_to_graph(&json!(3)).kind, Some(Kind::IntValue(3)));
        assert_eq!(
            json_to_graph(&json!(2.5)).kind,
            Some(Kind::DoubleValue(2.5))
        );
        let Some(Kind::MapValue(map)) = json_to_graph(&json!({"a": [true]})).kind else {
            panic!("a map")
        };
        assert_eq!(
            map.entries["a"].kind,
            Some(Kind::ListValue(pb::ValueList {
                values: vec![pb::Value {
                    kind: Some(Kind::BoolValue(true))
                }]
            }))
        );
    }
}
