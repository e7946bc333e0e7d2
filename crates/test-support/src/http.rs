//! Plain HTTP/1.1 to a chatmesh port, as browsers, curl and uptime checkers speak it (every
//! port serves HTTP/1.1 beside gRPC): one connection, its driver on a task of its own.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;

/// Sends requests with a whole body on one HTTP/1.1 connection.
pub type Sender = SendRequest<Full<Bytes>>;

/// An HTTP/1.1 connection to `addr`.
pub async fn http1(addr: SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect over HTTP/1.1");
    let (sender, connection) = handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// One HTTP/1.1 GET of `path` on a connection of its own; returns the status and the body.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    use http_body_util::BodyExt as _;
    let request = http::Request::get(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .expect("a GET request");
    let response = http1(addr)
        .await
        .send_request(request)
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the whole body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
