//! The server-wide cap on the size of one gRPC request message. Messages are measured from
//! their 5-byte length prefix as the bytes arrive, so an oversized message is refused before it
//! is buffered, with RESOURCE_EXHAUSTED as the gRPC spec asks (tonic's own check says
//! OUT_OF_RANGE). Requests that are not gRPC (the HTTP extras some services serve on the same
//! port) pass through untouched: their handlers set their own body limits.
//!
//! Hand-written because tonic's `max_decoding_message_size` answers OUT_OF_RANGE, and only after
//! the whole message is buffered; no tower or tonic layer reads the gRPC length prefix.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Body as HttpBody, Frame};
use tonic::Status;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use crate::status::is_grpc;

/// Refuses request messages larger than `max_bytes`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageLimitLayer {
    max_bytes: u32,
}

impl MessageLimitLayer {
    /// A layer refusing messages over `max_bytes`.
    pub(crate) fn new(max_bytes: u32) -> Self {
        Self { max_bytes }
    }
}

impl<S> Layer<S> for MessageLimitLayer {
    type Service = MessageLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MessageLimitService {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// See [`MessageLimitLayer`].
#[derive(Debug, Clone)]
pub(crate) struct MessageLimitService<S> {
    inner: S,
    max_bytes: u32,
}

impl<S, B> Service<http::Request<B>> for MessageLimitService<S>
where
    S: Service<http::Request<Body>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !is_grpc(&request) {
            return self.inner.call(request.map(Body::new));
        }
        let max_bytes = self.max_bytes;
        self.inner
            .call(request.map(|body| Body::new(LimitedBody::new(body, max_bytes))))
    }
}

pin_project_lite::pin_project! {
    /// A request body that fails with RESOURCE_EXHAUSTED at the first oversized message.
    pub(crate) struct LimitedBody<B> {
        #[pin]
        inner: B,
        framing: Framing,
        failed: bool,
    }
}

impl<B> LimitedBody<B> {
    /// Wraps `inner`, allowing messages of at most `max_bytes`.
    pub(crate) fn new(inner: B, max_bytes: u32) -> Self {
        Self {
            inner,
            framing: Framing::new(max_bytes),
            failed: false,
        }
    }
}

impl<B> HttpBody for LimitedBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && let Err(status) = this.framing.inspect(data.chunk())
                {
                    *this.failed = true;
                    return Poll::Ready(Some(Err(status)));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Status::from_error(e.into())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Follows gRPC length-prefixed framing across arbitrary chunk boundaries.
#[derive(Debug)]
struct Framing {
    max_bytes: u32,
    prefix: [u8; 5],
    prefix_len: usize,
    payload_left: u64,
}

impl Framing {
    fn new(max_bytes: u32) -> Self {
        Self {
            max_bytes,
            prefix: [0; 5],
            prefix_len: 0,
            payload_left: 0,
        }
    }

    fn inspect(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            if self.payload_left > 0 {
                let skip = data.len().min(self.payload_left as usize);
                self.payload_left -= skip as u64;
                data = &data[skip..];
                continue;
            }
            let take = data.len().min(5 - self.prefix_len);
            self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&data[..take]);
            self.prefix_len += take;
            data = &data[take..];
            if self.prefix_len == 5 {
                let len = u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]);
                if len > self.max_bytes {
                    return Err(Status::resource_exhausted(format!(
                        "request message of {len} bytes exceeds the limit of {} bytes \
                         (--max-message-bytes)",
                        self.max_bytes
                    )));
                }
                self.prefix_len = 0;
                self.payload_left = u64::from(len);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: u32) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend(std::iter::repeat_n(7u8, len as usize));
        bytes
    }

    #[test]
    fn messages_within_the_limit_pass_in_any_chunking() {
        let stream: Vec<u8> = [message(10), message(0), message(100)].concat();
        for chunk in [1, 2, 3, 5, 7, 64, stream.len()] {
            let mut framing = Framing::new(100);
            for piece in stream.chunks(chunk) {
                framing.inspect(piece).unwrap();
            }
            assert_eq!((framing.prefix_len, framing.payload_left), (0, 0));
        }
    }

    #[test]
    fn an_oversized_message_is_resource_exhausted_even_after_small_ones() {
        let stream: Vec<u8> = [message(10), message(101)].concat();
        for chunk in [1, 4, stream.len()] {
            let mut framing = Framing::new(100);
            let err = stream
                .chunks(chunk)
                .find_map(|piece| framing.inspect(piece).err())
                .expect("refused");
            assert_eq!(err.code(), tonic::Code::ResourceExhausted);
            assert!(err.message().contains("101 bytes"), "{}", err.message());
        }
    }
}
