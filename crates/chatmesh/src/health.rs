//! `chatmesh health`: one `grpc.health.v1.Health/Check` call. Exit 0 when SERVING, 1 for any
//! other status or when the service cannot be reached, so it works as a container healthcheck
//! with no extra probe binary in the image.

use std::process::ExitCode;
use std::time::Duration;

use chatmesh_runtime::channel::{ClientArgs, endpoint};
use chatmesh_runtime::config::parse_duration;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

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
    let outcome =
        tokio::time::timeout(args.timeout, check(&args.addr, &args.service, args.timeout))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {:?}", args.timeout)));
    let shown = if args.service.is_empty() {
        "(server)"
    } else {
        &args.service
    };
    match outcome {
        Ok(ServingStatus::Serving) => {
            if !args.quiet {
                println!("{} {shown}: SERVING", args.addr);
            }
            ExitCode::SUCCESS
        }
        Ok(status) => {
            if !args.quiet {
                println!("{} {shown}: {}", args.addr, status.as_str_name());
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            if !args.quiet {
                eprintln!("chatmesh health: {} {shown}: {e}", args.addr);
            }
            ExitCode::FAILURE
        }
    }
}

/// Asks `addr` for the health of `service`.
pub async fn check(addr: &str, service: &str, timeout: Duration) -> Result<ServingStatus, String> {
    let client_args = ClientArgs {
        connect_timeout: timeout,
        ..ClientArgs::default()
    };
    let channel = endpoint(addr, &client_args)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
    Ok(response.into_inner().status())
}
