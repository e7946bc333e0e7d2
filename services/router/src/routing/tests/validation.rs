//! Requests the classifier refuses, always naming the field as the contract does (the gRPC
//! edge turns these into INVALID_ARGUMENT).

use chatmesh_proto::router::{RouteHints, Target};

use super::{classifier, hints};
use crate::routing::{MAX_QUERY_BYTES, RouteError};

/// Asserts that each case is refused, naming its field.
fn assert_refused(cases: Vec<(&str, RouteHints, &str, &str)>) {
    let c = classifier();
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
fn bad_queries_sessions_and_targets_name_the_field() {
    let long = "x".repeat(MAX_QUERY_BYTES + 1);
    let long_session = "s".repeat(129);
    assert_refused(vec![
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
    ]);
}

#[test]
fn bad_hint_values_name_the_hint() {
    assert_refused(vec![
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
    ]);
}
