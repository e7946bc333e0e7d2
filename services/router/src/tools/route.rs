//! The `route` tool: `Route` as a tool. The router picks the backend for a natural-language
//! question (or the caller forces one), makes that one call and says why it chose it.

use chatmesh_proto::router::{Decision, RouteHints, Target, route_response};
use serde_json::json;

use super::{Args, Failure, Output, ToolDef, ToolError, ToolKind, graph, orders, vector};
use crate::backends::{Backends, CallContext};
use crate::routing::{self, Classifier};

/// The targets as the tool spells them.
const TARGETS: [(&str, Target); 3] = [
    ("graph", Target::Graph),
    ("vector", Target::Vector),
    ("relational", Target::Relational),
];

/// `route`.
pub(super) fn route_tool() -> ToolDef {
    let targets: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    ToolDef {
        name: "route",
        description: "Ask a question in plain words and let the router answer it from the right \
            data service: the organisation graph (people, managers, teams), the documentation \
            (semantic search) or the orders. The answer says which service answered and why. \
            Examples: \"who manages Alan Turing?\", \"status of order 100003\", \"how do I roll \
            back a deployment?\".",
        schema: json!({
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 8192,
                    "description": "The question.",
                },
                "target": {
                    "type": "string",
                    "enum": targets,
                    "description": "Send the question to this service instead of letting the \
                                    router choose.",
                },
                "session_id": {
                    "type": "string",
                    "maxLength": 128,
                    "description": "The conversation, for the router's logs.",
                },
            },
            "required": ["query"],
            "additionalProperties": false,
        }),
        kind: ToolKind::Route,
    }
}

/// Runs `route` with `classifier`.
pub(super) async fn route(
    classifier: &Classifier,
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let target = match args.string("target")? {
        None => None,
        Some(name) => Some(
            TARGETS
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, target)| *target as i32)
                .ok_or_else(|| args.invalid("target", "must be graph, vector or relational"))?,
        ),
    };
    let hints = RouteHints {
        target,
        ..Default::default()
    };
    let plan = classifier
        .decide(
            args.required_string("query")?,
            Some(&hints),
            args.string("session_id")?.unwrap_or_default(),
        )
        .map_err(|e| ToolError::InvalidArguments {
            tool: "route".to_owned(),
            reason: e.to_string(),
        })?;
    let service = TARGETS
        .iter()
        .find(|(_, t)| *t == plan.call.target())
        .map_or("chosen", |(name, _)| *name);
    let explanation = plan.explanation.clone();
    let response = routing::execute(backends, ctx, plan)
        .await
        .map_err(|status| Failure::backend(service, &status))?;
    let why = match Decision::try_from(explanation.decision) {
        Ok(Decision::Hint) => "as asked".to_owned(),
        Ok(Decision::Rule) => format!(
            "by rule {} (confidence {:.2})",
            explanation.rule, explanation.confidence
        ),
        _ => "by default, as no rule matched".to_owned(),
    };
    let mut text = format!(
        "Answered by the {service} service, {why}: {}\n",
        explanation.reason
    );
    let collection = explanation
        .entities
        .get("collection")
        .map_or("the collection", String::as_str);
    text.push_str(&match &response.result {
        Some(route_response::Result::GraphQuery(r)) => graph::query_text(r),
        Some(route_response::Result::GraphNeighbors(r)) => format!(
            "{} neighbour{}:{}",
            r.neighbors.len(),
            if r.neighbors.len() == 1 { "" } else { "s" },
            graph::neighbor_lines(r)
        ),
        Some(route_response::Result::VectorSearch(r)) => vector::search_text(collection, r),
        Some(route_response::Result::RelationalOrder(r)) => {
            r.order.as_ref().map(orders::describe).unwrap_or_default()
        }
        Some(route_response::Result::RelationalOrders(r)) => orders::list_text(r),
        None => "no result".to_owned(),
    });
    Ok(Output::new(
        text,
        &response,
        "chatmesh.router.v1.RouteResponse",
    ))
}
