//! Domain answers → response messages: entities, neighbor pages, paths, the schema, query
//! results (whole, or as StreamQuery's header, row batches and summary) and write stats.

use chatmesh_proto::graph as pb;
use pb::stream_query_response::Part;
use tonic::Status;

use super::{node_to_pb, path_to_pb, relationship_to_pb, row_to_pb};
use crate::model::{FoundPath, Node, QueryResult, Relationship, Schema, WriteStats};

pub(crate) fn create_node_response(node: Node) -> pb::CreateNodeResponse {
    pb::CreateNodeResponse {
        node: Some(node_to_pb(node)),
    }
}

pub(crate) fn get_node_response(node: Node) -> pb::GetNodeResponse {
    pb::GetNodeResponse {
        node: Some(node_to_pb(node)),
    }
}

pub(crate) fn update_node_response(node: Node) -> pb::UpdateNodeResponse {
    pb::UpdateNodeResponse {
        node: Some(node_to_pb(node)),
    }
}

pub(crate) fn delete_node_response(deleted_relationships: u64) -> pb::DeleteNodeResponse {
    pb::DeleteNodeResponse {
        deleted_relationship_count: deleted_relationships as i64,
    }
}

pub(crate) fn create_relationship_response(
    relationship: Relationship,
) -> pb::CreateRelationshipResponse {
    pb::CreateRelationshipResponse {
        relationship: Some(relationship_to_pb(relationship)),
    }
}

pub(crate) fn get_relationship_response(relationship: Relationship) -> pb::GetRelationshipResponse {
    pb::GetRelationshipResponse {
        relationship: Some(relationship_to_pb(relationship)),
    }
}

pub(crate) fn path_response(found: FoundPath) -> pb::FindShortestPathResponse {
    pb::FindShortestPathResponse {
        path: Some(path_to_pb(found.path)),
        hop_count: found.hop_count as i32,
        total_weight: found.total_weight,
    }
}

pub(crate) fn schema_response(schema: Schema) -> pb::GetSchemaResponse {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    pb::GetSchemaResponse {
        labels: schema
            .labels
            .into_iter()
            .map(|(label, n)| pb::LabelCount {
                label,
                node_count: count(n),
            })
            .collect(),
        relationship_types: schema
            .relationship_types
            .into_iter()
            .map(|(r#type, n)| pb::RelationshipTypeCount {
                r#type,
                relationship_count: count(n),
            })
            .collect(),
        property_keys: schema
            .property_keys
            .into_iter()
            .map(|k| pb::PropertyKeyCount {
                key: k.key,
                node_count: count(k.node_count),
                relationship_count: count(k.relationship_count),
            })
            .collect(),
        node_count: count(schema.node_count),
        relationship_count: count(schema.relationship_count),
    }
}

/// What a write changed, as the contract counts it.
pub(crate) fn stats(stats: WriteStats) -> pb::QueryStats {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    pb::QueryStats {
        nodes_created: count(stats.nodes_created),
        nodes_deleted: count(stats.nodes_deleted),
        relationships_created: count(stats.relationships_created),
        relationships_deleted: count(stats.relationships_deleted),
        properties_set: count(stats.properties_set),
        labels_added: count(stats.labels_added),
        labels_removed: count(stats.labels_removed),
    }
}

pub(crate) fn execute_response(result: QueryResult) -> pb::ExecuteQueryResponse {
    pb::ExecuteQueryResponse {
        columns: result.columns,
        rows: result.rows.into_iter().map(row_to_pb).collect(),
        stats: Some(stats(result.stats)),
        truncated: result.truncated,
    }
}

/// The messages of a StreamQuery answer: header, row batches, summary.
pub(crate) fn stream_parts(
    result: QueryResult,
    batch_size: usize,
) -> Vec<Result<pb::StreamQueryResponse, Status>> {
    let part = |part| Ok(pb::StreamQueryResponse { part: Some(part) });
    let mut parts = vec![part(Part::Header(pb::StreamQueryHeader {
        columns: result.columns,
    }))];
    let mut rows = result.rows.into_iter().map(row_to_pb).peekable();
    while rows.peek().is_some() {
        let batch: Vec<pb::Row> = rows.by_ref().take(batch_size).collect();
        parts.push(part(Part::RowBatch(pb::StreamQueryRowBatch {
            rows: batch,
        })));
    }
    parts.push(part(Part::Summary(pb::StreamQuerySummary {
        stats: Some(stats(result.stats)),
        truncated: result.truncated,
    })));
    parts
}
