//! The streamable HTTP transport: `POST`/`GET`/`DELETE /mcp` on the router's port, served by
//! rmcp's `StreamableHttpService` with in-memory sessions.
//!
//! The transport checks the `Host` header against an allow-list (a defence against DNS
//! rebinding from browsers); it defaults to the loopback names, and a deployment reached by
//! another name (a Kubernetes Service, an ingress) lists that name with `--mcp-allowed-hosts`.
//! The same list decides which browser origins may call (`super::guard`, which also answers a
//! session's `DELETE` with 200 rather than rmcp's 202).
//! The free-form `graph_query` tool answers only the users `--cypher-hint-principals` names
//! (see `crate::free_query`).

use std::sync::Arc;

use chatmesh_runtime::CancellationToken;
use chatmesh_runtime::auth::NamedPrincipals;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::guard::{self, AllowedOrigins};
use super::server::McpServer;
use crate::McpArgs;
use crate::tools::ToolRegistry;

/// The path the MCP endpoint is served at.
pub(crate) const PATH: &str = "/mcp";

/// The `/mcp` route, serving the tools of `registry`, for [`chatmesh_runtime::GrpcServer::add_http`].
/// Cancelling `shutdown` ends every MCP session (and its open event streams), so that a draining
/// router is not held open by idle agents.
pub fn router(registry: ToolRegistry, args: &McpArgs, shutdown: CancellationToken) -> axum::Router {
    let free_query = NamedPrincipals::new(&args.cypher_hint_principals);
    let server = McpServer::new(Arc::new(registry)).with_free_query_users(free_query);
    let mut config =
        StreamableHttpServerConfig::default().with_cancellation_token(shutdown.child_token());
    config = if args.allowed_hosts.iter().any(|host| host == "*") {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(args.allowed_hosts.iter().map(|host| host.trim()))
    };
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let origins = AllowedOrigins::new(&args.allowed_hosts);
    axum::Router::new()
        .route_service(PATH, service)
        .route_layer(axum::middleware::from_fn_with_state(origins, guard::guard))
}
