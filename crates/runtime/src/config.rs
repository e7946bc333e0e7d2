//! The settings every service shares, composed: [`ServerArgs`] gathers the flags each concern
//! owns (TLS in `crate::tls`, load shedding in `crate::edge::shed`, the caller check in
//! `crate::edge::callers`, the log format in `crate::telemetry`) with the server's own, [`EdgeArgs`] gathers authentication, rate
//! limits and cross-origin calls, and [`DataDirArgs`] is where a service keeps data. Read from CLI flags and
//! `CHATMESH_*` environment variables.
//!
//! This module sits above the concerns it composes and below the server and the CLI: the
//! concerns build on `crate::setting` alone, never on this module. A service's own `Config`
//! flattens [`ServerArgs`] (and [`DataDirArgs`] when it keeps data) and implements
//! [`ServiceConfig`]; `crate::cli` turns a bad value into one line and exit 2.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

pub use crate::edge::auth::AuthArgs;
pub use crate::edge::callers::{CallerArgs, CallerRules};
pub use crate::edge::cors::{CorsArgs, Origin};
pub use crate::edge::rate_limit::RateLimitArgs;
pub use crate::edge::shed::LimitArgs;
pub use crate::setting::{ConfigError, parse_duration};
pub use crate::telemetry::LogFormat;
pub use crate::tls::TlsArgs;

/// Static facts about one service: who it is, what its contract is and where it listens by
/// default.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Short name, also the suffix of the binary (`chatmesh-<name>`) and of default data dirs.
    pub name: &'static str,
    /// Fully qualified gRPC service name, reported by health and listed by reflection.
    pub fqn: &'static str,
    /// Port of the default listen address.
    pub default_port: u16,
    /// The encoded `google.protobuf.FileDescriptorSet` describing [`Self::fqn`], which server
    /// reflection serves (`chatmesh_proto::FILE_DESCRIPTOR_SET` for the chatmesh services;
    /// empty for a service reflection need not describe).
    pub file_descriptor_set: &'static [u8],
}

impl std::fmt::Debug for ServiceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceInfo")
            .field("name", &self.name)
            .field("fqn", &self.fqn)
            .field("default_port", &self.default_port)
            .field("file_descriptor_set", &self.file_descriptor_set.len())
            .finish()
    }
}

impl ServiceInfo {
    /// `chatmesh-<name>`, the binary and the program name in messages.
    pub fn binary(&self) -> String {
        format!("chatmesh-{}", self.name)
    }
}

/// Settings of the gRPC server every service runs.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address to listen on [default: 0.0.0.0:<the service's port>]. Port 0 picks a free port.
    #[arg(long, env = "CHATMESH_LISTEN", value_name = "ADDR", value_parser = parse_listen_addr)]
    pub listen: Option<SocketAddr>,

    /// Log format.
    #[arg(long, env = "CHATMESH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` env-filter syntax (e.g. `info`, `chatmesh_graph=debug,info`).
    #[arg(long = "log", env = "CHATMESH_LOG", value_name = "FILTER", default_value = "info",
          value_parser = crate::telemetry::parse_log_filter)]
    pub log_filter: String,

    /// Largest gRPC message accepted, in bytes; larger ones get RESOURCE_EXHAUSTED.
    #[arg(long, env = "CHATMESH_MAX_MESSAGE_BYTES", value_name = "BYTES",
          default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_message_bytes: u32,

    /// Interval of HTTP/2 keepalive pings the server sends on idle connections; `0s` (the
    /// default) sends none and leaves dead clients to TCP keepalive, which probes a connection
    /// after 60 s of silence. Like gRPC servers, whose default is two hours: hyper's pings cost
    /// the server about a tenth of its throughput on small calls (docs/benchmarks.md).
    #[arg(long, env = "CHATMESH_KEEPALIVE_INTERVAL", value_name = "DURATION",
          default_value = "0s", value_parser = parse_duration)]
    pub keepalive_interval: Duration,

    /// How long a keepalive ping may go unanswered before the connection is closed.
    #[arg(long, env = "CHATMESH_KEEPALIVE_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    pub keepalive_timeout: Duration,

    /// On shutdown, how long to keep accepting while health reports NOT_SERVING, so that load
    /// balancers and probes stop sending traffic before the listener closes.
    #[arg(long, env = "CHATMESH_DRAIN_DELAY", value_name = "DURATION",
          default_value = "0s", value_parser = parse_duration)]
    pub drain_delay: Duration,

    /// On shutdown, how long in-flight requests may take to finish before they are dropped.
    #[arg(long, env = "CHATMESH_SHUTDOWN_GRACE", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Threads that run requests [default: one per CPU this process may use]. When several
    /// chatmesh processes share a machine's cores, fewer each is faster (docs/benchmarks.md).
    #[arg(long, env = "CHATMESH_WORKER_THREADS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub worker_threads: Option<u16>,

    /// mTLS: off unless the CA, certificate and key are given.
    #[command(flatten)]
    pub tls: TlsArgs,

    /// Streams per connection, requests at once and waiting.
    #[command(flatten)]
    pub limits: LimitArgs,

    /// Who may call the service's own API (see [`crate::GrpcServer::callers`]).
    #[command(flatten)]
    pub callers: CallerArgs,
}

