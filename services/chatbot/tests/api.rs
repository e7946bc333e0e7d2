//! The chatbot over real sockets, in front of a stand-in router (a real gRPC server on
//! loopback that answers Route from a table): Chat, ChatStream, GetSession and DeleteSession
//! over gRPC, and the fallback answers when the router is down. The stand-in router is in
//! `common`; the HTTP side of the same port is in `http.rs`.

mod common;

use std::net::SocketAddr;

use chatmesh_proto::chat::{
    ChatRequest, ChatStreamRequest, DeleteSessionRequest, EventKind, GetSessionRequest, SourceKind,
    chat_stream_response,
};
use chatmesh_proto::router::{RouteHints, Target};
use chatmesh_runtime::CancellationToken;
use common::{ask, client};
use tonic::Code;

/// A stand-in router (or none) and a chatbot in front of it; returns the chatbot's address.
async fn start(router_up: bool, shutdown: &CancellationToken) -> SocketAddr {
    let router = common::router(router_up, shutdown).await;
    common::chatbot(&router, &[], shutdown).await
}

#[tokio::test]
async fn chat_answers_from_the_router_and_records_the_session() {
    let shutdown = CancellationToken::new();
    let mut chat = client(start(true, &shutdown).await).await;
    let r = chat
        .chat(ask("s-1", "status of order 42"))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.fallback);
    assert_eq!(r.target, Target::Relational as i32);
    assert!(
        r.answer.contains("Order 42") && r.answer.contains("paid"),
        "{}",
        r.answer
    );
    assert_eq!(r.sources[0].kind, SourceKind::Order as i32);
    assert_eq!(r.sources[0].id, "42");
    assert_eq!(r.explanation.unwrap().rule, "order_id_pattern");

    // A follow-up about "that order" is resolved before the router sees it.
    let r = chat
        .chat(ask("s-1", "who placed that order?"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.sources[0].id, "42");

    let session = chat
        .get_session(GetSessionRequest {
            session_id: "s-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(session.turns.len(), 2);
    assert_eq!(session.turns[0].user_message, "status of order 42");
    assert!(session.turns[0].create_time.is_some());
    let last = session.last_entity.unwrap();
    assert_eq!(
        (last.r#type.as_str(), last.value.as_str()),
        ("order_id", "42")
    );

    chat.delete_session(DeleteSessionRequest {
        session_id: "s-1".into(),
        allow_missing: false,
    })
    .await
    .unwrap();
    let gone = chat
        .get_session(GetSessionRequest {
            session_id: "s-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let again = chat
        .delete_session(DeleteSessionRequest {
            session_id: "s-1".into(),
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    chat.delete_session(DeleteSessionRequest {
        session_id: "s-1".into(),
        allow_missing: true,
    })
    .await
    .expect("allow_missing");
    shutdown.cancel();
}

#[tokio::test]
async fn bad_requests_are_invalid_argument_naming_the_field() {
    let shutdown = CancellationToken::new();
    let mut chat = client(start(true, &shutdown).await).await;
    let cases = [
        (ask("", "hi"), "session_id"),
        (ask("has space", "hi"), "session_id"),
        (ask(&"x".repeat(129), "hi"), "session_id"),
        (ask("s", ""), "message"),
        (ask("s", "   "), "message"),
        (ask("s", &"a".repeat(8193)), "message"),
        (
            ChatRequest {
                hints: Some(RouteHints {
                    target: Some(0),
                    ..Default::default()
                }),
                ..ask("s", "hi")
            },
            "hints.target",
        ),
        (
            ChatRequest {
                hints: Some(RouteHints {
                    k: Some(5000),
                    ..Default::default()
                }),
                ..ask("s", "hi")
            },
            "hints.k",
        ),
    ];
    for (request, field) in cases {
        let status = chat.chat(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(
            status.message().starts_with(field),
            "{field}: {}",
            status.message()
        );
    }
    let status = chat
        .chat_stream(ChatStreamRequest {
            session_id: "bad id".into(),
            message: "x".into(),
            hints: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "reported before any event"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn chat_stream_sends_the_steps_in_order_then_the_answer() {
    let shutdown = CancellationToken::new();
    let mut chat = client(start(true, &shutdown).await).await;
    let mut stream = chat
        .chat_stream(ChatStreamRequest {
            session_id: "s-2".into(),
            message: "status of order 7".into(),
            hints: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mut steps = Vec::new();
    let mut answer = None;
    while let Some(item) = stream.message().await.unwrap() {
        assert!(answer.is_none(), "nothing may follow the final answer");
        match item.event.unwrap() {
            chat_stream_response::Event::WorkflowEvent(e) => {
                if e.kind() == EventKind::NodeFinished {
                    assert!(!e.state_delta.as_ref().unwrap().fields.is_empty(), "{e:?}");
                }
                let kind = e.kind();
                steps.push((e.step, e.node, kind));
            }
            chat_stream_response::Event::FinalAnswer(a) => answer = Some(a),
        }
    }
    use EventKind::{NodeFinished as F, NodeStarted as S};
    let expected = [
        (1, "understand", S),
        (1, "understand", F),
        (2, "route", S),
        (2, "route", F),
        (3, "respond", S),
        (3, "respond", F),
    ];
    let got: Vec<_> = steps.iter().map(|(s, n, k)| (*s, n.as_str(), *k)).collect();
    assert_eq!(got, expected);
    let answer = answer.expect("a final answer");
    assert_eq!(answer.sources[0].id, "7");
    shutdown.cancel();
}

#[tokio::test]
async fn a_backend_down_behind_the_router_is_a_fallback_answer() {
    let shutdown = CancellationToken::new();
    let mut chat = client(start(true, &shutdown).await).await;
    let r = chat
        .chat(ask("s-3", "who manages Alan Turing?"))
        .await
        .unwrap()
        .into_inner();
    assert!(r.fallback && r.sources.is_empty());
    let d = r.degraded.unwrap();
    assert_eq!(
        (d.target, d.code),
        (Target::Graph as i32, Code::Unavailable as i32)
    );
    assert!(
        r.answer.contains("people directory (graph) is unavailable"),
        "{}",
        r.answer
    );
    // The other intents are unaffected.
    let r = chat
        .chat(ask("s-3", "status of order 5"))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.fallback);
    shutdown.cancel();
}

#[tokio::test]
async fn with_the_router_down_the_answer_says_so() {
    let shutdown = CancellationToken::new();
    let mut chat = client(start(false, &shutdown).await).await;
    let r = chat
        .chat(ask("s-4", "status of order 5"))
        .await
        .unwrap()
        .into_inner();
    assert!(r.fallback);
    let d = r.degraded.unwrap();
    assert_eq!(d.target, Target::Unspecified as i32, "{d:?}");
    assert_eq!(d.code, Code::Unavailable as i32);
    assert!(r.answer.contains("can't reach the router"), "{}", r.answer);
    assert!(r.explanation.is_none());
    shutdown.cancel();
}
