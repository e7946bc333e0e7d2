//! Classifier and hint handling: table-driven cases, property tests (any input gets a decision
//! or an INVALID_ARGUMENT, never a panic), and plans executed against fake backends.

use chatmesh_proto::graph::Direction;
use chatmesh_proto::router::{Decision, RouteHints, Target, route_response};
use proptest::prelude::*;

use super::*;
use crate::backends::CallContext;
use crate::backends::fake::Fake;

/// The built-in classifier, compiled once (regexes are costly to build per case).
fn classifier() -> &'static Classifier {
    static CLASSIFIER: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::new(Rules::built_in(), None))
}

/// What a decision looks like in a table row: target, decision, rule, and a fact about the call.
fn summary(plan: &Plan) -> (Target, Decision, String, String) {
    let e = &plan.explanation;
    let call = match &plan.call {
        BackendCall::GraphQuery(r) => format!("cypher {}", r.cypher),
        BackendCall::PersonNeighbors {
            person_name,
            direction,
            relationship_types,
        } => format!(
            "neighbors {person_name} {} {}",
            direction.as_str_name(),
            relationship_types.join(",")
        ),
        BackendCall::VectorSearch(r) => format!("search {} k={}", r.collection, r.k),
        BackendCall::GetOrder(r) => format!("order {}", r.id),
        BackendCall::ListOrders(r) => format!(
            "orders of {}",
            r.filter
                .as_ref()
                .map(|f| f.customer.as_str())
                .unwrap_or("*")
        ),
    };
    (
        plan.call.target(),
        Decision::try_from(e.decision).unwrap(),
        e.rule.clone(),
        call,
    )
}

#[test]
fn queries_without_hints() {
    use Decision::{Fallback, Rule};
    use Target::{Graph, Relational, Vector};
    let cases: &[(&str, Target, Decision, &str, &str)] = &[
        (
            "status of order 100001",
            Relational,
            Rule,
            "order_id_pattern",
            "order 100001",
        ),
        (
            "where is my order #100002?",
            Relational,
            Rule,
            "order_id_pattern",
            "order 100002",
        ),
        (
            "Order no. 42 please",
            Relational,
            Rule,
            "order_id_pattern",
            "order 42",
        ),
        (
            "orders of customer cust-0293",
            Relational,
            Rule,
            "customer_orders",
            "orders of cust-0293",
        ),
        (
            "what did Ada Lovelace order?",
            Relational,
            Rule,
            "person_orders",
            "orders of Ada Lovelace",
        ),
        (
            "who manages Grace Hopper?",
            Graph,
            Rule,
            "manager_of_person",
            "neighbors Grace Hopper DIRECTION_INCOMING MANAGES",
        ),
        (
            "Who is Alan Turing's boss",
            Graph,
            Rule,
            "manager_of_person",
            "neighbors Alan Turing DIRECTION_INCOMING MANAGES",
        ),
        (
            "who reports to Alan Turing",
            Graph,
            Rule,
            "reports_of_person",
            "neighbors Alan Turing DIRECTION_OUTGOING MANAGES",
        ),
        (
            "whom does Grace Hopper manage",
            Graph,
            Rule,
            "reports_of_person",
            "neighbors Grace Hopper DIRECTION_OUTGOING MANAGES",
        ),
        (
            "tell me about Margaret Hamilton",
            Graph,
            Rule,
            "person_mentioned",
            "neighbors Margaret Hamilton DIRECTION_BOTH ",
        ),
        (
            "How do I reset my password?",
            Vector,
            Rule,
            "faq_question",
            "search docs k=5",
        ),
        (
            "what is the refund policy",
            Vector,
            Rule,
            "faq_question",
            "search docs k=5",
        ),
        ("refund policy", Vector, Fallback, "", "search docs k=5"),
        ("¿qué? 🤖", Vector, Fallback, "", "search docs k=5"),
        // An id too large for i64 is not an order id: the order rule does not match.
        (
            "order 999999999999999999",
            Relational,
            Rule,
            "order_id_pattern",
            "order 999999999999999999",
        ),
    ];
    let c = classifier();
    for (query, target, decision, rule, call) in cases {
        let plan = c.decide(query, None, "").unwrap();
        assert_eq!(
            summary(&plan),
            (*target, *decision, (*rule).to_owned(), (*call).to_owned()),
            "{query}"
        );
        let e = &plan.explanation;
        assert!(e.confidence > 0.0 && e.confidence <= 1.0, "{query}");
        assert!(!e.reason.is_empty(), "{query}");
    }
}

