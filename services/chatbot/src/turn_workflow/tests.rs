//! The default workflow with a fake router (no sockets): each kind of result becomes a cited
//! answer, failures become fallback answers that name the source, events come in order, and a
//! follow-up question resolves "him" to the last person mentioned.

use std::sync::Arc;
use std::time::Duration;

use chatmesh_proto::chat::SourceKind;
use chatmesh_proto::graph::{self as gpb, ListNeighborsResponse, Neighbor, value::Kind};
use chatmesh_proto::relational::{GetOrderResponse, Order, OrderStatus};
use chatmesh_proto::router::route_response::Result as RouteResult;
use chatmesh_proto::router::{RouteExplanation, RouteRequest, RouteResponse, Target};
use chatmesh_proto::vector::{SearchHit, SearchResponse};
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::chat::{ChatInput, Chatbot};
use crate::router_client::RouterClient;
use crate::store::MemorySessions;
use crate::workflow_engine::{Event, EventKind};

type Answer = Box<dyn Fn(&RouteRequest) -> Result<RouteResponse, tonic::Status> + Send + Sync>;

/// A router that answers with `answer` and remembers what it was asked.
struct FakeRouter {
    asked: Mutex<Vec<RouteRequest>>,
    answer: Answer,
}

#[tonic::async_trait]
impl RouterClient for FakeRouter {
    async fn route(
        &self,
        request: RouteRequest,
        _timeout: Duration,
    ) -> Result<tonic::Response<RouteResponse>, tonic::Status> {
        let answer = (self.answer)(&request);
        self.asked.lock().push(request);
        let mut response = tonic::Response::new(answer?);
        response
            .metadata_mut()
            .insert("server-timing", "graph;dur=1.250".parse().unwrap());
        Ok(response)
    }
}

fn chatbot(answer: Answer) -> (Chatbot, Arc<FakeRouter>) {
    let router = Arc::new(FakeRouter {
        asked: Mutex::new(Vec::new()),
        answer,
    });
    let sessions = Arc::new(MemorySessions::new(Duration::from_secs(60), 100));
    let bot = Chatbot::new(router.clone(), Duration::from_secs(1), 0.225, sessions);
    (bot, router)
}

fn input(message: &str) -> ChatInput {
    ChatInput::new("s1".into(), message.into(), None).unwrap()
}

fn person(id: u64, name: &str) -> gpb::Node {
    gpb::Node {
        id,
        labels: vec!["Person".into()],
        properties: [(
            "name".to_owned(),
            gpb::Value {
                kind: Some(Kind::StringValue(name.into())),
            },
        )]
        .into(),
    }
}

fn rel(id: u64, kind: &str, start: u64, end: u64) -> Option<gpb::Relationship> {
    Some(gpb::Relationship {
        id,
        r#type: kind.into(),
        start_node_id: start,
        end_node_id: end,
        properties: Default::default(),
    })
}

/// Alan Turing (3) is managed by Grace Hopper (2) and manages Ken Thompson (6).
fn alan_neighbors(_: &RouteRequest) -> Result<RouteResponse, tonic::Status> {
    Ok(RouteResponse {
        target: Target::Graph as i32,
        result: Some(RouteResult::GraphNeighbors(ListNeighborsResponse {
            neighbors: vec![
                Neighbor {
                    node: Some(person(2, "Grace Hopper")),
                    depth: 1,
                    relationship: rel(10, "MANAGES", 2, 3),
                },
                Neighbor {
                    node: Some(person(6, "Ken Thompson")),
                    depth: 1,
                    relationship: rel(11, "MANAGES", 3, 6),
                },
            ],
            ..Default::default()
        })),
        explanation: Some(RouteExplanation {
            entities: [("person_name".to_owned(), "Alan Turing".to_owned())].into(),
            ..Default::default()
        }),
        backend_address: "http://graph".into(),
        attempts: 1,
    })
}

