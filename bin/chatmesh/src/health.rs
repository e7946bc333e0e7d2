//! `chatmesh health`: one `grpc.health.v1.Health/Check` call. Exit 0 when SERVING, 1 for any
//! other status or when the service cannot be reached, so it works as a container healthcheck
//! with no extra probe binary in the image. The probe itself is shared with every service
//! binary's `health` subcommand ([`chatmesh_runtime::probe`]). With `--tls-*` it asks over
//! mutual TLS.

use std::process::ExitCode;

use chatmesh_runtime::probe;

#[derive(Debug, clap::Args)]
pub(crate) struct HealthArgs {
    /// Address of the service, `HOST:PORT` or `http://HOST:PORT`.
    #[arg(long, env = "CHATMESH_HEALTH_ADDR", value_name = "ADDR")]
    addr: String,
    /// Service name to ask about (e.g. `chatmesh.graph.v1.GraphService`); empty means the
    /// whole server.
    #[arg(long, default_value = "", value_name = "NAME")]
    service: String,
    #[command(flatten)]
    options: probe::ProbeOptions,
}

pub(crate) async fn run(args: HealthArgs) -> ExitCode {
    args.options
        .run("chatmesh health", &args.addr, &args.service)
        .await
}
