//! The chatbot's HTTP side over real sockets, on the gRPC port, in front of the stand-in router
//! of `common`: `POST /v1/chat`, `/openapi.json` and the web page, and `POST /v1/chat/stream`
//! (server-sent events: the workflow steps as they happen, then the answer, with the router's
//! backend time in the route step). Requests are written by hand over HTTP/1.1, as a plain
//! client would, and chunked bodies are decoded here.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use chatmesh_proto::chat::GetSessionRequest;
use chatmesh_runtime::CancellationToken;
use common::client;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A stand-in router (or none) and a chatbot in front of it; returns the chatbot's address.
async fn start(router_up: bool, shutdown: &CancellationToken) -> SocketAddr {
    let router = common::router(router_up, shutdown).await;
    common::chatbot(&router, &[], shutdown).await
}

/// An HTTP response: status, lower-case header lines, and the body with chunking undone.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One HTTP/1.1 exchange.
async fn exchange(addr: SocketAddr, method: &str, path: &str, body: &str) -> Reply {
    exchange_with(addr, method, path, "", body).await
}

/// One HTTP/1.1 exchange with `headers` (whole lines, each ending in CRLF) added.
async fn exchange_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         {headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("response within 10 s")
        .unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let head = head.to_owned();
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply { status, head, body }
}

/// `POST path` with a JSON body.
async fn post(addr: SocketAddr, path: &str, body: &str) -> Reply {
    exchange(addr, "POST", path, body).await
}

/// A chunked body's content.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        if size == 0 {
            return body;
        }
        body.push_str(&after[..size]);
        rest = after[size..]
            .strip_prefix("\r\n")
            .expect("CRLF after a chunk");
    }
}

/// The events of a server-sent event stream: (event name, data as JSON).
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            let data = serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"));
            (name, data)
        })
        .collect()
}

async fn recorded_turns(addr: SocketAddr, session: &str) -> usize {
    let mut chat = client(addr).await;
    let session = chat
        .get_session(GetSessionRequest {
            session_id: session.into(),
        })
        .await
        .unwrap()
        .into_inner();
    session.turns.len()
}