#[tokio::test]
async fn a_graph_answer_names_the_manager_and_cites_the_node() {
    let (bot, router) = chatbot(Box::new(alan_neighbors));
    let r = bot
        .chat(input("Who manages  Alan Turing?"), None, None)
        .await
        .unwrap();
    assert_eq!(router.asked.lock()[0].query, "Who manages Alan Turing?");
    assert!(
        r.answer.starts_with("Grace Hopper manages Alan Turing."),
        "{}",
        r.answer
    );
    assert!(!r.fallback);
    assert_eq!(r.target, Target::Graph as i32);
    assert_eq!(r.sources[0].kind, SourceKind::GraphNode as i32);
    assert_eq!(
        (r.sources[0].id.as_str(), r.sources[0].title.as_str()),
        ("2", "Grace Hopper")
    );
    assert!(r.sources.iter().any(|s| s.title == "Ken Thompson"));
}

#[tokio::test]
async fn a_follow_up_resolves_the_person_the_last_answer_named() {
    let (bot, router) = chatbot(Box::new(alan_neighbors));
    bot.chat(input("who manages Alan Turing?"), None, None)
        .await
        .unwrap();
    let session = bot.session("s1").await.unwrap();
    assert_eq!(session.last_entity.unwrap().value, "Grace Hopper");
    bot.chat(input("and who manages her?"), None, None)
        .await
        .unwrap();
    assert_eq!(
        router.asked.lock()[1].query,
        "and who manages Grace Hopper?"
    );
    assert_eq!(bot.session("s1").await.unwrap().turns.len(), 2);
}

#[tokio::test]
async fn documents_and_orders_are_cited_by_id() {
    let (bot, _) = chatbot(Box::new(|r: &RouteRequest| {
        Ok(if r.query.contains("order") {
            RouteResponse {
                target: Target::Relational as i32,
                result: Some(RouteResult::RelationalOrder(GetOrderResponse {
                    order: Some(Order {
                        id: 100001,
                        customer: "Ada Lovelace".into(),
                        product: "4k monitor".into(),
                        quantity: 2,
                        status: OrderStatus::Shipped as i32,
                        total_cents: 77_800,
                        ..Default::default()
                    }),
                })),
                ..Default::default()
            }
        } else {
            RouteResponse {
                target: Target::Vector as i32,
                result: Some(RouteResult::VectorSearch(SearchResponse {
                    hits: vec![
                        SearchHit {
                            id: "doc-007".into(),
                            score: 0.8,
                            text: Some("How do I reset my password? Use the portal.".into()),
                            ..Default::default()
                        },
                        SearchHit {
                            id: "doc-008".into(),
                            score: 0.4,
                            ..Default::default()
                        },
                    ],
                    search_time: None,
                })),
                ..Default::default()
            }
        })
    }));
    let r = bot
        .chat(input("status of order 100001"), None, None)
        .await
        .unwrap();
    assert!(
        r.answer.contains("100001") && r.answer.contains("shipped"),
        "{}",
        r.answer
    );
    assert!(r.answer.contains("778.00"), "{}", r.answer);
    assert_eq!(r.sources[0].kind, SourceKind::Order as i32);
    assert_eq!(r.sources[0].id, "100001");

    let r = bot
        .chat(input("how do I reset my password?"), None, None)
        .await
        .unwrap();
    assert!(r.answer.contains("Use the portal"), "{}", r.answer);
    let ids: Vec<_> = r.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["doc-007", "doc-008"]);
    assert_eq!(r.sources[0].score, Some(0.8));
}

#[tokio::test]
async fn a_backend_down_gives_a_fallback_naming_it() {
    let (bot, _) = chatbot(Box::new(|_: &RouteRequest| {
        Err(tonic::Status::unavailable(
            "relational backend: every address is unavailable",
        ))
    }));
    let r = bot
        .chat(input("status of order 7"), None, None)
        .await
        .unwrap();
    assert!(r.fallback);
    assert!(r.sources.is_empty());
    let d = r.degraded.expect("degradation detail");
    assert_eq!(d.target, Target::Relational as i32);
    assert_eq!(d.code, tonic::Code::Unavailable as i32);
    assert!(r.answer.contains("orders database"), "{}", r.answer);
    assert!(r.answer.contains("unavailable"), "{}", r.answer);
}

