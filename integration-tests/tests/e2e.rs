//! End to end through all five services as separate processes on loopback (the real binaries,
//! each with `--seed-demo`): a question for each backend is answered from the demo data with the
//! right sources, a follow-up resolves "her", ChatStream sends the workflow's steps in order
//! before the answer, and a backend that dies gives the fallback answer naming it while the
//! other intents keep working.

use std::time::Duration;

use chatmesh_integration_tests::mesh::Mesh;
use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::chat::{
    ChatRequest, ChatResponse, ChatStreamRequest, EventKind, SourceKind, chat_stream_response,
};
use chatmesh_proto::router::Target;
use tonic::Code;
use tonic::transport::Channel;

async fn client(mesh: &Mesh) -> ChatServiceClient<Channel> {
    ChatServiceClient::new(chatmesh_test_support::grpc::channel(mesh.chatbot.addr).await)
}

async fn ask(chat: &mut ChatServiceClient<Channel>, session: &str, message: &str) -> ChatResponse {
    let mut request = tonic::Request::new(ChatRequest {
        session_id: session.into(),
        message: message.into(),
        hints: None,
    });
    request.set_timeout(Duration::from_secs(10));
    chat.chat(request)
        .await
        .unwrap_or_else(|s| panic!("{message}: {s:?}"))
        .into_inner()
}

fn cited(r: &ChatResponse) -> Vec<(i32, &str, &str)> {
    r.sources
        .iter()
        .map(|s| (s.kind, s.id.as_str(), s.title.as_str()))
        .collect()
}

