//! The streamable HTTP MCP endpoint over a real socket: `/mcp` served next to gRPC on one port
//! (as the router serves it), spoken to with plain HTTP/1.1 JSON-RPC the way an MCP client does
//! (initialize, the session header, `tools/list`, `tools/call`, `DELETE` answered 200 as the
//! Python SDK expects), plus the Host allow-list and the `Origin` check.

mod tools_support;

use std::net::SocketAddr;
use std::time::Duration;

use chatmesh_router::McpArgs;
use chatmesh_router::internals::ToolRegistry;
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs};
use clap::Parser;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tools_support::Fake;

const PROTOCOL_VERSION: &str = "2025-11-25";

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    mcp: McpArgs,
}

/// Serves the router's gRPC health and `/mcp` on one loopback port, as `serve_on` does.
async fn start(extra: &[&str]) -> (SocketAddr, CancellationToken) {
    let args = Args::parse_from(["router"].iter().chain(extra));
    let shutdown = CancellationToken::new();
    let registry = ToolRegistry::new(Fake::default().backends());
    let server = GrpcServer::new(&chatmesh_router::INFO, &args.server)
        .await
        .unwrap()
        .add_http(chatmesh_router::internals::mcp_router(
            registry,
            &args.mcp,
            shutdown.child_token(),
        ));
    server.health().set_serving().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, shutdown.clone()));
    (addr, shutdown)
}

/// One HTTP response: status, headers (names lower-cased) and, for an event stream, the
/// JSON-RPC messages of its `data:` lines (else the JSON body).
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    messages: Vec<Value>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC response to request `id`.
    fn response(&self, id: i64) -> &Value {
        self.messages
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("no response to request {id} in {self:?}"))
    }
}

/// Decodes as much of a chunked body as has arrived; true once the last chunk is in.
fn dechunk(mut raw: &[u8], out: &mut Vec<u8>) -> bool {
    loop {
        let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return false;
        };
        let size = std::str::from_utf8(&raw[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else { return false };
        if size == 0 {
            return true;
        }
        let start = line_end + 2;
        if raw.len() < start + size + 2 {
            return false;
        }
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

/// Parses what has arrived; `Some` once it holds a complete answer (a whole JSON body, or an
/// event stream that ended or carries a response).
fn parse(raw: &[u8]) -> Option<Reply> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let raw_body = &raw[head_end + 4..];
    let mut body = Vec::new();
    let complete = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(raw_body, &mut body)
    } else {
        body.extend_from_slice(raw_body);
        find("content-length")
            .and_then(|n| n.parse::<usize>().ok())
            .is_none_or(|n| body.len() >= n)
    };
    let text = String::from_utf8_lossy(&body);
    let event_stream = find("content-type").is_some_and(|v| v.starts_with("text/event-stream"));
    let messages: Vec<Value> = if event_stream {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    } else if complete {
        serde_json::from_str(&text).into_iter().collect()
    } else {
        Vec::new()
    };
    let answered = messages.iter().any(|m| m.get("id").is_some());
    (complete || answered).then_some(Reply {
        status,
        headers,
        messages,
    })
}

/// POSTs one JSON-RPC message to `/mcp` and reads until the answer is in.
async fn post(addr: SocketAddr, host: &str, session: Option<&str>, message: &Value) -> Reply {
    send(addr, "POST", host, None, session, Some(message)).await
}

/// Sends one request to `/mcp` (with an `Origin` header when given) and reads until the answer
/// is in.
async fn send(
    addr: SocketAddr,
    method: &str,
    host: &str,
    origin: Option<&str>,
    session: Option<&str>,
    message: Option<&Value>,
) -> Reply {
    let body = message.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    if let Some(origin) = origin {
        request.push_str(&format!("Origin: {origin}\r\n"));
    }
    if let Some(session) = session {
        request.push_str(&format!(
            "Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: {PROTOCOL_VERSION}\r\n"
        ));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 8192];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            raw.extend_from_slice(&buf[..n]);
            if let Some(reply) = parse(&raw) {
                return reply;
            }
            assert!(
                n > 0,
                "connection closed before an answer: {}",
                String::from_utf8_lossy(&raw)
            );
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the endpoint answers")
}

/// Initializes a session and returns its id.
async fn initialize(addr: SocketAddr) -> String {
    let reply = post(
        addr,
        "127.0.0.1",
        None,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp_http test", "version": "1"}}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let result = &reply.response(1)["result"];
    assert_eq!(result["serverInfo"]["name"], "chatmesh-router");
    assert!(result["capabilities"]["tools"].is_object(), "{result}");
    let session = reply
        .header("mcp-session-id")
        .expect("a session id")
        .to_owned();
    let ack = post(
        addr,
        "127.0.0.1",
        Some(&session),
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(ack.status, 202, "{ack:?}");
    session
}

#[tokio::test]
async fn mcp_over_http_shares_the_grpc_port() {
    let (addr, shutdown) = start(&[]).await;
    let session = initialize(addr).await;

    let reply = post(
        addr,
        "127.0.0.1",
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    )
    .await;
    let tools = reply.response(2)["result"]["tools"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    let registry = ToolRegistry::new(Fake::default().backends());
    let expected: Vec<String> = registry.tools().into_iter().map(|t| t.name).collect();
    assert_eq!(names, expected);
    assert_eq!(tools[0]["inputSchema"]["required"], json!(["order_id"]));

    let reply = post(
        addr,
        "127.0.0.1",
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "list_orders", "arguments": {"customer": "Ada Lovelace"}}}),
    )
    .await;
    let result = &reply.response(3)["result"];
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["orders"][0]["id"], "100001");

    let reply = post(
        addr,
        "127.0.0.1",
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                "params": {"name": "list_orders", "arguments": {"page_size": "ten"}}}),
    )
    .await;
    let result = &reply.response(4)["result"];
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("argument `page_size` must be an integer, not a string"),
        "{result}"
    );

    // gRPC keeps working on the same port.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);
    shutdown.cancel();
}

