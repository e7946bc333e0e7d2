//! `chatmesh`: the user's command. `up` runs the whole mesh in one process on embedded stores;
//! `health` asks a service whether it is SERVING (usable as a container healthcheck); `bench`
//! loads a service with gRPC calls and reports throughput and latency.

mod bench;
mod health;
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
    let log = match &cli.command {
        Command::Up(args) => (args.log_format, args.log_filter.as_str()),
        Command::Health(_) | Command::Bench(_) => (LogFormat::Human, "warn"),
    };
    if let Err(e) = chatmesh_runtime::telemetry::init_logging(log.0, log.1) {
        eprintln!("chatmesh: {e}");
        return ExitCode::from(chatmesh_runtime::cli::EXIT_CONFIG);
    }
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
    runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => up::run(args).await,
            Command::Health(args) => health::run(args).await,
            Command::Bench(args) => bench::run(args).await,
        }
    })
}
