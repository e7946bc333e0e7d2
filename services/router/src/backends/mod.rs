//! The router's view of the three data services: one trait per backend, so routing and the MCP
//! tools are written (and unit-tested) against traits, and the gRPC implementations with their
//! resilience policy (deadlines, retries, circuit breakers, health, load balancing) plug in
//! behind them.
//!
//! Every method is a read: the router never writes to a backend.

#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod grpc;

use std::sync::{Arc, Mutex};

use chatmesh_proto::graph::{
    ExecuteQueryRequest, ExecuteQueryResponse, FindShortestPathRequest, FindShortestPathResponse,
    ListNeighborsRequest, ListNeighborsResponse,
};
use chatmesh_proto::relational::{
    GetOrderRequest, GetOrderResponse, ListOrdersRequest, ListOrdersResponse,
};
use chatmesh_proto::vector::{SearchRequest, SearchResponse};
use tonic::Status;

/// What a backend call carries from the caller: its deadline (and later the trace context).
///
/// Build it with [`CallContext::new`] or `CallContext { deadline, ..Default::default() }`.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// When the caller stops waiting; `None` means only the configured backend timeout applies.
    pub deadline: Option<tokio::time::Instant>,
    /// Where the backend implementation records which instance answered and how many attempts
    /// it took (reported by `Route`). Shared by clones of this context.
    pub report: CallReport,
}

impl CallContext {
    /// A context with this deadline and an empty report.
    pub fn new(deadline: Option<tokio::time::Instant>) -> Self {
        Self {
            deadline,
            report: CallReport::default(),
        }
    }
}

/// Which backend instance answered the last call made with a [`CallContext`], and after how
/// many attempts. Fakes may leave it empty.
#[derive(Debug, Clone, Default)]
pub struct CallReport(Arc<Mutex<ReportState>>);

#[derive(Debug, Default)]
struct ReportState {
    address: String,
    attempts: u32,
}

impl CallReport {
    /// Records one attempt sent to `address`.
    pub fn attempt(&self, address: &str) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.attempts += 1;
        address.clone_into(&mut state.address);
    }

    /// The address of the last attempt ("" when none was recorded).
    pub fn address(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .address
            .clone()
    }

    /// The number of attempts recorded.
    pub fn attempts(&self) -> u32 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).attempts
    }
}

/// `chatmesh.graph.v1.GraphService`, read-only.
#[tonic::async_trait]
pub trait GraphBackend: Send + Sync + 'static {
    /// Runs a read-only Cypher query (the implementation forces `ACCESS_MODE_READ`).
    async fn query(
        &self,
        ctx: &CallContext,
        request: ExecuteQueryRequest,
    ) -> Result<ExecuteQueryResponse, Status>;

    /// Lists the neighbours of a node.
    async fn list_neighbors(
        &self,
        ctx: &CallContext,
        request: ListNeighborsRequest,
    ) -> Result<ListNeighborsResponse, Status>;

    /// Finds a shortest path between two nodes.
    async fn find_shortest_path(
        &self,
        ctx: &CallContext,
        request: FindShortestPathRequest,
    ) -> Result<FindShortestPathResponse, Status>;
}

/// `chatmesh.vector.v1.VectorService`, read-only.
#[tonic::async_trait]
pub trait VectorBackend: Send + Sync + 'static {
    /// Similarity search (near text or near vector).
    async fn search(
        &self,
        ctx: &CallContext,
        request: SearchRequest,
    ) -> Result<SearchResponse, Status>;
}

/// `chatmesh.relational.v1.RelationalService`, read-only.
#[tonic::async_trait]
pub trait RelationalBackend: Send + Sync + 'static {
    /// One order by id.
    async fn get_order(
        &self,
        ctx: &CallContext,
        request: GetOrderRequest,
    ) -> Result<GetOrderResponse, Status>;

    /// A page of orders.
    async fn list_orders(
        &self,
        ctx: &CallContext,
        request: ListOrdersRequest,
    ) -> Result<ListOrdersResponse, Status>;
}

/// The three backends, as the router and the tools see them.
#[derive(Clone)]
pub struct Backends {
    /// The graph service.
    pub graph: Arc<dyn GraphBackend>,
    /// The vector service.
    pub vector: Arc<dyn VectorBackend>,
    /// The relational service.
    pub relational: Arc<dyn RelationalBackend>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends").finish_non_exhaustive()
    }
}
