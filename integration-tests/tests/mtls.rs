//! The five services as separate processes with mTLS on (`--tls-*`, certificates from a test
//! CA with the names `chatmesh certs` gives): a chat is answered end to end through
//! chatbot → router → graph, each hop over mutual TLS, and the chatbot refuses a plaintext
//! client and one whose certificate another CA signed (a TLS client without a certificate is
//! refused in `crates/runtime/tests/mtls.rs`, which speaks raw TLS).
//! The binaries' own `health` subcommand (the container healthcheck) asks over mTLS with the
//! same files, and `chatmesh chat` asks with the client's.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::chat::{ChatRequest, ChatResponse};
use chatmesh_proto::router::Target;
use chatmesh_runtime::channel::{ClientArgs, connect};
use chatmesh_runtime::tls::{ClientTls, TlsFileArgs};
use chatmesh_test_support::certs::TestCa;
use chatmesh_test_support::process::{Process, binary};
use tonic_health::pb::health_check_response::ServingStatus;

/// The five services, each of which gets a certificate named after it (as `chatmesh certs`
/// names them), and a test client.
const HOLDERS: [&str; 6] = [
    "chatbot",
    "router",
    "graph",
    "vector",
    "relational",
    "client",
];

/// Writes `ca.pem` and a certificate and key per service (and one for a test client) to `dir`.
fn write_pki(dir: &Path) -> TestCa {
    let ca = TestCa::new("test mesh CA");
    ca.write(dir);
    for name in HOLDERS {
        ca.issue_for(name).write(dir, name);
    }
    ca
}

fn tls_flags(dir: &Path, name: &str) -> Vec<String> {
    vec![
        "--tls-ca".into(),
        dir.join("ca.pem").display().to_string(),
        "--tls-cert".into(),
        dir.join(format!("{name}.pem")).display().to_string(),
        "--tls-key".into(),
        dir.join(format!("{name}.key")).display().to_string(),
    ]
}

