//! The channel of service-to-service calls: one HTTP/2 connection per address, shared by every
//! clone, opened on first use and again after it closes, with no request queue in front of it.
//!
//! Why not tonic's `Channel`: it puts a tower `Buffer` before the connection, so every call
//! is handed to a worker task through a queue, and the answer comes back through a oneshot.
//! That is one more task wake-up per call on each forwarding hop of the chat path. hyper's
//! HTTP/2 `SendRequest` already is a cheap, cloneable handle to the connection task, so this
//! channel hands the request straight to it. Measured on the bare three-hop tonic chain of the
//! side-by-side benchmark, the same chain with only this difference had the lower median
//! latency at one call in flight in 7 of 8 alternating rounds and more calls per second at 16
//! in 6 of 8; in the mesh, the chat mix at 16 and 64 in flight gained (docs/benchmarks.md,
//! "What changed").
//!
//! What tonic's channel did and this one keeps: the connect timeout, `TCP_NODELAY`, HTTP/2
//! keepalive pings, mTLS through [`crate::tls`]'s connector, reconnecting after a connection
//! ends, the request's scheme and authority (tonic's generated clients send only a path), and
//! a client-side stop at the request's own `grpc-timeout`. Connecting failures are UNAVAILABLE
//! with the cause; calls waiting for the same connection attempt share its failure rather than
//! each waiting out another connect timeout.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use http::uri::{Authority, Scheme};
use hyper::client::conn::http2::{Builder, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tonic::Status;
use tonic::body::Body;
use tower_service::Service;

use super::channel::{ClientArgs, InvalidAddress, endpoint, error_chain};
use crate::edge::deadline::parse_grpc_timeout;
use crate::tls::ClientTls;
use crate::tls::client::host_and_port;

/// An error of a call: a [`Status`] (connecting failed, the request's own deadline passed) or
/// the connection's `hyper::Error`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future of one call.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

/// Marks a request whose caller already stops waiting at its `grpc-timeout` (the router's
/// attempt deadline): the channel then arms no second timer for it.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineEnforced;

/// See the module docs. Clones share the connection.
#[derive(Clone)]
pub struct Http2Channel {
    shared: Arc<Shared>,
    /// This clone's handle to the connection, taken from `shared` when it was last needed.
    sender: Option<SendRequest<Body>>,
}

impl std::fmt::Debug for Http2Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http2Channel")
            .field("origin", &self.shared.origin)
            .finish_non_exhaustive()
    }
}

struct Shared {
    /// The address as configured, for messages.
    addr: String,
    origin: Uri,
    scheme: Scheme,
    authority: Authority,
    tls: Option<ClientTls>,
    connect_timeout: Duration,
    settings: Builder<TokioExecutor>,
    /// The open connection, if any.
    current: Mutex<Option<SendRequest<Body>>>,
    /// Held while connecting; holds when and why the last attempt failed.
    connecting: tokio::sync::Mutex<Option<(Instant, String)>>,
}

impl Http2Channel {
    /// A channel to `addr` (`host:port` or `http://host:port`) that connects on first use.
    pub fn lazy(addr: &str, args: &ClientArgs) -> Result<Self, InvalidAddress> {
        let origin = endpoint(addr, args)?.uri().clone();
        let invalid = |reason: &str| InvalidAddress {
            addr: addr.to_owned(),
            reason: reason.to_owned(),
        };
        let scheme = origin
            .scheme()
            .cloned()
            .ok_or_else(|| invalid("no scheme"))?;
        let authority = origin
            .authority()
            .cloned()
            .ok_or_else(|| invalid("no host"))?;
        let mut settings = Builder::new(TokioExecutor::new());
        settings
            .timer(TokioTimer::new())
            .keep_alive_interval(args.client_keepalive_interval)
            .keep_alive_timeout(args.client_keepalive_timeout)
            .keep_alive_while_idle(true);
        Ok(Self {
            shared: Arc::new(Shared {
                addr: addr.to_owned(),
                origin,
                scheme,
                authority,
                tls: args.tls.clone(),
                connect_timeout: args.connect_timeout,
                settings,
                current: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(None),
            }),
            sender: None,
        })
    }

    /// A channel to `addr`, connected now: for one-shot commands, which should say at once
    /// when nothing answers.
    pub async fn connect(addr: &str, args: &ClientArgs) -> Result<Self, Status> {
        let mut channel =
            Self::lazy(addr, args).map_err(|e| Status::invalid_argument(e.to_string()))?;
        channel.sender = Some(channel.shared.sender().await?);
        Ok(channel)
    }
}

