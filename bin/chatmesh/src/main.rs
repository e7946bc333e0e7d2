//! `chatmesh`: the user's command. `up` runs the whole mesh in one process on embedded stores;
//! `health` asks a service whether it is SERVING (usable as a container healthcheck); `bench`
//! loads a service with gRPC calls and reports throughput and latency; `chat` asks the chatbot;
//! `certs` writes a development CA and service certificates for mTLS.

mod bench;
mod caller;
mod certs;
mod chat;
mod health;
mod mcp;
mod up;

use std::process::ExitCode;

use chatmesh_runtime::config::LogFormat;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// chatmesh: a gRPC service mesh for chatbots (chatbot → router → graph | vector | relational).
#[derive(Debug, Parser)]
#[command(name = "chatmesh", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run all five services in this process on embedded stores (Ctrl-C stops them).
    Up(up::UpArgs),
    /// Check a service with the gRPC health protocol: exit 0 only when it is SERVING.
    Health(health::HealthArgs),
    /// Load a service with gRPC calls (closed loop) and report throughput and latency.
    Bench(bench::BenchArgs),
    /// Ask the chatbot: one question, or one per line from standard input.
    Chat(chat::ChatArgs),
    /// Serve the router's tools to an AI agent over MCP on stdin/stdout.
    Mcp(mcp::McpArgs),
    /// Write a development CA and a certificate per service, for mTLS (`--tls-*`).
    Certs(certs::CertsArgs),
}

fn main() -> ExitCode {
    let mut command = Cli::command();
    let cli = match command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m))
    {
        Ok(cli) => cli,
        Err(err) => return chatmesh_runtime::cli::report_parse_error("chatmesh", &err, &command),
    };
    let command = match cli.command {
        Command::Certs(args) => return certs::run(args),
        other => other,
    };
    chatmesh_runtime::memory::limit_arenas(None);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("chatmesh: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `up` exports spans like the service binaries when OTEL_EXPORTER_OTLP_ENDPOINT is set (the
    // exporter's client lives on the runtime, so it is built inside it); the other commands
    // only log.
    let telemetry = match &command {
        Command::Up(args) => {
            let _runtime = runtime.enter();
            chatmesh_runtime::telemetry::init(
                "chatmesh",
                args.log_format,
                &args.log_filter,
                chatmesh_runtime::telemetry::otlp_endpoint_from_env().as_deref(),
            )
        }
        Command::Health(_)
        | Command::Bench(_)
        | Command::Chat(_)
        | Command::Mcp(_)
        | Command::Certs(_) => chatmesh_runtime::telemetry::init_logging(LogFormat::Human, "warn")
            .map(|()| chatmesh_runtime::telemetry::Telemetry::default()),
    };
    let telemetry = match telemetry {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("chatmesh: {e}");
            return ExitCode::from(chatmesh_runtime::cli::EXIT_CONFIG);
        }
    };
    let exit = runtime.block_on(async move {
        match command {
            Command::Up(args) => up::run(args).await,
            Command::Health(args) => health::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Chat(args) => chat::run(args).await,
            Command::Mcp(args) => mcp::run(args).await,
            Command::Certs(args) => certs::run(args),
        }
    });
    // Flush the last spans while the runtime that drives the exporter still runs.
    telemetry.shutdown();
    exit
}