#[test]
fn extracted_entities_are_reported() {
    let c = classifier();
    let plan = c.decide("status of order 100001", None, "s1").unwrap();
    assert_eq!(plan.explanation.entities["order_id"], "100001");
    let plan = c.decide("who manages Grace Hopper?", None, "").unwrap();
    assert_eq!(plan.explanation.entities["person_name"], "Grace Hopper");
    let plan = c.decide("how do I pay", None, "").unwrap();
    assert_eq!(plan.explanation.entities["collection"], "docs");
}

fn hints() -> RouteHints {
    RouteHints::default()
}

#[test]
fn hints_decide_first() {
    use Decision::{Hint, Rule};
    use Target::{Graph, Relational, Vector};
    let c = classifier();
    let target = |t: Target| Some(t as i32);
    let cases: Vec<(&str, RouteHints, Target, Decision, &str, &str)> = vec![
        (
            "status of order 100001",
            RouteHints {
                target: target(Vector),
                ..hints()
            },
            Vector,
            Hint,
            "",
            "search docs k=5",
        ),
        (
            "anything",
            RouteHints {
                target: target(Vector),
                collection: Some("faq".into()),
                k: Some(3),
                ..hints()
            },
            Vector,
            Hint,
            "",
            "search faq k=3",
        ),
        (
            "",
            RouteHints {
                target: target(Graph),
                cypher: Some("MATCH (n) RETURN n".into()),
                ..hints()
            },
            Graph,
            Hint,
            "",
            "cypher MATCH (n) RETURN n",
        ),
        (
            "",
            RouteHints {
                target: target(Graph),
                person_name: Some("Grace Hopper".into()),
                ..hints()
            },
            Graph,
            Hint,
            "",
            "neighbors Grace Hopper DIRECTION_BOTH ",
        ),
        (
            "who manages Grace Hopper",
            RouteHints {
                target: target(Graph),
                ..hints()
            },
            Graph,
            Hint,
            "",
            "neighbors Grace Hopper DIRECTION_INCOMING MANAGES",
        ),
        (
            "",
            RouteHints {
                target: target(Relational),
                order_id: Some(7),
                ..hints()
            },
            Relational,
            Hint,
            "",
            "order 7",
        ),
        (
            "",
            RouteHints {
                target: target(Relational),
                customer: Some("bob".into()),
                ..hints()
            },
            Relational,
            Hint,
            "",
            "orders of bob",
        ),
        (
            "where is #100002",
            RouteHints {
                target: target(Relational),
                ..hints()
            },
            Relational,
            Hint,
            "",
            "order 100002",
        ),
        (
            "how do I pay",
            RouteHints {
                cypher: Some("RETURN 1".into()),
                ..hints()
            },
            Graph,
            Rule,
            "hint_cypher",
            "cypher RETURN 1",
        ),
        (
            "",
            RouteHints {
                order_id: Some(100001),
                ..hints()
            },
            Relational,
            Rule,
            "hint_order_id",
            "order 100001",
        ),
        (
            "",
            RouteHints {
                customer: Some("cust-1".into()),
                ..hints()
            },
            Relational,
            Rule,
            "hint_customer",
            "orders of cust-1",
        ),
        (
            "",
            RouteHints {
                person_name: Some("Ada Lovelace".into()),
                ..hints()
            },
            Graph,
            Rule,
            "hint_person_name",
            "neighbors Ada Lovelace DIRECTION_BOTH ",
        ),
        (
            "refunds",
            RouteHints {
                collection: Some("faq".into()),
                ..hints()
            },
            Vector,
            Decision::Fallback,
            "",
            "search faq k=5",
        ),
    ];
    for (query, hints, target, decision, rule, call) in cases {
        let plan = c.decide(query, Some(&hints), "").unwrap();
        assert_eq!(
            summary(&plan),
            (target, decision, rule.to_owned(), call.to_owned()),
            "{query} {hints:?}"
        );
        if decision == Hint {
            assert_eq!(plan.explanation.confidence, 1.0);
        }
    }
}

