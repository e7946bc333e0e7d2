//! Ends response streams that would otherwise never end (health `Watch`) once the server stops
//! accepting, so that a graceful shutdown does not wait the whole grace period for watchers.
//! Frames already produced, such as the final NOT_SERVING update, are delivered first; then the
//! stream closes with UNAVAILABLE, which tells a watcher to look elsewhere or reconnect.
//!
//! A trailers-only answer (an error before any message: `Watch` of a name the server does not
//! know is NOT_FOUND) passes through untouched: wrapping its empty body would send the headers
//! without END_STREAM and then end the stream with no trailers, which clients report as
//! "server closed the stream without sending trailers" instead of the status.

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
                if response.headers().contains_key("grpc-status") {
                    return response;
                }
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
        self.finished || self.inner.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    /// Answers every request with `response()`.
    #[derive(Clone)]
    struct Answer(fn() -> http::Response<Body>);

    impl Service<http::Request<Body>> for Answer {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<http::Response<Body>, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            std::future::ready(Ok((self.0)()))
        }
    }

    fn watch() -> http::Request<Body> {
        http::Request::builder()
            .uri("/grpc.health.v1.Health/Watch")
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn a_trailers_only_answer_still_ends_with_its_headers() {
        let not_found = || Status::not_found("service not registered").into_http();
        let mut service = WatchCloseLayer::new(CancellationToken::new()).layer(Answer(not_found));
        let response = service.call(watch()).await.unwrap();
        assert_eq!(response.headers()["grpc-status"], "5");
        assert!(
            response.body().is_end_stream(),
            "the headers must carry END_STREAM"
        );
    }

    #[tokio::test]
    async fn a_streaming_answer_is_closed_with_unavailable_at_shutdown() {
        let streaming = || {
            http::Response::new(Body::new(http_body_util::StreamBody::new(
                futures::stream::pending::<Result<Frame<Bytes>, Status>>(),
            )))
        };
        let closing = CancellationToken::new();
        let mut service = WatchCloseLayer::new(closing.clone()).layer(Answer(streaming));
        let mut body = service.call(watch()).await.unwrap().into_body();
        assert!(!body.is_end_stream());
        closing.cancel();
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(frame.trailers_ref().unwrap()["grpc-status"], "14");
        assert!(body.is_end_stream());
    }
}