#[tokio::test]
async fn a_host_outside_the_allow_list_is_refused() {
    let (addr, shutdown) = start(&[]).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    let reply = post(addr, "attacker.example", None, &init).await;
    assert_eq!(reply.status, 403, "{reply:?}");
    shutdown.cancel();

    let (addr, shutdown) = start(&["--mcp-allowed-hosts", "router.chatmesh.svc,localhost"]).await;
    let reply = post(addr, "router.chatmesh.svc:50052", None, &init).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = post(addr, "127.0.0.1", None, &init).await;
    assert_eq!(reply.status, 403, "{reply:?}");
    shutdown.cancel();
}

#[tokio::test]
async fn deleting_a_session_answers_200_and_ends_it() {
    let (addr, shutdown) = start(&[]).await;
    let session = initialize(addr).await;
    let reply = send(addr, "DELETE", "127.0.0.1", None, Some(&session), None).await;
    // The Python SDK logs "Session termination failed" for anything but 200, 204 or 405.
    assert!(matches!(reply.status, 200 | 204), "{reply:?}");
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let reply = post(addr, "127.0.0.1", Some(&session), &list).await;
    assert_eq!(reply.status, 404, "the session is gone: {reply:?}");
    shutdown.cancel();
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_changes_nothing() {
    let (addr, shutdown) = start(&[]).await;
    let session = initialize(addr).await;
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    for origin in [
        "http://attacker.example",
        "https://localhost.attacker.example:443",
        "null",
    ] {
        let reply = send(
            addr,
            "POST",
            "127.0.0.1",
            Some(origin),
            Some(&session),
            Some(&list),
        )
        .await;
        assert_eq!(reply.status, 403, "{origin}: {reply:?}");
        let reply = send(
            addr,
            "DELETE",
            "127.0.0.1",
            Some(origin),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(reply.status, 403, "{origin}: {reply:?}");
    }
    // The refused DELETEs did not end the session.
    let reply = post(addr, "127.0.0.1", Some(&session), &list).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.response(2)["result"]["tools"].is_array(), "{reply:?}");

    // An origin on an allowed host, any scheme or port, is served.
    let port = addr.port();
    for origin in [
        format!("http://localhost:{port}"),
        "https://127.0.0.1".to_owned(),
        "http://[::1]:8080".to_owned(),
    ] {
        let reply = send(
            addr,
            "POST",
            "127.0.0.1",
            Some(&origin),
            Some(&session),
            Some(&list),
        )
        .await;
        assert_eq!(reply.status, 200, "{origin}: {reply:?}");
    }
    let origin = format!("http://localhost:{port}");
    let reply = send(
        addr,
        "DELETE",
        "127.0.0.1",
        Some(&origin),
        Some(&session),
        None,
    )
    .await;
    assert!(matches!(reply.status, 200 | 204), "{reply:?}");
    shutdown.cancel();

    // The allow-list names the origins' hosts too.
    let (addr, shutdown) = start(&["--mcp-allowed-hosts", "chat.example.com,127.0.0.1"]).await;
    let session = initialize(addr).await;
    let reply = send(
        addr,
        "POST",
        "127.0.0.1",
        Some("https://chat.example.com"),
        Some(&session),
        Some(&list),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = send(
        addr,
        "POST",
        "127.0.0.1",
        Some("http://localhost"),
        Some(&session),
        Some(&list),
    )
    .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    shutdown.cancel();
}
