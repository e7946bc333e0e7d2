//! The health probe every chatmesh binary carries: one `grpc.health.v1.Health/Check` call that
//! exits 0 when the answer is SERVING and 1 for any other status or when nothing answers. It is
//! the container healthcheck (`chatmesh-graph health`, `chatmesh health --addr …`), so an image
//! ships no extra probe binary and needs no shell. Given the `--tls-*` files (or the service's
//! own `CHATMESH_TLS_*` environment, as in a container) it asks over mutual TLS.
//!
//! [`health_subcommand`] gives each service binary its `health` subcommand; [`check`] and
//! [`report`] are the shared parts `chatmesh health` also uses.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::channel::{ClientArgs, connect};
use crate::config::ServiceInfo;
use crate::setting::parse_duration;
use crate::tls::{ClientTls, TlsFileArgs};

/// The word after the binary name that selects the probe instead of the server.
pub const SUBCOMMAND: &str = "health";

/// `chatmesh-<service> health`: ask a running instance of this service whether it is SERVING.
#[derive(Debug, Parser)]
struct ServiceProbeArgs {
    /// Address to ask, `HOST:PORT` or `http://HOST:PORT` [default: this service's listen address
    /// (`CHATMESH_LISTEN`, or its default port) on loopback].
    #[arg(long, env = "CHATMESH_HEALTH_ADDR", value_name = "ADDR")]
    addr: Option<String>,
    /// Service name to ask about; `""` asks about the whole server [default: this service's
    /// gRPC name, the readiness check].
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    #[command(flatten)]
    options: ProbeOptions,
}

/// What every health probe takes besides the address and the service name (this subcommand and
/// `chatmesh health`).
#[derive(Debug, clap::Args)]
pub struct ProbeOptions {
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

impl ProbeOptions {
    /// Asks `addr` about `service` as these options say and [`report`]s it as `program`; TLS
    /// files that cannot be used are a configuration error (exit 2).
    pub async fn run(&self, program: &str, addr: &str, service: &str) -> ExitCode {
        let tls = match client_tls(&self.tls, self.tls_server_name.as_deref()) {
            Ok(tls) => tls,
            Err(e) => {
                eprintln!("{program}: {e}");
                return ExitCode::from(crate::cli::EXIT_CONFIG);
            }
        };
        report(program, addr, service, self.timeout, tls, self.quiet).await
    }
}

/// When the first argument is `health`, runs the probe for `info`'s service and returns its exit
/// code; otherwise returns `None` and the binary starts the server as usual.
pub fn health_subcommand(info: &ServiceInfo) -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let _program = args.next();
    let first = args.next()?;
    if first != SUBCOMMAND {
        return None;
    }
    let program = format!("{} {SUBCOMMAND}", info.binary());
    Some(run_service_probe(info, &program, args))
}

fn run_service_probe(
    info: &ServiceInfo,
    program: &str,
    args: impl Iterator<Item = OsString>,
) -> ExitCode {
    let mut command = ServiceProbeArgs::command()
        .name(program.to_owned())
        .bin_name(program.to_owned());
    let parsed = command
        .try_get_matches_from_mut(std::iter::once(OsString::from(program)).chain(args))
        .and_then(|mut m| ServiceProbeArgs::from_arg_matches_mut(&mut m));
    let args = match parsed {
        Ok(args) => args,
        Err(err) => return crate::cli::report_parse_error(program, &err, &command),
    };
    let addr = match args.addr {
        Some(addr) => addr,
        None => match default_addr(info, std::env::var("CHATMESH_LISTEN").ok().as_deref()) {
            Ok(addr) => addr.to_string(),
            Err(reason) => {
                eprintln!("{program}: {reason}");
                return ExitCode::from(crate::cli::EXIT_CONFIG);
            }
        },
    };
    let service = args.service.unwrap_or_else(|| info.fqn.to_owned());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{program}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(args.options.run(program, &addr, &service))
}

/// The probe's mTLS settings from its flags: none when the files are not given.
pub fn client_tls(
    files: &TlsFileArgs,
    server_name: Option<&str>,
) -> Result<Option<ClientTls>, String> {
    // A probe makes one connection: the files never need reading again.
    let tls = files.client(Duration::MAX).map_err(|e| e.to_string())?;
    match (tls, server_name) {
        (Some(tls), Some(name)) => tls
            .expecting(name)
            .map(Some)
            .map_err(|e| format!("invalid value for --tls-server-name: {e}")),
        (tls, _) => Ok(tls),
    }
}

