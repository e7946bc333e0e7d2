//! The chatbot's answers for each kind of router result, over the real mesh (all five services
//! in this process on loopback, with the demo data): a person's whole neighbourhood, whom they
//! manage, a missing manager, a Cypher query given as a hint (names, nodes, paths, lists, maps),
//! a customer's orders, and the fallback replies when a backend refuses the request. Cypher
//! hints are off by default (#18.3), so this mesh's chatbot allows them to every caller.

use std::collections::HashMap;
use std::time::Duration;

use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::chat::{ChatRequest, ChatResponse, SourceKind};
use chatmesh_proto::graph::{Value, value::Kind};
use chatmesh_proto::router::{RouteHints, Target};
use chatmesh_test_support::grpc::{channel, wait_serving};
use chatmesh_test_support::serve::{Running, config, start};
use tonic::Code;
use tonic::transport::Channel;

/// The five services with `--seed-demo` data; the chatbot is last.
async fn mesh(data: &std::path::Path) -> Vec<Running> {
    let dir = |name: &str| data.join(name).display().to_string();
    let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
    let graph = start(
        config(
            &chatmesh_graph::INFO,
            &["--data-dir", &dir("graph"), "--seed-demo"],
        ),
        chatmesh_graph::serve_on,
    )
    .await;
    let vector = start(
        config(
            &chatmesh_vector::INFO,
            &["--data-dir", &dir("vector"), "--seed-demo"],
        ),
        chatmesh_vector::serve_on,
    )
    .await;
    let relational = start(
        config(
            &chatmesh_relational::INFO,
            &["--database-url", &sqlite, "--seed-demo"],
        ),
        chatmesh_relational::serve_on,
    )
    .await;
    let router = start(
        config::<chatmesh_router::Config>(
            &chatmesh_router::INFO,
            &[
                "--graph-addr",
                &graph.url(),
                "--vector-addr",
                &vector.url(),
                "--relational-addr",
                &relational.url(),
            ],
        ),
        chatmesh_router::serve_on,
    )
    .await;
    let chatbot = start(
        config::<chatmesh_chatbot::Config>(
            &chatmesh_chatbot::INFO,
            &[
                "--router-addr",
                &router.url(),
                "--cypher-hint-principals",
                "*",
            ],
        ),
        chatmesh_chatbot::serve_on,
    )
    .await;
    let limit = Duration::from_secs(60);
    for (running, info) in [
        (&graph, chatmesh_graph::INFO),
        (&vector, chatmesh_vector::INFO),
        (&relational, chatmesh_relational::INFO),
        (&router, chatmesh_router::INFO),
        (&chatbot, chatmesh_chatbot::INFO),
    ] {
        wait_serving(running.addr, info.fqn, limit).await;
    }
    vec![graph, vector, relational, router, chatbot]
}

async fn ask(
    chat: &mut ChatServiceClient<Channel>,
    message: &str,
    hints: Option<RouteHints>,
) -> ChatResponse {
    let mut request = tonic::Request::new(ChatRequest {
        session_id: "answers".into(),
        message: message.into(),
        hints,
    });
    request.set_timeout(Duration::from_secs(20));
    chat.chat(request)
        .await
        .unwrap_or_else(|s| panic!("{message}: {s:?}"))
        .into_inner()
}

fn graph_hint(cypher: &str, parameters: &[(&str, &str)]) -> Option<RouteHints> {
    Some(RouteHints {
        target: Some(Target::Graph as i32),
        cypher: Some(cypher.into()),
        parameters: parameters
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    Value {
                        kind: Some(Kind::StringValue((*v).to_owned())),
                    },
                )
            })
            .collect::<HashMap<_, _>>(),
        ..RouteHints::default()
    })
}

fn titles(r: &ChatResponse) -> Vec<&str> {
    r.sources.iter().map(|s| s.title.as_str()).collect()
}

fn answered(r: &ChatResponse, target: Target) {
    assert!(!r.fallback && r.degraded.is_none(), "{r:?}");
    assert_eq!(r.target, target as i32, "{r:?}");
}

type Chat = ChatServiceClient<Channel>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_result_becomes_a_cited_answer() {
    let data = tempfile::tempdir().unwrap();
    let services = mesh(data.path()).await;
    let mut chat = ChatServiceClient::new(channel(services[4].addr).await);

    a_persons_neighbourhood_is_grouped(&mut chat).await;
    whom_a_person_manages(&mut chat).await;
    a_missing_manager_is_said(&mut chat).await;
    cypher_names_become_a_sentence(&mut chat).await;
    cypher_values_of_every_kind_are_listed(&mut chat).await;
    a_customers_orders_are_counted_and_cited(&mut chat).await;
    a_refused_query_is_a_fallback_naming_the_source(&mut chat).await;
    off_topic_is_an_honest_i_dont_know(&mut chat).await;

    for running in services.into_iter().rev() {
        running.stop().await.expect("clean stop");
    }
}

/// Everything known about a person, grouped by relationship.
async fn a_persons_neighbourhood_is_grouped(chat: &mut Chat) {
    let r = ask(chat, "Tell me about Alan Turing", None).await;
    answered(&r, Target::Graph);
    assert!(r.answer.starts_with("Alan Turing "), "{}", r.answer);
    for fact in [
        "is managed by Grace Hopper",
        "manages Ken Thompson and Margaret Hamilton",
        "is a member of Platform",
    ] {
        assert!(r.answer.contains(fact), "{fact}: {}", r.answer);
    }
    assert!(
        r.sources
            .iter()
            .all(|s| s.kind == SourceKind::GraphNode as i32),
        "{r:?}"
    );
    assert!(titles(&r).contains(&"Grace Hopper"), "{:?}", titles(&r));
}

