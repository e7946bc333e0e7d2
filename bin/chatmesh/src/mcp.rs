//! `chatmesh mcp`: a Model Context Protocol server on stdin/stdout, for desktop agents that start
//! their tools as a subprocess. It serves the tools of a running router: `tools/list` is the
//! router's `ListTools` and `tools/call` its `CallTool`, so the tools, their schemas and their
//! argument checks are exactly those of the router's gRPC API and of its `/mcp` endpoint.
//! stdout carries the protocol; logs go to stderr.

use std::process::ExitCode;
use std::time::Duration;

use chatmesh_router::mcp_stdio::{self, RemoteTools};
use chatmesh_runtime::channel::{ClientArgs, connect_lazy};
use chatmesh_runtime::config::parse_duration;

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
}

pub(crate) async fn run(args: McpArgs) -> ExitCode {
    let channel = match connect_lazy(&args.router_addr, &args.client) {
        Ok(channel) => channel,
        Err(e) => {
            eprintln!("chatmesh mcp: --router-addr: {e}");
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