fn client_tls(dir: &Path, name: &str) -> ClientTls {
    TlsFileArgs::new(
        dir.join("ca.pem"),
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
    .client(Duration::from_secs(10))
    .unwrap()
    .unwrap()
}

fn start(name: &str, args: &[String], certs: &Path, data: &Path) -> Process {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    let tls = tls_flags(certs, name);
    all.extend(tls.iter().map(String::as_str));
    Process::start(
        &format!("chatmesh-{name}"),
        &all,
        data,
        Duration::from_secs(30),
    )
}

async fn wait_serving(addr: SocketAddr, fqn: &str, tls: &ClientTls) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = chatmesh_runtime::probe::check_with(
            &addr.to_string(),
            fqn,
            Duration::from_secs(2),
            Some(tls.clone()),
        )
        .await;
        if status == Ok(ServingStatus::Serving) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{fqn} at {addr} is not SERVING over mTLS: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ask(
    addr: SocketAddr,
    tls: Option<ClientTls>,
    message: &str,
) -> Result<ChatResponse, String> {
    let args = ClientArgs {
        tls,
        ..ClientArgs::default()
    };
    let channel = connect(&addr.to_string(), &args)
        .await
        .map_err(|e| e.to_string())?;
    let mut request = tonic::Request::new(ChatRequest {
        session_id: "mtls".into(),
        message: message.into(),
        hints: None,
    });
    request.set_timeout(Duration::from_secs(10));
    ChatServiceClient::new(channel)
        .chat(request)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mesh_answers_over_mtls_and_refuses_clients_without_a_trusted_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_pki(certs.path());
    let (c, d) = (certs.path(), data.path());
    let [graph, vector, relational, router, chatbot] = start_all(c, d);
    let client = client_tls(c, "client");
    for (process, fqn) in [
        (&graph, chatmesh_graph::INFO.fqn),
        (&vector, chatmesh_vector::INFO.fqn),
        (&relational, chatmesh_relational::INFO.fqn),
        (&router, chatmesh_router::INFO.fqn),
        (&chatbot, chatmesh_chatbot::INFO.fqn),
    ] {
        wait_serving(process.addr, fqn, &client).await;
    }

    // End to end: chatbot → router → graph, every hop over mTLS.
    let answer = ask(
        chatbot.addr,
        Some(client.clone()),
        "Who manages Alan Turing?",
    )
    .await
    .expect("a chat over mTLS");
    assert!(
        !answer.fallback && answer.degraded.is_none(),
        "expected the graph's answer, got a fallback: {} {:?}",
        answer.answer,
        answer.degraded
    );
    assert_eq!(answer.target, Target::Graph as i32, "{answer:?}");
    assert!(!answer.sources.is_empty(), "{answer:?}");

    // Refused: plaintext, and a certificate from another CA.
    let plaintext = ask(chatbot.addr, None, "Who manages Alan Turing?").await;
    assert!(plaintext.is_err(), "plaintext was answered: {plaintext:?}");

    let strangers = tempfile::tempdir().unwrap();
    write_pki(strangers.path());
    let stranger = ask(
        chatbot.addr,
        Some(client_tls(strangers.path(), "client")),
        "Who manages Alan Turing?",
    )
    .await;
    assert!(
        stranger.is_err(),
        "another CA's client was answered: {stranger:?}"
    );

    binaries_ask_over_mtls(&graph, &chatbot, c);

    // And the chatbot still answers a trusted client after all the refusals.
    assert!(
        ask(chatbot.addr, Some(client), "Who manages Alan Turing?")
            .await
            .is_ok()
    );
}

/// The five services as processes, each with its own certificate from `c`, data under `d`:
/// graph, vector, relational, router, chatbot.
fn start_all(c: &Path, d: &Path) -> [Process; 5] {
    let dir = |name: &str| {
        let d = d.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d.display().to_string()
    };
    let graph = start(
        "graph",
        &["--data-dir".into(), dir("graph"), "--seed-demo".into()],
        c,
        d,
    );
    let vector = start(
        "vector",
        &["--data-dir".into(), dir("vector"), "--seed-demo".into()],
        c,
        d,
    );
    let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
    let relational = start(
        "relational",
        &["--database-url".into(), sqlite, "--seed-demo".into()],
        c,
        d,
    );
    let router = start(
        "router",
        &[
            "--graph-addr".into(),
            graph.url(),
            "--vector-addr".into(),
            vector.url(),
            "--relational-addr".into(),
            relational.url(),
        ],
        c,
        d,
    );
    let chatbot = start("chatbot", &["--router-addr".into(), router.url()], c, d);
    [graph, vector, relational, router, chatbot]
}

/// The binaries' own clients over mTLS: the graph's `health` probe (the container healthcheck)
/// with the service's files, and `chatmesh chat` with the client's.
fn binaries_ask_over_mtls(graph: &Process, chatbot: &Process, c: &Path) {
    // The container healthcheck: the binary's own probe, over mTLS with the service's files.
    let probe = |extra: &[String]| {
        Command::new(binary("chatmesh-graph"))
            .args(["health", "--quiet", "--addr", &graph.addr.to_string()])
            .args(extra)
            .env_remove("CHATMESH_TLS_CA")
            .env_remove("CHATMESH_TLS_CERT")
            .env_remove("CHATMESH_TLS_KEY")
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(probe(&tls_flags(c, "graph")), Some(0));
    assert_eq!(probe(&[]), Some(1), "a plaintext probe was answered");

    // The user's command, `chatmesh chat`, with the client's files.
    let chat = Command::new(binary("chatmesh"))
        .args(["chat", "--addr", &chatbot.addr.to_string()])
        .args(tls_flags(c, "client"))
        .arg("Who manages Alan Turing?")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&chat.stdout);
    assert!(
        chat.status.success() && said.contains("Grace Hopper"),
        "chatmesh chat over mTLS: {said} {}",
        String::from_utf8_lossy(&chat.stderr)
    );
}
