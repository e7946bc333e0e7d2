//! The gRPC edge of the relational service. Its RPCs come with the service's own issue; until then
//! every method answers UNIMPLEMENTED (tonic's generated default).

use chatmesh_proto::relational::relational_service_server::RelationalService;

/// Implements `RelationalService`.
#[derive(Debug, Default)]
pub struct RelationalServiceApi;

#[tonic::async_trait]
impl RelationalService for RelationalServiceApi {}
