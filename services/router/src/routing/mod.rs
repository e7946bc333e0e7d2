//! Routing: from a query text and hints to one backend call and an explanation of why.
//!
//! The order of decisions is the contract's: (1) `hints.target` (decision HINT); (2) structured
//! hints without a target (cypher, order id, customer, person name: decision RULE with rule
//! names `hint_*`), then the configured rules in order (decision RULE); (3) a vector search with
//! the query text on the default collection (decision FALLBACK).
//!
//! [`Classifier::decide`] is pure (no I/O), so every path is unit-tested; [`execute`] runs the
//! decided call against the [`crate::backends::Backends`] traits.

mod execute;
pub(crate) mod extract;
pub(crate) mod rules;

use std::collections::HashMap;

use chatmesh_proto::graph::{AccessMode, Direction, ExecuteQueryRequest, Value, value};
use chatmesh_proto::relational::{GetOrderRequest, ListOrdersRequest, OrderFilter};
use chatmesh_proto::router::{Decision, RouteExplanation, RouteHints, Target};
use chatmesh_proto::vector::{SearchRequest, search_request};

pub(crate) use execute::execute;
pub use rules::{Rules, RulesError};

use rules::{Action, Rule, Walk};

/// The longest query accepted, in bytes.
pub(crate) const MAX_QUERY_BYTES: usize = 8192;
/// The longest session id accepted, in bytes.
pub(crate) const MAX_SESSION_BYTES: usize = 128;

/// A Route request that cannot be routed; always the caller's fault (INVALID_ARGUMENT).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RouteError {
    /// A field is out of its allowed range or shape.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field, as named in the proto (`query`, `hints.order_id`, ...).
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> RouteError {
    RouteError::InvalidField {
        field,
        reason: reason.into(),
    }
}

/// The backend call a decision leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendCall {
    /// Graph ExecuteQuery, read-only.
    GraphQuery(ExecuteQueryRequest),
    /// Graph: look up the Person by name, then ListNeighbors from it.
    PersonNeighbors {
        /// The person's `name` property.
        person_name: String,
        /// Which relationships to follow.
        direction: Direction,
        /// Relationship types to follow (empty: all).
        relationship_types: Vec<String>,
    },
    /// Vector Search.
    VectorSearch(SearchRequest),
    /// Relational GetOrder.
    GetOrder(GetOrderRequest),
    /// Relational ListOrders.
    ListOrders(ListOrdersRequest),
}

impl BackendCall {
    /// The backend this call goes to.
    pub fn target(&self) -> Target {
        match self {
            Self::GraphQuery(_) | Self::PersonNeighbors { .. } => Target::Graph,
            Self::VectorSearch(_) => Target::Vector,
            Self::GetOrder(_) | Self::ListOrders(_) => Target::Relational,
        }
    }
}

/// A routing decision: the call to make and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The backend call.
    pub call: BackendCall,
    /// Why, for the response.
    pub explanation: RouteExplanation,
}

/// Decides where queries go, from a validated rule set.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Rules,
}

/// What was extracted from the query text and hints.
#[derive(Debug, Default)]
struct Entities(HashMap<String, String>);

impl Entities {
    fn get(&self, kind: &str) -> Option<&str> {
        self.0.get(kind).map(String::as_str)
    }

    fn set(&mut self, kind: &str, value: impl Into<String>) {
        self.0.insert(kind.to_owned(), value.into());
    }
}

impl Classifier {
    /// A classifier over these rules; `default_collection` overrides the rules' default.
    pub fn new(mut rules: Rules, default_collection: Option<String>) -> Self {
        if let Some(collection) = default_collection {
            rules.defaults.collection = collection;
        }
        Self { rules }
    }

    /// The rule set in use.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Decides the backend call for a Route request. Never panics; every input gets either a
    /// plan or an INVALID_ARGUMENT reason.
    pub fn decide(
        &self,
        query: &str,
        hints: Option<&RouteHints>,
        session_id: &str,
    ) -> Result<Plan, RouteError> {
        let default_hints = RouteHints::default();
        let hints = hints.unwrap_or(&default_hints);
        validate(query, hints, session_id)?;
        let mut entities = Entities::default();
        if let Some(name) = extract::person_name(query) {
            entities.set("person_name", name);
        }
        if let Some(collection) = &hints.collection {
            entities.set("collection", collection.clone());
        }
        if let Some(target) = hints.target {
            let target = Target::try_from(target)
                .ok()
                .filter(|t| *t != Target::Unspecified)
                .ok_or_else(|| {
                    invalid(
                        "hints.target",
                        format!("must be GRAPH, VECTOR or RELATIONAL, got {target}"),
                    )
                })?;
            return self.by_target(target, query, hints, entities);
        }
        if let Some(plan) = self.by_structured_hints(hints, &mut entities) {
            return Ok(plan);
        }
        for rule in &self.rules.rules {
            if let Some(plan) = self.try_rule(rule, query, hints, &entities) {
                return Ok(plan);
            }
        }
        self.fallback(query, hints, entities)
    }

