//! The router's Model Context Protocol server, built on the official Rust SDK (rmcp): the same
//! tools as gRPC `ListTools`/`CallTool` (one [`crate::tools::ToolRegistry`]), for AI agents.
//!
//! Two transports: streamable HTTP at `/mcp` on the router's own port ([`http::router`], added
//! next to the gRPC services), and stdio ([`stdio::serve`], which `chatmesh mcp` runs for desktop
//! agents, with the tools of a router reached over gRPC: [`source::RemoteTools`]).

pub(crate) mod guard;
pub(crate) mod http;
pub(crate) mod server;
pub(crate) mod source;
pub(crate) mod stdio;
