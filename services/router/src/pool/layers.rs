//! The per-address call policy as tower layers around the tonic channel (tonic has none):
//!
//! - [`ClientDeadlineLayer`]: sends the attempt's deadline as `grpc-timeout` and stops waiting
//!   at it with DEADLINE_EXCEEDED; dropping the call resets the HTTP/2 stream, so the backend
//!   sees the cancellation.
//! - [`BreakerLayer`]: fails fast with UNAVAILABLE while the address's breaker is open, and
//!   feeds every outcome (transport error, UNAVAILABLE, DEADLINE_EXCEEDED → failure) to it,
//!   except a deadline that was the caller's own: a client that asks for 50 ms from a query
//!   that takes a second says nothing about the backend's health, and must not open the
//!   breaker for every other user (a dropped call, the caller cancelling, records nothing
//!   either).
//!
//! Under both, a `TracedChannel` carries the caller's trace context and the router's own token
//! to the backend.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use chatmesh_runtime::auth::BearerToken;
use chatmesh_runtime::channel::TracedChannel;
use chatmesh_runtime::deadline::format_grpc_timeout;
use chatmesh_runtime::http2::{DeadlineEnforced, Http2Channel};
use tokio::time::Instant;
use tonic::body::Body;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;

use super::instance::SharedState;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The deadline of one attempt, carried in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptDeadline {
    /// When the attempt stops waiting.
    pub at: Instant,
    /// Whether that is the caller's own deadline (shorter than the router's backend timeout):
    /// its expiry is then not the backend's failure.
    pub callers: bool,
}

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
    channel: Http2Channel,
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
        let Some(AttemptDeadline { at: deadline, .. }) =
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
        // This layer stops waiting at the deadline: the channel need not arm a timer too.
        request.extensions_mut().insert(DeadlineEnforced);
        let response = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, response).await {
                // Past the deadline, any failure (the backend's own DEADLINE_EXCEEDED, a
                // reset stream) is the deadline.
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
        let callers_deadline = request
            .extensions()
            .get::<AttemptDeadline>()
            .is_some_and(|d| d.callers);
        let response = self.inner.call(request);
        let state = self.state.clone();
        let address = self.address.clone();
        Box::pin(async move {
            let result = response.await.map_err(|error| unavailable(&address, error));
            match outcome(&result) {
                Some((Code::DeadlineExceeded, _)) if callers_deadline => {}
                Some((_, error)) => state.lock().failed(error),
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
    let chain = chatmesh_runtime::channel::error_chain(error.as_ref());
    Box::new(Status::unavailable(format!("{address}: {chain}")))
}

/// The failure a result counts as for the breaker, if any, with its code: transport errors,
/// UNAVAILABLE and DEADLINE_EXCEEDED. Other codes are the backend answering, which is health.
fn outcome(result: &Result<http::Response<Body>, BoxError>) -> Option<(Code, String)> {
    match result {
        Err(error) => Some(match error.downcast_ref::<Status>() {
            Some(status) => (
                status.code(),
                format!("{:?}: {}", status.code(), status.message()),
            ),
            None => (Code::Unavailable, format!("Unavailable: {error}")),
        }),
        Ok(response) => {
            // A trailers-only answer carries its status in the headers; tonic decodes the
            // percent-encoded grpc-message ("the%20database%20is%20unavailable").
            let status = Status::from_header_map(response.headers())?;
            matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded).then(|| {
                (
                    status.code(),
                    format!("{:?}: {}", status.code(), status.message()),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chatmesh_proto::router::{CircuitState, HealthStatus};

    use super::*;
    use crate::pool::breaker::{Breaker, BreakerSettings};
    use crate::pool::instance::InstanceState;

    /// A backend that answers OK after `delay`.
    #[derive(Clone)]
    struct Slow(Duration);

    impl Service<http::Request<Body>> for Slow {
        type Response = http::Response<Body>;
        type Error = BoxError;
        type Future = BoxFuture<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            let delay = self.0;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                let mut response = http::Response::new(Body::empty());
                response
                    .headers_mut()
                    .insert("grpc-status", http::HeaderValue::from_static("0"));
                Ok(response)
            })
        }
    }

    fn stack(state: &SharedState) -> BreakerService<ClientDeadline<Slow>> {
        let deadline = ClientDeadlineLayer.layer(Slow(Duration::from_millis(200)));
        BreakerLayer {
            state: state.clone(),
            address: "http://slow".into(),
        }
        .layer(deadline)
    }

    fn state() -> SharedState {
        SharedState::for_test(InstanceState {
            health: HealthStatus::Serving,
            last_check: None,
            consecutive_failures: 0,
            last_error: String::new(),
            breaker: Breaker::new(BreakerSettings {
                failure_threshold: 3,
                open_for: Duration::from_secs(60),
            }),
        })
    }

    async fn call_with(service: &mut BreakerService<ClientDeadline<Slow>>, callers: bool) -> Code {
        let mut request = http::Request::new(Body::empty());
        request.extensions_mut().insert(AttemptDeadline {
            at: Instant::now() + Duration::from_millis(20),
            callers,
        });
        let error = service.call(request).await.unwrap_err();
        error.downcast_ref::<Status>().expect("a status").code()
    }

    #[tokio::test]
    async fn a_callers_own_short_deadline_does_not_open_the_breaker() {
        let state = state();
        let mut service = stack(&state);
        for _ in 0..6 {
            assert_eq!(call_with(&mut service, true).await, Code::DeadlineExceeded);
        }
        let now = Instant::now();
        let locked = state.lock();
        assert_eq!(locked.consecutive_failures, 0);
        assert_eq!(locked.breaker.state(now), CircuitState::Closed);
    }

    #[test]
    fn a_backends_status_is_recorded_decoded() {
        let mut response = http::Response::new(Body::empty());
        let headers = response.headers_mut();
        headers.insert("grpc-status", http::HeaderValue::from_static("14"));
        headers.insert(
            "grpc-message",
            http::HeaderValue::from_static("the%20database%20is%20unavailable"),
        );
        let (code, error) = outcome(&Ok(response)).expect("a failure");
        assert_eq!(code, Code::Unavailable);
        assert_eq!(error, "Unavailable: the database is unavailable");
        let mut ok = http::Response::new(Body::empty());
        ok.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("5"));
        assert_eq!(outcome(&Ok(ok)), None, "NOT_FOUND is the backend answering");
    }

    #[tokio::test]
    async fn the_routers_own_backend_timeout_counts_against_the_backend() {
        let state = state();
        let mut service = stack(&state);
        for _ in 0..3 {
            assert_eq!(call_with(&mut service, false).await, Code::DeadlineExceeded);
        }
        let now = Instant::now();
        let locked = state.lock();
        assert_eq!(locked.consecutive_failures, 3);
        assert_eq!(locked.breaker.state(now), CircuitState::Open);
    }
}
