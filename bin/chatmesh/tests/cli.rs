//! The `chatmesh` command as a user runs it: `up` serves all five services and stops cleanly
//! on Ctrl-C (SIGINT), and keeps free-form Cypher hints open as before #18.3 (the service
//! binaries turn them off by default); `health` exits 0 only for SERVING.

mod common;

use chatmesh_test_support::ports::closed_port;
use common::{Up, chatmesh, text};

const SERVICES: [&str; 5] = [
    "chatmesh.chat.v1.ChatService",
    "chatmesh.router.v1.RouterService",
    "chatmesh.graph.v1.GraphService",
    "chatmesh.vector.v1.VectorService",
    "chatmesh.relational.v1.RelationalService",
];

fn health(addr: &str, service: &str) -> Option<i32> {
    chatmesh(&[
        "health",
        "--quiet",
        "--timeout",
        "2s",
        "--addr",
        addr,
        "--service",
        service,
    ])
    .status
    .code()
}

#[test]
fn up_serves_all_five_and_stops_cleanly_on_sigint() {
    let up = Up::start(&[]);
    let addrs = [
        up.chatbot(),
        up.router(),
        up.graph(),
        up.vector(),
        up.relational(),
    ];
    for (addr, fqn) in addrs.iter().zip(SERVICES) {
        assert!(
            up.banner().contains(&format!("{addr} describe {fqn}")),
            "{}",
            up.banner()
        );
        assert_eq!(health(addr, fqn), Some(0), "{fqn} at {addr}");
        assert_eq!(health(addr, ""), Some(0), "server health at {addr}");
        assert_eq!(
            health(addr, "chatmesh.nope.v1.Nope"),
            Some(1),
            "unknown service"
        );
    }
    for shown in [
        format!("web page:   http://{}/", addrs[0]),
        format!("MCP:        http://{}/mcp", addrs[1]),
        "/metrics on each of the ports above".to_owned(),
    ] {
        assert!(up.banner().contains(&shown), "{shown}: {}", up.banner());
    }
    for name in ["graph", "vector", "relational"] {
        assert!(up.data_dir().join(name).is_dir(), "{name} data dir created");
    }
    let answer = cypher_hint_over_http(&addrs[0]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("Grace Hopper manages Alan Turing."),
        "{answer}"
    );

    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "exit code after SIGINT");
    assert!(rest.contains("all services stopped"), "{rest}");
    assert_eq!(health(&addrs[0], ""), Some(1), "stopped");
}

#[test]
fn health_fails_when_nothing_listens() {
    let output = chatmesh(&[
        "health",
        "--timeout",
        "1s",
        "--addr",
        &format!("127.0.0.1:{}", closed_port()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("cannot connect"));
}

#[test]
fn up_refuses_a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let output = chatmesh(&[
        "up",
        "--base-port",
        &port.to_string(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let (_, stderr) = text(&output);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_are_one_line_and_exit_two() {
    for args in [
        vec!["health"],
        vec!["health", "--addr", "x", "--timeout", "later"],
        vec!["up", "--base-port", "70000"],
        vec!["frobnicate"],
    ] {
        let output = chatmesh(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let (_, stderr) = text(&output);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("chatmesh: "), "{stderr}");
    }
}

/// `POST /v1/chat` with a Cypher hint, over plain HTTP/1.1; the whole response.
fn cypher_hint_over_http(addr: &str) -> String {
    let body = r#"{"session_id":"up-cypher","message":"Who manages Alan Turing?","hints":{"target":"graph","cypher":"MATCH (m:Person)-[:MANAGES]->(p:Person {name: 'Alan Turing'}) RETURN m.name"}}"#;
    common::post_json(addr, "/v1/chat", body)
}
