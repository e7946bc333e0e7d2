//! Serving one chatmesh service on one port: the service's own gRPC API next to health and
//! reflection, behind the shared layers (deadlines, message size), with HTTP/2 keepalive and
//! the shutdown sequence every service follows. A service with HTTP extras (a JSON API, a web
//! page, an MCP endpoint) adds them with [`GrpcServer::add_http`]: they share the port. Every
//! server also answers `GET /metrics` (Prometheus text, see `crate::telemetry`), so every port
//! accepts HTTP/1.1 as well as HTTP/2; a plain HTTP request to a path no route serves gets
//! `404 Not Found`, a gRPC call to an unknown method UNIMPLEMENTED (see `fallback`). With `--tls-*` set the port speaks only TLS and requires
//! a client certificate from the CA (see [`crate::tls`]).
//!
//! Every port also speaks gRPC-Web (binary and text, over HTTP/1.1 or HTTP/2), so a browser or
//! `buf curl --protocol grpcweb` calls a service with no proxy (see `grpc_web`). Pages from
//! other web origins may call only the origins `--cors-allow-origin` names (see
//! `crate::edge::cors`; the chatbot's own page calls from its own origin).
//!
//! Layers, outermost first: Cors (when origins are named) → GrpcWeb (gRPC-Web calls become gRPC) → Observe (span and metrics per request) → Connection (the peer's
//! addresses and certificate name) → WatchClose → Auth (bearer tokens on the edge paths, see
//! [`GrpcServer::edge`]) → Callers (who may call the service's own API, see
//! [`GrpcServer::callers`]) → RateLimit (per client, edge paths) → Deadline → Shed (concurrency
//! limit and bounded queue) → MessageLimit → HonestStatus (a request that does not decode is
//! INVALID_ARGUMENT, not INTERNAL; status messages are capped at 1 KiB) (see `crate::edge`).
//! Each connection may carry at most `--max-concurrent-streams` calls at once.
//!
//! Beside the server: `grpc_web` (gRPC-Web calls), `fallback` (unknown paths), `health` (the status handle), `reflection`, `watch_close` (ends health
//! watches at shutdown), `shutdown` (signals) and `loading` (serving while a store loads).
//! Accepted connections write to their sockets once per HTTP/2 flush (`crate::write_at_flush`).
//!
//! shutdown requested → health NOT_SERVING → keep accepting for `--drain-delay` → stop accepting
//! → in-flight requests finish within `--shutdown-grace` (then are dropped) → return.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::Either;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;
use tower::layer::util::{Identity, Stack};
use tower::util::Either as EitherLayer;
use tower_http::cors::CorsLayer;
use tower_service::Service;

pub mod dependency;
mod fallback;
mod grpc_web;
pub(crate) mod health;
pub mod loading;
mod reflection;
pub mod shutdown;
mod watch_close;

use crate::config::{EdgeArgs, ServerArgs, ServiceInfo};
use crate::edge::auth::{AuthLayer, Authenticator};
use crate::edge::callers::{CallerPolicy, CallerRules, CallersLayer};
use crate::edge::connection::ConnectionLayer;
use crate::edge::deadline::DeadlineLayer;
use crate::edge::gate::EdgePaths;
use crate::edge::honest_status::HonestStatusLayer;
use crate::edge::message_limit::MessageLimitLayer;
use crate::edge::rate_limit::{RateLimitLayer, RateLimiter};
use crate::edge::shed::{ShedLayer, Shedder};
use crate::telemetry::http_metrics;
use crate::telemetry::metrics::{self, MetricsSource, RpcMetrics};
use crate::telemetry::observe::ObserveLayer;
use crate::tls::ServerTls;
use grpc_web::GrpcWebOnlyLayer;
use health::Health;
use watch_close::WatchCloseLayer;

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
    /// The TLS files could not be loaded.
    #[error("{0}")]
    Tls(#[from] crate::setting::ConfigError),
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
    /// What `/metrics` reports beyond the requests: the services' method names, the service's
    /// own families.
    observed: Observed,
    /// mTLS on the port, when configured.
    tls: Option<ServerTls>,
    /// Authentication and rate limits on the public paths, when the service named them.
    edge: EdgeLayers,
}

/// What a server's metrics know besides its requests.
#[derive(Default)]
struct Observed {
    /// The gRPC services served, whose methods get their own metric series.
    services: Vec<&'static str>,
    /// The service's own families ([`GrpcServer::add_metrics`]).
    sources: Vec<Arc<dyn MetricsSource>>,
}

/// The layers guarding a server's edge paths (off until [`GrpcServer::edge`]) and its own
/// API (off until [`GrpcServer::callers`]), and the cross-origin policy (none until
/// [`GrpcServer::edge`] names origins).
#[derive(Debug, Default)]
struct EdgeLayers {
    cors: Option<CorsLayer>,
    auth: AuthLayer,
    callers: CallersLayer,
    rate_limit: RateLimitLayer,
}

