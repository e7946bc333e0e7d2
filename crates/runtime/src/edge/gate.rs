//! The one shape every edge policy has (authentication and per-client rate limits on the public
//! paths, the caller check on a service's own API): on the paths it guards, the policy admits a
//! request (and may edit it on the way, as authentication removes the token) or refuses it with
//! a [`Refusal`] before the handler sees it. Other paths, and every path while the policy is
//! off, pass untouched.
//!
//! A policy is a plain value implementing [`EdgePolicy`]; the layer ([`EdgeGateLayer`]) owns the
//! path check and turns a refusal into a gRPC or HTTP answer, so each policy says only what it
//! decides.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::refusal::Refusal;
use crate::status::is_grpc;

/// The paths a policy guards: for authentication and rate limits those that face the public
/// (a server's edge), for the caller check the service's own methods. An entry ending in `/`
/// covers everything under it (a gRPC service: `/chatmesh.chat.v1.ChatService/`); otherwise it
/// covers that path and the ones below it.
#[derive(Debug, Clone, Default)]
pub(crate) struct EdgePaths(Arc<[String]>);

impl EdgePaths {
    /// Edge paths from their prefixes.
    pub(crate) fn new<I: IntoIterator<Item = S>, S: Into<String>>(prefixes: I) -> Self {
        Self(prefixes.into_iter().map(Into::into).collect())
    }

    /// Whether `path` is an edge path.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.0.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/')
            })
        })
    }
}

/// What an edge policy decides for one request on an edge path.
pub(crate) trait EdgePolicy: Send + Sync + 'static {
    /// Admits `request`, possibly editing its headers or extensions, or refuses it.
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Refusal>;
}

/// Applies a policy to a server's edge paths (a no-op without one).
#[derive(Debug)]
pub(crate) struct EdgeGateLayer<P> {
    policy: Option<Arc<P>>,
    edge: EdgePaths,
}

impl<P> EdgeGateLayer<P> {
    /// A layer applying `policy` (`None`: everything passes) to `edge`.
    pub(crate) fn new(policy: Option<Arc<P>>, edge: EdgePaths) -> Self {
        Self { policy, edge }
    }
}

// By hand: the derives would ask for `P: Clone` / `P: Default`, which an `Arc` does not need.
impl<P> Clone for EdgeGateLayer<P> {
    fn clone(&self) -> Self {
        Self::new(self.policy.clone(), self.edge.clone())
    }
}

impl<P> Default for EdgeGateLayer<P> {
    fn default() -> Self {
        Self::new(None, EdgePaths::default())
    }
}

impl<S, P> Layer<S> for EdgeGateLayer<P> {
    type Service = EdgeGate<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        EdgeGate {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`EdgeGateLayer`].
#[derive(Debug)]
pub(crate) struct EdgeGate<S, P> {
    inner: S,
    layer: EdgeGateLayer<P>,
}

impl<S: Clone, P> Clone for EdgeGate<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, B, P> Service<http::Request<B>> for EdgeGate<S, P>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    P: EdgePolicy,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Self::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let EdgeGateLayer { policy, edge } = &self.layer;
        let Some(policy) = policy
            .as_ref()
            .filter(|_| edge.contains(request.uri().path()))
        else {
            return Either::Right(self.inner.call(request));
        };
        match policy.admit(&mut request) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(refusal) => Either::Left(ready(Ok(refusal.into_response(is_grpc(&request))))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_paths_match_whole_segments() {
        let edge = EdgePaths::new(["/chatmesh.chat.v1.ChatService/", "/v1/chat", "/mcp"]);
        assert!(edge.contains("/chatmesh.chat.v1.ChatService/Chat"));
        assert!(edge.contains("/v1/chat"));
        assert!(edge.contains("/mcp"));
        assert!(edge.contains("/mcp/x"));
        assert!(!edge.contains("/v1/chatty"));
        assert!(!edge.contains("/grpc.health.v1.Health/Check"));
        assert!(!edge.contains("/metrics"));
    }
}
