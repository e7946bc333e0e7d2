//! The outermost server layer: every request gets a `tracing` span (a child of the caller's
//! trace when it sent `traceparent`) and is counted in the server's [`RpcMetrics`] with its
//! gRPC method, status code and latency. The span names its service in `service.name`: one
//! process may serve several (`chatmesh up`) under one exporter, whose resource then names the
//! process, not the hop.
//!
//! The spans are at DEBUG level: span export takes them whatever `--log` says
//! ([`crate::telemetry`]), while the log only carries them with `--log debug` (or
//! `chatmesh_runtime::observe=debug`: their target, [`TARGET`], keeps that documented name), so
//! that a service that neither exports nor debugs pays nothing for them on the hot path.
//!
//! Where the status is: an early error (a trailers-only response, e.g. UNIMPLEMENTED, a
//! deadline, most unary errors) carries `grpc-status` in the response headers; any other
//! response carries it in the trailers after the messages, so the response body is watched
//! until they pass. A response dropped before its status (the client went away) counts as
//! CANCELLED.
//!
//! Hand-written rather than tower-http's `TraceLayer` or a gRPC metrics layer: the status must
//! be read from trailers-only headers or trailing headers as gRPC puts it, one span must serve
//! both span export and the log, and the counting must stay lock-free (see `super::metrics`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use tonic::body::Body;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;
use tracing::field::Empty;
use tracing::instrument::Instrumented;

use super::http_metrics::HttpRoute;
use super::metrics::{MethodId, RpcMetrics, parse_code};
use super::trace_context;
use crate::status::is_grpc;

const GRPC_STATUS: &str = "grpc-status";

/// The `tracing` target of the per-request spans, as `--log` filters and span export name it.
pub(crate) const TARGET: &str = "chatmesh_runtime::observe";

/// Spans and metrics for every request of a server.
#[derive(Debug, Clone)]
pub(crate) struct ObserveLayer {
    service: &'static str,
    metrics: Arc<RpcMetrics>,
}

impl ObserveLayer {
    /// Spans naming `service`, counted in `metrics`.
    pub(crate) fn new(service: &'static str, metrics: Arc<RpcMetrics>) -> Self {
        Self { service, metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = ObserveService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObserveService {
            inner,
            service: self.service,
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`ObserveLayer`].
#[derive(Debug, Clone)]
pub(crate) struct ObserveService<S> {
    inner: S,
    service: &'static str,
    metrics: Arc<RpcMetrics>,
}

impl<S, B> Service<http::Request<B>> for ObserveService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let start = Instant::now();
        let path = request.uri().path();
        let (span, kind) = if is_grpc(&request) {
            let span = tracing::debug_span!(
                target: TARGET,
                "rpc",
                otel.name = path.trim_start_matches('/'),
                otel.kind = "server",
                service.name = self.service,
                rpc.system = "grpc",
                rpc.grpc.status_code = Empty,
                otel.status_code = Empty,
            );
            (span, Kind::Grpc(self.metrics.method_id(path)))
        } else {
            let span = tracing::debug_span!(
                target: TARGET,
                "http",
                otel.name = %format_args!("{} {}", request.method(), path),
                otel.kind = "server",
                service.name = self.service,
                http.request.method = %request.method(),
                url.path = path,
                http.response.status_code = Empty,
                otel.status_code = Empty,
            );
            (span, Kind::Http(request.method().clone()))
        };
        trace_context::adopt_parent(&span, request.headers());
        let future = span.in_scope(|| self.inner.call(request));
        ObservedFuture {
            inner: future.instrument(span.clone()),
            recorder: Some(Recorder {
                metrics: self.metrics.clone(),
                kind,
                start,
                span,
                done: false,
            }),
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Grpc(MethodId),
    Http(http::Method),
}

/// Records a request's outcome once: in the metrics and on its span, which it keeps open until
/// then.
struct Recorder {
    metrics: Arc<RpcMetrics>,
    kind: Kind,
    start: Instant,
    span: tracing::Span,
    done: bool,
}

impl Recorder {
    fn finish_grpc(&mut self, code: Code) {
        let Kind::Grpc(id) = self.kind else { return };
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        self.metrics.record_grpc(id, code, self.start.elapsed());
        self.span.record("rpc.grpc.status_code", code as i32);
        if is_server_error(code) {
            self.span.record("otel.status_code", "ERROR");
        }
    }

    fn finish_http(&mut self, status: http::StatusCode, route: Option<&HttpRoute>) {
        let Kind::Http(method) = &self.kind else {
            return;
        };
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.start.elapsed();
        self.metrics.record_http(route, method, status, elapsed);
        self.span
            .record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            self.span.record("otel.status_code", "ERROR");
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Dropped without a status: the client reset the stream or the connection closed.
        self.finish_grpc(Code::Cancelled);
    }
}

/// The codes that mean the server failed, which mark a server span as an error (OpenTelemetry's
/// gRPC conventions); the others are the caller's problem.
fn is_server_error(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

pin_project_lite::pin_project! {
    /// The response future of [`ObserveService`].
    pub(crate) struct ObservedFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        recorder: Option<Recorder>,
    }
}

impl<F, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
{
    type Output = Result<http::Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let Some(mut recorder) = this.recorder.take() else {
            return Poll::Ready(result);
        };
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                recorder.finish_grpc(Code::Unknown);
                return Poll::Ready(Err(e));
            }
        };
        if let Kind::Http(_) = recorder.kind {
            recorder.finish_http(response.status(), response.extensions().get());
            return Poll::Ready(Ok(response));
        }
        if let Some(value) = response.headers().get(GRPC_STATUS) {
            recorder.finish_grpc(parse_code(value));
            return Poll::Ready(Ok(response));
        }
        Poll::Ready(Ok(
            response.map(|inner| Body::new(ObservedBody { inner, recorder }))
        ))
    }
}

pin_project_lite::pin_project! {
    /// A gRPC response body, watched for the `grpc-status` trailer. Polled inside the request's
    /// span, so that streaming handlers log and trace in it too.
    struct ObservedBody {
        #[pin]
        inner: Body,
        recorder: Recorder,
    }
}

impl HttpBody for ObservedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        let frame = {
            let _entered = this.recorder.span.enter();
            ready!(this.inner.poll_frame(cx))
        };
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = trailers.get(GRPC_STATUS).map_or(Code::Unknown, parse_code);
                    this.recorder.finish_grpc(code);
                }
            }
            Some(Err(status)) => this.recorder.finish_grpc(status.code()),
            // The body ended without a status, which gRPC clients read as UNKNOWN.
            None => this.recorder.finish_grpc(Code::Unknown),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
