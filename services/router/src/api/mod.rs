//! The gRPC edge of the router: Route (classify, then call one backend), ListBackends (live
//! health and breaker state of every backend address), and ListTools/CallTool delegated to the
//! MCP tool registry. Handlers only: [`convert`] reads requests and builds pages, [`status`] is
//! the one error mapping, [`timing`] tells a Route's caller how long its backend took. Who may
//! call is checked before the handlers (`crate::CALLERS`); a free-form query in the body
//! (`hints.cypher`, `graph_query`) is checked here by `crate::free_query`.

mod convert;
mod status;
mod timing;

use std::sync::Arc;
use std::time::Instant;

use chatmesh_proto::router::router_service_server::RouterService;
use chatmesh_proto::router::{
    CallToolRequest, CallToolResponse, ListBackendsRequest, ListBackendsResponse, ListToolsRequest,
    ListToolsResponse, RouteRequest, RouteResponse,
};
use chatmesh_runtime::Deadline;
use chatmesh_runtime::auth::Caller;
use tonic::{Request, Response, Status};

use crate::backends::{Backends, CallContext};
use crate::free_query;
use crate::pool::Pool;
use crate::routing::{self, Classifier};
use crate::tools::ToolRegistry;
use status::{backend_status, route_status};

/// Implements `RouterService`.
#[derive(Debug, Clone)]
pub(crate) struct RouterApi {
    classifier: Arc<Classifier>,
    backends: Backends,
    pools: Arc<Vec<Arc<Pool>>>,
    tools: ToolRegistry,
}

impl RouterApi {
    /// The API over a classifier, the backends, their pools (for ListBackends, in Target order)
    /// and the tool registry.
    pub(crate) fn new(
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
impl RouterService for RouterApi {
    async fn route(
        &self,
        request: Request<RouteRequest>,
    ) -> Result<Response<RouteResponse>, Status> {
        if request
            .get_ref()
            .hints
            .as_ref()
            .is_some_and(|h| h.cypher.is_some())
        {
            free_query::check_caller(Caller::of(&request), " with hints.cypher")?;
        }
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
        let started = Instant::now();
        let routed = routing::execute(&self.backends, &ctx, plan)
            .await
            .map_err(|status| backend_status(status, target))?;
        let mut response = Response::new(routed);
        timing::record(response.metadata_mut(), target, started.elapsed());
        Ok(response)
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
        if request.get_ref().name == free_query::TOOL {
            let detail = format!(" for {}", free_query::TOOL);
            free_query::check_caller(Caller::of(&request), &detail)?;
        }
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
        let page = convert::backends_page(request.get_ref(), self.pools.len())?;
        Ok(Response::new(convert::backends_response(&self.pools, page)))
    }
}
