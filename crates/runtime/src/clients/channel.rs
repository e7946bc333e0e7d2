//! Client channels for service-to-service calls (router → backends, chatbot → router) and for
//! the `chatmesh` command: connect timeout, HTTP/2 keepalive, TCP_NODELAY, and lazy connection
//! so a service can start before the services it calls. Service-to-service calls go through a
//! [`TracedChannel`] over an [`Http2Channel`] (no request queue before the connection, see
//! [`super::http2`]), which carries the caller's trace context (`traceparent`) to the callee and
//! the caller's own token ([`ClientArgs::token`]) when it has one. While spans are exported, each
//! call also gets a CLIENT span (named after the method, like the callee's SERVER span, which
//! becomes its child), so trace back ends draw the edges between services. When [`ClientArgs::tls`] is
//! set, channels connect over mutual TLS (see [`crate::tls`]); the client certificate then names
//! the caller.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use clap::Args;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tower_service::Service;
use tracing::Instrument as _;
use tracing::field::Empty;

use super::bearer::{BearerToken, ServiceTokenArgs};
use super::http2::{BoxError, Http2Channel, ResponseFuture};
use crate::setting::{ConfigError, parse_duration};
use crate::telemetry::trace_context;
use crate::tls::{ClientTls, TlsArgs};

/// How a service connects to the services it calls.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Time allowed to establish a connection to another service.
    #[arg(long, env = "CHATMESH_CONNECT_TIMEOUT", value_name = "DURATION",
          default_value = "2s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Interval of HTTP/2 keepalive pings on connections to other services.
    #[arg(long, env = "CHATMESH_CLIENT_KEEPALIVE_INTERVAL", value_name = "DURATION",
          default_value = "30s", value_parser = parse_duration)]
    pub client_keepalive_interval: Duration,

    /// How long a keepalive ping to another service may go unanswered.
    #[arg(long, env = "CHATMESH_CLIENT_KEEPALIVE_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    pub client_keepalive_timeout: Duration,

    /// mTLS settings for outgoing connections, set from the service's `--tls-*` settings
    /// ([`ClientArgs::with_tls`]); plaintext when `None`.
    #[arg(skip)]
    pub tls: Option<ClientTls>,

    /// The token [`TracedChannel`]s send (`authorization: Bearer`), set from the service's
    /// `--service-token*` settings ([`ClientArgs::with_token`]); none by default.
    #[arg(skip)]
    pub token: BearerToken,
}

impl Default for ClientArgs {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            client_keepalive_interval: Duration::from_secs(30),
            client_keepalive_timeout: Duration::from_secs(10),
            tls: None,
            token: BearerToken::default(),
        }
    }
}

impl ClientArgs {
    /// Loads the client side of `tls` (nothing when mTLS is off) into these settings: the
    /// start-up step of a service that calls others.
    pub fn with_tls(&mut self, tls: &TlsArgs) -> Result<(), ConfigError> {
        self.tls = tls.client()?;
        Ok(())
    }

    /// Loads the service's own token (nothing when none is configured) into these settings.
    pub fn with_token(&mut self, token: &ServiceTokenArgs) -> Result<(), ConfigError> {
        self.token = token.bearer()?;
        Ok(())
    }
}

/// An address that is not a valid endpoint URI.
#[derive(Debug, thiserror::Error)]
#[error("invalid address '{addr}': {reason}")]
pub struct InvalidAddress {
    /// The address as given.
    pub addr: String,
    /// Why it was refused.
    pub reason: String,
}

