//! Deadlines: the `grpc-timeout` a caller sends becomes a [`Deadline`] that handlers can read
//! (to pass the remaining budget downstream) and that this layer enforces, answering
//! DEADLINE_EXCEEDED when the handler has not answered in time and dropping (cancelling) it.
//!
//! Hand-written because tonic's built-in timeout (and tower's `Timeout`) report CANCELLED (or a
//! transport error), which is not what the gRPC spec asks for; and neither makes the deadline
//! readable by handlers. So the header is consumed here and tonic never sees it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tonic::Status;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

const GRPC_TIMEOUT: &str = "grpc-timeout";

/// When the caller stops waiting. Present in a request's extensions when it sent `grpc-timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);

impl Deadline {
    /// The deadline of a request, if the caller set one.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<Self> {
        request.extensions().get::<Self>().copied()
    }

    /// Time left before the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// Parses a `grpc-timeout` value: up to 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Formats a duration as a `grpc-timeout` value (millisecond precision, at least 1 ms).
pub fn format_grpc_timeout(timeout: Duration) -> String {
    let millis = timeout.as_millis().clamp(1, 99_999_999);
    format!("{millis}m")
}

/// Enforces `grpc-timeout` on every request of a server.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DeadlineLayer;

impl<S> Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService { inner }
    }
}

/// See [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub(crate) struct DeadlineService<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<http::Request<B>> for DeadlineService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let timeout = request
            .headers_mut()
            .remove(GRPC_TIMEOUT)
            .and_then(|v| v.to_str().ok().and_then(parse_grpc_timeout));
        let Some(timeout) = timeout else {
            return Box::pin(self.inner.call(request));
        };
        let deadline = Instant::now() + timeout;
        request.extensions_mut().insert(Deadline(deadline));
        let response = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, response).await {
                Ok(result) => result,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "deadline of {} ms exceeded",
                    timeout.as_millis()
                ))
                .into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("7n"), Some(Duration::from_nanos(7)));
        assert_eq!(parse_grpc_timeout("123456789S"), None, "more than 8 digits");
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("-5S"), None);
    }

    #[test]
    fn format_round_trips_at_millisecond_precision() {
        let text = format_grpc_timeout(Duration::from_micros(1_500_700));
        assert_eq!(text, "1500m");
        assert_eq!(parse_grpc_timeout(&text), Some(Duration::from_millis(1500)));
        assert_eq!(format_grpc_timeout(Duration::ZERO), "1m");
    }
}
