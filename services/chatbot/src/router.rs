//! The chatbot's view of the router: one call, `route`, behind a trait so the workflow can be
//! tested without sockets. [`GrpcRouter`] is the real one: `RouterService.Route` over a lazily
//! connected channel that carries the trace context, with the turn's remaining time as the
//! call's deadline.

use std::time::Duration;

use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::router::{RouteRequest, RouteResponse};
use chatmesh_runtime::channel::TracedChannel;

/// Routes a query to a backend and returns its result.
#[tonic::async_trait]
pub trait Router: Send + Sync + 'static {
    /// Calls the router; `timeout` is the time the turn has left.
    async fn route(
        &self,
        request: RouteRequest,
        timeout: Duration,
    ) -> Result<RouteResponse, tonic::Status>;
}

/// `RouterService.Route` over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcRouter {
    client: RouterServiceClient<TracedChannel>,
}

impl GrpcRouter {
    /// A router client on `channel`.
    pub fn new(channel: impl Into<TracedChannel>) -> Self {
        Self {
            client: RouterServiceClient::new(channel.into()),
        }
    }
}

#[tonic::async_trait]
impl Router for GrpcRouter {
    async fn route(
        &self,
        request: RouteRequest,
        timeout: Duration,
    ) -> Result<RouteResponse, tonic::Status> {
        let mut request = tonic::Request::new(request);
        request.set_timeout(timeout);
        let mut client = self.client.clone();
        client.route(request).await.map(tonic::Response::into_inner)
    }
}
