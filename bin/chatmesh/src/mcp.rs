//! `chatmesh mcp`: a Model Context Protocol server on stdin/stdout, for desktop agents that start
//! their tools as a subprocess. It serves the tools of a running router: `tools/list` is the
//! router's `ListTools` and `tools/call` its `CallTool`, so the tools, their schemas and their
//! argument checks are exactly those of the router's gRPC API and of its `/mcp` endpoint.
//! stdout carries the protocol; logs go to stderr. A router that checks its callers is reached
//! with mTLS (`--tls-*`, the certificate names the caller) or a peer token (`--service-token*`).

use std::process::ExitCode;
use std::time::Duration;

use chatmesh_router::mcp_stdio::{self, RemoteTools};
use chatmesh_runtime::channel::{ClientArgs, connect_traced};
use chatmesh_runtime::config::parse_duration;

use crate::caller::CallerArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct McpArgs {
    /// Address of the router, `HOST:PORT` or `http://HOST:PORT`.
    #[arg(
        long,
        env = "CHATMESH_ROUTER_ADDR",
        value_name = "ADDR",
        default_value = "http://127.0.0.1:50052"
    )]
    router_addr: String,
    /// Deadline of each call to the router (listing the tools, calling one).
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    timeout: Duration,
    #[command(flatten)]
    client: ClientArgs,
    /// How to reach a router that checks its callers.
    #[command(flatten)]
    caller: CallerArgs,
}

pub(crate) async fn run(args: McpArgs) -> ExitCode {
    let channel = match channel(&args) {
        Ok(channel) => channel,
        Err(e) => {
            eprintln!("chatmesh mcp: {e}");
            return ExitCode::from(chatmesh_runtime::cli::EXIT_CONFIG);
        }
    };
    // The client ends the session by closing stdin; a signal ends it too.
    let shutdown = chatmesh_runtime::shutdown::on_signal();
    match mcp_stdio::serve(RemoteTools::new(channel, args.timeout), shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatmesh mcp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The channel to the router: mTLS and the token when given, connected on first use.
fn channel(args: &McpArgs) -> Result<chatmesh_runtime::channel::TracedChannel, String> {
    let client = args.caller.client(args.client.clone())?;
    connect_traced(&args.router_addr, &client).map_err(|e| format!("--router-addr: {e}"))
}
