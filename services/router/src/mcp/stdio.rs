//! The stdio transport: one MCP session over this process's standard input and output (what
//! desktop agents start as a subprocess). Logs must go to stderr: stdout carries the protocol.

use std::sync::Arc;

use chatmesh_runtime::CancellationToken;
use rmcp::ServiceExt;

use super::server::McpServer;
use super::source::ToolSource;

/// Why the stdio server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The client's `initialize` did not complete.
    #[error("MCP initialization failed: {0}")]
    Initialize(String),
    /// The session task failed.
    #[error("MCP session failed: {0}")]
    Session(String),
}

/// Serves the tools of `source` on stdin/stdout until the client closes stdin or `shutdown` is
/// cancelled.
pub(crate) async fn serve<S: ToolSource>(
    source: S,
    shutdown: CancellationToken,
) -> Result<(), StdioError> {
    let running = McpServer::new(Arc::new(source))
        .serve_with_ct(rmcp::transport::stdio(), shutdown)
        .await
        .map_err(|e| StdioError::Initialize(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| StdioError::Session(e.to_string()))?;
    Ok(())
}
