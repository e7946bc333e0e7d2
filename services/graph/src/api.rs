//! The gRPC edge of the graph service: checks what needs no data (ids, names, depths, paging),
//! hands the rest to the [`GraphStore`], and turns results and errors into messages. [`status`]
//! is the one place domain errors become gRPC status codes.
//! ExecuteQuery and StreamQuery hand the Cypher text to the store, which parses and runs it.
//! Store calls run on the blocking pool (writes fsync, queries may run long), except small
//! reads (GetNode, GetRelationship, short ListNeighbors walks) that the store can answer at
//! once: those run inline, as the hand-off would cost more than the read.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, OnceLock};

use chatmesh_proto::graph::{self as pb, graph_service_server::GraphService};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::error::{GraphError, invalid};
use crate::store::txn::WriteStats;
use crate::store::{
    CypherQuery, CypherResult, Direction, GraphStore, NeighborQuery, NodeUpdate, PathQuery, Weight,
};
use crate::value::{MAX_LABELS, Value, check_name, properties_from_pb};

const MAX_NEIGHBOR_DEPTH: i32 = 10;
const DEFAULT_PATH_DEPTH: u32 = 15;
const MAX_PATH_DEPTH: i32 = 100;
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;
const MAX_CYPHER_BYTES: usize = 64 * 1024;
const MAX_PARAMETERS: usize = 256;
const DEFAULT_ROW_LIMIT: usize = 1000;
const MAX_ROW_LIMIT: usize = 10_000;
const DEFAULT_BATCH_SIZE: usize = 256;
const MAX_BATCH_SIZE: usize = 4096;
/// Most relationships a ListNeighbors walk may take on an async thread; a longer walk starts
/// again on the blocking pool.
const INLINE_NEIGHBOR_STEPS: usize = 512;

/// Where the store will be once loaded; until then every call is UNAVAILABLE.
pub type ReadyStore = Arc<OnceLock<Arc<dyn GraphStore>>>;

/// Implements `chatmesh.graph.v1.GraphService`.
pub struct GraphApi {
    store: ReadyStore,
}

impl GraphApi {
    /// An API over the store that `store` will hold once loaded.
    pub fn new(store: ReadyStore) -> Self {
        Self { store }
    }

    /// The store, or UNAVAILABLE while it loads.
    fn ready(&self) -> Result<&Arc<dyn GraphStore>, Status> {
        self.store
            .get()
            .ok_or_else(|| Status::unavailable("the graph store is still loading"))
    }

    /// Answers a small read of `input` on this async thread when the store can do so without
    /// waiting (`quick` returns `Some`), else runs `call` on the blocking pool. The hand-off to
    /// the pool costs more than a short read itself.
    async fn quick_or_blocking<I: Send + 'static, T: Send + 'static>(
        &self,
        input: I,
        quick: impl FnOnce(&dyn GraphStore, &I) -> Option<Result<T, GraphError>>,
        call: impl FnOnce(&dyn GraphStore, I) -> Result<T, GraphError> + Send + 'static,
    ) -> Result<T, Status> {
        match quick(self.ready()?.as_ref(), &input) {
            Some(answer) => answer.map_err(status),
            None => self.blocking(move |store| call(store, input)).await,
        }
    }

    /// Runs a store call off the async threads (writes fsync; reads may walk far).
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn GraphStore) -> Result<T, GraphError> + Send + 'static,
    ) -> Result<T, Status> {
        let store = self.ready()?.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .map_err(|e| Status::internal(format!("store task failed: {e}")))?
            .map_err(status)
    }
}

/// Maps a domain error to its gRPC status. Storage and corruption errors are INTERNAL with a
/// generic message; their details go to the log.
pub fn status(error: GraphError) -> Status {
    match error {
        GraphError::InvalidArgument(m) => Status::invalid_argument(m),
        GraphError::NotFound(m) => Status::not_found(m),
        GraphError::FailedPrecondition(m) => Status::failed_precondition(m),
        GraphError::DeadlineExceeded(m) => Status::deadline_exceeded(m),
        GraphError::ResourceExhausted(m) => Status::resource_exhausted(m),
        GraphError::Unavailable(m) => Status::unavailable(m),
        other @ (GraphError::Storage(_) | GraphError::Corrupt(_)) => {
            tracing::error!(error = %other, "graph store failure");
            Status::internal(
                "the graph store failed to complete the operation; nothing was changed",
            )
        }
    }
}

