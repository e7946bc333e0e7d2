//! Fuzzes routing from a whole RouteRequest as the gRPC server decodes it (query, session id
//! and every hint, parameters included; `route_decide` builds only some hints by hand): any
//! request gets a plan or an INVALID_ARGUMENT naming a field, never a panic, and a plan is
//! well-formed (confidence in (0, 1], a rule name exactly for DECISION_RULE, hints honoured:
//! a set `hints.k` and `hints.collection` are the search's, a set `hints.order_id` is the order fetched when no
//! target or Cypher overrides it).

#![no_main]

use std::sync::OnceLock;

use chatmesh_proto::router::{Decision, RouteRequest};
use chatmesh_router::internals::{BackendCall, Classifier, RouteError, Rules};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::new(Rules::built_in(), None))
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = RouteRequest::decode(data) else {
        return;
    };
    let hints = request.hints.clone().unwrap_or_default();
    match classifier().decide(&request.query, request.hints.as_ref(), &request.session_id) {
        Ok(plan) => {
            let e = &plan.explanation;
            assert!(e.confidence > 0.0 && e.confidence <= 1.0);
            assert_eq!(e.rule.is_empty(), e.decision != Decision::Rule as i32);
            match &plan.call {
                BackendCall::VectorSearch(r) => {
                    assert!(!r.collection.is_empty() && (1..=1000).contains(&r.k));
                    if let Some(k) = hints.k {
                        assert_eq!(r.k, k);
                    }
                    if let Some(collection) = &hints.collection {
                        assert_eq!(&r.collection, collection);
                    }
                }
                BackendCall::GetOrder(r) => {
                    assert!(r.id >= 1);
                    if hints.target.is_none() && hints.cypher.is_none() {
                        if let Some(id) = hints.order_id {
                            assert_eq!(r.id, id);
                        }
                    }
                }
                _ => {}
            }
        }
        Err(RouteError::InvalidField { field, reason }) => {
            assert!(field == "query" || field == "session_id" || field.starts_with("hints"));
            assert!(!reason.is_empty());
        }
    }
});
