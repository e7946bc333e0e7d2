//! gRPC server reflection, in both protocol versions: `grpc.reflection.v1` for current
//! clients and `grpc.reflection.v1alpha` for older ones (grpcurl 1.8 asks for it). Each server
//! lists only what it serves: its own service and `grpc.health.v1.Health`.

use tonic::service::RoutesBuilder;
use tonic_reflection::server::{Builder, Error};

/// Adds both reflection services for a server that serves `fqn`.
pub(crate) fn add_services(routes: &mut RoutesBuilder, fqn: &'static str) -> Result<(), Error> {
    let builder = || {
        Builder::configure()
            .register_encoded_file_descriptor_set(chatmesh_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(fqn)
            .with_service_name("grpc.health.v1.Health")
    };
    routes.add_service(builder().build_v1()?);
    routes.add_service(builder().build_v1alpha()?);
    Ok(())
}
