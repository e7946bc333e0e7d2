//! The router's MCP tools: one registry that both the gRPC API (`ListTools`, `CallTool`) and the
//! MCP server (`tools/list`, `tools/call`, see [`crate::mcp`]) serve, so they offer the same
//! tools with the same schemas by construction.
//!
//! A tool has a name, a title, a description and a JSON Schema for its arguments, derived from
//! its argument struct ([`arguments`]; each tool module defines its own), and an output schema
//! derived from the protobuf message it returns ([`output`]). A call is read against that schema
//! first (a violation is [`ToolError::InvalidArguments`], naming the argument, checked by
//! [`validate`]), then turned into one read-only backend call. A failure of the backend call is not
//! an error of the call: it comes back in-band (`is_error`, with the backend's status code), as
//! MCP asks, so that a model can read it and try something else. A success comes back as a short
//! text for a model or person to read plus the backend's response in proto3 JSON.

mod arguments;
mod graph;
mod orders;
mod output;
mod route;
mod validate;
mod vector;

use std::sync::Arc;

use chatmesh_proto::json;
use chatmesh_proto::router::{
    CallToolRequest, CallToolResponse, ListToolsRequest, ListToolsResponse, Tool, ToolContent,
    tool_content,
};
use serde_json::{Map, Value};

use crate::backends::{Backends, CallContext};
use crate::routing::Classifier;
use arguments::ToolArgs;
use output::Output;

/// Page size of `ListTools` when the request says 0.
const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest `ListTools` page.
const MAX_PAGE_SIZE: usize = 200;
/// `ListTools` page tokens are this prefix and the name of the next page's first tool.
const PAGE_TOKEN_PREFIX: &str = "tool:";

/// Why a tools request was refused (protocol errors; failures of a tool itself are in-band).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No tool has this name.
    #[error("unknown tool \"{name}\"; the tools are: {known}")]
    UnknownTool {
        /// The name asked for.
        name: String,
        /// The tool names, comma-separated.
        known: String,
    },
    /// The arguments do not satisfy the tool's input schema.
    #[error("invalid arguments for tool \"{tool}\": {reason}")]
    InvalidArguments {
        /// The tool called.
        tool: String,
        /// What is wrong, naming the argument.
        reason: String,
    },
    /// A bad `ListTools` page size or page token.
    #[error("{0}")]
    InvalidPage(String),
}

/// Which tool a [`ToolDef`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ToolKind {
    GetOrder,
    GraphNeighbors,
    GraphQuery,
    GraphShortestPath,
    ListOrders,
    Route,
    VectorSearch,
}

/// The protobuf message each tool returns as its structured result, by tool name: what
/// [`output_schema`] describes.
const RESULTS: [(&str, &str); 7] = [
    ("get_order", "chatmesh.relational.v1.GetOrderResponse"),
    ("graph_neighbors", "chatmesh.graph.v1.ListNeighborsResponse"),
    ("graph_query", "chatmesh.graph.v1.ExecuteQueryResponse"),
    (
        "graph_shortest_path",
        "chatmesh.graph.v1.FindShortestPathResponse",
    ),
    ("list_orders", "chatmesh.relational.v1.ListOrdersResponse"),
    ("route", "chatmesh.router.v1.RouteResponse"),
    ("vector_search", "chatmesh.vector.v1.SearchResponse"),
];

/// The JSON Schema of the structured result of the tool `name` (MCP `outputSchema`), derived
/// from the protobuf message it returns; `None` for a tool this router does not define.
pub(crate) fn output_schema(name: &str) -> Option<Map<String, Value>> {
    let (_, message) = RESULTS.iter().find(|(tool, _)| *tool == name)?;
    match output::output_schema(message) {
        Ok(schema) => Some(schema),
        Err(error) => {
            tracing::warn!(%error, tool = name, "no output schema");
            None
        }
    }
}

/// One tool as defined in code: the published description and schema, and what it runs.
#[derive(Debug, Clone)]
struct ToolDef {
    name: &'static str,
    description: &'static str,
    /// Derived from the tool's argument struct; `title` is in it.
    schema: Value,
    kind: ToolKind,
}

