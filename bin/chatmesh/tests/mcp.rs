//! `chatmesh mcp` as a desktop agent starts it: JSON-RPC lines on stdin and stdout. It offers
//! the router's tools and its calls reach `chatmesh up`'s demo data; closing stdin ends it with
//! exit 0; a bad router address is a configuration error.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::{Up, bin, chatmesh, text};
use serde_json::{Value, json};

/// One MCP session with a `chatmesh mcp` child over its stdin and stdout.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Session {
    fn start(router: &str) -> Self {
        let mut child = Command::new(bin())
            .args(["mcp", "--router-addr", router, "--timeout", "20s"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a request and returns the response with its id.
    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let mut line = String::new();
        assert!(
            self.stdout.read_line(&mut line).unwrap() > 0,
            "mcp closed stdout"
        );
        let response: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(response["id"], id, "{response}");
        response
    }

    /// Closes stdin (the client's way to end the session) and returns the exit code.
    fn end(mut self) -> Option<i32> {
        drop(self.stdin.take());
        self.child.wait().unwrap().code()
    }
}

#[test]
fn mcp_over_stdio_lists_and_calls_the_routers_tools() {
    let up = Up::start(&[]);
    let mut session = Session::start(&up.router());

    let init = session.request(
        1,
        "initialize",
        json!({
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "clientInfo": { "name": "chatmesh-test", "version": "0" }
        }),
    );
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    session.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));

    let list = session.request(2, "tools/list", json!({}));
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for expected in ["graph_query", "get_order", "list_orders", "vector_search"] {
        assert!(names.contains(&expected), "{names:?}");
    }

    let call = session.request(
        3,
        "tools/call",
        json!({ "name": "get_order", "arguments": { "order_id": 100002 } }),
    );
    assert_eq!(call["result"]["isError"], false, "{call}");
    assert_eq!(
        call["result"]["structuredContent"]["order"]["id"], "100002",
        "{call}"
    );

    // A bad argument is the tool's error, checked by the router.
    let refused = session.request(
        4,
        "tools/call",
        json!({ "name": "get_order", "arguments": { "order_id": 0 } }),
    );
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    let message = refused["result"]["content"][0]["text"].as_str();
    assert!(message.is_some_and(|t| t.contains("order_id")), "{refused}");

    assert_eq!(session.end(), Some(0));
    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");
}

#[test]
fn mcp_refuses_a_bad_router_address() {
    let output = chatmesh(&["mcp", "--router-addr", "http://[::1"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("chatmesh mcp: --router-addr: "),
        "{stderr}"
    );
}
