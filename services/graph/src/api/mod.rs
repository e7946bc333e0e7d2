//! The gRPC edge of the graph service: each handler converts the request into validated domain
//! values ([`convert`], the only module that knows the messages), calls the [`GraphStore`], and
//! converts the answer back; [`status`] is the one place domain errors become gRPC status
//! codes; [`neighbors`] pages ListNeighbors. Where a call runs (inline or on the blocking pool)
//! is the store's business. Who may call which method is checked before the handlers (see
//! `crate::CALLERS`), except a query's access mode, which is in the body: [`writer_check`].

mod convert;
mod neighbors;
mod status;

pub use convert::{node_to_pb, parameter_from_pb, relationship_to_pb, row_to_pb};
pub use status::status;

use std::sync::{Arc, OnceLock};

use chatmesh_proto::graph::{self as pb, graph_service_server::GraphService};
use chatmesh_proto::wire::Encoded;
use tonic::{Request, Response, Status};

use crate::store::GraphStore;

/// Where the store will be once loaded; until then every call is UNAVAILABLE.
pub(crate) type ReadyStore = Arc<OnceLock<Arc<dyn GraphStore>>>;

/// Implements `chatmesh.graph.v1.GraphService`.
pub(crate) struct GraphApi {
    store: ReadyStore,
}

impl GraphApi {
    /// An API over the store that `store` will hold once loaded.
    pub(crate) fn new(store: ReadyStore) -> Self {
        Self { store }
    }

    /// The store, or UNAVAILABLE while it loads.
    fn ready(&self) -> Result<&dyn GraphStore, Status> {
        self.store
            .get()
            .map(|store| store.as_ref())
            .ok_or_else(|| Status::unavailable("the graph store is still loading"))
    }
}

/// The caller's deadline (`grpc-timeout`), which reads and queries stop at.
fn caller_deadline<T>(request: &Request<T>) -> Option<std::time::Instant> {
    chatmesh_runtime::Deadline::of(request).map(|d| d.0.into_std())
}

/// A query in ACCESS_MODE_WRITE needs a caller the service lets write (when callers are
/// checked); checked before the request is read further, so a refused caller learns nothing
/// about its query.
fn writer_check<T>(request: &Request<T>, access_mode: i32) -> Result<(), Status> {
    if access_mode != pb::AccessMode::Write as i32 {
        return Ok(());
    }
    chatmesh_runtime::auth::require_writer(
        chatmesh_runtime::auth::Caller::of(request),
        " in ACCESS_MODE_WRITE",
    )
}

/// The StreamQuery response stream.
type QueryStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<pb::StreamQueryResponse, Status>> + Send + 'static>,
>;

#[tonic::async_trait]
impl GraphService for GraphApi {
    async fn execute_query(
        &self,
        request: Request<pb::ExecuteQueryRequest>,
    ) -> Result<Response<pb::ExecuteQueryResponse>, Status> {
        writer_check(&request, request.get_ref().access_mode)?;
        let deadline = caller_deadline(&request);
        let query = convert::execute_query(request.into_inner(), deadline).map_err(status)?;
        let result = self.ready()?.query(query).await.map_err(status)?;
        Ok(Response::new(convert::execute_response(result)))
    }

    async fn stream_query(
        &self,
        request: Request<pb::StreamQueryRequest>,
    ) -> Result<Response<QueryStream>, Status> {
        writer_check(&request, request.get_ref().access_mode)?;
        let deadline = caller_deadline(&request);
        let (query, batch_size) =
            convert::stream_query(request.into_inner(), deadline).map_err(status)?;
        let result = self.ready()?.query(query).await.map_err(status)?;
        let parts = convert::stream_parts(result, batch_size);
        Ok(Response::new(Box::pin(tokio_stream::iter(parts))))
    }

    async fn create_node(
        &self,
        request: Request<pb::CreateNodeRequest>,
    ) -> Result<Response<pb::CreateNodeResponse>, Status> {
        let (labels, properties) = convert::create_node(request.get_ref()).map_err(status)?;
        let store = self.ready()?;
        let node = store
            .create_node(labels, properties)
            .await
            .map_err(status)?;
        Ok(Response::new(convert::create_node_response(node)))
    }

