//! Classifier and hint handling, one idea per file: the built-in rules on queries without
//! hints ([`rules`]), hints deciding first ([`hints`]), requests refused naming the field
//! ([`validation`]), property tests (any input gets a decision or an INVALID_ARGUMENT, never a
//! panic: [`properties`]), and plans executed against fake backends ([`execute`]). The helpers
//! here are shared by them.

mod execute;
mod hints;
mod properties;
mod rules;
mod validation;

use chatmesh_proto::router::{Decision, RouteHints, Target};

use super::*;

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

fn hints() -> RouteHints {
    RouteHints::default()
}
