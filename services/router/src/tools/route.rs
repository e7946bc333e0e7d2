//! The `route` tool: `Route` as a tool. The router picks the backend for a natural-language
//! question (or the caller forces one), makes that one call and says why it chose it.

use chatmesh_proto::router::{Decision, RouteHints, Target, route_response};
use schemars::JsonSchema;
use serde::Deserialize;

use super::arguments::ToolArgs;
use super::{Failure, Output, ToolDef, ToolError, ToolKind, graph, orders, vector};
use crate::backends::{Backends, CallContext};
use crate::routing::{self, Classifier};

/// The targets as the tool spells them.
const TARGETS: [(&str, Target); 3] = [
    ("graph", Target::Graph),
    ("vector", Target::Vector),
    ("relational", Target::Relational),
];

/// A data service, as the tool spells it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Service {
    Graph,
    Vector,
    Relational,
}

/// The arguments of `route`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteArgs {
    /// The question.
    #[schemars(length(min = 1, max = 8192))]
    query: String,
    /// Send the question to this service instead of letting the router choose.
    target: Option<Service>,
    /// The conversation, for the router's logs.
    #[schemars(length(max = 128))]
    session_id: Option<String>,
}

impl ToolArgs for RouteArgs {}

/// `route`.
pub(super) fn route_tool() -> ToolDef {
    ToolDef::new::<RouteArgs>(
        "route",
        "Ask a question in plain words",
        "Ask a question in plain words and let the router answer it from the right \
            data service: the organisation graph (people, managers, teams), the documentation \
            (semantic search) or the orders. The answer says which service answered and why. \
            Examples: \"who manages Alan Turing?\", \"status of order 100003\", \"how do I roll \
            back a deployment?\".",
        ToolKind::Route,
    )
}

/// Runs `route` with `classifier`.
pub(super) async fn route(
    classifier: &Classifier,
    backends: &Backends,
    ctx: &CallContext,
    args: RouteArgs,
) -> Result<Output, Failure> {
    let hints = RouteHints {
        target: args.target.map(|t| TARGETS[t as usize].1 as i32),
        ..Default::default()
    };
    let plan = classifier
        .decide(
            &args.query,
            Some(&hints),
            args.session_id.as_deref().unwrap_or_default(),
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
