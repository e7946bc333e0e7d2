//! The gRPC edge of the router service. Its RPCs come with the service's own issue; until then
//! every method answers UNIMPLEMENTED (tonic's generated default).

use chatmesh_proto::router::router_service_server::RouterService;

/// Implements `RouterService`.
#[derive(Debug, Default)]
pub struct RouterServiceApi;

#[tonic::async_trait]
impl RouterService for RouterServiceApi {}
