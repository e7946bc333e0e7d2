//! The chatbot's client of the router service: one call, `route`, behind a trait so the
//! workflow can be tested without sockets. [`GrpcRouterClient`] is the real one:
//! `RouterService.Route` over a lazily connected channel that carries the trace context, with
//! the turn's remaining time as the call's deadline.

use std::time::Duration;

use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::router::{RouteRequest, RouteResponse};
use chatmesh_runtime::channel::TracedChannel;

/// Routes a query to a backend and returns its result.
#[tonic::async_trait]
pub(crate) trait RouterClient: Send + Sync + 'static {
    /// Calls the router; `timeout` is the time the turn has left. The response keeps its
    /// metadata (the router's `server-timing`).
    async fn route(
        &self,
        request: RouteRequest,
        timeout: Duration,
    ) -> Result<tonic::Response<RouteResponse>, tonic::Status>;
}

/// `RouterService.Route` over gRPC.
#[derive(Debug, Clone)]
pub(crate) struct GrpcRouterClient {
    client: RouterServiceClient<TracedChannel>,
}

impl GrpcRouterClient {
    /// A router client on `channel`.
    pub(crate) fn new(channel: impl Into<TracedChannel>) -> Self {
        Self {
            client: RouterServiceClient::new(channel.into()),
        }
    }
}

#[tonic::async_trait]
impl RouterClient for GrpcRouterClient {
    async fn route(
        &self,
        request: RouteRequest,
        timeout: Duration,
    ) -> Result<tonic::Response<RouteResponse>, tonic::Status> {
        let mut request = tonic::Request::new(request);
        request.set_timeout(timeout);
        let mut client = self.client.clone();
        client.route(request).await
    }
}