/// `host:port` or `http://host:port` as an endpoint with the shared client settings.
pub fn endpoint(addr: &str, args: &ClientArgs) -> Result<Endpoint, InvalidAddress> {
    let uri = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    let endpoint = Endpoint::from_shared(uri).map_err(|e| InvalidAddress {
        addr: addr.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(endpoint
        .connect_timeout(args.connect_timeout)
        .http2_keep_alive_interval(args.client_keepalive_interval)
        .keep_alive_timeout(args.client_keepalive_timeout)
        .keep_alive_while_idle(true)
        .tcp_nodelay(true))
}

/// Start-up check of an address setting such as `--router-addr`.
pub fn check_addr(addr: &str, setting: &str, args: &ClientArgs) -> Result<(), ConfigError> {
    endpoint(addr, args).map(|_| ()).map_err(|e| ConfigError {
        setting: setting.to_owned(),
        value: addr.to_owned(),
        reason: e.reason,
    })
}

/// A channel that connects on first use and reconnects after failures: the
/// [`Http2Channel`] of service-to-service calls.
pub fn connect_lazy(addr: &str, args: &ClientArgs) -> Result<Http2Channel, InvalidAddress> {
    Http2Channel::lazy(addr, args)
}

/// A channel connected now (over mTLS when [`ClientArgs::tls`] is set): for one-shot commands.
pub async fn connect(addr: &str, args: &ClientArgs) -> Result<Channel, ConnectError> {
    let endpoint = endpoint(addr, args).map_err(ConnectError::Address)?;
    match &args.tls {
        Some(tls) => endpoint.connect_with_connector(tls.connector()).await,
        None => endpoint.connect().await,
    }
    .map_err(ConnectError::Transport)
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The address is not a valid endpoint.
    #[error(transparent)]
    Address(InvalidAddress),
    /// Nothing answered, or the (TLS) handshake failed.
    #[error("cannot connect: {}", error_chain(.0))]
    Transport(tonic::transport::Error),
}

/// An error with its sources, which hold the useful part of a transport error (the refused
/// handshake, the closed port), each said once: tonic's connect error and hyper's beneath it
/// both say "tcp connect error", and some errors print their source themselves.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        match parts.last_mut() {
            Some(last) if last.contains(&text) => {}
            Some(last) if text.contains(last.as_str()) => *last = text,
            _ => parts.push(text),
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// [`connect_lazy`], with the caller's trace context and token ([`ClientArgs::token`]) carried
/// on every call: the channel for service-to-service clients
/// (`RouterServiceClient<TracedChannel>`).
pub fn connect_traced(addr: &str, args: &ClientArgs) -> Result<TracedChannel, InvalidAddress> {
    connect_lazy(addr, args)
        .map(|channel| TracedChannel::new(channel).with_token(args.token.clone()))
}

/// An [`Http2Channel`] that writes the current span's W3C trace context (`traceparent`) into every
/// request, so the callee's spans join the caller's trace (without trace export it adds
/// nothing), and the caller's bearer token when it has one.
#[derive(Debug, Clone)]
pub struct TracedChannel {
    inner: Http2Channel,
    token: BearerToken,
}

impl TracedChannel {
    /// Wraps `channel` (no token).
    pub fn new(channel: Http2Channel) -> Self {
        Self {
            inner: channel,
            token: BearerToken::default(),
        }
    }

    /// The same channel, sending `token` with every call.
    pub fn with_token(self, token: BearerToken) -> Self {
        Self { token, ..self }
    }
}

impl From<Http2Channel> for TracedChannel {
    fn from(channel: Http2Channel) -> Self {
        Self::new(channel)
    }
}

impl Service<http::Request<Body>> for TracedChannel {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = TracedFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        self.token.apply(request.headers_mut());
        if !trace_context::enabled() {
            return TracedFuture::Plain {
                call: self.inner.call(request),
            };
        }
        let span = client_span(&request);
        span.in_scope(|| trace_context::inject_current(request.headers_mut()));
        let call = self.inner.call(request);
        let recorded = span.clone();
        TracedFuture::Spanned {
            call: Box::pin(
                async move {
                    let answer = call.await;
                    record_outcome(&recorded, &answer);
                    answer
                }
                .instrument(span),
            ),
        }
    }
}

/// The CLIENT span of one call, with the RPC attributes of the OpenTelemetry conventions.
fn client_span(request: &http::Request<Body>) -> tracing::Span {
    let path = request.uri().path().trim_start_matches('/');
    let (service, method) = path.split_once('/').unwrap_or((path, ""));
    // DEBUG and the server spans' target: exported whatever `--log` says, logged only when asked.
    tracing::debug_span!(
        target: crate::telemetry::observe::TARGET,
        "rpc.client",
        otel.name = path,
        otel.kind = "client",
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        server.address = request.uri().host().unwrap_or_default(),
        server.port = request.uri().port_u16().unwrap_or_default(),
        rpc.grpc.status_code = Empty,
        otel.status_code = Empty,
    )
}

/// Writes the status a call ended with into its span: the `grpc-status` of a Trailers-Only
/// answer (an error status) or a transport failure. A status in the trailers of a streamed
/// body is not seen here: such a call is marked by the callee's SERVER span.
fn record_outcome(span: &tracing::Span, answer: &CallResult) {
    match answer {
        Ok(response) => {
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok());
            if let Some(code) = code {
                span.record("rpc.grpc.status_code", code);
                if code != 0 {
                    span.record("otel.status_code", "ERROR");
                }
            }
        }
        Err(_) => {
            span.record("otel.status_code", "ERROR");
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`TracedChannel`] call: the channel's own when spans are not exported,
    /// else the same call inside its CLIENT span.
    #[project = TracedFutureProjection]
    pub enum TracedFuture {
        /// No span export: nothing added.
        Plain { #[pin] call: ResponseFuture },
        /// The call in its CLIENT span.
        Spanned { call: Pin<Box<dyn Future<Output = CallResult> + Send>> },
    }
}

/// What a channel call ends with.
type CallResult = Result<http::Response<Body>, BoxError>;

impl Future for TracedFuture {
    type Output = CallResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            TracedFutureProjection::Plain { call } => call.poll(cx),
            TracedFutureProjection::Spanned { call } => call.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_get_a_scheme_and_garbage_is_refused() {
        let args = ClientArgs::default();
        let e = endpoint("127.0.0.1:50053", &args).unwrap();
        assert_eq!(e.uri().to_string(), "http://127.0.0.1:50053/");
        assert!(endpoint("http://[::1]:1", &args).is_ok());
        let err = endpoint("not a uri", &args).unwrap_err();
        assert!(err.to_string().contains("not a uri"), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_said_once() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        let err = connect(&addr, &ClientArgs::default()).await.unwrap_err();
        let text = err.to_string();
        assert_eq!(text.matches("tcp connect error").count(), 1, "{text}");
        assert!(text.contains("Connection refused"), "{text}");
    }
}
