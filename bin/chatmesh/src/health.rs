//! `chatmesh health`: one `grpc.health.v1.Health/Check` call. Exit 0 when SERVING, 1 for any
//! other status or when the service cannot be reached, so it works as a container healthcheck
//! with no extra probe binary in the image. The probe itself is shared with every service
//! binary's `health` subcommand ([`chatmesh_runtime::probe`]). With `--tls-*` it asks over
//! mutual TLS.

use std::process::ExitCode;
use std::time::Duration;

use chatmesh_runtime::config::parse_duration;
use chatmesh_runtime::probe;
use chatmesh_runtime::tls::TlsFileArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct HealthArgs {
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
    #[command(flatten)]
    tls: TlsFileArgs,
    /// With mTLS: the name the server's certificate must carry [default: the address's host].
    #[arg(long, value_name = "NAME")]
    tls_server_name: Option<String>,
    /// Print nothing; only the exit code tells.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) async fn run(args: HealthArgs) -> ExitCode {
    let tls = match probe::client_tls(&args.tls, args.tls_server_name.as_deref()) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("chatmesh health: {e}");
            return ExitCode::from(chatmesh_runtime::cli::EXIT_CONFIG);
        }
    };
    probe::report(
        "chatmesh health",
        &args.addr,
        &args.service,
        args.timeout,
        tls,
        args.quiet,
    )
    .await
}
