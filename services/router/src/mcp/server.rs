//! The MCP server itself (an rmcp `ServerHandler`): `tools/list` and `tools/call` over a
//! [`ToolSource`], whatever the transport.
//!
//! Errors follow the MCP specification (2025-11-25, SEP-1303): an unknown tool is a JSON-RPC
//! error (-32602, invalid params); arguments that break the tool's schema, and failures of the
//! tool itself (a backend error, an unreachable router), are tool results with `isError: true`
//! and a text saying what went wrong, so that the model can read it and correct its call. So is
//! a refused free-form query (`graph_query` by a user the operator has not named, see
//! `crate::free_query`), which only the HTTP transport checks: over stdio the router's gRPC API
//! checks the calling service.

use std::sync::Arc;

use chatmesh_proto::router::{self as pb, tool_content};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use super::source::{SourceError, ToolSource};
use chatmesh_proto::json;

use crate::free_query;
use crate::tools::output_schema;
use chatmesh_runtime::auth::{NamedPrincipals, Principal};

/// What the server tells an agent when it connects.
const INSTRUCTIONS: &str = "chatmesh answers questions about one organisation from three data \
    services. Use graph_neighbors, graph_shortest_path and graph_query (read-only Cypher) for \
    people, teams, services and who manages, leads or owns what; vector_search for \
    documentation and FAQs; get_order and list_orders for customers' orders. Every tool only \
    reads.";

/// An MCP server offering the tools of `S`.
#[derive(Debug)]
pub struct McpServer<S> {
    source: Arc<S>,
    /// Who may run free-form queries, when this transport checks it.
    free_query: Option<Arc<NamedPrincipals>>,
}

impl<S> Clone for McpServer<S> {
    fn clone(&self) -> Self {
        Self {
            source: Arc::clone(&self.source),
            free_query: self.free_query.clone(),
        }
    }
}

impl<S: ToolSource> McpServer<S> {
    /// A server for the tools of `source`, checking nobody (stdio: the router checks).
    pub fn new(source: Arc<S>) -> Self {
        Self {
            source,
            free_query: None,
        }
    }

    /// The same server, running `graph_query` only for the users in `allowed` (the principal
    /// that authentication put in the HTTP request).
    pub fn with_free_query_users(self, allowed: NamedPrincipals) -> Self {
        Self {
            free_query: Some(Arc::new(allowed)),
            ..self
        }
    }

    /// The refusal's text when this call runs a free-form query its caller may not run.
    fn free_query_refusal(
        &self,
        tool: &str,
        context: &RequestContext<RoleServer>,
    ) -> Option<String> {
        let allowed = self
            .free_query
            .as_ref()
            .filter(|_| tool == free_query::TOOL)?;
        let principal = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Principal>());
        free_query::check_user(allowed, principal).err()
    }
}

/// A chatmesh tool as an MCP tool: same name, description and input schema; the title is the
/// input schema's, and the output schema describes the tool's structured result (known from
/// the tool's name: gRPC `Tool` has no field for it).
fn mcp_tool(tool: &pb::Tool) -> Tool {
    let schema = tool
        .input_schema
        .as_ref()
        .map(json::from_struct)
        .unwrap_or_default();
    let title = schema
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut mcp = Tool::new(
        tool.name.clone(),
        tool.description.clone(),
        Arc::new(schema),
    )
    .with_annotations(ToolAnnotations::new().read_only(true));
    if let Some(title) = title {
        mcp = mcp.with_title(title);
    }
    if let Some(output) = output_schema(&tool.name) {
        mcp = mcp.with_raw_output_schema(Arc::new(output));
    }
    mcp
}

/// A chatmesh tool result as an MCP one. Structured output also goes into a text block as
/// serialized JSON, as the specification asks for clients that read only text.
fn mcp_result(response: pb::CallToolResponse) -> CallToolResult {
    let mut content = Vec::new();
    let mut structured = None;
    for item in response.content {
        match item.kind {
            Some(tool_content::Kind::Text(text)) => content.push(ContentBlock::text(text)),
            Some(tool_content::Kind::Structured(object)) => {
                let object = Value::Object(json::from_struct(&object));
                content.push(ContentBlock::text(object.to_string()));
                structured.get_or_insert(object);
            }
            None => {}
        }
    }
    let mut result = if response.is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = structured;
    result
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

impl<S: ToolSource> ServerHandler for McpServer<S> {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "chatmesh-router",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self
            .source
            .list_tools()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(ListToolsResult::with_all_items(
            tools.iter().map(mcp_tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(refusal) = self.free_query_refusal(&request.name, &context) {
            return Ok(tool_error(refusal).into());
        }
        let call = pb::CallToolRequest {
            name: request.name.into_owned(),
            arguments: Some(json::to_struct(&request.arguments.unwrap_or_default())),
        };
        // A client that cancels the request (or goes away) drops the tool call, and with it
        // the backend call in flight.
        let outcome = tokio::select! {
            outcome = self.source.call_tool(call) => outcome,
            () = context.ct.cancelled() => {
                return Err(ErrorData::internal_error("the request was cancelled", None));
            }
        };
        let result = match outcome {
            Ok(response) => mcp_result(response),
            Err(SourceError::UnknownTool(message)) => {
                return Err(ErrorData::invalid_params(message, None));
            }
            Err(SourceError::InvalidArguments(message) | SourceError::Unavailable(message)) => {
                tool_error(message)
            }
        };
        Ok(result.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.source.tool(name).as_ref().map(mcp_tool)
    }
}
