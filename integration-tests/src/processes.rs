//! The real service binaries as separate processes on loopback, for tests that cross process
//! boundaries the way a deployment does. Each process listens on `127.0.0.1:0` and logs JSON;
//! its address is read from the "serving" line it logs, so there is no port race. Processes are
//! killed when their handle is dropped, and their logs are kept in the test's data directory.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The folder holding the workspace's binaries (`target/debug` for `cargo test`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/debug/deps/<test> → target/debug
    let deps = exe.parent().expect("deps folder");
    deps.parent().unwrap_or(deps).to_path_buf()
}

/// The path of a workspace binary, with a clear failure when it has not been built.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build the workspace's binaries first (`cargo build --workspace --bins`, \
         which `cargo test --workspace` does before running tests)",
        path.display()
    );
    path
}

/// A running service process.
pub struct Process {
    /// The binary's name, e.g. `chatmesh-graph`.
    pub name: String,
    /// Where it serves.
    pub addr: SocketAddr,
    child: Child,
}

impl Process {
    /// Starts `binary` with `args` (plus `--listen 127.0.0.1:0 --log-format json`), logging to
    /// `<log_dir>/<binary>.log`, and waits until it logs its address (at most `limit`).
    pub fn start(binary_name: &str, args: &[&str], log_dir: &Path, limit: Duration) -> Self {
        let path = binary(binary_name);
        let mut child = Command::new(&path)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--log",
                "info",
            ])
            .args(args)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let log_path = log_dir.join(format!("{binary_name}.log"));
        let (tx, rx) = mpsc::channel();
        // Copy the log to a file and report the listen address once it appears.
        std::thread::spawn(move || {
            let mut log = std::fs::File::create(&log_path).ok();
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(log) = log.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(log, "{line}");
                }
                if let Some(addr) = serving_addr(&line)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = match rx.recv_timeout(limit) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "{binary_name} did not report its address within {limit:?} (exit: {status:?}); \
                     see {}",
                    log_dir.join(format!("{binary_name}.log")).display()
                );
            }
        };
        Self {
            name: binary_name.to_owned(),
            addr,
            child,
        }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the process (SIGKILL: a crash, not a drain) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address in a JSON log line of the runtime's "serving …" event.
fn serving_addr(line: &str) -> Option<SocketAddr> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let message = value.get("message")?.as_str()?;
    if !message.starts_with("serving ") {
        return None;
    }
    value.get("addr")?.as_str()?.parse().ok()
}

/// The five services as separate processes: the backends with `--seed-demo`, the router in
/// front of them, the chatbot in front of the router.
pub struct Mesh {
    /// chatmesh-graph.
    pub graph: Process,
    /// chatmesh-vector.
    pub vector: Process,
    /// chatmesh-relational.
    pub relational: Process,
    /// chatmesh-router.
    pub router: Process,
    /// chatmesh-chatbot.
    pub chatbot: Process,
}

impl Mesh {
    /// Starts all five with data under `data` and waits until each is SERVING.
    pub async fn start(data: &Path, extra_router_args: &[&str]) -> Self {
        let limit = Duration::from_secs(30);
        let dir = |name: &str| {
            let d = data.join(name);
            std::fs::create_dir_all(&d).expect("data folder");
            d.display().to_string()
        };
        let graph_dir = dir("graph");
        let vector_dir = dir("vector");
        let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
        let graph = Process::start(
            "chatmesh-graph",
            &["--data-dir", &graph_dir, "--seed-demo"],
            data,
            limit,
        );
        let vector = Process::start(
            "chatmesh-vector",
            &["--data-dir", &vector_dir, "--seed-demo"],
            data,
            limit,
        );
        let relational = Process::start(
            "chatmesh-relational",
            &["--database-url", &sqlite, "--seed-demo"],
            data,
            limit,
        );
        let (g, v, r) = (graph.url(), vector.url(), relational.url());
        let mut router_args = vec![
            "--graph-addr",
            g.as_str(),
            "--vector-addr",
            v.as_str(),
            "--relational-addr",
            r.as_str(),
        ];
        router_args.extend_from_slice(extra_router_args);
        let router = Process::start("chatmesh-router", &router_args, data, limit);
        let router_url = router.url();
        let chatbot = Process::start(
            "chatmesh-chatbot",
            &["--router-addr", &router_url],
            data,
            limit,
        );
        let mesh = Self {
            graph,
            vector,
            relational,
            router,
            chatbot,
        };
        for (process, fqn) in [
            (&mesh.graph, chatmesh_graph::INFO.fqn),
            (&mesh.vector, chatmesh_vector::INFO.fqn),
            (&mesh.relational, chatmesh_relational::INFO.fqn),
            (&mesh.router, chatmesh_router::INFO.fqn),
            (&mesh.chatbot, chatmesh_chatbot::INFO.fqn),
        ] {
            crate::wait_serving(process.addr, fqn, limit).await;
        }
        mesh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serving_line_gives_the_address() {
        let line = r#"{"timestamp":"t","level":"INFO","message":"serving chatmesh.graph.v1.GraphService","service":"graph","addr":"127.0.0.1:40123","target":"chatmesh_runtime::server"}"#;
        assert_eq!(serving_addr(line), Some("127.0.0.1:40123".parse().unwrap()));
        assert_eq!(serving_addr(r#"{"message":"stopped"}"#), None);
        assert_eq!(serving_addr("not json"), None);
    }
}