#[test]
fn invalid_requests_name_the_field() {
    let c = classifier();
    let long = "x".repeat(MAX_QUERY_BYTES + 1);
    let long_session = "s".repeat(129);
    let cases: Vec<(&str, RouteHints, &str, &str)> = vec![
        (&long, hints(), "", "query"),
        ("", hints(), "", "query"),
        ("   ", hints(), "", "query"),
        ("hi", hints(), &long_session, "session_id"),
        (
            "hi",
            RouteHints {
                target: Some(0),
                ..hints()
            },
            "",
            "hints.target",
        ),
        (
            "hi",
            RouteHints {
                target: Some(99),
                ..hints()
            },
            "",
            "hints.target",
        ),
        (
            "hi",
            RouteHints {
                order_id: Some(0),
                ..hints()
            },
            "",
            "hints.order_id",
        ),
        (
            "hi",
            RouteHints {
                k: Some(0),
                ..hints()
            },
            "",
            "hints.k",
        ),
        (
            "hi",
            RouteHints {
                k: Some(1001),
                ..hints()
            },
            "",
            "hints.k",
        ),
        (
            "hi",
            RouteHints {
                cypher: Some(" ".into()),
                ..hints()
            },
            "",
            "hints.cypher",
        ),
        (
            "hi",
            RouteHints {
                customer: Some("".into()),
                ..hints()
            },
            "",
            "hints.customer",
        ),
        (
            "hi",
            RouteHints {
                target: Some(Target::Graph as i32),
                ..hints()
            },
            "",
            "hints",
        ),
        (
            "hi",
            RouteHints {
                target: Some(Target::Relational as i32),
                ..hints()
            },
            "",
            "hints",
        ),
        (
            "",
            RouteHints {
                target: Some(Target::Vector as i32),
                ..hints()
            },
            "",
            "query",
        ),
    ];
    for (query, hints, session, field) in cases {
        match c.decide(query, Some(&hints), session) {
            Err(RouteError::InvalidField { field: f, .. }) => {
                assert_eq!(f, field, "{query:.20} {hints:?}")
            }
            Ok(plan) => panic!("{query:.20} {hints:?} was routed: {plan:?}"),
        }
    }
}

