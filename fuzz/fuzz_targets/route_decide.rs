//! Fuzzes routing decisions: any query text with any hints gets a plan or an INVALID_ARGUMENT
//! naming a field, never a panic, and a plan is always well-formed (confidence in (0, 1], a
//! rule name exactly for DECISION_RULE, vector searches with a collection and 1 <= k <= 1000).

#![no_main]

use std::sync::OnceLock;

use chatmesh_proto::router::{Decision, RouteHints};
use chatmesh_router::internals::{BackendCall, Classifier, RouteError, Rules};
use libfuzzer_sys::fuzz_target;

fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::new(Rules::built_in(), None))
}

fn field<'a>(data: &mut &'a [u8]) -> Option<&'a str> {
    let (&len, rest) = data.split_first()?;
    let len = usize::from(len).min(rest.len());
    let (head, tail) = rest.split_at(len);
    *data = tail;
    std::str::from_utf8(head).ok()
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let Some(&flags) = data.first() else { return };
    data = &data[1..];
    let hints = RouteHints {
        target: (flags & 1 != 0).then_some(i32::from(flags >> 5) - 1),
        order_id: (flags & 2 != 0).then_some(i64::from(flags) - 100),
        k: (flags & 4 != 0).then_some(i32::from(flags) * 5 - 10),
        person_name: field(&mut data)
            .filter(|_| flags & 8 != 0)
            .map(str::to_owned),
        cypher: field(&mut data)
            .filter(|_| flags & 16 != 0)
            .map(str::to_owned),
        ..RouteHints::default()
    };
    let query = String::from_utf8_lossy(data);
    match classifier().decide(&query, Some(&hints), "") {
        Ok(plan) => {
            let e = &plan.explanation;
            assert!(e.confidence > 0.0 && e.confidence <= 1.0);
            assert_eq!(e.rule.is_empty(), e.decision != Decision::Rule as i32);
            if let BackendCall::VectorSearch(r) = &plan.call {
                assert!(!r.collection.is_empty() && (1..=1000).contains(&r.k));
            }
        }
        Err(RouteError::InvalidField { field, reason }) => {
            assert!(!field.is_empty() && !reason.is_empty());
        }
    }
});
