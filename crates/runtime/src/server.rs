//! Serving one chatmesh service on one port: the service's own gRPC API next to health and
//! reflection, behind the shared layers (deadlines, message size), with HTTP/2 keepalive and
//! the shutdown sequence every service follows. A service with HTTP extras (a JSON API, a web
//! page, an MCP endpoint) adds them with [`GrpcServer::add_http`]: they share the port. Every
//! server also answers `GET /metrics` (Prometheus text, see [`crate::metrics`]), so every port
//! accepts HTTP/1.1 as well as HTTP/2.
//!
//! Layers, outermost first: Observe (span and metrics per request) → WatchClose → Deadline →
//! MessageLimit.
//!
//! shutdown requested → health NOT_SERVING → keep accepting for `--drain-delay` → stop accepting
//! → in-flight requests finish within `--shutdown-grace` (then are dropped) → return.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tower_service::Service;

use crate::config::{ServerArgs, ServiceInfo};
use crate::deadline::DeadlineLayer;
use crate::health::Health;
use crate::limit::MessageLimitLayer;
use crate::metrics::RpcMetrics;
use crate::observe::ObserveLayer;
use crate::reflection;
use crate::watch_close::WatchCloseLayer;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The reflection service could not be built from the descriptor sets.
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed while serving.
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The service could not start (e.g. its store failed to open).
    #[error("{0}")]
    Startup(String),
}

/// Binds a listener, with an error that names the address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// A gRPC server for one service, being assembled. Health starts NOT_SERVING; the service calls
/// [`Health::set_serving`] on [`GrpcServer::health`] once it is ready for traffic.
pub struct GrpcServer {
    info: ServiceInfo,
    args: ServerArgs,
    health: Health,
    routes: RoutesBuilder,
    http: Option<axum::Router>,
    /// The gRPC services served, whose methods get their own metric series.
    services: Vec<&'static str>,
}

impl GrpcServer {
    /// A server with health (NOT_SERVING) and reflection (v1 and v1alpha) in place.
    pub async fn new(info: &ServiceInfo, args: &ServerArgs) -> Result<Self, ServeError> {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let health = Health::new(reporter, info.fqn);
        health.set_not_serving().await;
        let mut routes = RoutesBuilder::default();
        routes.add_service(health_service);
        reflection::add_services(&mut routes, info.fqn)?;
        Ok(Self {
            info: *info,
            args: args.clone(),
            health,
            routes,
            http: None,
            services: vec![
                info.fqn,
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
            ],
        })
    }

    /// The handle that sets what health reports.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Adds a gRPC service (a generated `*Server`) to the port.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes.add_service(service);
        if !self.services.contains(&S::NAME) {
            self.services.push(S::NAME);
        }
        self
    }

    /// Adds plain HTTP routes (for example `POST /v1/chat`, `/mcp`) next to the gRPC services.
    /// Their paths must not look like gRPC methods (`/package.Service/Method`), and the router
    /// must not set a fallback: unknown paths keep answering gRPC UNIMPLEMENTED. `/metrics` is
    /// taken (every server serves it).
    pub fn add_http(mut self, router: axum::Router) -> Self {
        self.http = Some(match self.http.take() {
            Some(existing) => existing.merge(router),
            None => router,
        });
        self
    }

    /// Serves on `listener` until `shutdown` is cancelled, then drains (see the module docs).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let Self {
            info,
            args,
            health,
            routes,
            http,
            services,
        } = self;
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let closing = CancellationToken::new();
        let metrics = Arc::new(RpcMetrics::new(services));
        let layers = tower::ServiceBuilder::new()
            .layer(ObserveLayer::new(metrics.clone()))
            .layer(WatchCloseLayer::new(closing.clone()))
            .layer(DeadlineLayer)
            .layer(MessageLimitLayer::new(args.max_message_bytes))
            .into_inner();
        let mut http_routes = metrics_route(metrics);
        if let Some(extras) = http {
            http_routes = http_routes.merge(extras);
        }
        let routes = Routes::from(routes.routes().into_axum_router().merge(http_routes));
        let router = Server::builder()
            .accept_http1(true)
            .http2_keepalive_interval(Some(args.keepalive_interval))
            .http2_keepalive_timeout(Some(args.keepalive_timeout))
            .layer(layers)
            .add_routes(routes);

        let stop_accepting = {
            let (shutdown, closing) = (shutdown.clone(), closing.clone());
            async move {
                shutdown.cancelled().await;
                health.set_not_serving().await;
                tracing::info!(service = info.name, "draining: health is NOT_SERVING");
                tokio::time::sleep(args.drain_delay).await;
                closing.cancel();
                tracing::info!(service = info.name, "stopped accepting connections");
            }
        };
        tracing::info!(service = info.name, addr = %addr, "serving {}", info.fqn);
        let grace = args.shutdown_grace;
        tokio::select! {
            result = router.serve_with_incoming_shutdown(incoming, stop_accepting) => result?,
            () = async { closing.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(service = info.name, ?grace,
                    "shutdown grace period elapsed; dropping requests still in flight");
            }
        }
        tracing::info!(service = info.name, "stopped");
        Ok(())
    }
}

/// `GET /metrics`: the server's metrics in the Prometheus text format.
fn metrics_route(metrics: Arc<RpcMetrics>) -> axum::Router {
    let render = move || {
        let metrics = metrics.clone();
        async move {
            (
                [(http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
                metrics.render(),
            )
        }
    };
    axum::Router::new().route("/metrics", axum::routing::get(render))
}
