//! Hints decide first: an explicit `hints.target` is obeyed (decision HINT, confidence 1),
//! then structured hints without a target pick their backend by the `hint_*` rules.

use chatmesh_proto::router::{Decision, RouteHints, Target};

use super::{classifier, hints, summary};

/// `hints.target` wins over the query text, and the other hints shape the call.
#[test]
fn an_explicit_graph_or_vector_target_is_obeyed() {
    use Decision::Hint;
    use Target::{Graph, Vector};
    let target = |t: Target| Some(t as i32);
    assert_decisions(vec![
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
    ]);
}

/// A relational target takes its order id or customer from the hints or the text.
#[test]
fn an_explicit_relational_target_is_obeyed() {
    use Decision::Hint;
    use Target::Relational;
    let target = |t: Target| Some(t as i32);
    assert_decisions(vec![
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
    ]);
}

/// Without a target, a structured hint picks the backend by its `hint_*` rule.
#[test]
fn structured_hints_without_a_target_pick_the_backend() {
    use Decision::Rule;
    use Target::{Graph, Relational, Vector};
    assert_decisions(vec![
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
    ]);
}

/// Asserts each case's decision: target, decision, rule and call; a HINT is certain.
fn assert_decisions(cases: Vec<(&str, RouteHints, Target, Decision, &str, &str)>) {
    let c = classifier();
    for (query, hints, target, decision, rule, call) in cases {
        let plan = c.decide(query, Some(&hints), "").unwrap();
        assert_eq!(
            summary(&plan),
            (target, decision, rule.to_owned(), call.to_owned()),
            "{query} {hints:?}"
        );
        if decision == Decision::Hint {
            assert_eq!(plan.explanation.confidence, 1.0);
        }
    }
}
