//! The per-address call policy as tower layers around the tonic channel (tonic has none):
//!
//! - [`ClientDeadlineLayer`]: sends the attempt's deadline as `grpc-timeout` and stops waiting
//!   at it with DEADLINE_EXCEEDED; dropping the call resets the HTTP/2 stream, so the backend
//!   sees the cancellation.
//! - [`BreakerLayer`]: fails fast with UNAVAILABLE while the address's breaker is open, and
//!   feeds every outcome (transport error, UNAVAILABLE, DEADLINE_EXCEEDED → failure) to it.
//!
//! Under both, a `TracedChannel` carries the caller's trace context and the router's own token
//! to the backend.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use chatmesh_runtime::auth::BearerToken;
use chatmesh_runtime::channel::TracedChannel;
use chatmesh_runtime::deadline::format_grpc_timeout;
use tokio::time::Instant;
use tonic::body::Body;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;

use super::instance::SharedState;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The deadline of one attempt, carried in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptDeadline(pub Instant);

impl AttemptDeadline {
    /// A tonic request for `message` carrying this deadline.
    pub(crate) fn request<T>(self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.extensions_mut().insert(self);
        request
    }
}

/// The policy-wrapped service of one address: breaker, then deadline, then the channel that
/// carries the caller's trace context.
pub(crate) type InstanceService = BreakerService<ClientDeadline<TracedChannel>>;

/// Builds the stack for one address; `token` is the router's own (sent with every call).
pub(crate) fn instance_service(
    channel: Channel,
    token: BearerToken,
    state: SharedState,
    address: String,
) -> InstanceService {
    let traced = TracedChannel::new(channel).with_token(token);
    let deadline = ClientDeadlineLayer.layer(traced);
    BreakerLayer { state, address }.layer(deadline)
}

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClientDeadlineLayer;

impl<S> Layer<S> for ClientDeadlineLayer {
    type Service = ClientDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientDeadline { inner }
    }
}

/// See [`ClientDeadlineLayer`].
#[derive(Debug, Clone)]
pub(crate) struct ClientDeadline<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for ClientDeadline<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let Some(AttemptDeadline(deadline)) =
            request.extensions().get::<AttemptDeadline>().copied()
        else {
            let response = self.inner.call(request);
            return Box::pin(async move { response.await.map_err(Into::into) });
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Box::pin(async { Err(deadline_exceeded()) });
        }
        if let Ok(value) = http::HeaderValue::from_str(&format_grpc_timeout(remaining)) {
            request.headers_mut().insert("grpc-timeout", value);
        }
        let response = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, response).await {
                // The channel enforces `grpc-timeout` too (rounded to the millisecond), and
                // reports its expiry as CANCELLED: past the deadline, any failure is the deadline.
                Ok(Err(_)) if Instant::now() >= deadline => Err(deadline_exceeded()),
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(deadline_exceeded()),
            }
        })
    }
}

fn deadline_exceeded() -> BoxError {
    Box::new(Status::deadline_exceeded("backend call deadline exceeded"))
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct BreakerLayer {
    state: SharedState,
    address: String,
}

impl<S> Layer<S> for BreakerLayer {
    type Service = BreakerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService {
            inner,
            state: self.state.clone(),
            address: self.address.clone(),
        }
    }
}

/// See [`BreakerLayer`].
#[derive(Debug, Clone)]
pub(crate) struct BreakerService<S> {
    inner: S,
    state: SharedState,
    address: String,
}

impl<S> Service<http::Request<Body>> for BreakerService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if !self.state.lock().breaker.try_acquire(Instant::now()) {
            let status = Status::unavailable(format!("{}: circuit breaker open", self.address));
            return Box::pin(async move { Err(Box::new(status) as BoxError) });
        }
        let response = self.inner.call(request);
        let state = self.state.clone();
        let address = self.address.clone();
        Box::pin(async move {
            let result = response.await.map_err(|error| unavailable(&address, error));
            match outcome(&result) {
                Some(error) => state.lock().failed(error),
                None => state.lock().succeeded(),
            }
            result
        })
    }
}

/// A failure below gRPC (connection refused, reset, closed by a draining server) as the status
/// it means for the caller: UNAVAILABLE naming the address. tonic would otherwise map HTTP/2
/// reset reasons to CANCELLED or INTERNAL, which look like answers from the backend. A status
/// made by an inner layer (DEADLINE_EXCEEDED) is kept.
fn unavailable(address: &str, error: BoxError) -> BoxError {
    if error.downcast_ref::<Status>().is_some() {
        return error;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    let mut chain: Vec<String> = Vec::new();
    while let Some(e) = source {
        // Some errors already print their source ("tcp connect error: ..."); say it once.
        let text = e.to_string();
        match chain.last_mut() {
            Some(last) if last.contains(&text) => {}
            Some(last) if text.contains(last.as_str()) => *last = text,
            _ => chain.push(text),
        }
        source = e.source();
    }
    Box::new(Status::unavailable(format!(
        "{address}: {}",
        chain.join(": ")
    )))
}

/// The failure a result counts as for the breaker, if any: transport errors, UNAVAILABLE and
/// DEADLINE_EXCEEDED. Other codes are the backend answering, which is health.
fn outcome(result: &Result<http::Response<Body>, BoxError>) -> Option<String> {
    match result {
        Err(error) => Some(match error.downcast_ref::<Status>() {
            Some(status) => format!("{:?}: {}", status.code(), status.message()),
            None => format!("Unavailable: {error}"),
        }),
        Ok(response) => {
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map(Code::from_i32)?;
            matches!(code, Code::Unavailable | Code::DeadlineExceeded).then(|| {
                let message = response
                    .headers()
                    .get("grpc-message")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                format!("{code:?}: {message}")
            })
        }
    }
}
