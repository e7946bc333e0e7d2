//! The workspace's binaries as child processes on loopback, for tests that cross process
//! boundaries the way a deployment does. A [`Process`] listens on `127.0.0.1:0` (or an address
//! the test chose, to restart on the same one) and logs JSON; its address is read from the
//! "serving" line it logs, so there is no port race. Processes are killed when their handle is
//! dropped, and their logs are kept in the test's data directory. [`signal`] sends SIGKILL (a
//! crash), SIGTERM (an orchestrator's stop) or SIGINT (Ctrl-C) to any child.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The folder holding the workspace's binaries: `CHATMESH_BIN_DIR` when set (an absolute path,
/// since each test runs in its own package's folder; `scripts/test-release-binaries.sh` sets
/// it to `target/release`), else the folder of the running test (`target/debug` for `cargo
/// test`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CHATMESH_BIN_DIR") {
        return PathBuf::from(dir);
    }
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

/// A binary cargo built for the running test (pass `env!("CARGO_BIN_EXE_<name>")`), or the one
/// of the same name in [`bin_dir`] when `CHATMESH_BIN_DIR` is set: the one variable points the
/// tests that start binaries directly (start-up errors, crashes, the CLI) at another build too.
pub fn built(cargo_path: &str) -> String {
    if std::env::var_os("CHATMESH_BIN_DIR").is_none() {
        return cargo_path.to_owned();
    }
    let name = Path::new(cargo_path)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("a binary's file name");
    binary(name).to_string_lossy().into_owned()
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
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(binary_name, any_port, args, log_dir, limit)
    }

    /// [`Process::start`] listening on `listen` (e.g. the address of a process it replaces).
    pub fn start_on(
        binary_name: &str,
        listen: SocketAddr,
        args: &[&str],
        log_dir: &Path,
        limit: Duration,
    ) -> Self {
        let path = binary(binary_name);
        let mut child = Command::new(&path)
            .args(["--listen", &listen.to_string()])
            .args(["--log-format", "json", "--log", "info"])
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

    /// Asks the process to stop (SIGTERM, as an orchestrator does) and returns its exit code once
    /// it has (`None` when a signal ended it).
    pub fn terminate(&mut self) -> Option<i32> {
        signal(&self.child, Signal::Term);
        self.child.wait().expect("wait for the process").code()
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Its memory and CPU time so far (see [`crate::usage`]).
    pub fn usage(&self) -> crate::usage::Usage {
        crate::usage::usage(self.child.id())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A signal for a child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL: a crash; nothing runs after it.
    Kill,
    /// SIGTERM: how an orchestrator stops a process; chatmesh binaries drain and exit 0.
    Term,
    /// SIGINT: Ctrl-C; the same drain as SIGTERM.
    Int,
}

/// Sends `signal` to `child` (with the `kill` command, so no unsafe code), failing the test when
/// it cannot be sent. Does not wait for the child.
pub fn signal(child: &Child, signal: Signal) {
    let name = match signal {
        Signal::Kill => "-KILL",
        Signal::Term => "-TERM",
        Signal::Int => "-INT",
    };
    let sent = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill {name} {} failed", child.id());
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
