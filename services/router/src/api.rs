//! The gRPC edge of the router: Route (classify, then call one backend), ListBackends (live
//! health and breaker state of every backend address), and ListTools/CallTool delegated to the
//! MCP tool registry.

use std::sync::Arc;

use chatmesh_proto::router::router_service_server::RouterService;
use chatmesh_proto::router::{
    CallToolRequest, CallToolResponse, ListBackendsRequest, ListBackendsResponse, ListToolsRequest,
    ListToolsResponse, RouteRequest, RouteResponse,
};
use chatmesh_runtime::Deadline;
use tonic::{Request, Response, Status};

use crate::backends::{Backends, CallContext};
use crate::error::{PageError, route_status};
use crate::pool::{Pool, target_name};
use crate::routing::{self, Classifier};
use crate::tools::ToolRegistry;

/// Metadata entry on a failed Route naming the backend that failed ("graph", "vector",
/// "relational").
pub const TARGET_METADATA: &str = "chatmesh-target";

const BACKENDS_DEFAULT_PAGE: usize = 10;
const BACKENDS_MAX_PAGE: usize = 100;
const BACKENDS_TOKEN_PREFIX: &str = "backends:";

/// Implements `RouterService`.
#[derive(Debug, Clone)]
pub struct RouterServiceApi {
    classifier: Arc<Classifier>,
    backends: Backends,
    pools: Arc<Vec<Arc<Pool>>>,
    tools: ToolRegistry,
}

impl RouterServiceApi {
    /// The API over a classifier, the backends, their pools (for ListBackends, in Target order)
    /// and the tool registry.
    pub fn new(
        classifier: Classifier,
        backends: Backends,
        pools: Vec<Arc<Pool>>,
        tools: ToolRegistry,
    ) -> Self {
        Self {
            classifier: Arc::new(classifier),
            backends,
            pools: Arc::new(pools),
            tools,
        }
    }
}

/// The caller's deadline, passed on to backend calls.
fn context<T>(request: &Request<T>) -> CallContext {
    CallContext::new(Deadline::of(request).map(|d| d.0))
}

#[tonic::async_trait]
impl RouterService for RouterServiceApi {
    async fn route(
        &self,
        request: Request<RouteRequest>,
    ) -> Result<Response<RouteResponse>, Status> {
        let ctx = context(&request);
        let request = request.into_inner();
        let plan = self
            .classifier
            .decide(&request.query, request.hints.as_ref(), &request.session_id)
            .map_err(route_status)?;
        tracing::debug!(
            session = %request.session_id,
            target = plan.call.target().as_str_name(),
            rule = %plan.explanation.rule,
            "routed"
        );
        let target = plan.call.target();
        routing::execute(&self.backends, &ctx, plan)
            .await
            .map(Response::new)
            .map_err(|mut status| {
                // Names the failing backend for callers that degrade per source (the chatbot).
                status.metadata_mut().insert(
                    TARGET_METADATA,
                    tonic::metadata::MetadataValue::from_static(target_name(target)),
                );
                status
            })
    }

    async fn list_tools(
        &self,
        request: Request<ListToolsRequest>,
    ) -> Result<Response<ListToolsResponse>, Status> {
        self.tools
            .list(request.get_ref())
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn call_tool(
        &self,
        request: Request<CallToolRequest>,
    ) -> Result<Response<CallToolResponse>, Status> {
        let ctx = context(&request);
        self.tools
            .call(&ctx, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_backends(
        &self,
        request: Request<ListBackendsRequest>,
    ) -> Result<Response<ListBackendsResponse>, Status> {
        let request = request.into_inner();
        let size = match request.page_size {
            n if n < 0 => return Err(PageError::NegativeSize(n).into()),
            0 => BACKENDS_DEFAULT_PAGE,
            n => (n as usize).min(BACKENDS_MAX_PAGE),
        };
        let start = if request.page_token.is_empty() {
            0
        } else {
            request
                .page_token
                .strip_prefix(BACKENDS_TOKEN_PREFIX)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n > 0 && *n < self.pools.len())
                .ok_or_else(|| PageError::BadToken(request.page_token.clone()))?
        };
        let end = (start + size).min(self.pools.len());
        Ok(Response::new(ListBackendsResponse {
            backends: self.pools[start..end]
                .iter()
                .map(|p| p.snapshot())
                .collect(),
            next_page_token: if end < self.pools.len() {
                format!("{BACKENDS_TOKEN_PREFIX}{end}")
            } else {
                String::new()
            },
        }))
    }
}
