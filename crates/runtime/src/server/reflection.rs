//! gRPC server reflection, in both protocol versions: `grpc.reflection.v1` for current
//! clients and `grpc.reflection.v1alpha` for older ones (grpcurl 1.8 asks for it). Each server
//! lists only what it serves: its own service and `grpc.health.v1.Health`. The service's
//! contract comes from its [`ServiceInfo::file_descriptor_set`], so the runtime knows no contract
//! but health's.

use tonic::service::RoutesBuilder;
use tonic_reflection::server::{Builder, Error};

use crate::config::ServiceInfo;

/// Adds both reflection services for a server that serves `info`'s service.
pub(crate) fn add_services(routes: &mut RoutesBuilder, info: &ServiceInfo) -> Result<(), Error> {
    let builder = || {
        Builder::configure()
            .register_encoded_file_descriptor_set(info.file_descriptor_set)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(info.fqn)
            .with_service_name("grpc.health.v1.Health")
    };
    routes.add_service(builder().build_v1()?);
    routes.add_service(builder().build_v1alpha()?);
    Ok(())
}
