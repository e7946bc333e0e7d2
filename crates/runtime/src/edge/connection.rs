//! The connection's facts, unpacked into each request. tonic puts the accepted connection's
//! `ConnectInfo` in every request's extensions; a `GrpcServer`'s is `crate::tls::peer::PeerInfo`
//! (the TCP addresses and, under mTLS, the client certificate's name), which tonic's own
//! `Request::remote_addr` does not know. This outermost layer puts the plain
//! [`TcpConnectInfo`] back (for `remote_addr` and the per-client rate limit) and the
//! certificate's name as a [`PeerName`] (for the caller check), so that neither the handlers nor
//! the other layers depend on the TLS module.

use std::task::{Context, Poll};

use tonic::transport::server::TcpConnectInfo;
use tower_layer::Layer;
use tower_service::Service;

use super::identity::PeerName;
use crate::tls::peer::PeerInfo;

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConnectionLayer;

impl<S> Layer<S> for ConnectionLayer {
    type Service = Connection<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Connection { inner }
    }
}

/// See [`ConnectionLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Connection<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for Connection<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(peer) = request.extensions_mut().remove::<PeerInfo>() {
            let tcp: TcpConnectInfo = peer.tcp().clone();
            if let Some(name) = peer.name() {
                request.extensions_mut().insert(PeerName(name.clone()));
            }
            request.extensions_mut().insert(tcp);
        }
        self.inner.call(request)
    }
}
