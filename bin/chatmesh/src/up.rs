//! `chatmesh up`: the whole mesh in one process, on embedded stores, for a laptop or a demo.
//! Each service gets its own port (chatbot, router, graph, vector, relational from
//! `--base-port` up) exactly as it would in separate processes; one Ctrl-C stops them all.
//! With `--tls-dir` (what `chatmesh certs` wrote) every service serves and calls over mutual
//! TLS with its own certificate from that directory, and then each data service and the router
//! check who calls them by the certificate's name (see `docs/security.md`).
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set the process exports spans (set up in `main`) as
//! `chatmesh`, each hop's server span naming its service in the `service.name` attribute.
//!
//! Free-form Cypher (`hints.cypher`, the `graph_query` MCP tool) is off by default in the
//! service binaries (#18.3); `chatmesh up` is a laptop's or a demo's mesh, so it keeps it open
//! to every caller, as before, unless `CHATMESH_CYPHER_HINT_PRINCIPALS` names who may send it.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chatmesh_runtime::config::{LogFormat, ServiceInfo};
use chatmesh_runtime::{CancellationToken, ServeError, ServiceConfig};
use tokio::net::TcpListener;
use tonic_health::pb::health_check_response::ServingStatus;

#[derive(Debug, clap::Args)]
pub(crate) struct UpArgs {
    /// Interface to listen on (127.0.0.1 keeps the mesh private to this machine).
    #[arg(
        long,
        env = "CHATMESH_UP_HOST",
        default_value = "127.0.0.1",
        value_name = "IP"
    )]
    host: IpAddr,
    /// Port of the chatbot; the router, graph, vector and relational services take the next four.
    #[arg(long, env = "CHATMESH_UP_BASE_PORT", default_value_t = 50051, value_name = "PORT",
          value_parser = clap::value_parser!(u16).range(1..=65531))]
    base_port: u16,
    /// Directory for the embedded stores (one sub-directory per service).
    #[arg(
        long,
        env = "CHATMESH_UP_DATA_DIR",
        default_value = "chatmesh-data",
        value_name = "PATH"
    )]
    data_dir: PathBuf,
    /// Log format.
    #[arg(long, env = "CHATMESH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub(crate) log_format: LogFormat,
    /// Log filter, in `tracing` env-filter syntax.
    #[arg(
        long = "log",
        env = "CHATMESH_LOG",
        default_value = "info",
        value_name = "FILTER"
    )]
    pub(crate) log_filter: String,
    /// Serve and call over mTLS with the certificates `chatmesh certs --out DIR` wrote
    /// (`ca.pem`, `<service>.pem`, `<service>.key`): each service uses its own.
    #[arg(long, env = "CHATMESH_UP_TLS_DIR", value_name = "DIR")]
    tls_dir: Option<PathBuf>,
}

impl UpArgs {
    /// Service `name`'s TLS files in `--tls-dir`, when given.
    fn tls_files(&self, name: &str) -> Option<chatmesh_runtime::tls::TlsFileArgs> {
        self.tls_dir.as_ref().map(|dir| {
            chatmesh_runtime::tls::TlsFileArgs::new(
                dir.join("ca.pem"),
                dir.join(format!("{name}.pem")),
                dir.join(format!("{name}.key")),
            )
        })
    }
}

/// The five services in flow order, with their offset from `--base-port`.
const SERVICES: [ServiceInfo; 5] = [
    chatmesh_chatbot::INFO,
    chatmesh_router::INFO,
    chatmesh_graph::INFO,
    chatmesh_vector::INFO,
    chatmesh_relational::INFO,
];

