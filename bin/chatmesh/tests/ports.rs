//! Plain HTTP on the mesh's ports (#19.6): every port speaks HTTP/1.1 next to gRPC, so uptime
//! checkers and browsers reach it; a path no route serves must answer them `404 Not Found`, not
//! a `200` carrying a gRPC status. Checked over real sockets on `chatmesh up`'s graph port (no
//! HTTP extras) and the chatbot's (`/v1/chat`, `/openapi.json`, `/`), with `GET /metrics` still
//! served and a gRPC call to an unknown method still UNIMPLEMENTED.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use chatmesh_test_support::grpc::raw_unary;
use common::Up;

/// `GET path` over HTTP/1.1: the status code and the whole response as text.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response}"));
    (status, response)
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

#[test]
fn unknown_http_paths_answer_404_and_grpc_keeps_unimplemented() {
    let up = Up::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for addr in [up.graph(), up.chatbot()] {
        for path in ["/favicon.ico", "/healthz", "/no/such/path"] {
            let (status, response) = get(&addr, path);
            assert_eq!(status, 404, "{addr}{path}: {response}");
            let content_type = header(&response, "content-type").unwrap_or_default();
            assert!(
                !content_type.starts_with("application/grpc"),
                "{addr}{path}: {response}"
            );
            assert!(header(&response, "grpc-status").is_none(), "{response}");
            assert!(
                response.contains(path),
                "the body names the path: {response}"
            );
        }
        let (status, response) = get(&addr, "/metrics");
        assert_eq!(status, 200, "{addr}/metrics: {response}");
        assert!(response.contains("# TYPE"), "{response}");

        let socket: SocketAddr = addr.parse().unwrap();
        let outcome = runtime.block_on(raw_unary(socket, "/no.such.Service/Method", &(), &[]));
        assert_eq!(outcome.code, tonic::Code::Unimplemented, "{addr}");
    }
    // The graph serves no `/openapi.json`; the chatbot still does.
    assert_eq!(get(&up.graph(), "/openapi.json").0, 404);
    assert_eq!(get(&up.chatbot(), "/openapi.json").0, 200);
    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");
}
