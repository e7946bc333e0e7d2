//! Property test (a stand-in until the cargo-fuzz target exists): the parser never panics.
//! Arbitrary text and soups of Cypher tokens either parse or fail with INVALID_ARGUMENT.

use chatmesh_graph::internals::{GraphError, parse};
use proptest::prelude::*;

const TOKENS: [&str; 48] = [
    "MATCH", "OPTIONAL", "WHERE", "RETURN", "WITH", "CREATE", "MERGE", "ON", "SET", "REMOVE",
    "DELETE", "DETACH", "ORDER", "BY", "SKIP", "LIMIT", "DISTINCT", "AS", "AND", "OR", "NOT", "IS",
    "NULL", "IN", "STARTS", "ENDS", "CONTAINS", "count", "(", ")", "[", "]", "{", "}", "-", "->",
    "<-", ":", "*", "..", ",", ".", "=", "n", "m", "$p", "'s'", "1",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..30).prop_map(|t| t.join(" "))
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(_) | Err(GraphError::InvalidArgument(_)) => Ok(()),
        Err(other) => Err(TestCaseError::fail(format!("{text:?}: {other:?}"))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn token_soup_never_panics(text in soup()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text)?;
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for open in ["(", "[", "{a:", "NOT ", "-"] {
        let text = format!("RETURN {}", open.repeat(100_000));
        assert!(parse(&text).is_err());
    }
}

#[test]
fn the_longest_accepted_chains_evaluate_without_exhausting_the_stack() {
    use std::collections::HashMap;

    use chatmesh_graph::internals::{Budget, Graph, GraphState, execute};

    let state = GraphState::new();
    let mut deepest = 0;
    for terms in [10, 50, 90, 98, 99, 100, 101, 500, 20_000] {
        let text = format!("RETURN {}", vec!["1"; terms].join(" + "));
        let Ok(statement) = parse(&text) else {
            continue;
        };
        deepest = terms;
        let output = execute(
            Graph::Read(&state),
            &statement,
            &HashMap::new(),
            &Budget::new(None),
            None,
        )
        .unwrap();
        assert_eq!(output.rows.len(), 1);
    }
    assert!((90..500).contains(&deepest), "{deepest}");
    let path = format!("MATCH (a){} RETURN a", "-->()".repeat(101));
    assert!(parse(&path).is_err());
    assert!(parse("MATCH (a)-[*1..101]->(b) RETURN a").is_err());
    assert!(parse("MATCH (a)-[*1..100]->(b) RETURN a").is_ok());
}