#[tokio::test]
async fn not_found_and_empty_results_say_what_was_missing() {
    let (bot, _) = chatbot(Box::new(|r: &RouteRequest| {
        if r.query.contains("order") {
            Err(tonic::Status::not_found("order 999 not found"))
        } else {
            Ok(RouteResponse {
                target: Target::Vector as i32,
                result: Some(RouteResult::VectorSearch(SearchResponse::default())),
                ..Default::default()
            })
        }
    }));
    let r = bot
        .chat(input("status of order 999"), None, None)
        .await
        .unwrap();
    assert!(r.fallback);
    assert!(r.answer.contains("couldn't find order 999"), "{}", r.answer);
    let r = bot.chat(input("how do I fly?"), None, None).await.unwrap();
    assert!(r.fallback && r.degraded.is_none());
    assert!(r.answer.contains("found nothing"), "{}", r.answer);
    assert_eq!(
        r.target,
        Target::Vector as i32,
        "the vector backend did answer"
    );
}

#[tokio::test]
async fn a_spent_deadline_skips_the_router() {
    let (bot, router) = chatbot(Box::new(alan_neighbors));
    let err = bot
        .chat(
            input("who manages Alan Turing?"),
            Some(Instant::now()),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(
        crate::api::status::code(&err),
        tonic::Code::DeadlineExceeded
    );
    assert!(router.asked.lock().is_empty());
}

#[tokio::test]
async fn a_prefix_becomes_a_target_hint() {
    let (bot, router) = chatbot(Box::new(alan_neighbors));
    bot.chat(input("[graph] Alan Turing"), None, None)
        .await
        .unwrap();
    let asked = &router.asked.lock()[0];
    assert_eq!(asked.query, "Alan Turing");
    assert_eq!(
        asked.hints.as_ref().unwrap().target,
        Some(Target::Graph as i32)
    );
    assert_eq!(asked.session_id, "s1");
}

#[tokio::test]
async fn events_follow_the_workflow_in_order() {
    let (bot, _) = chatbot(Box::new(alan_neighbors));
    let mut events: Vec<Event> = Vec::new();
    let mut observer = |e: Event| events.push(e);
    bot.chat(input("who manages Alan Turing?"), None, Some(&mut observer))
        .await
        .unwrap();
    let seen: Vec<_> = events.iter().map(|e| (e.step, e.node, e.kind)).collect();
    use EventKind::{Finished, Started};
    assert_eq!(
        seen,
        [
            (1, "understand", Started),
            (1, "understand", Finished),
            (2, "route", Started),
            (2, "route", Finished),
            (3, "respond", Started),
            (3, "respond", Finished),
        ]
    );
    assert_eq!(events[1].delta["query"], "who manages Alan Turing?");
    assert_eq!(events[3].delta["target"], "TARGET_GRAPH");
    assert_eq!(
        events[3].delta["backend_ms"], 1.25,
        "the router's server-timing"
    );
    assert!(
        events[5].delta["answer"]
            .as_str()
            .unwrap()
            .contains("Grace Hopper")
    );
}

#[tokio::test]
async fn documents_below_the_relevance_threshold_are_an_honest_i_dont_know() {
    let (bot, _) = chatbot(Box::new(|_| {
        Ok(RouteResponse {
            target: Target::Vector as i32,
            result: Some(RouteResult::VectorSearch(SearchResponse {
                hits: vec![SearchHit {
                    id: "doc-004".into(),
                    score: 0.13,
                    text: Some("How do I roll back a deployment? Run the rollback job.".into()),
                    ..Default::default()
                }],
                search_time: None,
            })),
            ..Default::default()
        })
    }));
    let r = bot.chat(input("hi"), None, None).await.unwrap();
    assert!(r.fallback, "{}", r.answer);
    assert!(r.answer.starts_with("I don't know."), "{}", r.answer);
    assert!(
        r.answer.contains("doc-004") && r.answer.contains("0.13"),
        "{}",
        r.answer
    );
    assert!(!r.answer.contains("roll back"), "{}", r.answer);
    assert!(r.sources.is_empty());
}

#[test]
fn the_backend_time_is_read_from_server_timing_or_left_out() {
    let time = |entry: &str| {
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert("server-timing", entry.parse().unwrap());
        super::backend_ms(&metadata)
    };
    assert_eq!(time("graph;dur=0.412"), Some(0.412));
    assert_eq!(time("vector;dur=12;desc=\"search\""), Some(12.0));
    assert_eq!(time("graph;dur=NaN"), None);
    assert_eq!(time("graph;dur="), None);
    assert_eq!(time("graph"), None);
    assert_eq!(
        super::backend_ms(&tonic::metadata::MetadataMap::new()),
        None
    );
}