pub(crate) async fn run(args: UpArgs) -> ExitCode {
    let shutdown = chatmesh_runtime::shutdown::on_signal();
    let addrs: Vec<SocketAddr> = (0..SERVICES.len() as u16)
        .map(|i| SocketAddr::new(args.host, args.base_port + i))
        .collect();
    let configs = match Configs::new(&args, &addrs) {
        Ok(configs) => configs,
        Err(exit) => return exit,
    };
    let mut listeners = Vec::new();
    for addr in &addrs {
        match chatmesh_runtime::bind(*addr).await {
            Ok(listener) => listeners.push(listener),
            Err(e) => {
                eprintln!("chatmesh up: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut tasks = configs.spawn(listeners, &shutdown);

    let probe_tls = args
        .tls_files("chatbot")
        .map(|files| files.client(Duration::from_secs(10)))
        .transpose()
        .map(Option::flatten);
    let tls = match probe_tls {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("chatmesh up: {e}");
            return ExitCode::from(chatmesh_runtime::cli::EXIT_CONFIG);
        }
    };
    let all_serving = wait_until_serving(&addrs, tls, Duration::from_secs(60));
    tokio::select! {
        ready = all_serving => match ready {
            Ok(()) => print_endpoints(&args, &addrs),
            Err(e) => {
                eprintln!("chatmesh up: {e}");
                shutdown.cancel();
            }
        },
        () = shutdown.cancelled() => {}
    }

    let mut failed = false;
    while let Some(result) = tasks.join_next().await {
        let (name, outcome) =
            result.unwrap_or(("a service", Err(ServeError::Startup("panicked".into()))));
        if let Err(e) = outcome {
            eprintln!("chatmesh up: {name} stopped: {e}");
            failed = true;
            shutdown.cancel();
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        println!("chatmesh: all services stopped");
        ExitCode::SUCCESS
    }
}

/// Each service's configuration, parsed through the same path as its own binary.
struct Configs {
    chatbot: chatmesh_chatbot::Config,
    router: chatmesh_router::Config,
    graph: chatmesh_graph::Config,
    vector: chatmesh_vector::Config,
    relational: chatmesh_relational::Config,
}

impl Configs {
    fn new(args: &UpArgs, addrs: &[SocketAddr]) -> Result<Self, ExitCode> {
        let url = |addr: &SocketAddr| format!("http://{}", connectable(*addr));
        let data = |name: &str| args.data_dir.join(name).display().to_string();
        let sqlite = format!(
            "sqlite://{}",
            Path::new(&data("relational")).join("chatmesh.db").display()
        );
        let tls_flags = |index: usize| -> Vec<String> {
            match args.tls_files(SERVICES[index].name).and_then(|f| f.files()) {
                Some(files) => [
                    ("--tls-ca", files.ca),
                    ("--tls-cert", files.cert),
                    ("--tls-key", files.key),
                ]
                .into_iter()
                .flat_map(|(flag, path)| [flag.to_owned(), path.display().to_string()])
                .collect(),
                None => Vec::new(),
            }
        };
        let cypher: &[&str] = match std::env::var_os("CHATMESH_CYPHER_HINT_PRINCIPALS") {
            Some(_) => &[],
            None => &["--cypher-hint-principals", "*"],
        };
        let router_url = url(&addrs[1]);
        let chatbot_args = [&["--router-addr", router_url.as_str()][..], cypher].concat();
        let (graph, vector, relational) = (url(&addrs[2]), url(&addrs[3]), url(&addrs[4]));
        let router_args = [
            &[
                "--graph-addr",
                graph.as_str(),
                "--vector-addr",
                vector.as_str(),
                "--relational-addr",
                relational.as_str(),
            ][..],
            cypher,
        ]
        .concat();
        Ok(Self {
            chatbot: parse_with_tls(0, addrs, &tls_flags(0), &chatbot_args)?,
            router: parse_with_tls(1, addrs, &tls_flags(1), &router_args)?,
            graph: parse_with_tls(
                2,
                addrs,
                &tls_flags(2),
                &["--data-dir", &data("graph"), "--seed-demo"],
            )?,
            vector: parse_with_tls(
                3,
                addrs,
                &tls_flags(3),
                &["--data-dir", &data("vector"), "--seed-demo"],
            )?,
            relational: parse_with_tls(
                4,
                addrs,
                &tls_flags(4),
                &["--database-url", &sqlite, "--seed-demo"],
            )?,
        })
    }

    fn spawn(
        self,
        listeners: Vec<TcpListener>,
        shutdown: &CancellationToken,
    ) -> tokio::task::JoinSet<(&'static str, Result<(), ServeError>)> {
        let mut listeners = listeners.into_iter();
        let mut tasks = tokio::task::JoinSet::new();
        let mut next = || (listeners.next().expect("five listeners"), shutdown.clone());
        let (l, s) = next();
        tasks.spawn(async move {
            (
                "chatbot",
                chatmesh_chatbot::serve_on(self.chatbot, l, s).await,
            )
        });
        let (l, s) = next();
        tasks.spawn(async move { ("router", chatmesh_router::serve_on(self.router, l, s).await) });
        let (l, s) = next();
        tasks.spawn(async move { ("graph", chatmesh_graph::serve_on(self.graph, l, s).await) });
        let (l, s) = next();
        tasks.spawn(async move { ("vector", chatmesh_vector::serve_on(self.vector, l, s).await) });
        let (l, s) = next();
        tasks.spawn(async move {
            (
                "relational",
                chatmesh_relational::serve_on(self.relational, l, s).await,
            )
        });
        tasks
    }
}

/// Parses service `index`'s config from `--listen` plus `extra` and `tls` (the `--tls-*` flags),
/// exactly as its binary would.
fn parse_with_tls<C: ServiceConfig>(
    index: usize,
    addrs: &[SocketAddr],
    tls: &[String],
    extra: &[&str],
) -> Result<C, ExitCode> {
    let info = &SERVICES[index];
    let listen = addrs[index].to_string();
    let binary = info.binary();
    let args = [binary.as_str(), "--listen", &listen]
        .into_iter()
        .chain(extra.iter().copied())
        .chain(tls.iter().map(String::as_str));
    chatmesh_runtime::cli::parse_config::<C, _, _>(info, args)
}

/// Where a client reaches a listener: a wildcard bind is reached on loopback.
fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        }
        ip if ip.is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    }
}

/// Polls every service over the network, as a user would, until all report SERVING.
async fn wait_until_serving(
    addrs: &[SocketAddr],
    tls: Option<chatmesh_runtime::tls::ClientTls>,
    limit: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + limit;
    for (info, addr) in SERVICES.iter().zip(addrs) {
        let target = connectable(*addr).to_string();
        loop {
            let status = chatmesh_runtime::probe::check_with(
                &target,
                info.fqn,
                Duration::from_secs(1),
                tls.clone(),
            )
            .await;
            if status == Ok(ServingStatus::Serving) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "{} at {target} is not SERVING after {limit:?}",
                    info.name
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

fn print_endpoints(args: &UpArgs, addrs: &[SocketAddr]) {
    println!(
        "chatmesh is up: 5 services, embedded stores in {}/ (Ctrl-C stops them)",
        args.data_dir.display()
    );
    let transport = match args.tls_files("chatbot").and_then(|f| f.files()) {
        Some(files) => format!(
            "-cacert {} -cert {} -key {}",
            files.ca.display(),
            files.cert.display(),
            files.key.display()
        ),
        None => "-plaintext".to_owned(),
    };
    for (info, addr) in SERVICES.iter().zip(addrs) {
        let target = connectable(*addr);
        println!(
            "  {:<11} {target:<16} grpcurl {transport} {target} describe {}",
            info.name, info.fqn
        );
    }
    let scheme = if transport == "-plaintext" {
        "http"
    } else {
        "https"
    };
    let (chatbot, router) = (connectable(addrs[0]), connectable(addrs[1]));
    println!(
        "  web page:   {scheme}://{chatbot}/   (HTTP API: POST /v1/chat, described at /openapi.json)"
    );
    println!("  MCP:        {scheme}://{router}/mcp   (Streamable HTTP, for agents)");
    println!(
        "  metrics:    {scheme}://HOST:PORT/metrics on each of the ports above (Prometheus text)"
    );
    let graph = connectable(addrs[2]);
    println!(
        "  health:     grpcurl {transport} -d '{{\"service\":\"{}\"}}' {graph} grpc.health.v1.Health/Check",
        SERVICES[2].fqn
    );
}