fn check_id(id: u64, field: &str) -> Result<u64, Status> {
    if id == 0 {
        return Err(Status::invalid_argument(format!(
            "{field}: 0 is not a valid id (ids start at 1)"
        )));
    }
    Ok(id)
}

fn names(names: &[String], field: &str) -> Result<Vec<String>, Status> {
    for (i, name) in names.iter().enumerate() {
        check_name(name, &format!("{field}[{i}]")).map_err(status)?;
    }
    Ok(names.to_vec())
}

fn direction(value: i32, field: &str) -> Result<Direction, Status> {
    match pb::Direction::try_from(value) {
        Ok(pb::Direction::Unspecified | pb::Direction::Both) => Ok(Direction::Both),
        Ok(pb::Direction::Outgoing) => Ok(Direction::Outgoing),
        Ok(pb::Direction::Incoming) => Ok(Direction::Incoming),
        Err(_) => Err(Status::invalid_argument(format!(
            "{field}: unknown direction {value}"
        ))),
    }
}

fn update_from_pb(request: pb::UpdateNodeRequest) -> Result<NodeUpdate, GraphError> {
    let mut set_properties = Vec::with_capacity(request.set_properties.len());
    for (key, value) in &request.set_properties {
        check_name(key, "set_properties key")?;
        set_properties.push((
            key.clone(),
            Value::from_pb(value, &format!("set_properties.{key}"))?,
        ));
    }
    set_properties.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, key) in request.remove_property_keys.iter().enumerate() {
        check_name(key, &format!("remove_property_keys[{i}]"))?;
        if request.set_properties.contains_key(key) {
            return Err(invalid(format!(
                "property '{key}' is in both set_properties and remove_property_keys"
            )));
        }
    }
    let removed: HashSet<&String> = request.remove_labels.iter().collect();
    for (i, label) in request.add_labels.iter().enumerate() {
        check_name(label, &format!("add_labels[{i}]"))?;
        if removed.contains(label) {
            return Err(invalid(format!(
                "label '{label}' is in both add_labels and remove_labels"
            )));
        }
    }
    for (i, label) in request.remove_labels.iter().enumerate() {
        check_name(label, &format!("remove_labels[{i}]"))?;
    }
    Ok(NodeUpdate {
        id: request.id,
        set_properties,
        remove_keys: request.remove_property_keys,
        add_labels: request.add_labels,
        remove_labels: request.remove_labels,
    })
}

/// A ListNeighbors page token: the last listed (depth, node id), how many were listed so far,
/// and a checksum of the request it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NeighborCursor {
    depth: u32,
    node_id: u64,
    listed: usize,
    request: u32,
}

impl NeighborCursor {
    fn encode(&self) -> String {
        format!(
            "n1.{}.{}.{}.{:08x}",
            self.depth, self.node_id, self.listed, self.request
        )
    }

    fn decode(token: &str, request: u32) -> Result<Self, Status> {
        let bad = || Status::invalid_argument("page_token: not a token this server issued");
        let mut parts = token.strip_prefix("n1.").ok_or_else(bad)?.split('.');
        let mut next = || parts.next().ok_or_else(bad);
        let cursor = Self {
            depth: next()?.parse().map_err(|_| bad())?,
            node_id: next()?.parse().map_err(|_| bad())?,
            listed: next()?.parse().map_err(|_| bad())?,
            request: u32::from_str_radix(next()?, 16).map_err(|_| bad())?,
        };
        if cursor.request != request {
            return Err(Status::invalid_argument(
                "page_token: belongs to a request with different fields",
            ));
        }
        Ok(cursor)
    }
}

fn neighbor_query(
    request: &pb::ListNeighborsRequest,
    deadline: Option<std::time::Instant>,
) -> Result<NeighborQuery, Status> {
    let node_id = check_id(request.node_id, "node_id")?;
    let min_depth = if request.min_depth == 0 {
        1
    } else {
        request.min_depth
    };
    let max_depth = if request.max_depth == 0 {
        min_depth
    } else {
        request.max_depth
    };
    if !(1 <= min_depth && min_depth <= max_depth && max_depth <= MAX_NEIGHBOR_DEPTH) {
        return Err(Status::invalid_argument(format!(
            "min_depth, max_depth: need 1 <= min_depth <= max_depth <= {MAX_NEIGHBOR_DEPTH}, got {min_depth} and {max_depth}"
        )));
    }
    if request.limit < 0 {
        return Err(Status::invalid_argument("limit: must not be negative"));
    }
    if request.page_size < 0 {
        return Err(Status::invalid_argument("page_size: must not be negative"));
    }
    Ok(NeighborQuery {
        node_id,
        direction: direction(request.direction, "direction")?,
        types: names(&request.relationship_types, "relationship_types")?,
        min_depth: min_depth as u32,
        max_depth: max_depth as u32,
        limit: (request.limit > 0).then_some(request.limit as usize),
        deadline,
    })
}

