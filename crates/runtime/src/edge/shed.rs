//! Load shedding: a server works on at most `--max-concurrent-requests` requests at once, lets
//! up to `--max-queued-requests` more wait for a slot (first come, first served), and refuses
//! the rest at once with RESOURCE_EXHAUSTED (gRPC) or 503 with `retry-after` (HTTP), so that
//! overload turns into fast refusals instead of a queue that grows until every caller's
//! deadline has passed. A request holds its slot until its response body ends, so a streaming
//! call counts for as long as it streams.
//!
//! Health checks bypass the limit (probes must keep answering under load, or an overloaded
//! service would be restarted), and so do plain HTTP `GET`s: `/metrics`, static pages and
//! long-lived event subscriptions (`GET /mcp`), which would otherwise hold a slot while idle.
//! Time spent waiting counts against the caller's deadline (this layer sits inside the deadline
//! layer).
//!
//! Hand-written rather than tower's `ConcurrencyLimit` + `LoadShed`: those either queue without
//! bound or refuse at once, cannot exempt health checks, and release the slot when the response
//! headers leave rather than when a streamed body ends; the refusal must also be the gRPC or
//! JSON answer every layer here gives.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body::{Body as HttpBody, Frame};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Code;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::refusal::Refusal;
use crate::status::is_grpc;

/// How much work a server takes on at once.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Most concurrent calls (HTTP/2 streams) on one client connection, announced to clients
    /// as SETTINGS_MAX_CONCURRENT_STREAMS.
    #[arg(long, env = "CHATMESH_MAX_CONCURRENT_STREAMS", value_name = "N",
          default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_streams: u32,

    /// Most requests the server works on at once (health checks and plain HTTP GETs aside);
    /// 0 = no limit.
    #[arg(
        long,
        env = "CHATMESH_MAX_CONCURRENT_REQUESTS",
        value_name = "N",
        default_value_t = 512
    )]
    pub max_concurrent_requests: u32,

    /// Most requests waiting for one of those slots; further ones are refused at once with
    /// RESOURCE_EXHAUSTED (HTTP 503).
    #[arg(
        long,
        env = "CHATMESH_MAX_QUEUED_REQUESTS",
        value_name = "N",
        default_value_t = 1024
    )]
    pub max_queued_requests: u32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            max_concurrent_streams: 256,
            max_concurrent_requests: 512,
            max_queued_requests: 1024,
        }
    }
}

/// Paths that are never shed.
const EXEMPT_PREFIXES: &[&str] = &["/grpc.health.v1.Health/"];

/// The concurrency limit and its bounded wait queue, shared by every connection of a server.
#[derive(Debug)]
pub(crate) struct Shedder {
    slots: Arc<Semaphore>,
    max_concurrent: usize,
    queued: AtomicUsize,
    max_queued: usize,
}

impl Shedder {
    /// At most `max_concurrent` requests at once and `max_queued` waiting; `None` when
    /// `max_concurrent` is 0 (no limit).
    pub(crate) fn new(max_concurrent: u32, max_queued: u32) -> Option<Arc<Self>> {
        (max_concurrent > 0).then(|| {
            Arc::new(Self {
                slots: Arc::new(Semaphore::new(max_concurrent as usize)),
                max_concurrent: max_concurrent as usize,
                queued: AtomicUsize::new(0),
                max_queued: max_queued as usize,
            })
        })
    }

    /// A place in the queue, or `None` when it is full.
    fn enqueue(self: &Arc<Self>) -> Option<QueueSlot> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(QueueSlot(Arc::clone(self)))
    }

    /// Requests waiting for a slot now.
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    fn refusal(&self, grpc: bool) -> http::Response<Body> {
        let message = format!(
            "server overloaded: {} requests in progress and {} waiting \
             (--max-concurrent-requests, --max-queued-requests); retry later",
            self.max_concurrent, self.max_queued
        );
        Refusal::new(
            Code::ResourceExhausted,
            StatusCode::SERVICE_UNAVAILABLE,
            message,
        )
        .header(
            HeaderName::from_static("retry-after"),
            HeaderValue::from_static("1"),
        )
        .into_response(grpc)
    }
}

