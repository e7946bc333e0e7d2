//! The gRPC edge of the graph service. Its RPCs come with the service's own issue; until then
//! every method answers UNIMPLEMENTED (tonic's generated default).

use chatmesh_proto::graph::graph_service_server::GraphService;

/// Implements `GraphService`.
#[derive(Debug, Default)]
pub struct GraphServiceApi;

#[tonic::async_trait]
impl GraphService for GraphServiceApi {}