impl ServerArgs {
    /// The listen address, with the service's default port when none was given.
    pub fn listen_addr(&self, info: &ServiceInfo) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], info.default_port)))
    }

    /// Settings for tests and embedded use: loopback, ephemeral port, quick shutdown.
    pub fn for_tests() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            log_format: LogFormat::Human,
            log_filter: "info".into(),
            max_message_bytes: 4 * 1024 * 1024,
            keepalive_interval: Duration::ZERO,
            keepalive_timeout: Duration::from_secs(10),
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(5),
            worker_threads: None,
            tls: TlsArgs::default(),
            limits: LimitArgs::default(),
            callers: CallerArgs::default(),
        }
    }
}

/// Settings of a service's public API (the paths it names with
/// [`crate::GrpcServer::edge`]): who may call it and how often.
#[derive(Debug, Clone, Default, Args)]
pub struct EdgeArgs {
    /// Bearer tokens.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Requests per client.
    #[command(flatten)]
    pub rate_limit: RateLimitArgs,
    /// Pages from other web origins.
    #[command(flatten)]
    pub cors: CorsArgs,
}

impl EdgeArgs {
    /// Reads the token and key files once, so that a bad one stops start-up with a
    /// configuration error (exit 2) rather than a serving error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::edge::auth::Authenticator::from_args(&self.auth).map(drop)
    }
}

/// Where a service that keeps data stores it.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// Directory for this service's data (created if missing; must be writable)
    /// [default: ./data/<service name>].
    #[arg(long, env = "CHATMESH_DATA_DIR", value_name = "PATH")]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArgs {
    /// The data directory, with the service's default when none was given.
    pub fn path(&self, info: &ServiceInfo) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| Path::new("data").join(info.name))
    }
}

/// A service's whole configuration, as parsed by clap.
pub trait ServiceConfig: clap::Parser + Send + 'static {
    /// The shared server settings.
    fn server(&self) -> &ServerArgs;

    /// Checks beyond parsing (file system, cross-field rules); runs once at start-up.
    fn validate(&mut self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Creates `path` if needed and proves it is a writable directory.
pub fn ensure_writable_dir(path: &Path, setting: &str) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError {
        setting: setting.to_owned(),
        value: path.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(path).map_err(|e| fail(e.to_string()))?;
    let probe = path.join(".chatmesh-write-probe");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("not writable: {e}")))?;
    std::fs::remove_file(&probe).map_err(|e| fail(format!("not writable: {e}")))?;
    Ok(())
}

/// Parses `HOST:PORT` (IPv6 in brackets), naming the bad part when it fails.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("expected HOST:PORT, e.g. 0.0.0.0:50053".into());
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("port '{port}' is not a number from 0 to 65535"));
    }
    Err(format!(
        "host '{host}' is not an IP address (use 0.0.0.0, 127.0.0.1 or [::])"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addr_errors_name_the_bad_part() {
        assert_eq!(parse_listen_addr("127.0.0.1:50053").unwrap().port(), 50053);
        assert!(parse_listen_addr("[::]:1").is_ok());
        assert!(
            parse_listen_addr("0.0.0.0:99999")
                .unwrap_err()
                .contains("port '99999'")
        );
        assert!(
            parse_listen_addr("localhost:80")
                .unwrap_err()
                .contains("host 'localhost'")
        );
        assert!(
            parse_listen_addr("50053")
                .unwrap_err()
                .contains("HOST:PORT")
        );
    }

    #[test]
    fn writable_dir_is_created_and_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure_writable_dir(&dir, "--data-dir").unwrap();
        assert!(dir.is_dir());

        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = ensure_writable_dir(&file.join("sub"), "--data-dir").unwrap_err();
        assert!(err.to_string().starts_with("invalid value"), "{err}");
        assert!(err.to_string().contains("--data-dir"), "{err}");
    }
}
