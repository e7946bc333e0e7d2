//! A test server for the edge layers (auth, rate limit, shedding): a slow gRPC method and slow
//! HTTP routes next to health and `/metrics`, with the edge paths a real service would name, and
//! clients that send a bearer token or none.

#![allow(dead_code)]

pub(crate) mod tokens;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::post;
use chatmesh_runtime::{CancellationToken, EdgeArgs, GrpcServer, ServerArgs, ServiceInfo};
use clap::Parser;
use http::uri::PathAndQuery;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_prost::ProstCodec;

pub(crate) const INFO: ServiceInfo = ServiceInfo {
    name: "edge",
    fqn: "chatmesh.test.v1.SlowService",
    default_port: 0,
    file_descriptor_set: &[],
};

/// The slow gRPC method: sleeps for the milliseconds written in the request's `service` field.
pub(crate) const SLEEP: &str = "/chatmesh.test.v1.SlowService/Sleep";
/// Edge paths of the test server: the slow service and `POST /v1/slow`.
pub(crate) const EDGE: [&str; 2] = ["/chatmesh.test.v1.SlowService/", "/v1/slow"];

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    edge: EdgeArgs,
}

/// How many slow calls (gRPC or HTTP) have started and finished.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub started: AtomicUsize,
    pub finished: AtomicUsize,
}

impl Progress {
    async fn sleep(&self, millis: u64) {
        self.started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    pub(crate) fn finished(&self) -> usize {
        self.finished.load(Ordering::SeqCst)
    }
}

/// A running test server.
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub progress: Arc<Progress>,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Server {
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new connection (each channel is its own HTTP/2 connection).
    pub(crate) async fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }
}

/// Starts the test server with `flags` (as a service's command line would give them).
pub(crate) async fn start(flags: &[&str]) -> Server {
    let args = Args::parse_from(std::iter::once("edge").chain(flags.iter().copied()));
    let progress = Arc::new(Progress::default());
    let http_progress = Arc::clone(&progress);
    let routes = axum::Router::new().route(
        "/v1/slow",
        post(move |body: String| {
            let progress = Arc::clone(&http_progress);
            async move {
                progress.sleep(body.trim().parse().unwrap_or(0)).await;
                "slept"
            }
        }),
    );
    let server = GrpcServer::new(&INFO, &args.server)
        .await
        .unwrap()
        .add_service(SlowService(Arc::clone(&progress)))
        .add_http(routes)
        .edge(EDGE, &args.edge)
        .unwrap();
    server.health().set_serving().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(listener, shutdown.clone()));
    Server {
        addr,
        progress,
        shutdown,
    }
}

/// Calls the slow method for `millis` with `token` as bearer token (none when `None`).
pub(crate) async fn sleep(
    channel: &Channel,
    millis: u64,
    token: Option<&str>,
) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: millis.to_string(),
    });
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    grpc.unary(
        request,
        PathAndQuery::from_static(SLEEP),
        ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default(),
    )
    .await
}

/// A plain HTTP/1.1 request; returns the status, the headers and the body.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, http::HeaderMap, String) {
    use http_body_util::BodyExt;
    let mut sender = chatmesh_test_support::http::http1(addr).await;
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "text/plain");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// Health/Check for the whole server.
pub(crate) async fn health(channel: &Channel) -> Result<i32, tonic::Status> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let response = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(response.into_inner().status)
}

/// The slow gRPC service, written against tonic's generic server (no generated code).
#[derive(Debug, Clone)]
struct SlowService(Arc<Progress>);

impl NamedService for SlowService {
    const NAME: &'static str = "chatmesh.test.v1.SlowService";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<http::Request<Body>> for SlowService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let progress = Arc::clone(&self.0);
        Box::pin(async move {
            if request.uri().path() != SLEEP {
                return Ok(tonic::Status::unimplemented("no such method").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<
                HealthCheckResponse,
                HealthCheckRequest,
            >::default());
            Ok(grpc.unary(Sleep(progress), request).await)
        })
    }
}

struct Sleep(Arc<Progress>);

impl tonic::server::UnaryService<HealthCheckRequest> for Sleep {
    type Response = HealthCheckResponse;
    type Future = BoxFuture<Result<tonic::Response<HealthCheckResponse>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<HealthCheckRequest>) -> Self::Future {
        let progress = Arc::clone(&self.0);
        Box::pin(async move {
            let millis = request.get_ref().service.parse().unwrap_or(0);
            progress.sleep(millis).await;
            Ok(tonic::Response::new(HealthCheckResponse { status: 1 }))
        })
    }
}
