//! Sessions in PostgreSQL (`--session-url`) over real sockets: the chatbot in this process in
//! front of the stand-in router, its sessions in a database of the test's own. Ignored by a
//! plain `cargo test` ("needs PostgreSQL"); CI runs them with `--include-ignored` against the
//! server `scripts/start-postgres.sh` starts.
//!
//! What a user sees when the database goes away: health turns NOT_SERVING for readiness (while
//! liveness stays SERVING, so nothing restarts the process), every call answers UNAVAILABLE at
//! once instead of hanging, and when the database is back the chatbot reconnects by itself and
//! the conversation goes on where it was. The database is taken away for real: new connections
//! refused, open ones terminated (see `chatmesh_test_support::postgres`).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chatmesh_proto::chat::GetSessionRequest;
use chatmesh_runtime::CancellationToken;
use chatmesh_test_support::grpc;
use chatmesh_test_support::postgres::TestDatabase;
use chatmesh_test_support::process::Process;
use common::{ask, client};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

const SERVICE: &str = "chatmesh.chat.v1.ChatService";

/// A chatbot whose sessions are in `db`, probing every 100 ms.
async fn start(db: &TestDatabase, shutdown: &CancellationToken) -> SocketAddr {
    let router = common::router(true, shutdown).await;
    let flags = [
        "--session-url",
        db.url.as_str(),
        "--session-db-probe-interval",
        "100ms",
    ];
    common::chatbot(&router, &flags, shutdown).await
}

async fn wait_for(addr: SocketAddr, want: ServingStatus) {
    grpc::wait_for_health(addr, SERVICE, want, Duration::from_secs(60)).await;
}

/// Chat fails with UNAVAILABLE, and fast: well within the 2 s statement timeout, since a lost
/// database is not even tried.
async fn unavailable_at_once(addr: SocketAddr, session: &str) {
    let mut chat = client(addr).await;
    for _ in 0..3 {
        let started = Instant::now();
        let status = chat
            .chat(ask(session, "status of order 7"))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(status.message().contains("session"), "{status:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    let status = chat
        .get_session(GetSessionRequest {
            session_id: session.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn a_lost_database_is_not_serving_and_unavailable_then_comes_back() {
    let db = TestDatabase::create().await;
    let shutdown = CancellationToken::new();
    let addr = start(&db, &shutdown).await;
    wait_for(addr, ServingStatus::Serving).await;
    let mut chat = client(addr).await;
    chat.chat(ask("s-1", "status of order 42")).await.unwrap();

    db.take_away().await;
    wait_for(addr, ServingStatus::NotServing).await;
    let liveness = grpc::health(addr, "").await.unwrap();
    assert_eq!(liveness, ServingStatus::Serving, "only readiness drops");
    unavailable_at_once(addr, "s-1").await;

    db.bring_back().await;
    wait_for(addr, ServingStatus::Serving).await;
    // "that order" is still order 42: the session outlived the outage.
    let r = chat
        .chat(ask("s-1", "who placed that order?"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.sources[0].id, "42", "{r:?}");
    let session = chat
        .get_session(GetSessionRequest {
            session_id: "s-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(session.turns.len(), 2);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn a_database_unreachable_at_start_is_waited_for() {
    let db = TestDatabase::create().await;
    db.take_away().await;
    let shutdown = CancellationToken::new();
    let addr = start(&db, &shutdown).await;
    // The server answers, but is not ready, and says why a chat cannot be served.
    wait_for(addr, ServingStatus::NotServing).await;
    unavailable_at_once(addr, "s-2").await;
    db.bring_back().await;
    wait_for(addr, ServingStatus::Serving).await;
    let r = client(addr)
        .await
        .chat(ask("s-2", "status of order 7"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.sources[0].id, "7");
    let tables = db
        .query("SELECT version::text FROM _chat_sessions_migrations ORDER BY version")
        .await;
    assert_eq!(tables, ["1"], "the migrations ran once connected");
    shutdown.cancel();
}

/// A `chatmesh-chatbot` process in front of `router`, its sessions in `session_url` (or in its
/// own memory when `None`), logging into `logs`.
fn chatbot_process(router: &str, session_url: Option<&str>, logs: &tempfile::TempDir) -> Process {
    let mut args = vec!["--router-addr", router];
    if let Some(url) = session_url {
        args.extend(["--session-url", url]);
    }
    Process::start(
        "chatmesh-chatbot",
        &args,
        logs.path(),
        Duration::from_secs(30),
    )
}

/// The id of the order a chat answer cites, if any.
async fn cited_order(addr: SocketAddr, session: &str, message: &str) -> Option<String> {
    let r = client(addr).await.chat(ask(session, message)).await.ok()?;
    r.into_inner().sources.first().map(|s| s.id.clone())
}

/// Two chatbot processes behind one database behave as one: a conversation alternates between
/// them, and survives one of them crashing. A third chatbot keeping sessions in memory, asked
/// the same follow-up, cannot resolve it: the shared store is what carries the conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn two_chatbot_processes_share_one_conversation() {
    let db = TestDatabase::create().await;
    let shutdown = CancellationToken::new();
    let router = common::router(true, &shutdown).await;
    let (logs_a, logs_b, logs_c) = (tempdir(), tempdir(), tempdir());
    let mut a = chatbot_process(&router, Some(&db.url), &logs_a);
    let b = chatbot_process(&router, Some(&db.url), &logs_b);
    let c = chatbot_process(&router, None, &logs_c);
    for p in [&a, &b, &c] {
        wait_for(p.addr, ServingStatus::Serving).await;
    }

    let first = cited_order(a.addr, "alt", "status of order 42").await;
    assert_eq!(first.as_deref(), Some("42"), "turn 1 on A");
    let follow_up = cited_order(b.addr, "alt", "who placed that order?").await;
    assert_eq!(
        follow_up.as_deref(),
        Some("42"),
        "the follow-up on B resolves A's order"
    );
    let in_memory = cited_order(c.addr, "alt", "who placed that order?").await;
    assert_eq!(
        in_memory, None,
        "a chatbot with its own memory never saw turn 1"
    );

    assert_eq!(
        cited_order(a.addr, "alt", "status of order 7")
            .await
            .as_deref(),
        Some("7")
    );
    a.kill();
    let after_crash = cited_order(b.addr, "alt", "and who placed that order?").await;
    assert_eq!(
        after_crash.as_deref(),
        Some("7"),
        "B goes on from A's last turn"
    );
    let session = client(b.addr)
        .await
        .get_session(GetSessionRequest {
            session_id: "alt".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let asked: Vec<&str> = session
        .turns
        .iter()
        .map(|t| t.user_message.as_str())
        .collect();
    assert_eq!(
        asked,
        [
            "status of order 42",
            "who placed that order?",
            "status of order 7",
            "and who placed that order?"
        ],
        "every turn of both processes, in order"
    );
    shutdown.cancel();
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}