#[tokio::test]
async fn http_chat_openapi_and_the_page_share_the_grpc_port() {
    let shutdown = CancellationToken::new();
    let addr = start(true, &shutdown).await;
    let r = post(
        addr,
        "/v1/chat",
        r#"{"session_id":"web-1","message":"status of order 9"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""target":"relational""#), "{}", r.body);
    assert!(r.body.contains(r#""kind":"order","id":"9""#), "{}", r.body);
    assert!(r.body.contains(r#""fallback":false"#), "{}", r.body);

    let r = post(addr, "/v1/chat", r#"{"session_id":"web-1"}"#).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains(r#""code":"INVALID_ARGUMENT""#),
        "{}",
        r.body
    );
    let r = post(addr, "/v1/chat", r#"{"session_id":"a b","message":"x"}"#).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("session_id"), "{}", r.body);

    let r = exchange(addr, "GET", "/openapi.json", "").await;
    assert_eq!(r.status, 200);
    let document: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/v1/chat"]["post"].is_object());
    let stream = &document["paths"]["/v1/chat/stream"]["post"]["responses"]["200"]["content"];
    assert!(stream["text/event-stream"].is_object(), "{stream}");
    for schema in ["WorkflowStep", "StreamedAnswer", "ChatResponse", "Error"] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    let r = exchange(addr, "GET", "/", "").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<form id=\"ask\">") && r.body.contains("/v1/chat/stream"));

    // gRPC still answers on the same port.
    assert_eq!(recorded_turns(addr, "web-1").await, 1, "the HTTP turn");
    shutdown.cancel();
}

#[tokio::test]
async fn http_chat_stream_sends_each_step_as_it_happens_then_the_answer() {
    let shutdown = CancellationToken::new();
    let addr = start(true, &shutdown).await;
    let r = post(
        addr,
        "/v1/chat/stream",
        r#"{"session_id":"web-2","message":"status of order 9"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let events = events(&r.body);
    let (last, steps) = events.split_last().expect("events");

    let seen: Vec<(u64, &str, &str)> = steps
        .iter()
        .map(|(name, data)| {
            assert_eq!(name, "step", "{data}");
            (
                data["step"].as_u64().unwrap(),
                data["node"].as_str().unwrap(),
                data["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "understand", "started"),
            (1, "understand", "finished"),
            (2, "route", "started"),
            (2, "route", "finished"),
            (3, "respond", "started"),
            (3, "respond", "finished"),
        ]
    );
    let elapsed: Vec<f64> = steps
        .iter()
        .map(|(_, d)| d["elapsed_ms"].as_f64().unwrap())
        .collect();
    assert!(elapsed.windows(2).all(|w| w[0] <= w[1]), "{elapsed:?}");
    let routed = &steps[3].1["state"];
    assert_eq!(routed["target"], "TARGET_RELATIONAL", "{routed}");
    assert_eq!(
        routed["backend_ms"], 0.25,
        "the stand-in router's server-timing: {routed}"
    );

    let (name, answer) = last;
    assert_eq!(name, "answer", "{answer}");
    assert_eq!(answer["target"], "relational");
    assert_eq!(answer["fallback"], false);
    assert_eq!(answer["sources"][0]["kind"], "order");
    assert_eq!(answer["sources"][0]["id"], "9");
    assert!(answer["answer"].as_str().unwrap().contains("Order 9"));
    let total = answer["elapsed_ms"].as_f64().unwrap();
    assert!(total >= elapsed[5], "{total} < {}", elapsed[5]);
    assert!(
        answer.get("trace_id").is_none(),
        "no trace id without span export: {answer}"
    );
    assert_eq!(recorded_turns(addr, "web-2").await, 1, "the streamed turn");
    shutdown.cancel();
}

#[tokio::test]
async fn http_chat_stream_refuses_bad_requests_before_streaming_and_degrades_like_chat() {
    let shutdown = CancellationToken::new();
    let addr = start(false, &shutdown).await;
    let r = post(addr, "/v1/chat/stream", r#"{"session_id":"web-3"}"#).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        r.body.contains(r#""code":"INVALID_ARGUMENT""#),
        "{}",
        r.body
    );

    // The router is down: the turn still streams, and ends in a fallback answer that says so.
    let r = post(
        addr,
        "/v1/chat/stream",
        r#"{"session_id":"web-3","message":"status of order 9"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let events = events(&r.body);
    let nodes: Vec<&str> = events
        .iter()
        .filter(|(name, d)| name == "step" && d["kind"] == "finished")
        .map(|(_, d)| d["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["understand", "route", "fallback"]);
    let (name, answer) = events.last().unwrap();
    assert_eq!(name, "answer");
    assert_eq!(answer["fallback"], true);
    assert!(
        answer["answer"]
            .as_str()
            .unwrap()
            .contains("can't reach the router"),
        "{answer}"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn http_chat_stream_asks_for_the_same_token_as_the_rest_of_the_edge() {
    let shutdown = CancellationToken::new();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "stream-token-7a1\n").unwrap();
    let router = common::router(true, &shutdown).await;
    let tokens = tokens.display().to_string();
    let addr = common::chatbot(&router, &["--auth-tokens-file", &tokens], &shutdown).await;
    let body = r#"{"session_id":"web-4","message":"status of order 9"}"#;

    let r = post(addr, "/v1/chat/stream", body).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.header("www-authenticate").is_some(), "{}", r.head);

    let bearer = "authorization: Bearer stream-token-7a1\r\n";
    let r = exchange_with(addr, "POST", "/v1/chat/stream", bearer, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(events(&r.body).last().unwrap().0, "answer", "{}", r.body);
    shutdown.cancel();
}