fn path_query(
    request: &pb::FindShortestPathRequest,
    deadline: Option<std::time::Instant>,
) -> Result<PathQuery, Status> {
    let source = check_id(request.source_node_id, "source_node_id")?;
    let target = check_id(request.target_node_id, "target_node_id")?;
    let max_depth = match request.max_depth {
        0 => DEFAULT_PATH_DEPTH,
        d if (1..=MAX_PATH_DEPTH).contains(&d) => d as u32,
        d => {
            return Err(Status::invalid_argument(format!(
                "max_depth: must be 0 (meaning {DEFAULT_PATH_DEPTH}) to {MAX_PATH_DEPTH}, got {d}"
            )));
        }
    };
    if let Some(w) = request.default_weight
        && !(w.is_finite() && w >= 0.0)
    {
        return Err(Status::invalid_argument(format!(
            "default_weight: must be finite and >= 0, got {w}"
        )));
    }
    let weight = match &request.weight_property {
        Some(property) => {
            check_name(property, "weight_property").map_err(status)?;
            Some(Weight {
                property: property.clone(),
                default: request.default_weight,
            })
        }
        None => None,
    };
    Ok(PathQuery {
        source,
        target,
        direction: direction(request.direction, "direction")?,
        types: names(&request.relationship_types, "relationship_types")?,
        max_depth,
        weight,
        deadline,
    })
}

/// Checks the fields ExecuteQuery and StreamQuery share; `row_limit` is already resolved.
fn cypher_query<T>(
    request: &Request<T>,
    cypher: &str,
    parameters: &std::collections::HashMap<String, pb::Value>,
    access_mode: i32,
    row_limit: Option<usize>,
) -> Result<CypherQuery, Status> {
    if cypher.trim().is_empty() {
        return Err(Status::invalid_argument("cypher: must not be empty"));
    }
    if cypher.len() > MAX_CYPHER_BYTES {
        return Err(Status::invalid_argument(format!(
            "cypher: longer than {MAX_CYPHER_BYTES} bytes"
        )));
    }
    if parameters.len() > MAX_PARAMETERS {
        return Err(Status::invalid_argument(format!(
            "parameters: at most {MAX_PARAMETERS}, got {}",
            parameters.len()
        )));
    }
    let may_write = match pb::AccessMode::try_from(access_mode) {
        Ok(pb::AccessMode::Unspecified | pb::AccessMode::Read) => false,
        Ok(pb::AccessMode::Write) => true,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "access_mode: unknown value {access_mode}"
            )));
        }
    };
    Ok(CypherQuery {
        text: cypher.to_owned(),
        parameters: parameters.clone(),
        may_write,
        row_limit,
        deadline: caller_deadline(request),
    })
}

/// The caller's deadline (`grpc-timeout`), which reads and queries stop at.
fn caller_deadline<T>(request: &Request<T>) -> Option<std::time::Instant> {
    chatmesh_runtime::Deadline::of(request).map(|d| d.0.into_std())
}