/// Where this service listens, as seen from inside its own host or container: the `listen`
/// setting (when given) with an unspecified IP replaced by loopback.
fn default_addr(info: &ServiceInfo, listen: Option<&str>) -> Result<SocketAddr, String> {
    let mut addr = match listen.map(str::trim).filter(|l| !l.is_empty()) {
        Some(listen) => listen
            .parse::<SocketAddr>()
            .map_err(|e| format!("invalid value '{listen}' in CHATMESH_LISTEN: {e}"))?,
        None => SocketAddr::from((Ipv4Addr::LOCALHOST, info.default_port)),
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Ok(addr)
}

/// Asks `addr` about `service` within `timeout` (over mTLS when `tls` is set), prints one line
/// (unless `quiet`) and returns the exit code: 0 for SERVING, 1 otherwise.
pub async fn report(
    program: &str,
    addr: &str,
    service: &str,
    timeout: Duration,
    tls: Option<ClientTls>,
    quiet: bool,
) -> ExitCode {
    let outcome = tokio::time::timeout(timeout, check_with(addr, service, timeout, tls))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")));
    let shown = if service.is_empty() {
        "(server)"
    } else {
        service
    };
    match outcome {
        Ok(ServingStatus::Serving) => {
            if !quiet {
                println!("{addr} {shown}: SERVING");
            }
            ExitCode::SUCCESS
        }
        Ok(status) => {
            if !quiet {
                println!("{addr} {shown}: {}", status.as_str_name());
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            if !quiet {
                eprintln!("{program}: {addr} {shown}: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Asks `addr` for the health of `service` (`""` for the whole server).
pub async fn check(addr: &str, service: &str, timeout: Duration) -> Result<ServingStatus, String> {
    check_with(addr, service, timeout, None).await
}

/// [`check`], over mTLS when `tls` is set.
pub async fn check_with(
    addr: &str,
    service: &str,
    timeout: Duration,
    tls: Option<ClientTls>,
) -> Result<ServingStatus, String> {
    let client_args = ClientArgs {
        connect_timeout: timeout,
        tls,
        ..ClientArgs::default()
    };
    let channel = connect(addr, &client_args)
        .await
        .map_err(|e| e.to_string())?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
    Ok(response.into_inner().status())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: ServiceInfo = ServiceInfo {
        name: "probe",
        fqn: "chatmesh.test.v1.ProbeService",
        default_port: 50099,
        file_descriptor_set: &[],
    };

    #[test]
    fn default_address_is_loopback_on_the_listen_port() {
        assert_eq!(
            default_addr(&INFO, None).unwrap(),
            "127.0.0.1:50099".parse().unwrap()
        );
        assert_eq!(
            default_addr(&INFO, Some("0.0.0.0:6000")).unwrap(),
            "127.0.0.1:6000".parse().unwrap()
        );
        assert_eq!(
            default_addr(&INFO, Some("[::]:6001")).unwrap(),
            "[::1]:6001".parse().unwrap()
        );
        assert_eq!(
            default_addr(&INFO, Some("10.1.2.3:6002")).unwrap(),
            "10.1.2.3:6002".parse().unwrap()
        );
    }

    #[test]
    fn a_bad_listen_setting_is_named() {
        let err = default_addr(&INFO, Some("nowhere")).unwrap_err();
        assert!(err.contains("CHATMESH_LISTEN"), "{err}");
    }

    #[test]
    fn bad_flags_are_a_configuration_error() {
        let exit = run_service_probe(&INFO, "probe health", ["--bogus".into()].into_iter());
        assert_eq!(exit, ExitCode::from(crate::cli::EXIT_CONFIG));
    }

    /// Runs a real server on loopback (health NOT_SERVING until told) on its own runtime, so the
    /// probe can build its runtime on this thread as the binary does.
    fn start_server() -> (tokio::runtime::Runtime, SocketAddr, crate::Health) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (addr, health) = runtime.block_on(async {
            let server = crate::GrpcServer::new(&INFO, &crate::ServerArgs::for_tests())
                .await
                .unwrap();
            let health = server.health();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(server.serve(listener, crate::CancellationToken::new()));
            (addr, health)
        });
        (runtime, addr, health)
    }

    fn probe(addr: SocketAddr, service: Option<&str>) -> ExitCode {
        let mut args: Vec<OsString> =
            vec!["--quiet".into(), "--addr".into(), addr.to_string().into()];
        if let Some(service) = service {
            args.extend(["--service".into(), service.into()]);
        }
        run_service_probe(&INFO, "probe health", args.into_iter())
    }

    #[test]
    fn exit_code_follows_the_served_status() {
        let (runtime, addr, health) = start_server();
        assert_eq!(
            probe(addr, None),
            ExitCode::FAILURE,
            "starting: NOT_SERVING"
        );
        runtime.block_on(health.set_serving());
        assert_eq!(probe(addr, None), ExitCode::SUCCESS);
        assert_eq!(probe(addr, Some("")), ExitCode::SUCCESS);
        assert_eq!(
            probe(addr, Some("chatmesh.test.v1.Unknown")),
            ExitCode::FAILURE,
            "an unknown name answers NOT_FOUND"
        );
        // Readiness alone: the service's name turns NOT_SERVING while the server stays SERVING.
        runtime.block_on(health.set_ready(false));
        assert_eq!(probe(addr, None), ExitCode::FAILURE);
        assert_eq!(probe(addr, Some("")), ExitCode::SUCCESS);
    }

    #[tokio::test]
    async fn nothing_listening_is_exit_one() {
        // Bind then drop: the port is very likely closed while the probe runs.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let exit = report(
            "probe",
            &format!("127.0.0.1:{port}"),
            "",
            Duration::from_secs(2),
            None,
            true,
        )
        .await;
        assert_eq!(exit, ExitCode::FAILURE);
    }
}