impl GrpcServer {
    /// A server with health (NOT_SERVING) and reflection (v1 and v1alpha) in place.
    pub async fn new(info: &ServiceInfo, args: &ServerArgs) -> Result<Self, ServeError> {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let health = Health::new(reporter, info.fqn);
        health.set_not_serving().await;
        let mut routes = RoutesBuilder::default();
        routes.add_service(health_service);
        reflection::add_services(&mut routes, info)?;
        let tls = args.tls.server()?;
        Ok(Self {
            info: *info,
            args: args.clone(),
            health,
            routes,
            http: None,
            observed: Observed {
                services: vec![
                    info.fqn,
                    "grpc.health.v1.Health",
                    "grpc.reflection.v1.ServerReflection",
                    "grpc.reflection.v1alpha.ServerReflection",
                ],
                sources: Vec::new(),
            },
            tls,
            edge: EdgeLayers::default(),
        })
    }

    /// Names the paths that face the public (see [`EdgePaths`]: a gRPC service as
    /// `/package.Service/`, an HTTP route as `/v1/chat`) and guards them as `args` say: bearer
    /// tokens ([`crate::auth`]) and a request rate per client (`crate::edge::rate_limit`). The
    /// origins `args` allow may call the whole port from their pages (`crate::edge::cors`). Health,
    /// reflection and `/metrics` should stay off the list, so that probes and tools keep
    /// working. Fails when a token or key file cannot be used.
    pub fn edge<I, P>(mut self, paths: I, args: &EdgeArgs) -> Result<Self, ServeError>
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let paths = EdgePaths::new(paths);
        let auth = Authenticator::from_args(&args.auth)?.map(Arc::new);
        if let Some(auth) = &auth {
            tracing::info!(
                service = self.info.name,
                ?paths,
                ?auth,
                "bearer tokens required"
            );
        }
        let limiter = RateLimiter::from_args(&args.rate_limit).map(Arc::new);
        self.edge.cors = crate::edge::cors::layer(&args.cors);
        if self.edge.cors.is_some() {
            let origins = &args.cors.allow_origins;
            tracing::info!(
                service = self.info.name,
                ?origins,
                "cross-origin calls allowed"
            );
        }
        self.edge.auth = AuthLayer::new(auth, paths.clone());
        self.edge.rate_limit = RateLimitLayer::new(limiter, paths);
        Ok(self)
    }

    /// Checks who calls the service's own API (see `crate::edge::callers`): `rules` name its
    /// gRPC service, the callers and writers the topology allows by default, and the methods
    /// that write; `--allow-callers` and `--allow-writers` replace the defaults. On when the
    /// server has an identity source (mTLS with required client certificates, or peer tokens);
    /// otherwise the API stays open and the server logs once that callers are not checked.
    /// Fails when the peer tokens cannot be used.
    pub fn callers(mut self, rules: CallerRules) -> Result<Self, ServeError> {
        let policy = CallerPolicy::new(rules, &self.args.callers, &self.args.tls)?;
        match &policy {
            Some(policy) => tracing::info!(service = self.info.name, ?policy, "callers checked"),
            None => tracing::info!(
                service = self.info.name,
                "callers are not checked: no identity source (mTLS with required client \
                 certificates, or --peer-tokens); anyone who reaches the port may call it"
            ),
        }
        let paths = EdgePaths::new([rules.path_prefix()]);
        self.edge.callers = CallersLayer::new(policy.map(Arc::new), paths);
        Ok(self)
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
        if !self.observed.services.contains(&S::NAME) {
            self.observed.services.push(S::NAME);
        }
        self
    }

    /// Adds plain HTTP routes (for example `POST /v1/chat`, `/mcp`) next to the gRPC services.
    /// Their paths must not look like gRPC methods (`/package.Service/Method`), and the router
    /// must not set a fallback: the server's own answers unknown paths (404 for plain HTTP, gRPC
    /// UNIMPLEMENTED for gRPC calls). `/metrics` is taken (every server serves it).
    pub fn add_http(mut self, router: axum::Router) -> Self {
        self.http = Some(match self.http.take() {
            Some(existing) => existing.merge(router),
            None => router,
        });
        self
    }

    /// Adds the service's own families to `GET /metrics` (after the server's).
    pub fn add_metrics(mut self, source: Arc<dyn MetricsSource>) -> Self {
        self.observed.sources.push(source);
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
            observed,
            tls,
            edge,
        } = self;
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let closing = CancellationToken::new();
        let router = build_router(info, &args, routes, http, observed, edge, closing.clone());
        let stop_accepting = drain(info, health, args.drain_delay, shutdown, closing.clone());
        tracing::info!(service = info.name, addr = %addr, "serving {}", info.fqn);
        let incoming = crate::tls::server::incoming(listener, tls);
        let serving = router.serve_with_incoming_shutdown(incoming, stop_accepting);
        let grace = grace_elapsed(closing, args.shutdown_grace);
        match futures::future::select(Box::pin(serving), Box::pin(grace)).await {
            Either::Left((result, _)) => result?,
            Either::Right(((), _)) => warn_grace_elapsed(info, args.shutdown_grace),
        }
        tracing::info!(service = info.name, "stopped");
        Ok(())
    }
}

