//! Graph results for people (and models) to read: query rows, neighbour lists and paths, with
//! nodes by name and label and relationships with their direction.

use chatmesh_proto::graph::{self as pb, value::Kind};

use super::nodes::NodeRef;

/// A query result for people to read: the row count, then one line per row.
pub(crate) fn query_text(response: &pb::ExecuteQueryResponse) -> String {
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

/// `graph_neighbors`' text: how many, around which node, then one line each.
pub(super) fn neighbors_text(
    start: &NodeRef,
    max_depth: i32,
    response: &pb::ListNeighborsResponse,
) -> String {
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
    text.push_str(&neighbor_lines(response));
    text
}

/// One line per neighbour, each starting with a newline.
pub(crate) fn neighbor_lines(response: &pb::ListNeighborsResponse) -> String {
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

/// `graph_shortest_path`' text: the two ends, the hop count and the path.
pub(super) fn path_text(
    from: &NodeRef,
    to: &NodeRef,
    response: &pb::FindShortestPathResponse,
) -> String {
    let rendered = response.path.as_ref().map(render_path).unwrap_or_default();
    format!(
        "Shortest path from {} to {}, {} hop{}: {rendered}",
        from.describe(),
        to.describe(),
        response.hop_count,
        if response.hop_count == 1 { "" } else { "s" }
    )
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
    use super::super::nodes::{json_to_graph, string_value};
    use super::*;
    use serde_json::json;

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
}
