//! Ends response streams that would otherwise never end (health `Watch`) once the server stops
//! accepting, so that a graceful shutdown does not wait the whole grace period for watchers.
//! Frames already produced, such as the final NOT_SERVING update, are delivered first; then the
//! stream closes with UNAVAILABLE, which tells a watcher to look elsewhere or reconnect.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::Map;
use http_body::{Body as HttpBody, Frame};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::Status;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

/// Methods whose responses stream until the client goes away.
const ENDLESS_METHODS: &[&str] = &["/grpc.health.v1.Health/Watch"];

/// Closes endless response streams when `closing` is cancelled.
#[derive(Debug, Clone)]
pub(crate) struct WatchCloseLayer {
    closing: CancellationToken,
}

impl WatchCloseLayer {
    pub(crate) fn new(closing: CancellationToken) -> Self {
        Self { closing }
    }
}

impl<S> Layer<S> for WatchCloseLayer {
    type Service = WatchCloseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WatchCloseService {
            inner,
            closing: self.closing.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WatchCloseService<S> {
    inner: S,
    closing: CancellationToken,
}

type Wrap<E> =
    Box<dyn FnOnce(Result<http::Response<Body>, E>) -> Result<http::Response<Body>, E> + Send>;

impl<S, B> Service<http::Request<B>> for WatchCloseService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Map<S::Future, Wrap<S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let closing = ENDLESS_METHODS
            .contains(&request.uri().path())
            .then(|| self.closing.clone());
        self.inner.call(request).map(Box::new(move |result| {
            let Some(closing) = closing else {
                return result;
            };
            result.map(|response| {
                response.map(|body| {
                    Body::new(ClosingBody {
                        inner: body,
                        closing: Box::pin(closing.cancelled_owned()),
                        finished: false,
                    })
                })
            })
        }))
    }
}

struct ClosingBody {
    inner: Body,
    closing: Pin<Box<WaitForCancellationFutureOwned>>,
    finished: bool,
}

impl HttpBody for ClosingBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.closing.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.finished = true;
        let mut trailers = http::HeaderMap::new();
        trailers.insert(
            "grpc-status",
            http::HeaderValue::from(tonic::Code::Unavailable as i32),
        );
        trailers.insert(
            "grpc-message",
            http::HeaderValue::from_static("server is shutting down"),
        );
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }
}
