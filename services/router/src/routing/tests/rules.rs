//! The built-in rules on queries without hints, the entities a decision reports, and a custom
//! rules file with its own default collection.

use chatmesh_proto::router::{Decision, Target};

use super::{classifier, summary};
use crate::routing::{BackendCall, Classifier, Rules};
use Decision::{Fallback, Rule};
use Target::{Graph, Relational, Vector};

/// Queries and what the built-in rules decide for them: target, decision, rule, call.
const QUERIES: &[(&str, Target, Decision, &str, &str)] = &[
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

#[test]
fn queries_without_hints() {
    let cases = QUERIES;
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