/// A request's place in the wait queue, given back when it is dropped (admitted or cancelled).
struct QueueSlot(Arc<Shedder>);

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

fn is_exempt<B>(request: &http::Request<B>) -> bool {
    let path = request.uri().path();
    EXEMPT_PREFIXES.iter().any(|p| path.starts_with(p))
        || (request.method() == http::Method::GET && !is_grpc(request))
}

/// Sheds load beyond a [`Shedder`]'s limits (a no-op without one).
#[derive(Debug, Clone, Default)]
pub(crate) struct ShedLayer {
    shedder: Option<Arc<Shedder>>,
}

impl ShedLayer {
    /// A layer enforcing `shedder`.
    pub(crate) fn new(shedder: Option<Arc<Shedder>>) -> Self {
        Self { shedder }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = ShedService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ShedService {
            inner,
            shedder: self.shedder.clone(),
        }
    }
}

/// See [`ShedLayer`].
#[derive(Debug, Clone)]
pub(crate) struct ShedService<S> {
    inner: S,
    shedder: Option<Arc<Shedder>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<http::Request<B>> for ShedService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Some(shedder) = self.shedder.clone() else {
            return Box::pin(self.inner.call(request));
        };
        if is_exempt(&request) {
            return Box::pin(self.inner.call(request));
        }
        if let Ok(slot) = Arc::clone(&shedder.slots).try_acquire_owned() {
            let response = self.inner.call(request);
            return Box::pin(async move { Ok(hold(response.await?, slot)) });
        }
        let Some(place) = shedder.enqueue() else {
            tracing::debug!(path = request.uri().path(), "overloaded: request shed");
            let response = shedder.refusal(is_grpc(&request));
            return Box::pin(async move { Ok(response) });
        };
        // The ready service goes with the waiting request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let slot = Arc::clone(&shedder.slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            drop(place);
            Ok(hold(inner.call(request).await?, slot))
        })
    }
}

/// Keeps `slot` taken until the response body ends (or is dropped).
fn hold(response: http::Response<Body>, slot: OwnedSemaphorePermit) -> http::Response<Body> {
    response.map(|inner| Body::new(SlotBody { inner, _slot: slot }))
}

pin_project_lite::pin_project! {
    struct SlotBody {
        #[pin]
        inner: Body,
        _slot: OwnedSemaphorePermit,
    }
}

impl HttpBody for SlotBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limit_means_no_shedder() {
        assert!(Shedder::new(0, 10).is_none());
    }

    #[test]
    fn the_queue_is_bounded_and_slots_come_back() {
        let shedder = Shedder::new(1, 2).unwrap();
        let a = shedder.enqueue().unwrap();
        let b = shedder.enqueue().unwrap();
        assert!(shedder.enqueue().is_none());
        assert_eq!(shedder.queued(), 2);
        drop(a);
        let c = shedder.enqueue().unwrap();
        drop((b, c));
        assert_eq!(shedder.queued(), 0);
    }

    #[test]
    fn health_and_plain_gets_are_exempt_but_grpc_and_posts_are_not() {
        let request = |method: &str, path: &str, grpc: bool| {
            let mut builder = http::Request::builder().method(method).uri(path);
            if grpc {
                builder = builder.header("content-type", "application/grpc");
            }
            builder.body(()).unwrap()
        };
        assert!(is_exempt(&request(
            "POST",
            "/grpc.health.v1.Health/Check",
            true
        )));
        assert!(is_exempt(&request("GET", "/metrics", false)));
        assert!(!is_exempt(&request(
            "POST",
            "/chatmesh.chat.v1.ChatService/Chat",
            true
        )));
        assert!(!is_exempt(&request("POST", "/v1/chat", false)));
    }
}