impl Service<http::Request<Body>> for Http2Channel {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // A request queues in the connection task like any other HTTP/2 stream; a missing
        // connection is opened by the call itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        self.shared.set_origin(&mut request);
        let timeout = own_deadline(&request);
        let open = self
            .sender
            .take()
            .filter(|s| !s.is_closed())
            .or_else(|| self.shared.current());
        let call: ResponseFuture = match open {
            Some(mut sender) => {
                let sent = sender.send_request(request);
                self.sender = Some(sender);
                Box::pin(async move { Ok(sent.await?.map(Body::new)) })
            }
            None => {
                let shared = Arc::clone(&self.shared);
                Box::pin(async move {
                    let mut sender = shared.sender().await?;
                    Ok(sender.send_request(request).await?.map(Body::new))
                })
            }
        };
        match timeout {
            None => call,
            Some(timeout) => Box::pin(async move {
                match tokio::time::timeout(timeout, call).await {
                    Ok(answer) => answer,
                    Err(_) => Err(Status::deadline_exceeded("the call's deadline passed").into()),
                }
            }),
        }
    }
}

/// Whether a call's `status` says the callee was not reached or the connection failed under
/// the call (rather than an answer of the callee): a connect failure of this channel, or a
/// connection error beneath the status.
pub fn transport_failure(status: &Status) -> bool {
    let connection = std::error::Error::source(status).is_some_and(|e| {
        e.downcast_ref::<hyper::Error>().is_some()
            || e.downcast_ref::<tonic::transport::Error>().is_some()
    });
    connection || status.message().starts_with(CANNOT_CONNECT)
}

const CANNOT_CONNECT: &str = "cannot connect to ";

/// The request's `grpc-timeout`, unless its caller enforces it already.
fn own_deadline(request: &http::Request<Body>) -> Option<Duration> {
    if request.extensions().get::<DeadlineEnforced>().is_some() {
        return None;
    }
    let value = request.headers().get("grpc-timeout")?.to_str().ok()?;
    parse_grpc_timeout(value)
}

impl Shared {
    /// Gives the request the channel's scheme and authority (a generated client sets the path).
    fn set_origin(&self, request: &mut http::Request<Body>) {
        let mut parts = std::mem::take(request.uri_mut()).into_parts();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        if parts.path_and_query.is_none() {
            parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        }
        // Scheme, authority and path are all set: `from_parts` cannot fail.
        *request.uri_mut() = Uri::from_parts(parts).unwrap_or_default();
    }

    /// The open connection, if there is one.
    fn current(&self) -> Option<SendRequest<Body>> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|s| !s.is_closed()).cloned()
    }

    /// The open connection, or a new one. One caller connects at a time; those who waited
    /// for a failed attempt get its failure.
    async fn sender(&self) -> Result<SendRequest<Body>, Status> {
        if let Some(sender) = self.current() {
            return Ok(sender);
        }
        let asked = Instant::now();
        let mut last_failure = self.connecting.lock().await;
        if let Some(sender) = self.current() {
            return Ok(sender);
        }
        if let Some((at, why)) = last_failure.as_ref()
            && *at >= asked
        {
            return Err(Status::unavailable(why.clone()));
        }
        match tokio::time::timeout(self.connect_timeout, self.open()).await {
            Ok(Ok(sender)) => {
                *last_failure = None;
                let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
                *current = Some(sender.clone());
                Ok(sender)
            }
            Ok(Err(why)) => Err(self.failed(&mut last_failure, why)),
            Err(_) => Err(self.failed(
                &mut last_failure,
                format!("no connection within {:?}", self.connect_timeout),
            )),
        }
    }

    fn failed(&self, last_failure: &mut Option<(Instant, String)>, why: String) -> Status {
        let why = format!("{CANNOT_CONNECT}{}: {why}", self.addr);
        *last_failure = Some((Instant::now(), why.clone()));
        Status::unavailable(why)
    }

    /// Opens a connection (TCP, then TLS when configured, then the HTTP/2 handshake) and
    /// starts the task that drives it.
    async fn open(&self) -> Result<SendRequest<Body>, String> {
        let say = |e: &(dyn std::error::Error + 'static)| error_chain(e);
        match &self.tls {
            Some(tls) => {
                let mut connector = tls.connector();
                let io = connector.call(self.origin.clone()).await;
                self.handshake(io.map_err(|e| say(&e))?).await
            }
            None => {
                let (host, port) = host_and_port(&self.origin).map_err(|e| say(&e))?;
                let tcp = TcpStream::connect((host.as_str(), port)).await;
                let tcp = tcp.map_err(|e| format!("tcp connect error: {}", say(&e)))?;
                tcp.set_nodelay(true).map_err(|e| say(&e))?;
                self.handshake(TokioIo::new(tcp)).await
            }
        }
    }

    async fn handshake<T>(&self, io: T) -> Result<SendRequest<Body>, String>
    where
        T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = self
            .settings
            .handshake(io)
            .await
            .map_err(|e| error_chain(&e))?;
        let origin = self.origin.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%origin, error = %error_chain(&error), "connection ended");
            }
        });
        Ok(sender)
    }
}

#[cfg(test)]
mod tests;
