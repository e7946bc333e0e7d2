//! The backend traits over gRPC: each method is one [`Pool::call`] with the typed tonic client
//! on the policy-wrapped service of the address the pool picked. All are reads, so all are
//! retried on UNAVAILABLE; graph queries are forced to ACCESS_MODE_READ.

use std::sync::Arc;

use chatmesh_proto::graph::graph_service_client::GraphServiceClient;
use chatmesh_proto::graph::{
    AccessMode, ExecuteQueryRequest, ExecuteQueryResponse, FindShortestPathRequest,
    FindShortestPathResponse, ListNeighborsRequest, ListNeighborsResponse,
};
use chatmesh_proto::relational::relational_service_client::RelationalServiceClient;
use chatmesh_proto::relational::{
    GetOrderRequest, GetOrderResponse, ListOrdersRequest, ListOrdersResponse,
};
use chatmesh_proto::vector::vector_service_client::VectorServiceClient;
use chatmesh_proto::vector::{SearchRequest, SearchResponse};
use tonic::Status;

use super::{CallContext, GraphBackend, RelationalBackend, VectorBackend};
use crate::pool::Pool;

/// Reads are idempotent: safe to retry.
const READ: bool = true;

/// The graph service over gRPC.
#[derive(Debug, Clone)]
pub(crate) struct GrpcGraph(pub Arc<Pool>);

/// The vector service over gRPC.
#[derive(Debug, Clone)]
pub(crate) struct GrpcVector(pub Arc<Pool>);

/// The relational service over gRPC.
#[derive(Debug, Clone)]
pub(crate) struct GrpcRelational(pub Arc<Pool>);

#[tonic::async_trait]
impl GraphBackend for GrpcGraph {
    async fn query(
        &self,
        ctx: &CallContext,
        mut request: ExecuteQueryRequest,
    ) -> Result<ExecuteQueryResponse, Status> {
        request.access_mode = AccessMode::Read as i32;
        self.0
            .call(ctx, READ, |service, deadline| {
                let request = deadline.request(request.clone());
                async move {
                    GraphServiceClient::new(service)
                        .execute_query(request)
                        .await
                }
            })
            .await
    }

    async fn list_neighbors(
        &self,
        ctx: &CallContext,
        request: ListNeighborsRequest,
    ) -> Result<ListNeighborsResponse, Status> {
        self.0
            .call(ctx, READ, |service, deadline| {
                let request = deadline.request(request.clone());
                async move {
                    GraphServiceClient::new(service)
                        .list_neighbors(request)
                        .await
                }
            })
            .await
    }

    async fn find_shortest_path(
        &self,
        ctx: &CallContext,
        request: FindShortestPathRequest,
    ) -> Result<FindShortestPathResponse, Status> {
        self.0
            .call(ctx, READ, |service, deadline| {
                let request = deadline.request(request.clone());
                async move {
                    GraphServiceClient::new(service)
                        .find_shortest_path(request)
                        .await
                }
            })
            .await
    }
}

#[tonic::async_trait]
impl VectorBackend for GrpcVector {
    async fn search(
        &self,
        ctx: &CallContext,
        request: SearchRequest,
    ) -> Result<SearchResponse, Status> {
        self.0
            .call(ctx, READ, |service, deadline| {
                let request = deadline.request(request.clone());
                async move { VectorServiceClient::new(service).search(request).await }
            })
            .await
    }
}

#[tonic::async_trait]
impl RelationalBackend for GrpcRelational {
    async fn get_order(
        &self,
        ctx: &CallContext,
        request: GetOrderRequest,
    ) -> Result<GetOrderResponse, Status> {
        self.0
            .call(ctx, READ, |service, deadline| {
                let request = deadline.request(request);
                async move {
                    RelationalServiceClient::new(service)
                        .get_order(request)
                        .await
                }
            })
            .await
    }

    async fn list_orders(
        &self,
        ctx: &CallContext,
        request: ListOrdersRequest,
    ) -> Result<ListOrdersResponse, Status> {
        self.0
            .call(ctx, READ, |service, deadline| {
                let request = deadline.request(request.clone());
                async move {
                    RelationalServiceClient::new(service)
                        .list_orders(request)
                        .await
                }
            })
            .await
    }
}