    fn by_target(
        &self,
        target: Target,
        query: &str,
        hints: &RouteHints,
        mut entities: Entities,
    ) -> Result<Plan, RouteError> {
        let reason = format!("hints.target is {}", target.as_str_name());
        let hinted = |call: BackendCall, entities: Entities| Plan {
            call,
            explanation: explanation(Decision::Hint, "", 1.0, reason.clone(), entities),
        };
        let rules_for = |actions: &[Action]| {
            self.rules
                .rules
                .iter()
                .filter(|r| actions.contains(&r.action))
                .find_map(|r| self.try_rule(r, query, hints, &entities))
        };
        match target {
            Target::Graph => {
                if let Some(cypher) = &hints.cypher {
                    return Ok(hinted(cypher_call(cypher, &hints.parameters), entities));
                }
                if let Some(name) = &hints.person_name {
                    entities.set("person_name", name.clone());
                    return Ok(hinted(neighbors_call(name, Walk::Both, &[]), entities));
                }
                if let Some(plan) = rules_for(&[Action::PersonNeighbors, Action::GraphQuery]) {
                    return Ok(hinted(plan.call, Entities(plan.explanation.entities)));
                }
                if let Some(name) = entities.get("person_name").map(str::to_owned) {
                    return Ok(hinted(neighbors_call(&name, Walk::Both, &[]), entities));
                }
                Err(invalid(
                    "hints",
                    "target GRAPH needs hints.cypher, hints.person_name or a person's name in the query",
                ))
            }
            Target::Relational => {
                if let Some(id) = hints.order_id {
                    entities.set("order_id", id.to_string());
                    return Ok(hinted(
                        BackendCall::GetOrder(GetOrderRequest { id }),
                        entities,
                    ));
                }
                if let Some(customer) = &hints.customer {
                    entities.set("customer", customer.clone());
                    return Ok(hinted(list_orders_call(Some(customer)), entities));
                }
                if let Some(plan) = rules_for(&[Action::GetOrder, Action::ListOrders]) {
                    return Ok(hinted(plan.call, Entities(plan.explanation.entities)));
                }
                Err(invalid(
                    "hints",
                    "target RELATIONAL needs hints.order_id, hints.customer or an order id in the query",
                ))
            }
            Target::Vector | Target::Unspecified => {
                if query.trim().is_empty() {
                    return Err(invalid(
                        "query",
                        "must not be empty for a VECTOR search (it is the search text)",
                    ));
                }
                let call = self.search_call(query, hints, None);
                if let BackendCall::VectorSearch(r) = &call {
                    entities.set("collection", r.collection.clone());
                }
                Ok(hinted(call, entities))
            }
        }
    }

    fn by_structured_hints(&self, hints: &RouteHints, entities: &mut Entities) -> Option<Plan> {
        let (rule, reason, call) = if let Some(cypher) = &hints.cypher {
            (
                "hint_cypher",
                "hints.cypher is set".to_owned(),
                cypher_call(cypher, &hints.parameters),
            )
        } else if let Some(id) = hints.order_id {
            entities.set("order_id", id.to_string());
            (
                "hint_order_id",
                format!("hints.order_id is {id}"),
                BackendCall::GetOrder(GetOrderRequest { id }),
            )
        } else if let Some(customer) = &hints.customer {
            entities.set("customer", customer.clone());
            (
                "hint_customer",
                "hints.customer is set".to_owned(),
                list_orders_call(Some(customer)),
            )
        } else if let Some(name) = &hints.person_name {
            entities.set("person_name", name.clone());
            (
                "hint_person_name",
                "hints.person_name is set".to_owned(),
                neighbors_call(name, Walk::Both, &[]),
            )
        } else {
            return None;
        };
        Some(Plan {
            call,
            explanation: explanation(Decision::Rule, rule, 1.0, reason, std::mem::take(entities)),
        })
    }

