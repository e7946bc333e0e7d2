//! The gRPC edge of the vector service. Its RPCs come with the service's own issue; until then
//! every method answers UNIMPLEMENTED (tonic's generated default).

use chatmesh_proto::vector::vector_service_server::VectorService;

/// Implements `VectorService`.
#[derive(Debug, Default)]
pub struct VectorServiceApi;

#[tonic::async_trait]
impl VectorService for VectorServiceApi {}
