//! A debug-level log of the real services' edge holds no token: the router and the chatbot run
//! every accepted and refused call of `edge_auth.rs` (gRPC, `/v1/chat`, `/mcp`) while every event
//! is captured. Its own test binary: a subscriber set for one test sees every event only when no
//! other test runs beside it (tracing caches per call site whether anyone listens).

mod edge;

use chatmesh_test_support::log::CapturedLog;
use edge::{TOKEN, check_the_edge, start_edge, tokens_file};

// One thread, so that the subscriber set here sees every task of both services and the clients.
#[tokio::test(flavor = "current_thread")]
async fn a_debug_log_of_the_edge_holds_no_token() {
    let (captured, _guard) = CapturedLog::debug_on_this_thread();

    let dir = tempfile::tempdir().unwrap();
    let (router, chatbot) = start_edge(&tokens_file(&dir), "0").await;
    check_the_edge(&router, &chatbot).await;
    chatbot.stop().await.unwrap();
    router.stop().await.unwrap();

    let log = captured.text();
    assert!(log.contains("request not authenticated"), "{log}");
    assert!(log.contains("/mcp"), "the MCP requests were logged: {log}");
    assert!(!log.contains(TOKEN), "the token appears in the log:\n{log}");
    assert!(
        !log.contains("wrong-token"),
        "a token appears in the log:\n{log}"
    );
}