#[test]
fn custom_rules_and_default_collection() {
    let rules = Rules::parse(
        r#"
[defaults]
collection = "faq"
k = 7

[[rules]]
name = "team_of"
action = "graph_query"
patterns = ['(?i)team\s+(?P<team>[a-z-]+)']
cypher = "MATCH (t:Team {name: $team}) RETURN t"
confidence = 0.8
"#,
    )
    .unwrap();
    let c = Classifier::new(rules.clone(), None);
    let plan = c.decide("who is in team atlas", None, "").unwrap();
    match &plan.call {
        BackendCall::GraphQuery(r) => {
            assert_eq!(r.cypher, "MATCH (t:Team {name: $team}) RETURN t");
            assert!(r.parameters.contains_key("team"));
            assert_eq!(
                r.access_mode,
                chatmesh_proto::graph::AccessMode::Read as i32
            );
        }
        other => panic!("{other:?}"),
    }
    let plan = c.decide("refunds", None, "").unwrap();
    assert_eq!(summary(&plan).3, "search faq k=7");
    let c = Classifier::new(rules, Some("docs2".into()));
    assert_eq!(
        summary(&c.decide("refunds", None, "").unwrap()).3,
        "search docs2 k=7"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_query_gets_a_decision_or_a_field_error(
        query in ".{0,300}",
        target in proptest::option::of(-1i32..5),
        order_id in proptest::option::of(any::<i64>()),
        k in proptest::option::of(-5i32..1100),
        person in proptest::option::of("[A-Za-z ]{0,20}"),
        customer in proptest::option::of("[a-z0-9-]{0,10}"),
    ) {
        let hints = RouteHints {
            target,
            order_id,
            k,
            person_name: person,
            customer,
            ..RouteHints::default()
        };
        match classifier().decide(&query, Some(&hints), "") {
            Ok(plan) => {
                let e = &plan.explanation;
                prop_assert!(e.confidence > 0.0 && e.confidence <= 1.0);
                prop_assert!(e.decision != Decision::Unspecified as i32);
                prop_assert_eq!(e.rule.is_empty(), e.decision != Decision::Rule as i32);
                if let BackendCall::VectorSearch(r) = &plan.call {
                    prop_assert!(!r.collection.is_empty());
                    prop_assert!((1..=1000).contains(&r.k));
                }
                if let BackendCall::GetOrder(r) = &plan.call {
                    prop_assert!(r.id >= 1);
                }
            }
            Err(RouteError::InvalidField { field, reason }) => {
                prop_assert!(!field.is_empty() && !reason.is_empty());
            }
        }
    }

    #[test]
    fn text_around_an_order_id_still_routes_to_it(
        before in "[a-z ]{0,30}",
        id in 1i64..=999_999_999_999,
        after in "[a-z ?]{0,30}",
    ) {
        let query = format!("{before} order {id} {after}");
        let plan = classifier().decide(&query, None, "").unwrap();
        prop_assert_eq!(plan.call, BackendCall::GetOrder(chatmesh_proto::relational::GetOrderRequest { id }));
    }
}

async fn route(
    fake: &Fake,
    query: &str,
    hints: Option<RouteHints>,
) -> Result<chatmesh_proto::router::RouteResponse, tonic::Status> {
    let plan = classifier().decide(query, hints.as_ref(), "").unwrap();
    execute(&fake.backends(), &CallContext::default(), plan).await
}

#[tokio::test]
async fn plans_run_against_the_backends() {
    let fake = Fake::default();
    let response = route(&fake, "status of order 100001", None).await.unwrap();
    assert_eq!(response.target, Target::Relational as i32);
    match response.result {
        Some(route_response::Result::RelationalOrder(r)) => {
            assert_eq!(r.order.unwrap().id, 100_001)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(response.attempts, 1);

    let response = route(&fake, "who manages Grace Hopper?", None)
        .await
        .unwrap();
    match response.result {
        Some(route_response::Result::GraphNeighbors(r)) => assert!(!r.neighbors.is_empty()),
        other => panic!("{other:?}"),
    }
    let calls = fake.calls();
    let neighbors = calls
        .iter()
        .find(|(m, _)| *m == "graph.list_neighbors")
        .unwrap();
    assert!(neighbors.1.contains("node_id: 2"), "{neighbors:?}");
    assert!(
        neighbors
            .1
            .contains(&format!("direction: {:?}", Direction::Incoming)),
        "{neighbors:?}"
    );

    let response = route(&fake, "how do I reset my password", None)
        .await
        .unwrap();
    match response.result {
        Some(route_response::Result::VectorSearch(r)) => {
            assert_eq!(
                r.hits[0].text.as_deref(),
                Some("how do I reset my password")
            )
        }
        other => panic!("{other:?}"),
    }
    let response = route(&fake, "orders of customer bob", None).await.unwrap();
    match response.result {
        Some(route_response::Result::RelationalOrders(r)) => {
            assert!(r.orders.iter().all(|o| o.customer == "bob"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn backend_errors_come_back_unchanged() {
    let fake = Fake::default();
    let err = route(&fake, "status of order 5", None).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("order 5"), "{err:?}");
    let err = route(&fake, "who manages Nobody Known", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("Nobody Known"), "{err:?}");
}
