//! Limits over real sockets: a client over its request rate gets RESOURCE_EXHAUSTED (gRPC) or
//! 429 (HTTP) with a retry hint while other clients carry on; under overload, requests beyond
//! the concurrency limit and its queue are refused while the admitted ones are still running,
//! the admitted ones succeed, and health keeps answering; and the HTTP/2 stream limit is what
//! an h2 client is told.

mod edge;

use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tonic::Code;

/// Waits (bounded) until `condition` holds, checking every few milliseconds.
async fn until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn a_client_over_its_rate_is_refused_and_others_are_not() {
    // One request per 1000 s: a client's burst is all it gets during the test.
    let server = edge::start(&[
        "--auth-tokens",
        "token-of-a,token-of-b",
        "--rate-limit-per-client",
        "0.001",
        "--rate-limit-burst",
        "2",
    ])
    .await;
    let channel = server.channel().await;
    for _ in 0..2 {
        edge::sleep(&channel, 0, Some("token-of-a")).await.unwrap();
    }
    let refused = edge::sleep(&channel, 0, Some("token-of-a"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("rate limit"), "{refused:?}");
    let retry_after: u64 = refused
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");

    // Client b, on the same connection and address, has its own bucket.
    edge::sleep(&channel, 0, Some("token-of-b")).await.unwrap();
    // The refused client's HTTP calls share its bucket: 429 with Retry-After.
    let (status, headers, body) =
        edge::http(server.addr, "POST", "/v1/slow", Some("token-of-a"), "0").await;
    assert_eq!(status, 429, "{body}");
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    assert!(body.contains("RESOURCE_EXHAUSTED"), "{body}");
    let (status, _, _) = edge::http(server.addr, "POST", "/v1/slow", Some("token-of-b"), "0").await;
    assert_eq!(status, 200);
    // Paths off the edge are not rate limited.
    for _ in 0..5 {
        assert_eq!(edge::health(&channel).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn anonymous_clients_are_limited_by_address() {
    let server = edge::start(&[
        "--rate-limit-per-client",
        "0.001",
        "--rate-limit-burst",
        "1",
    ])
    .await;
    let (status, _, _) = edge::http(server.addr, "POST", "/v1/slow", None, "0").await;
    assert_eq!(status, 200);
    // A new connection from the same address is the same client.
    let (status, _, _) = edge::http(server.addr, "POST", "/v1/slow", None, "0").await;
    assert_eq!(status, 429);
    let refused = edge::sleep(&server.channel().await, 0, None)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn overload_is_refused_fast_while_admitted_requests_finish() {
    let server = edge::start(&[
        "--max-concurrent-requests",
        "2",
        "--max-queued-requests",
        "1",
    ])
    .await;
    let url_channel = server.channel().await;
    // Two calls take both slots and hold them for a while.
    let mut admitted = Vec::new();
    for _ in 0..2 {
        let channel = url_channel.clone();
        admitted.push(tokio::spawn(async move {
            edge::sleep(&channel, 3000, None).await
        }));
    }
    let progress = std::sync::Arc::clone(&server.progress);
    until("both slots are taken", || progress.started() == 2).await;
    // A third waits in the queue (size 1).
    let queued = {
        let channel = url_channel.clone();
        tokio::spawn(async move { edge::sleep(&channel, 0, None).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Everything beyond is refused, while the admitted calls are still sleeping.
    for _ in 0..5 {
        let refused = edge::sleep(&url_channel, 0, None).await.unwrap_err();
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
        assert!(refused.message().contains("overloaded"), "{refused:?}");
        assert_eq!(
            server.progress.finished(),
            0,
            "refused before any admitted call ended"
        );
    }
    let (status, headers, body) = edge::http(server.addr, "POST", "/v1/slow", None, "0").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(server.progress.finished(), 0);
    // Probes keep answering under overload.
    assert_eq!(edge::health(&url_channel).await.unwrap(), 1);
    let (status, _, _) = edge::http(server.addr, "GET", "/metrics", None, "").await;
    assert_eq!(status, 200);

    for call in admitted {
        call.await.unwrap().expect("admitted calls succeed");
    }
    queued
        .await
        .unwrap()
        .expect("the queued call runs once a slot is free");
    assert_eq!(server.progress.finished(), 3);
    // With the load gone, new calls are admitted again.
    edge::sleep(&url_channel, 0, None).await.unwrap();
}

#[tokio::test]
async fn the_stream_limit_is_announced_to_http2_clients() {
    let server = edge::start(&["--max-concurrent-streams", "7"]).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (_client, mut connection) = h2::client::handshake(tcp).await.unwrap();
    // Drive the connection until the server's SETTINGS frame has been read.
    let announced = tokio::time::timeout(
        Duration::from_secs(10),
        poll_fn(|cx| {
            if let Poll::Ready(result) = Pin::new(&mut connection).poll(cx) {
                return Poll::Ready(Err(format!("connection ended: {result:?}")));
            }
            match connection.max_concurrent_send_streams() {
                usize::MAX => Poll::Pending,
                max => Poll::Ready(Ok(max)),
            }
        }),
    )
    .await
    .expect("settings arrive")
    .unwrap();
    assert_eq!(announced, 7);
}