    fn try_rule(
        &self,
        rule: &Rule,
        query: &str,
        hints: &RouteHints,
        entities: &Entities,
    ) -> Option<Plan> {
        let found = rule.triggers(query)?;
        let mut entities = Entities(entities.0.clone());
        for (kind, value) in found.captures {
            entities.set(&kind, value);
        }
        if rule
            .requires
            .iter()
            .any(|kind| entities.get(kind).is_none())
        {
            return None;
        }
        let call = match rule.action {
            Action::GetOrder => {
                let id: i64 = entities
                    .get("order_id")?
                    .parse()
                    .ok()
                    .filter(|id| *id >= 1)?;
                BackendCall::GetOrder(GetOrderRequest { id })
            }
            Action::ListOrders => {
                let customer = entities
                    .get("customer")
                    .or_else(|| entities.get("person_name"))
                    .map(str::to_owned);
                if let Some(customer) = &customer {
                    entities.set("customer", customer.clone());
                }
                list_orders_call(customer.as_deref())
            }
            Action::PersonNeighbors => neighbors_call(
                entities.get("person_name")?,
                rule.direction,
                &rule.relationship_types,
            ),
            Action::GraphQuery => {
                let parameters = entities
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), string_value(v)))
                    .collect();
                cypher_call(rule.cypher.as_deref()?, &parameters)
            }
            Action::VectorSearch => {
                if query.trim().is_empty() {
                    return None;
                }
                let call = self.search_call(query, hints, Some(rule));
                if let BackendCall::VectorSearch(r) = &call {
                    entities.set("collection", r.collection.clone());
                }
                call
            }
        };
        let reason = format!("rule '{}' matched", rule.name);
        Some(Plan {
            call,
            explanation: explanation(
                Decision::Rule,
                &rule.name,
                rule.confidence,
                reason,
                entities,
            ),
        })
    }

    fn fallback(
        &self,
        query: &str,
        hints: &RouteHints,
        mut entities: Entities,
    ) -> Result<Plan, RouteError> {
        if query.trim().is_empty() {
            return Err(invalid(
                "query",
                "is empty and the hints do not determine a backend request",
            ));
        }
        let call = self.search_call(query, hints, None);
        if let BackendCall::VectorSearch(r) = &call {
            entities.set("collection", r.collection.clone());
        }
        Ok(Plan {
            call,
            explanation: explanation(
                Decision::Fallback,
                "",
                self.rules.defaults.fallback_confidence,
                "no hint or rule matched: vector search with the query text".into(),
                entities,
            ),
        })
    }

    fn search_call(&self, query: &str, hints: &RouteHints, rule: Option<&Rule>) -> BackendCall {
        let collection = hints
            .collection
            .clone()
            .or_else(|| rule.and_then(|r| r.collection.clone()))
            .unwrap_or_else(|| self.rules.defaults.collection.clone());
        let k = hints
            .k
            .or_else(|| rule.and_then(|r| r.k))
            .unwrap_or(self.rules.defaults.k);
        BackendCall::VectorSearch(SearchRequest {
            collection,
            query: Some(search_request::Query::NearText(query.to_owned())),
            k,
            include_payload: true,
            ..Default::default()
        })
    }
}

fn validate(query: &str, hints: &RouteHints, session_id: &str) -> Result<(), RouteError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(invalid(
            "query",
            format!("is {} bytes; at most {MAX_QUERY_BYTES}", query.len()),
        ));
    }
    if session_id.len() > MAX_SESSION_BYTES {
        return Err(invalid(
            "session_id",
            format!("is {} bytes; at most {MAX_SESSION_BYTES}", session_id.len()),
        ));
    }
    if let Some(id) = hints.order_id
        && id < 1
    {
        return Err(invalid("hints.order_id", format!("must be >= 1, got {id}")));
    }
    if let Some(k) = hints.k
        && !(1..=1000).contains(&k)
    {
        return Err(invalid("hints.k", format!("must be 1-1000, got {k}")));
    }
    if hints.cypher.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(invalid("hints.cypher", "must not be empty when set"));
    }
    for (field, value) in [
        ("hints.customer", &hints.customer),
        ("hints.collection", &hints.collection),
        ("hints.person_name", &hints.person_name),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(invalid(field, "must not be empty when set"));
        }
    }
    Ok(())
}

fn explanation(
    decision: Decision,
    rule: &str,
    confidence: f32,
    reason: String,
    entities: Entities,
) -> RouteExplanation {
    RouteExplanation {
        decision: decision as i32,
        rule: rule.to_owned(),
        confidence,
        reason,
        entities: entities.0,
    }
}

fn cypher_call(cypher: &str, parameters: &HashMap<String, Value>) -> BackendCall {
    BackendCall::GraphQuery(ExecuteQueryRequest {
        cypher: cypher.to_owned(),
        parameters: parameters.clone(),
        access_mode: AccessMode::Read as i32,
        row_limit: 0,
    })
}

fn neighbors_call(name: &str, walk: Walk, types: &[String]) -> BackendCall {
    BackendCall::PersonNeighbors {
        person_name: name.to_owned(),
        direction: match walk {
            Walk::Incoming => Direction::Incoming,
            Walk::Outgoing => Direction::Outgoing,
            Walk::Both => Direction::Both,
        },
        relationship_types: types.to_vec(),
    }
}

fn list_orders_call(customer: Option<&str>) -> BackendCall {
    BackendCall::ListOrders(ListOrdersRequest {
        filter: customer.map(|c| OrderFilter {
            customer: c.to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn string_value(text: &str) -> Value {
    Value {
        kind: Some(value::Kind::StringValue(text.to_owned())),
    }
}

#[cfg(test)]
mod tests;
