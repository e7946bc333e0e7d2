//! The edge of the real services for `edge_auth.rs` and `edge_log.rs`: the router and a chatbot
//! in front of it, both requiring a bearer token, and clients with or without one.

#![allow(dead_code)]

use std::time::Duration;

use chatmesh_proto::chat::ChatRequest;
use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_runtime::auth::BearerToken;
use chatmesh_test_support::serve::{Running, config, start};
use http_body_util::BodyExt;
use tonic::Code;

pub(crate) const TOKEN: &str = "edge-test-token-41d9f0c2";

/// The router (no backends: only `/mcp`'s handshake is used) and a chatbot in front of it, both
/// requiring `TOKEN`, the chatbot allowing each client `rate` requests per second.
pub(crate) async fn start_edge(tokens_file: &std::path::Path, rate: &str) -> (Running, Running) {
    let tokens = tokens_file.to_str().unwrap();
    let router = start(
        config(&chatmesh_router::INFO, &["--auth-tokens-file", tokens]),
        chatmesh_router::serve_on,
    )
    .await;
    let router_addr = router.url();
    let chatbot = start(
        config(
            &chatmesh_chatbot::INFO,
            &[
                "--auth-tokens-file",
                tokens,
                "--router-addr",
                &router_addr,
                "--rate-limit-per-client",
                rate,
                "--rate-limit-burst",
                "3",
            ],
        ),
        chatmesh_chatbot::serve_on,
    )
    .await;
    for service in [&router, &chatbot] {
        chatmesh_test_support::grpc::wait_serving(service.addr, "", Duration::from_secs(10)).await;
    }
    (router, chatbot)
}

pub(crate) fn tokens_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("tokens");
    std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
    path
}

pub(crate) async fn chat(
    addr: std::net::SocketAddr,
    token: Option<&str>,
) -> Result<chatmesh_proto::chat::ChatResponse, tonic::Status> {
    let secret = token.map(|t| t.parse().unwrap());
    let bearer = BearerToken::new(secret.as_ref()).unwrap();
    let channel = chatmesh_test_support::grpc::channel(addr).await;
    let mut client = ChatServiceClient::with_interceptor(channel, bearer);
    let mut request = tonic::Request::new(ChatRequest {
        session_id: "edge".into(),
        message: "Who manages Alan Turing?".into(),
        hints: None,
    });
    request.set_timeout(Duration::from_secs(10));
    client.chat(request).await.map(tonic::Response::into_inner)
}

/// One HTTP/1.1 POST; returns the status, the headers and the body.
pub(crate) async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, http::HeaderMap, String) {
    let mut sender = chatmesh_test_support::http::http1(addr).await;
    let mut request = http::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

pub(crate) const CHAT_BODY: &str =
    r#"{"session_id":"edge-http","message":"Who manages Alan Turing?"}"#;
pub(crate) const MCP_INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"edge-test","version":"1"}}}"#;

pub(crate) async fn check_the_edge(router: &Running, chatbot: &Running) {
    // gRPC: no token, a wrong one → UNAUTHENTICATED; the right one reaches the chatbot, which
    // answers (a fallback: the router has no backends).
    for token in [None, Some("wrong-token")] {
        let status = chat(chatbot.addr, token).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    let answer = chat(chatbot.addr, Some(TOKEN))
        .await
        .expect("authenticated");
    assert!(!answer.answer.is_empty(), "{answer:?}");

    // HTTP: 401 with the challenge, then 200 with the token.
    for (addr, path, body) in [
        (chatbot.addr, "/v1/chat", CHAT_BODY),
        (router.addr, "/mcp", MCP_INITIALIZE),
    ] {
        for token in [None, Some("wrong-token")] {
            let (status, headers, text) = post(addr, path, token, body).await;
            assert_eq!(status, 401, "{path}: {text}");
            let challenge = headers["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{path}: {challenge}");
        }
        let (status, _, text) = post(addr, path, Some(TOKEN), body).await;
        assert_eq!(status, 200, "{path}: {text}");
    }

    // Probes and tools stay open: health on both, reflection on the chatbot.
    for service in [router, chatbot] {
        chatmesh_test_support::grpc::wait_serving(service.addr, "", Duration::from_secs(1)).await;
    }
    let services = chatmesh_test_support::grpc::reflection_services_v1(chatbot.addr)
        .await
        .expect("reflection answers without a token");
    assert!(
        services.iter().any(|s| s == "chatmesh.chat.v1.ChatService"),
        "{services:?}"
    );
}