fn stats_pb(stats: WriteStats) -> pb::QueryStats {
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

/// The messages of a StreamQuery answer: header, row batches, summary.
fn stream_parts(
    result: CypherResult,
    batch_size: usize,
) -> Vec<Result<pb::StreamQueryResponse, Status>> {
    use pb::stream_query_response::Part;
    let part = |part| Ok(pb::StreamQueryResponse { part: Some(part) });
    let mut parts = vec![part(Part::Header(pb::StreamQueryHeader {
        columns: result.columns,
    }))];
    for batch in result.rows.chunks(batch_size) {
        parts.push(part(Part::RowBatch(pb::StreamQueryRowBatch {
            rows: batch.to_vec(),
        })));
    }
    parts.push(part(Part::Summary(pb::StreamQuerySummary {
        stats: Some(stats_pb(result.stats)),
        truncated: result.truncated,
    })));
    parts
}

/// The StreamQuery response stream.
pub type QueryStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<pb::StreamQueryResponse, Status>> + Send + 'static>,
>;

#[tonic::async_trait]
impl GraphService for GraphApi {
    async fn execute_query(
        &self,
        request: Request<pb::ExecuteQueryRequest>,
    ) -> Result<Response<pb::ExecuteQueryResponse>, Status> {
        let body = request.get_ref();
        let row_limit = match body.row_limit {
            n if n < 0 => return Err(Status::invalid_argument("row_limit: must not be negative")),
            0 => DEFAULT_ROW_LIMIT,
            n => (n as usize).min(MAX_ROW_LIMIT),
        };
        let query = cypher_query(
            &request,
            &body.cypher,
            &body.parameters,
            body.access_mode,
            Some(row_limit),
        )?;
        let result = self.blocking(move |store| store.query(&query)).await?;
        Ok(Response::new(pb::ExecuteQueryResponse {
            columns: result.columns,
            rows: result.rows,
            stats: Some(stats_pb(result.stats)),
            truncated: result.truncated,
        }))
    }

    async fn stream_query(
        &self,
        request: Request<pb::StreamQueryRequest>,
    ) -> Result<Response<QueryStream>, Status> {
        let body = request.get_ref();
        if body.row_limit < 0 {
            return Err(Status::invalid_argument("row_limit: must not be negative"));
        }
        let batch_size = match body.batch_size {
            n if n < 0 => return Err(Status::invalid_argument("batch_size: must not be negative")),
            0 => DEFAULT_BATCH_SIZE,
            n => (n as usize).min(MAX_BATCH_SIZE),
        };
        let row_limit = (body.row_limit > 0).then_some(body.row_limit as usize);
        let query = cypher_query(
            &request,
            &body.cypher,
            &body.parameters,
            body.access_mode,
            row_limit,
        )?;
        let result = self.blocking(move |store| store.query(&query)).await?;
        let parts = stream_parts(result, batch_size);
        Ok(Response::new(Box::pin(tokio_stream::iter(parts))))
    }

    async fn create_node(
        &self,
        request: Request<pb::CreateNodeRequest>,
    ) -> Result<Response<pb::CreateNodeResponse>, Status> {
        let request = request.into_inner();
        let labels: BTreeSet<String> = names(&request.labels, "labels")?.into_iter().collect();
        if labels.len() > MAX_LABELS {
            return Err(Status::invalid_argument(format!(
                "labels: at most {MAX_LABELS} per node, got {}",
                labels.len()
            )));
        }
        let properties = properties_from_pb(&request.properties, "properties").map_err(status)?;
        let node = self
            .blocking(move |store| store.create_node(labels, properties))
            .await?;
        Ok(Response::new(pb::CreateNodeResponse { node: Some(node) }))
    }

    async fn get_node(
        &self,
        request: Request<pb::GetNodeRequest>,
    ) -> Result<Response<pb::GetNodeResponse>, Status> {
        let id = check_id(request.get_ref().id, "id")?;
        let node = self
            .quick_or_blocking(
                id,
                |store, &id| store.try_node(id),
                |store, id| store.node(id),
            )
            .await?;
        Ok(Response::new(pb::GetNodeResponse { node: Some(node) }))
    }

    async fn update_node(
        &self,
        request: Request<pb::UpdateNodeRequest>,
    ) -> Result<Response<pb::UpdateNodeResponse>, Status> {
        check_id(request.get_ref().id, "id")?;
        let update = update_from_pb(request.into_inner()).map_err(status)?;
        let node = self
            .blocking(move |store| store.update_node(update))
            .await?;
        Ok(Response::new(pb::UpdateNodeResponse { node: Some(node) }))
    }

    async fn delete_node(
        &self,
        request: Request<pb::DeleteNodeRequest>,
    ) -> Result<Response<pb::DeleteNodeResponse>, Status> {
        let id = check_id(request.get_ref().id, "id")?;
        let deleted = self.blocking(move |store| store.delete_node(id)).await?;
        Ok(Response::new(pb::DeleteNodeResponse {
            deleted_relationship_count: deleted as i64,
        }))
    }

    async fn create_relationship(
        &self,
        request: Request<pb::CreateRelationshipRequest>,
    ) -> Result<Response<pb::CreateRelationshipResponse>, Status> {
        let request = request.into_inner();
        let start = check_id(request.start_node_id, "start_node_id")?;
        let end = check_id(request.end_node_id, "end_node_id")?;
        check_name(&request.r#type, "type").map_err(status)?;
        let properties = properties_from_pb(&request.properties, "properties").map_err(status)?;
        let rel_type = request.r#type;
        let relationship = self
            .blocking(move |store| store.create_relationship(start, end, rel_type, properties))
            .await?;
        Ok(Response::new(pb::CreateRelationshipResponse {
            relationship: Some(relationship),
        }))
    }

    async fn get_relationship(
        &self,
        request: Request<pb::GetRelationshipRequest>,
    ) -> Result<Response<pb::GetRelationshipResponse>, Status> {
        let id = check_id(request.get_ref().id, "id")?;
        let relationship = self
            .quick_or_blocking(
                id,
                |store, &id| store.try_relationship(id),
                |store, id| store.relationship(id),
            )
            .await?;
        Ok(Response::new(pb::GetRelationshipResponse {
            relationship: Some(relationship),
        }))
    }

    async fn delete_relationship(
        &self,
        request: Request<pb::DeleteRelationshipRequest>,
    ) -> Result<Response<pb::DeleteRelationshipResponse>, Status> {
        let id = check_id(request.get_ref().id, "id")?;
        self.blocking(move |store| store.delete_relationship(id))
            .await?;
        Ok(Response::new(pb::DeleteRelationshipResponse {}))
    }

    async fn list_neighbors(
        &self,
        request: Request<pb::ListNeighborsRequest>,
    ) -> Result<Response<pb::ListNeighborsResponse>, Status> {
        let deadline = caller_deadline(&request);
        let mut request = request.into_inner();
        let query = neighbor_query(&request, deadline)?;
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => (n as usize).min(MAX_PAGE_SIZE),
        };
        // The token names the request it belongs to by a checksum of the other fields.
        let page_token = std::mem::take(&mut request.page_token);
        let fingerprint = crc32fast::hash(&request.encode_to_vec());
        let cursor = if page_token.is_empty() {
            None
        } else {
            Some(NeighborCursor::decode(&page_token, fingerprint)?)
        };
        let (all, cut) = self
            .quick_or_blocking(
                query,
                |store, query| store.try_neighbors(query, INLINE_NEIGHBOR_STEPS),
                |store, query| store.neighbors(&query),
            )
            .await?;
        let after = cursor.map(|c| (c.depth, c.node_id));
        let listed_before = cursor.map_or(0, |c| c.listed);
        let mut rest = all
            .into_iter()
            .filter(|n| after.is_none_or(|key| (n.depth, n.node.id) > key));
        let page: Vec<_> = rest.by_ref().take(page_size).collect();
        let more = rest.next().is_some();
        let next_page_token = match page.last() {
            Some(last) if more => NeighborCursor {
                depth: last.depth,
                node_id: last.node.id,
                listed: listed_before + page.len(),
                request: fingerprint,
            }
            .encode(),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListNeighborsResponse {
            limit_reached: cut && !more,
            next_page_token,
            neighbors: page
                .into_iter()
                .map(|n| pb::Neighbor {
                    node: Some(n.node),
                    depth: n.depth as i32,
                    relationship: Some(n.relationship),
                })
                .collect(),
        }))
    }

    async fn find_shortest_path(
        &self,
        request: Request<pb::FindShortestPathRequest>,
    ) -> Result<Response<pb::FindShortestPathResponse>, Status> {
        let query = path_query(request.get_ref(), caller_deadline(&request))?;
        let found = self
            .blocking(move |store| store.shortest_path(&query))
            .await?;
        Ok(Response::new(pb::FindShortestPathResponse {
            path: Some(found.path),
            hop_count: found.hop_count as i32,
            total_weight: found.total_weight,
        }))
    }

    async fn get_schema(
        &self,
        _request: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        Ok(Response::new(self.blocking(|store| store.schema()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejection() {
        let cursor = NeighborCursor {
            depth: 2,
            node_id: 17,
            listed: 100,
            request: 0xdead_beef,
        };
        let token = cursor.encode();
        assert_eq!(NeighborCursor::decode(&token, 0xdead_beef).unwrap(), cursor);
        assert!(NeighborCursor::decode(&token, 1).is_err());
        assert!(NeighborCursor::decode("garbage", 1).is_err());
        assert!(NeighborCursor::decode("n1.1.2", 1).is_err());
    }
}
