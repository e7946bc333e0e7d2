//! `chatmesh health`: one `grpc.health.v1.Health/Check` call. Exit 0 when SERVING, 1 for any
//! other status or when the service cannot be reached, so it works as a container healthcheck
//! with no extra probe binary in the image. The probe itself is shared with every service
//! binary's `health` subcommand ([`chatmesh_runtime::probe`]).

use std::process::ExitCode;
use std::time::Duration;

use chatmesh_runtime::config::parse_duration;
use chatmesh_runtime::probe;

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Address of the service, `HOST:PORT` or `http://HOST:PORT`.
    #[arg(long, env = "CHATMESH_HEALTH_ADDR", value_name = "ADDR")]
    addr: String,
    /// Service name to ask about (e.g. `chatmesh.graph.v1.GraphService`); empty means the
    /// whole server.
    #[arg(long, default_value = "", value_name = "NAME")]
    service: String,
    /// Give up after this long (connect and call together).
    #[arg(long, default_value = "3s", value_parser = parse_duration, value_name = "DURATION")]
    timeout: Duration,
    /// Print nothing; only the exit code tells.
    #[arg(long, short)]
    quiet: bool,
}

pub async fn run(args: HealthArgs) -> ExitCode {
    probe::report(
        "chatmesh health",
        &args.addr,
        &args.service,
        args.timeout,
        args.quiet,
    )
    .await
}

/// Asks `addr` for the health of `service` (`chatmesh up` waits on it).
pub use probe::check;
