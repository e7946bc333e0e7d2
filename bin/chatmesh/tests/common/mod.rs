//! Shared by the `chatmesh` command's tests: a `chatmesh up` mesh started as a child process on
//! free loopback ports (stopped with SIGINT, as a user's Ctrl-C, so it exits through its own
//! shutdown path), the command itself, and a small benchmark workload file.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chatmesh_test_support::ports::free_port_run;
use chatmesh_test_support::process::{Signal, signal};

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
pub(crate) fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh"))
}

/// `chatmesh up` running in a child process with its data in a temporary directory.
pub(crate) struct Up {
    child: Child,
    stdout: BufReader<ChildStdout>,
    banner: String,
    base: u16,
    data: tempfile::TempDir,
}

impl Up {
    /// Starts the mesh with `env` set for it and waits for its "up" banner.
    pub(crate) fn start(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let base = free_port_run(5);
        let mut child = Command::new(bin())
            .args(["up", "--base-port", &base.to_string(), "--log", "warn"])
            .arg("--data-dir")
            .arg(data.path())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        let started = Instant::now();
        while !banner.contains("grpc.health.v1.Health/Check") {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "chatmesh up exited early: {banner}"
            );
            banner.push_str(&line);
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "no banner: {banner}"
            );
        }
        Self {
            child,
            stdout,
            banner,
            base,
            data,
        }
    }

    /// What `chatmesh up` printed up to and including its "up" banner.
    pub(crate) fn banner(&self) -> &str {
        &self.banner
    }

    /// The data directory the mesh was given.
    pub(crate) fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// `127.0.0.1:<port>` of service `index` in flow order (0 chatbot … 4 relational).
    fn addr(&self, index: u16) -> String {
        format!("127.0.0.1:{}", self.base + index)
    }

    pub(crate) fn chatbot(&self) -> String {
        self.addr(0)
    }

    pub(crate) fn router(&self) -> String {
        self.addr(1)
    }

    pub(crate) fn graph(&self) -> String {
        self.addr(2)
    }

    pub(crate) fn vector(&self) -> String {
        self.addr(3)
    }

    pub(crate) fn relational(&self) -> String {
        self.addr(4)
    }

    /// Ctrl-C, then the exit code and the rest of standard output.
    pub(crate) fn stop(mut self) -> (Option<i32>, String) {
        signal(&self.child, Signal::Int);
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (status.code(), rest)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        // A failed assertion must not leave the mesh running.
        if matches!(self.child.try_wait(), Ok(None)) {
            signal(&self.child, Signal::Int);
            let _ = self.child.wait();
        }
    }
}

/// `POST path` with a JSON `body` over plain HTTP/1.1 (no keep-alive); the whole response.
pub(crate) fn post_json(addr: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Runs `chatmesh <args>` to completion.
pub(crate) fn chatmesh(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// Standard output and error as text.
pub(crate) fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A benchmark workload in the shape of `../shared/bench/workload.json`, small enough for a
/// test: a team with a manager and three reports, `orders` orders with ids 1..=orders, and
/// four FAQ texts.
pub(crate) fn workload(orders: i64) -> serde_json::Value {
    let statuses = [
        "pending",
        "paid",
        "shipped",
        "delivered",
        "cancelled",
        "refunded",
    ];
    let orders: Vec<serde_json::Value> = (1..=orders)
        .map(|id| {
            serde_json::json!({
                "id": id,
                "customer": format!("cust-{:04}", id % 7),
                "product": "widget-pro",
                "quantity": 1 + id % 3,
                "status": statuses[(id % 6) as usize],
                "total_cents": 1000 * id,
                "created_at": "2025-04-10T13:54:32+00:00",
            })
        })
        .collect();
    serde_json::json!({
        "meta": { "seed": 1 },
        "graph": {
            "nodes": [
                { "name": "team-quokka", "label": "Team", "props": {} },
                { "name": "Quinn Abara", "label": "Person",
                  "props": { "title": "Director", "level": 3, "remote": true, "score": 0.5, "tags": ["a"] } },
                { "name": "Rhea Bosch", "label": "Person", "props": { "title": "Engineer" } },
                { "name": "Sami Chen", "label": "Person", "props": {} },
                { "name": "Tove Dahl", "label": "Person" }
            ],
            "edges": [
                { "src": "Quinn Abara", "dst": "Rhea Bosch", "type": "MANAGES" },
                { "src": "Quinn Abara", "dst": "Sami Chen", "type": "MANAGES" },
                { "src": "Quinn Abara", "dst": "Tove Dahl", "type": "MANAGES" },
                { "src": "Rhea Bosch", "dst": "team-quokka", "type": "MEMBER_OF" },
                { "src": "Sami Chen", "dst": "team-quokka", "type": "MEMBER_OF" }
            ]
        },
        "vector": {
            "items": [
                { "id": "faq-0000", "text": "How do I reset my password after a failed login? Use the link on the sign-in page." },
                { "id": "faq-0001", "text": "How do I export my invoices as PDF? Open billing and choose export." },
                { "id": "faq-0002", "text": "How do I invite a teammate to my workspace? Admins can send invitations." },
                { "id": "faq-0003", "text": "How do I delete my account permanently? Contact support to confirm." },
                { "id": "faq-0004", "text": "How do I change the language of the app? Pick one under settings." },
                { "id": "faq-0005", "text": "How do I enable two-factor authentication? Scan the code with an app." }
            ]
        },
        "relational": { "orders": orders }
    })
}

/// Writes `value` as JSON to `dir/name` and returns its path.
pub(crate) fn write_json(dir: &Path, name: &str, value: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}