    async fn get_node(
        &self,
        request: Request<pb::GetNodeRequest>,
    ) -> Result<Response<pb::GetNodeResponse>, Status> {
        let id = convert::check_id(request.get_ref().id, "id").map_err(status)?;
        let node = self.ready()?.node(id).await.map_err(status)?;
        Ok(Response::new(convert::get_node_response(node)))
    }

    async fn update_node(
        &self,
        request: Request<pb::UpdateNodeRequest>,
    ) -> Result<Response<pb::UpdateNodeResponse>, Status> {
        let update = convert::update_node(request.into_inner()).map_err(status)?;
        let node = self.ready()?.update_node(update).await.map_err(status)?;
        Ok(Response::new(convert::update_node_response(node)))
    }

    async fn delete_node(
        &self,
        request: Request<pb::DeleteNodeRequest>,
    ) -> Result<Response<pb::DeleteNodeResponse>, Status> {
        let id = convert::check_id(request.get_ref().id, "id").map_err(status)?;
        let deleted = self.ready()?.delete_node(id).await.map_err(status)?;
        Ok(Response::new(convert::delete_node_response(deleted)))
    }

    async fn create_relationship(
        &self,
        request: Request<pb::CreateRelationshipRequest>,
    ) -> Result<Response<pb::CreateRelationshipResponse>, Status> {
        let (start, end, rel_type, properties) =
            convert::create_relationship(request.into_inner()).map_err(status)?;
        let store = self.ready()?;
        let relationship = store
            .create_relationship(start, end, rel_type, properties)
            .await
            .map_err(status)?;
        Ok(Response::new(convert::create_relationship_response(
            relationship,
        )))
    }

    async fn get_relationship(
        &self,
        request: Request<pb::GetRelationshipRequest>,
    ) -> Result<Response<pb::GetRelationshipResponse>, Status> {
        let id = convert::check_id(request.get_ref().id, "id").map_err(status)?;
        let relationship = self.ready()?.relationship(id).await.map_err(status)?;
        Ok(Response::new(convert::get_relationship_response(
            relationship,
        )))
    }

    async fn delete_relationship(
        &self,
        request: Request<pb::DeleteRelationshipRequest>,
    ) -> Result<Response<pb::DeleteRelationshipResponse>, Status> {
        let id = convert::check_id(request.get_ref().id, "id").map_err(status)?;
        self.ready()?
            .delete_relationship(id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteRelationshipResponse {}))
    }

    async fn list_neighbors(
        &self,
        request: Request<pb::ListNeighborsRequest>,
    ) -> Result<Response<Encoded<pb::ListNeighborsResponse>>, Status> {
        let deadline = caller_deadline(&request);
        let (mut query, paging, start) =
            convert::neighbor_query(request.into_inner(), deadline).map_err(status)?;
        let store = self.ready()?;
        if let Some(start) = start {
            query.node_id = store.find_node(&start, deadline).await.map_err(status)?;
        }
        let start_node_id = query.node_id;
        let pager = neighbors::pager(&query, paging).map_err(status)?;
        let found = store.neighbors(query).await.map_err(status)?;
        let page = pager.page(found);
        Ok(Response::new(convert::neighbors_answer(
            &page,
            start_node_id,
        )))
    }

    async fn find_shortest_path(
        &self,
        request: Request<pb::FindShortestPathRequest>,
    ) -> Result<Response<pb::FindShortestPathResponse>, Status> {
        let query =
            convert::path_query(request.get_ref(), caller_deadline(&request)).map_err(status)?;
        let found = self.ready()?.shortest_path(query).await.map_err(status)?;
        Ok(Response::new(convert::path_response(found)))
    }

    async fn get_schema(
        &self,
        _request: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        let schema = self.ready()?.schema().await.map_err(status)?;
        Ok(Response::new(convert::schema_response(schema)))
    }
}
