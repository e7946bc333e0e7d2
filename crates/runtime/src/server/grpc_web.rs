//! gRPC-Web on every port: a browser (or `buf curl --protocol grpcweb`) calls a service directly,
//! with no proxy. tonic-web translates such a call into gRPC and the answer back; this layer
//! sends it only the calls that are gRPC-Web (by content type) and everything else straight on,
//! because tonic-web answers 400 to any other HTTP/1.1 request, and the same ports serve plain
//! HTTP/1.1 (`/metrics`, the chatbot's JSON API and page). It sits outermost, so the layers
//! behind it (limits, authentication, metrics) see an ordinary gRPC call.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::Either;
use tonic::body::Body;
use tonic_web::GrpcWebLayer;
use tower_layer::Layer;
use tower_service::Service;

/// Routes gRPC-Web calls through tonic-web and every other request past it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GrpcWebOnlyLayer;

impl<S> Layer<S> for GrpcWebOnlyLayer {
    type Service = GrpcWebOnly<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcWebOnly { inner }
    }
}

/// See [`GrpcWebOnlyLayer`].
#[derive(Debug, Clone)]
pub(crate) struct GrpcWebOnly<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for GrpcWebOnly<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + std::fmt::Display,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future =
        Either<<tonic_web::GrpcWebService<S> as Service<http::Request<B>>>::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !is_grpc_web(&request) {
            return Either::Right(self.inner.call(request.map(Body::new)));
        }
        // The service made ready above answers this call; a fresh clone waits for the next.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        Either::Left(GrpcWebLayer::new().layer(ready).call(request))
    }
}

/// Whether a request is gRPC-Web (`application/grpc-web`, `+proto`, `-text`, `-text+proto`).
fn is_grpc_web<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc-web"))
}
