//! Where the MCP server gets its tools from: the router's own [`ToolRegistry`] (the `/mcp`
//! endpoint inside the router) or a router reached over gRPC `ListTools`/`CallTool`
//! (`chatmesh mcp`, the stdio server for desktop agents). Either way the tools, their schemas
//! and their checks are the registry's, so both transports offer exactly what gRPC offers.

use std::time::Duration;

use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::router::{CallToolRequest, CallToolResponse, ListToolsRequest, Tool};
use chatmesh_runtime::channel::TracedChannel;

use crate::backends::CallContext;
use chatmesh_runtime::status::code_name;

use crate::tools::{ToolError, ToolRegistry};

/// Why a tools request did not produce a result, in the terms MCP distinguishes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// No tool has the name asked for (an MCP protocol error).
    #[error("{0}")]
    UnknownTool(String),
    /// The arguments break the tool's schema (an MCP tool error, so the model can correct
    /// them).
    #[error("{0}")]
    InvalidArguments(String),
    /// The tools could not be reached (for `chatmesh mcp`: the router is down or too slow).
    #[error("{0}")]
    Unavailable(String),
}

impl From<ToolError> for SourceError {
    fn from(error: ToolError) -> Self {
        match error {
            ToolError::UnknownTool { .. } => Self::UnknownTool(error.to_string()),
            ToolError::InvalidArguments { .. } | ToolError::InvalidPage(_) => {
                Self::InvalidArguments(error.to_string())
            }
        }
    }
}

/// A set of tools the MCP server offers.
#[tonic::async_trait]
pub trait ToolSource: Send + Sync + 'static {
    /// Every tool, in ascending name order.
    async fn list_tools(&self) -> Result<Vec<Tool>, SourceError>;

    /// Calls one tool.
    async fn call_tool(&self, request: CallToolRequest) -> Result<CallToolResponse, SourceError>;

    /// One tool's definition, when it can be known without a round trip (the streamable HTTP
    /// transport uses it to check `Mcp-Param-*` headers against the tool's schema).
    fn tool(&self, _name: &str) -> Option<Tool> {
        None
    }
}

#[tonic::async_trait]
impl ToolSource for ToolRegistry {
    async fn list_tools(&self) -> Result<Vec<Tool>, SourceError> {
        Ok(self.tools())
    }

    async fn call_tool(&self, request: CallToolRequest) -> Result<CallToolResponse, SourceError> {
        // MCP carries no deadline: the configured backend timeouts bound the call, and a client
        // that cancels drops it (see the server's call_tool).
        Ok(self.call(&CallContext::default(), request).await?)
    }

    fn tool(&self, name: &str) -> Option<Tool> {
        ToolRegistry::tool(self, name)
    }
}

/// The tools of a router reached over gRPC.
#[derive(Debug, Clone)]
pub struct RemoteTools {
    client: RouterServiceClient<TracedChannel>,
    timeout: Duration,
}

impl RemoteTools {
    /// Tools served by the router behind `channel` (a [`TracedChannel`] carries the caller's
    /// token); each call gets `timeout` as its deadline.
    pub fn new(channel: impl Into<TracedChannel>, timeout: Duration) -> Self {
        Self {
            client: RouterServiceClient::new(channel.into()),
            timeout,
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.timeout);
        request
    }
}

fn remote_error(status: tonic::Status) -> SourceError {
    let message = status.message().to_owned();
    match status.code() {
        tonic::Code::NotFound => SourceError::UnknownTool(message),
        tonic::Code::InvalidArgument => SourceError::InvalidArguments(message),
        code => SourceError::Unavailable(format!(
            "the router answered {}: {message}",
            code_name(code)
        )),
    }
}

#[tonic::async_trait]
impl ToolSource for RemoteTools {
    async fn list_tools(&self) -> Result<Vec<Tool>, SourceError> {
        let mut client = self.client.clone();
        let mut tools = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = client
                .list_tools(self.request(ListToolsRequest {
                    page_size: 0,
                    page_token,
                }))
                .await
                .map_err(remote_error)?
                .into_inner();
            tools.extend(page.tools);
            if page.next_page_token.is_empty() {
                return Ok(tools);
            }
            page_token = page.next_page_token;
        }
    }

    async fn call_tool(&self, request: CallToolRequest) -> Result<CallToolResponse, SourceError> {
        let mut client = self.client.clone();
        Ok(client
            .call_tool(self.request(request))
            .await
            .map_err(remote_error)?
            .into_inner())
    }
}
