//! The public edge of the real services, in process over loopback: with bearer tokens required,
//! the chatbot's ChatService answers UNAUTHENTICATED and its `POST /v1/chat` and the router's
//! `/mcp` answer 401 with `WWW-Authenticate: Bearer` to a caller without a good token, and let a
//! good one through; health and reflection stay open; and `/v1/chat` is rate limited per client.

mod edge;

use edge::{CHAT_BODY, TOKEN, chat, check_the_edge, post, start_edge, tokens_file};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_api_needs_a_token_and_probes_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (router, chatbot) = start_edge(&tokens_file(&dir), "0").await;
    check_the_edge(&router, &chatbot).await;
    chatbot.stop().await.unwrap();
    router.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_api_is_rate_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let (router, chatbot) = start_edge(&tokens_file(&dir), "0.001").await;
    for _ in 0..3 {
        let (status, _, text) = post(chatbot.addr, "/v1/chat", Some(TOKEN), CHAT_BODY).await;
        assert_eq!(status, 200, "{text}");
    }
    let (status, headers, text) = post(chatbot.addr, "/v1/chat", Some(TOKEN), CHAT_BODY).await;
    assert_eq!(status, 429, "{text}");
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    let status = chat(chatbot.addr, Some(TOKEN)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Unauthenticated callers are refused before they can use anyone's budget.
    let status = chat(chatbot.addr, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    chatbot.stop().await.unwrap();
    router.stop().await.unwrap();
}