async fn whom_a_person_manages(chat: &mut Chat) {
    let r = ask(chat, "Who does Grace Hopper manage?", None).await;
    answered(&r, Target::Graph);
    let expected = "Grace Hopper manages Alan Turing, Barbara Liskov and Edsger Dijkstra.";
    assert!(r.answer.starts_with(expected), "{}", r.answer);
}

/// A manager question about the top of the tree: no manager, but what is known is said.
async fn a_missing_manager_is_said(chat: &mut Chat) {
    let hints = Some(RouteHints {
        target: Some(Target::Graph as i32),
        person_name: Some("Ada Lovelace".into()),
        ..RouteHints::default()
    });
    let r = ask(chat, "Who is the manager of Ada Lovelace?", hints).await;
    answered(&r, Target::Graph);
    let expected = "The graph shows no manager of Ada Lovelace.";
    assert!(r.answer.starts_with(expected), "{}", r.answer);
    assert!(r.answer.contains("manages Grace Hopper"), "{}", r.answer);
}

/// A Cypher hint: one column of names becomes a sentence about the subject.
async fn cypher_names_become_a_sentence(chat: &mut Chat) {
    let r = ask(
        chat,
        "Who manages Alan Turing?",
        graph_hint(
            "MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name",
            &[("name", "Alan Turing")],
        ),
    )
    .await;
    answered(&r, Target::Graph);
    assert_eq!(r.answer, "Grace Hopper manages Alan Turing.");
    let r = ask(
        chat,
        "Who does Grace Hopper manage?",
        graph_hint(
            "MATCH (m:Person {name: $name})-[:MANAGES]->(r:Person) RETURN r.name ORDER BY r.name",
            &[("name", "Grace Hopper")],
        ),
    )
    .await;
    assert_eq!(
        r.answer,
        "Grace Hopper manages Alan Turing, Barbara Liskov and Edsger Dijkstra."
    );
}

/// Several columns of every kind of value: labelled cells, nodes cited.
async fn cypher_values_of_every_kind_are_listed(chat: &mut Chat) {
    let r = ask(
        chat,
        "Show me the first management link",
        graph_hint(
            "MATCH p = (a:Person {name: 'Ada Lovelace'})-[r:MANAGES]->(b:Person) \
             RETURN b, p, r, [1, 'x', true] AS l, {k: 2.5} AS m, null AS n",
            &[],
        ),
    )
    .await;
    answered(&r, Target::Graph);
    let start = "From the graph: b: Grace Hopper, p: Ada Lovelace → Grace Hopper, r: [:MANAGES ";
    assert!(r.answer.starts_with(start), "{}", r.answer);
    let end = ", l: [1, x, true], m: {k: 2.5}, n: null.";
    assert!(r.answer.ends_with(end), "{}", r.answer);
    assert_eq!(titles(&r), ["Grace Hopper"]);
    let snippet = &r.sources[0].snippet;
    assert!(snippet.starts_with("Person name=Grace Hopper"), "{snippet}");
}

/// A customer's orders: the count, the first five, each cited.
async fn a_customers_orders_are_counted_and_cited(chat: &mut Chat) {
    let hints = Some(RouteHints {
        target: Some(Target::Relational as i32),
        customer: Some("Ada Lovelace".into()),
        ..RouteHints::default()
    });
    let r = ask(chat, "Which orders does Ada have?", hints).await;
    answered(&r, Target::Relational);
    assert!(r.answer.starts_with("3 orders found: "), "{}", r.answer);
    assert_eq!(r.sources.len(), 3, "{r:?}");
    let cited_as_orders = r
        .sources
        .iter()
        .all(|s| s.kind == SourceKind::Order as i32 && s.title == format!("Order {}", s.id));
    assert!(cited_as_orders, "{r:?}");
}

/// A query the graph refuses: the fallback says which source and why.
async fn a_refused_query_is_a_fallback_naming_the_source(chat: &mut Chat) {
    let r = ask(chat, "Run my query", graph_hint("MATCH (n RETURN n", &[])).await;
    assert!(r.fallback, "{r:?}");
    let degraded = r.degraded.as_ref().expect("degraded");
    assert_eq!(
        (degraded.target, Code::from(degraded.code)),
        (Target::Graph as i32, Code::InvalidArgument)
    );
    let expected = "I couldn't turn that into a query for the people directory (graph): ";
    assert!(r.answer.starts_with(expected), "{}", r.answer);
}

/// A greeting is not a question the documents answer: "I don't know", not the closest FAQ; a
/// real how-to question still gets its document.
async fn off_topic_is_an_honest_i_dont_know(chat: &mut Chat) {
    let r = ask(chat, "hi", None).await;
    assert!(r.fallback, "{r:?}");
    assert!(r.answer.starts_with("I don't know."), "{}", r.answer);
    assert!(r.sources.is_empty(), "{r:?}");
    let r = ask(chat, "how do I reset my password?", None).await;
    answered(&r, Target::Vector);
    assert_eq!(r.sources[0].id, "doc-007", "{r:?}");
}
