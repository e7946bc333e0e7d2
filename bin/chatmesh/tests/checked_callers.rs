//! The operator's tools against services that check their callers (#18.10): `chatmesh bench`
//! and `chatmesh mcp` send a peer token (`--service-token` / `CHATMESH_SERVICE_TOKEN`), so they
//! work where every hop checks who calls it, and without the token they are refused. The graph
//! and the router run in this process with a peer tokens file naming `admin`; the tools run as
//! the `chatmesh` binary, over loopback.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use chatmesh_test_support::serve::{Running, config, start};
use common::{bin, text};
use serde_json::{Value, json};

const ADMIN: &str = "admin-peer-token-41c7e2";

async fn checked_services(dir: &std::path::Path) -> (Running, Running) {
    let peers = dir.join("peers");
    std::fs::write(&peers, format!("admin {ADMIN}\n")).unwrap();
    let peers = peers.display().to_string();
    let data = dir.join("graph").display().to_string();
    let graph = start(
        config::<chatmesh_graph::Config>(
            &chatmesh_graph::INFO,
            &[
                "--data-dir",
                &data,
                "--seed-demo",
                "--peer-tokens-file",
                &peers,
            ],
        ),
        chatmesh_graph::serve_on,
    )
    .await;
    let graph_url = graph.url();
    let router = start(
        config::<chatmesh_router::Config>(
            &chatmesh_router::INFO,
            &["--graph-addr", &graph_url, "--peer-tokens-file", &peers],
        ),
        chatmesh_router::serve_on,
    )
    .await;
    for running in [&graph, &router] {
        let addr = running.addr.to_string();
        let serving = (0..200).any(|_| {
            let ok = Command::new(bin())
                .args(["health", "--addr", &addr, "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            ok
        });
        assert!(serving, "{addr} never served");
    }
    (graph, router)
}

/// `chatmesh bench graph-neighbors` with `env`; returns (exit code, stdout, stderr).
fn bench(graph: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(bin())
        .args([
            "bench",
            "--addr",
            graph,
            "--scenario",
            "graph-neighbors",
            "--requests",
            "20",
            "--warmup",
            "0s",
            "--concurrency",
            "2",
        ])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    (output.status.code(), stdout, stderr)
}

/// Sends one JSON-RPC request line and reads the answer line.
fn exchange(
    stdin: &mut std::process::ChildStdin,
    stdout: &mut BufReader<std::process::ChildStdout>,
    message: Value,
) -> Value {
    writeln!(stdin, "{message}").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    assert!(
        stdout.read_line(&mut line).unwrap() > 0,
        "mcp closed stdout"
    );
    serde_json::from_str(&line).unwrap()
}

/// `tools/list` through `chatmesh mcp` with `env`: the JSON-RPC answer.
fn mcp_tools_list(router: &str, env: &[(&str, &str)]) -> Value {
    let mut child = Command::new(bin())
        .args(["mcp", "--router-addr", router, "--timeout", "10s"])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let init = exchange(
        &mut stdin,
        &mut stdout,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-03-26", "capabilities": {},
            "clientInfo": {"name": "chatmesh-test", "version": "0"}}}),
    );
    assert!(init["result"].is_object(), "{init}");
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .unwrap();
    let listed = exchange(
        &mut stdin,
        &mut stdout,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    listed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_and_mcp_send_the_callers_token() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, router) = checked_services(dir.path()).await;
    let (graph_addr, router_addr) = (graph.addr.to_string(), router.url());

    let (g, r) = (graph_addr.clone(), router_addr.clone());
    let (refused, accepted, listed, unlisted) = tokio::task::spawn_blocking(move || {
        (
            bench(&g, &[]),
            bench(&g, &[("CHATMESH_SERVICE_TOKEN", ADMIN)]),
            mcp_tools_list(&r, &[("CHATMESH_SERVICE_TOKEN", ADMIN)]),
            mcp_tools_list(&r, &[]),
        )
    })
    .await
    .unwrap();

    // Without a token every call is refused, and bench says so.
    let (code, stdout, stderr) = refused;
    assert_ne!(code, Some(0), "{stdout}{stderr}");
    let said = format!("{stdout}{stderr}").to_lowercase();
    assert!(said.contains("authenticat"), "{stdout}{stderr}");
    // With the admin's token: every call OK.
    let (code, stdout, stderr) = accepted;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("failed 0"), "{stdout}");

    let tools = listed["result"]["tools"].as_array().expect("a tool list");
    assert!(
        tools.iter().any(|t| t["name"] == "graph_neighbors"),
        "{listed}"
    );
    let refusal = unlisted.to_string();
    assert!(
        unlisted["error"].is_object() && refusal.contains("UNAUTHENTICATED"),
        "{unlisted}"
    );

    graph.shutdown.cancel();
    router.shutdown.cancel();
}