/// The router: the services' routes and HTTP extras plus `/metrics` and the fallback for
/// unknown paths, behind the layers.
fn build_router(
    info: ServiceInfo,
    args: &ServerArgs,
    routes: RoutesBuilder,
    http: Option<axum::Router>,
    observed: Observed,
    edge: EdgeLayers,
    closing: CancellationToken,
) -> tonic::transport::server::Router<Stack<ServerLayers, Identity>> {
    let described: [&[u8]; 4] = [
        info.file_descriptor_set,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ];
    let metrics = Arc::new(
        RpcMetrics::new(observed.services)
            .described(info.name, &described)
            .with_sources(observed.sources),
    );
    let layers = layers(info, args, edge, metrics.clone(), closing);
    let mut http_routes = metrics_route(metrics);
    if let Some(extras) = http {
        http_routes = http_routes.merge(extras);
    }
    // Each matched route names its template on the response, for the HTTP latency histogram.
    let http_routes = http_routes.route_layer(axum::middleware::from_fn(http_metrics::tag_route));
    let router = routes.routes().into_axum_router().merge(http_routes);
    let routes = Routes::from(router.fallback(fallback::unknown_path));
    Server::builder()
        .accept_http1(true)
        .max_concurrent_streams(Some(args.limits.max_concurrent_streams))
        .http2_keepalive_interval(
            Some(args.keepalive_interval).filter(|interval| !interval.is_zero()),
        )
        .http2_keepalive_timeout(Some(args.keepalive_timeout))
        .layer(layers)
        .add_routes(routes)
}

fn warn_grace_elapsed(info: ServiceInfo, grace: std::time::Duration) {
    tracing::warn!(
        service = info.name,
        ?grace,
        "shutdown grace period elapsed; dropping requests still in flight"
    );
}

/// The start of shutdown: once `shutdown` is cancelled, health turns NOT_SERVING, accepting goes
/// on for `drain_delay`, then `closing` is cancelled and the listener stops.
async fn drain(
    info: ServiceInfo,
    health: Health,
    drain_delay: std::time::Duration,
    shutdown: CancellationToken,
    closing: CancellationToken,
) {
    shutdown.cancelled().await;
    health.set_not_serving().await;
    tracing::info!(service = info.name, "draining: health is NOT_SERVING");
    tokio::time::sleep(drain_delay).await;
    closing.cancel();
    tracing::info!(service = info.name, "stopped accepting connections");
}

/// Resolves `grace` after the listener stopped: requests still in flight are then dropped.
async fn grace_elapsed(closing: CancellationToken, grace: std::time::Duration) {
    closing.cancelled().await;
    tokio::time::sleep(grace).await;
}

/// The layers around every request of a server, outermost first (see the module docs).
type ServerLayers = Stack<
    HonestStatusLayer,
    Stack<
        MessageLimitLayer,
        Stack<ShedLayer, Stack<DeadlineLayer, Stack<RateLimitLayer, GuardLayers>>>,
    >,
>;

/// The outer part of [`ServerLayers`]: observation, the connection's facts, and the guards.
type GuardLayers = Stack<
    CallersLayer,
    Stack<
        AuthLayer,
        Stack<
            WatchCloseLayer,
            Stack<ConnectionLayer, Stack<ObserveLayer, Stack<GrpcWebOnlyLayer, CorsLayers>>>,
        >,
    >,
>;

/// The outermost layer: the cross-origin policy, when origins are named.
type CorsLayers = Stack<EitherLayer<CorsLayer, Identity>, Identity>;

fn layers(
    info: ServiceInfo,
    args: &ServerArgs,
    edge: EdgeLayers,
    metrics: Arc<RpcMetrics>,
    closing: CancellationToken,
) -> ServerLayers {
    tower::ServiceBuilder::new()
        .option_layer(edge.cors)
        .layer(GrpcWebOnlyLayer)
        .layer(ObserveLayer::new(info.name, metrics))
        .layer(ConnectionLayer)
        .layer(WatchCloseLayer::new(closing))
        .layer(edge.auth)
        .layer(edge.callers)
        .layer(edge.rate_limit)
        .layer(DeadlineLayer)
        .layer(ShedLayer::new(Shedder::new(
            args.limits.max_concurrent_requests,
            args.limits.max_queued_requests,
        )))
        .layer(MessageLimitLayer::new(args.max_message_bytes))
        .layer(HonestStatusLayer)
        .into_inner()
}

/// `GET /metrics`: the server's metrics in the Prometheus text format.
fn metrics_route(metrics: Arc<RpcMetrics>) -> axum::Router {
    let render = move || {
        let metrics = metrics.clone();
        async move {
            (
                [(http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
                metrics.render(),
            )
        }
    };
    axum::Router::new().route("/metrics", axum::routing::get(render))
}