fn answered(r: &ChatResponse, target: Target) {
    assert!(
        !r.fallback && r.degraded.is_none(),
        "expected an answer from {target:?}, got a fallback: {} {:?}",
        r.answer,
        r.degraded
    );
    assert_eq!(r.target, target as i32, "{r:?}");
    assert!(r.explanation.is_some(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_backend_answers_its_question_with_the_right_sources() {
    let data = tempfile::tempdir().unwrap();
    let mesh = Mesh::start(data.path(), &[]).await;
    let mut chat = client(&mesh).await;

    let r = ask(&mut chat, "e2e-1", "Who manages Alan Turing?").await;
    answered(&r, Target::Graph);
    assert!(r.answer.contains("Grace Hopper"), "{}", r.answer);
    let first = &r.sources[0];
    assert_eq!(
        (first.kind, first.title.as_str()),
        (SourceKind::GraphNode as i32, "Grace Hopper"),
        "{:?}",
        cited(&r)
    );
    assert!(first.id.parse::<u64>().is_ok(), "a node id: {}", first.id);

    // "her" is the person the last answer named.
    let r = ask(&mut chat, "e2e-1", "and who manages her?").await;
    answered(&r, Target::Graph);
    assert!(r.answer.contains("Ada Lovelace"), "{}", r.answer);
    assert_eq!(r.sources[0].title, "Ada Lovelace", "{:?}", cited(&r));

    let r = ask(&mut chat, "e2e-1", "How do I reset my password?").await;
    answered(&r, Target::Vector);
    assert_eq!(r.sources[0].kind, SourceKind::Document as i32);
    assert_eq!(r.sources[0].id, "doc-007", "{:?}", cited(&r));
    assert!(r.answer.contains("self-service portal"), "{}", r.answer);

    let r = ask(&mut chat, "e2e-1", "What is the status of order 100001?").await;
    answered(&r, Target::Relational);
    assert_eq!(
        cited(&r)[0],
        (SourceKind::Order as i32, "100001", "Order 100001"),
        "{:?}",
        cited(&r)
    );
    assert!(r.answer.contains("Ada Lovelace"), "{}", r.answer);

    // An order that does not exist is a fallback that says so, not an error.
    let r = ask(&mut chat, "e2e-1", "status of order 99999999").await;
    assert!(r.fallback, "{r:?}");
    assert_eq!(
        r.degraded.as_ref().map(|d| d.code),
        Some(Code::NotFound as i32)
    );
    assert!(r.answer.contains("order 99999999"), "{}", r.answer);

    chatmesh_command_answers_once_and_interactively(&mesh);
}

/// `chatmesh chat "…"` and `chatmesh chat` with questions on standard input.
fn chatmesh_command_answers_once_and_interactively(mesh: &Mesh) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = chatmesh_test_support::process::binary("chatmesh");
    let addr = mesh.chatbot.addr.to_string();
    let once = Command::new(&bin)
        .args(["chat", "--addr", &addr, "Who manages Alan Turing?"])
        .output()
        .expect("run chatmesh chat");
    let text = String::from_utf8_lossy(&once.stdout);
    assert!(once.status.success(), "{once:?}");
    assert!(text.contains("Grace Hopper manages Alan Turing."), "{text}");
    assert!(
        text.contains("[graph node ") && text.contains("answered by: graph"),
        "{text}"
    );

    let mut child = Command::new(&bin)
        .args(["chat", "--addr", &addr, "--events"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run chatmesh chat");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Who manages Alan Turing?\nand who manages her?\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.contains("Ada Lovelace manages Grace Hopper."),
        "{text}"
    );
    assert!(text.contains("step 2 route started"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_sends_every_step_in_order_then_the_answer() {
    let data = tempfile::tempdir().unwrap();
    let mesh = Mesh::start(data.path(), &[]).await;
    let mut chat = client(&mesh).await;
    let mut stream = chat
        .chat_stream(ChatStreamRequest {
            session_id: "e2e-stream".into(),
            message: "status of order 100002".into(),
            hints: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mut steps = Vec::new();
    let mut answer = None;
    while let Some(item) = stream.message().await.expect("the stream ends with OK") {
        assert!(answer.is_none(), "nothing may follow the final answer");
        match item.event.expect("an event") {
            chat_stream_response::Event::WorkflowEvent(e) => {
                let kind = e.kind();
                steps.push((e.step, e.node, kind));
            }
            chat_stream_response::Event::FinalAnswer(a) => answer = Some(a),
        }
    }
    let got: Vec<_> = steps.iter().map(|(s, n, k)| (*s, n.as_str(), *k)).collect();
    use EventKind::{NodeFinished as F, NodeStarted as S};
    assert_eq!(
        got,
        [
            (1, "understand", S),
            (1, "understand", F),
            (2, "route", S),
            (2, "route", F),
            (3, "respond", S),
            (3, "respond", F),
        ]
    );
    let answer = answer.expect("a final answer");
    assert!(!answer.fallback);
    assert_eq!(answer.sources[0].id, "100002");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_backend_gives_the_fallback_and_the_others_keep_answering() {
    let data = tempfile::tempdir().unwrap();
    let mut mesh = Mesh::start(data.path(), &[]).await;
    let mut chat = client(&mesh).await;
    answered(
        &ask(&mut chat, "e2e-down", "status of order 100003").await,
        Target::Relational,
    );

    mesh.relational.kill();
    let r = ask(&mut chat, "e2e-down", "status of order 100003").await;
    assert!(r.fallback && r.sources.is_empty(), "{r:?}");
    let degraded = r.degraded.as_ref().expect("the failure's detail");
    assert_eq!(degraded.target, Target::Relational as i32, "{degraded:?}");
    assert!(
        [Code::Unavailable as i32, Code::DeadlineExceeded as i32].contains(&degraded.code),
        "{degraded:?}"
    );
    assert!(r.answer.contains("orders database"), "{}", r.answer);

    answered(
        &ask(&mut chat, "e2e-down", "Who manages Alan Turing?").await,
        Target::Graph,
    );
    answered(
        &ask(&mut chat, "e2e-down", "How do I reset my password?").await,
        Target::Vector,
    );
}