impl ToolDef {
    /// A tool whose arguments are `A`.
    fn new<A: ToolArgs>(
        name: &'static str,
        title: &str,
        description: &'static str,
        kind: ToolKind,
    ) -> Self {
        Self {
            name,
            description,
            schema: Value::Object(arguments::input_schema::<A>(title)),
            kind,
        }
    }

    /// This call's arguments, read as `A` against the tool's schema.
    fn args<A: ToolArgs>(&self, arguments: &Map<String, Value>) -> Result<A, ToolError> {
        arguments::parse(&self.schema, arguments).map_err(|e| ToolError::InvalidArguments {
            tool: self.name.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Why a tool did not produce an [`Output`].
#[derive(Debug)]
enum Failure {
    /// The arguments are wrong in a way the schema could not say (a protocol error).
    Arguments(ToolError),
    /// The tool ran and failed (reported in-band with `is_error`).
    Tool(String),
}

impl From<ToolError> for Failure {
    fn from(error: ToolError) -> Self {
        Self::Arguments(error)
    }
}

impl Failure {
    /// A failed backend call, with the service and its status code.
    fn backend(service: &str, status: &tonic::Status) -> Self {
        Self::Tool(format!(
            "the {service} service answered {}: {}",
            code_name(status.code()),
            status.message()
        ))
    }
}

use chatmesh_runtime::status::code_name;

/// The tools, over the router's backends.
#[derive(Debug, Clone)]
pub struct ToolRegistry {
    backends: Backends,
    classifier: Option<Arc<Classifier>>,
    tools: Arc<Vec<ToolDef>>,
}

impl ToolRegistry {
    /// Every tool, calling `backends`.
    pub fn new(backends: Backends) -> Self {
        let mut tools = vec![
            graph::query_tool(),
            graph::neighbors_tool(),
            graph::shortest_path_tool(),
            vector::search_tool(),
            orders::get_order_tool(),
            orders::list_orders_tool(),
        ];
        tools.sort_by_key(|tool| tool.name);
        Self {
            backends,
            classifier: None,
            tools: Arc::new(tools),
        }
    }

    /// Adds the `route` tool, which routes a question with `classifier` as `Route` does.
    pub fn with_router(mut self, classifier: Arc<Classifier>) -> Self {
        let mut tools: Vec<ToolDef> = self
            .tools
            .iter()
            .filter(|tool| tool.kind != ToolKind::Route)
            .cloned()
            .collect();
        tools.push(route::route_tool());
        tools.sort_by_key(|tool| tool.name);
        self.tools = Arc::new(tools);
        self.classifier = Some(classifier);
        self
    }

    /// Every tool, in ascending name order.
    pub fn tools(&self) -> Vec<Tool> {
        self.tools.iter().map(describe).collect()
    }

    /// One tool by name.
    pub fn tool(&self, name: &str) -> Option<Tool> {
        self.find(name).ok().map(describe)
    }

    /// `ListTools`: one page of [`ToolRegistry::tools`].
    pub fn list(&self, request: &ListToolsRequest) -> Result<ListToolsResponse, ToolError> {
        let page_size = match request.page_size {
            n if n < 0 => {
                return Err(ToolError::InvalidPage(format!(
                    "page_size must not be negative, got {n}"
                )));
            }
            0 => DEFAULT_PAGE_SIZE,
            n => (n as usize).min(MAX_PAGE_SIZE),
        };
        let start = if request.page_token.is_empty() {
            0
        } else {
            request
                .page_token
                .strip_prefix(PAGE_TOKEN_PREFIX)
                .and_then(|name| self.tools.iter().position(|tool| tool.name == name))
                .ok_or_else(|| {
                    ToolError::InvalidPage(format!(
                        "page_token {:?} is not one this service issued",
                        request.page_token
                    ))
                })?
        };
        let end = (start + page_size).min(self.tools.len());
        Ok(ListToolsResponse {
            tools: self.tools[start..end].iter().map(describe).collect(),
            next_page_token: self
                .tools
                .get(end)
                .map(|next| format!("{PAGE_TOKEN_PREFIX}{}", next.name))
                .unwrap_or_default(),
        })
    }

    /// `CallTool`: checks the arguments against the tool's schema, then runs it.
    pub async fn call(
        &self,
        ctx: &CallContext,
        request: CallToolRequest,
    ) -> Result<CallToolResponse, ToolError> {
        let arguments = request
            .arguments
            .as_ref()
            .map(json::from_struct)
            .unwrap_or_default();
        self.call_json(ctx, &request.name, &arguments).await
    }

    async fn call_json(
        &self,
        ctx: &CallContext,
        name: &str,
        arguments: &Map<String, Value>,
    ) -> Result<CallToolResponse, ToolError> {
        let tool = self.find(name)?;
        let backends = &self.backends;
        let outcome = match tool.kind {
            ToolKind::GraphQuery => graph::query(backends, ctx, tool.args(arguments)?).await,
            ToolKind::GraphNeighbors => {
                graph::neighbors(backends, ctx, tool.args(arguments)?).await
            }
            ToolKind::GraphShortestPath => {
                graph::shortest_path(backends, ctx, tool.args(arguments)?).await
            }
            ToolKind::VectorSearch => vector::search(backends, ctx, tool.args(arguments)?).await,
            ToolKind::GetOrder => orders::get_order(backends, ctx, tool.args(arguments)?).await,
            ToolKind::ListOrders => orders::list_orders(backends, ctx, tool.args(arguments)?).await,
            ToolKind::Route => match &self.classifier {
                Some(classifier) => {
                    route::route(classifier, backends, ctx, tool.args(arguments)?).await
                }
                None => Err(Failure::Tool("routing is not configured".to_owned())),
            },
        };
        match outcome {
            Ok(output) => {
                let mut content = vec![text_content(output.text)];
                if let Some(object) = output.structured {
                    content.push(ToolContent {
                        kind: Some(tool_content::Kind::Structured(json::to_struct(&object))),
                    });
                }
                Ok(CallToolResponse {
                    content,
                    is_error: false,
                })
            }
            Err(Failure::Arguments(error)) => Err(error),
            Err(Failure::Tool(message)) => {
                tracing::debug!(tool = tool.name, %message, "tool call failed");
                Ok(CallToolResponse {
                    content: vec![text_content(message)],
                    is_error: true,
                })
            }
        }
    }

    fn find(&self, name: &str) -> Result<&ToolDef, ToolError> {
        self.tools
            .iter()
            .find(|tool| tool.name == name)
            .ok_or_else(|| ToolError::UnknownTool {
                name: name.to_owned(),
                known: self
                    .tools
                    .iter()
                    .map(|tool| tool.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

fn describe(tool: &ToolDef) -> Tool {
    let schema = match &tool.schema {
        Value::Object(object) => json::to_struct(object),
        _ => prost_types::Struct::default(),
    };
    Tool {
        name: tool.name.to_owned(),
        description: tool.description.to_owned(),
        input_schema: Some(schema),
    }
}

fn text_content(text: String) -> ToolContent {
    ToolContent {
        kind: Some(tool_content::Kind::Text(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_tool() -> Vec<ToolDef> {
        vec![
            graph::query_tool(),
            graph::neighbors_tool(),
            graph::shortest_path_tool(),
            vector::search_tool(),
            orders::get_order_tool(),
            orders::list_orders_tool(),
            route::route_tool(),
        ]
    }

    #[test]
    fn every_schema_is_an_object_schema_the_validator_fully_enforces() {
        for tool in every_tool() {
            assert_eq!(
                validate::check_keywords(&tool.schema),
                Ok(()),
                "{}: {}",
                tool.name,
                tool.schema
            );
            assert_eq!(tool.schema["type"], "object", "{}", tool.name);
            assert_eq!(tool.schema["additionalProperties"], false, "{}", tool.name);
            let name_ok = tool.name.len() <= 64
                && tool.name.starts_with(|c: char| c.is_ascii_lowercase())
                && tool
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            assert!(
                name_ok,
                "tool name {} breaks [a-z][a-z0-9_]{{0,63}}",
                tool.name
            );
            assert!(!tool.description.is_empty(), "{}", tool.name);
        }
    }

    #[test]
    fn every_tool_has_an_output_schema() {
        let mut names: Vec<&str> = every_tool().iter().map(|t| t.name).collect();
        names.sort_unstable();
        let listed: Vec<&str> = RESULTS.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, listed);
        for name in names {
            let schema = output_schema(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(schema["type"], "object", "{name}");
        }
    }
}
