//! The workflow every chat turn runs (the default workflow), built on the engine in
//! [`crate::workflow_engine`]:
//!
//! ```text
//! START → understand → route ─┬─ (a result with content) → respond  → END
//!                             └─ (nothing matched / failure) → fallback → END
//! ```
//!
//! `understand` normalises the message and resolves references, `route` asks the router with
//! the turn's remaining time, `respond` turns the typed result into a cited answer, and
//! `fallback` explains what went wrong (which source is down) while `degraded` keeps the
//! status detail for the caller.

use std::sync::Arc;
use std::time::Duration;

use chatmesh_proto::chat::{ChatResponse, Degradation, SourceKind};
use chatmesh_proto::router::{RouteHints, RouteRequest, RouteResponse, Target};
use serde_json::{Map, Value as Json, json};
use tokio::time::Instant;

use crate::conversation::Entity;
use crate::respond::{self, Reply};
use crate::router_client::RouterClient;
use crate::understand::{self, Understanding};
use crate::workflow_engine::{Compiled, END, Graph, Node, NodeFuture, START, State};

/// Node names, as workflow events report them.
pub(crate) const UNDERSTAND: &str = "understand";
/// See [`UNDERSTAND`].
pub(crate) const ROUTE: &str = "route";
/// See [`UNDERSTAND`].
pub(crate) const RESPOND: &str = "respond";
/// See [`UNDERSTAND`].
pub(crate) const FALLBACK: &str = "fallback";

/// Metadata key a router may set on an error to say which backend failed ("graph", "vector",
/// "relational").
pub(crate) const TARGET_METADATA: &str = "chatmesh-target";

/// Metadata key on a routed answer: the backend and its time, as in `graph;dur=0.412`.
const SERVER_TIMING: &str = "server-timing";

/// Everything a turn knows, filled in step by step.
#[derive(Debug, Clone, Default)]
pub(crate) struct Turn {
    /// The session, for the router's logs.
    pub session_id: String,
    /// The user's message as sent.
    pub message: String,
    /// Hints the caller sent.
    pub hints: Option<RouteHints>,
    /// The session's last entity before this turn.
    pub last_entity: Option<Entity>,
    /// When the caller stops waiting.
    pub deadline: Option<Instant>,
    /// Written by `understand`.
    pub understanding: Understanding,
    /// Written by `route` on success.
    pub routed: Option<RouteResponse>,
    /// Written by `route` on failure.
    pub degraded: Option<Degradation>,
    /// Written by `respond` or `fallback`.
    pub reply: Option<Reply>,
    /// Whether the reply is a fallback.
    pub fallback: bool,
}

impl Turn {
    /// A turn that has not run yet.
    pub(crate) fn new(
        session_id: String,
        message: String,
        hints: Option<RouteHints>,
        last_entity: Option<Entity>,
        deadline: Option<Instant>,
    ) -> Self {
        Self {
            session_id,
            message,
            hints,
            last_entity,
            deadline,
            ..Self::default()
        }
    }

    /// The hints sent to the router: the caller's, plus the prefix's target unless the caller
    /// chose one.
    fn route_hints(&self) -> Option<RouteHints> {
        let prefix = self.understanding.prefix_target;
        match (self.hints.clone(), prefix) {
            (Some(mut h), Some(t)) => {
                h.target.get_or_insert(t as i32);
                Some(h)
            }
            (None, Some(t)) => Some(RouteHints {
                target: Some(t as i32),
                ..RouteHints::default()
            }),
            (hints, None) => hints,
        }
    }

    /// The entity this turn mentioned last: the person or order the answer leads with (for
    /// "who manages Alan Turing?" that is the manager it names), else the one the router
    /// extracted, else the first one understood.
    pub(crate) fn entity(&self) -> Option<Entity> {
        if let Some(lead) = self
            .reply
            .as_ref()
            .filter(|_| !self.fallback)
            .and_then(|r| r.sources.first())
        {
            let kind = SourceKind::try_from(lead.kind).unwrap_or(SourceKind::Unspecified);
            let person = understand::extract(&lead.title);
            match kind {
                SourceKind::GraphNode
                    if person.len() == 1
                        && person[0].kind == understand::PERSON
                        && person[0].value == lead.title =>
                {
                    return person.into_iter().next();
                }
                SourceKind::Order => {
                    return Some(Entity::new(understand::ORDER, lead.id.clone()));
                }
                _ => {}
            }
        }
        if let Some(entities) = self
            .routed
            .as_ref()
            .and_then(|r| r.explanation.as_ref())
            .map(|e| &e.entities)
        {
            for kind in [understand::PERSON, understand::ORDER, understand::CUSTOMER] {
                if let Some(value) = entities.get(kind) {
                    return Some(Entity::new(kind, value.clone()));
                }
            }
        }
        self.understanding.entities.first().cloned()
    }

    /// The answer of the finished turn.
    pub(crate) fn response(self) -> ChatResponse {
        let reply = self.reply.unwrap_or_default();
        let (target, explanation) = match self.routed {
            Some(r) => (r.target, r.explanation),
            None => (Target::Unspecified as i32, None),
        };
        ChatResponse {
            answer: reply.text,
            sources: reply.sources,
            target,
            explanation,
            fallback: self.fallback,
            degraded: self.degraded,
        }
    }
}

/// What a step of the turn writes.
#[derive(Debug)]
pub(crate) enum TurnUpdate {
    /// `understand` finished.
    Understood(Understanding),
    /// `route` got a result, and the router said how long its backend took (milliseconds).
    Routed(Box<RouteResponse>, Option<f64>),
    /// `route` failed.
    Degraded(Degradation),
    /// `respond` or `fallback` composed the reply.
    Replied {
        /// The reply.
        reply: Reply,
        /// Whether it is a fallback.
        fallback: bool,
    },
}

fn target_name(target: i32) -> &'static str {
    Target::try_from(target)
        .unwrap_or(Target::Unspecified)
        .as_str_name()
}

impl State for Turn {
    type Update = TurnUpdate;

    fn apply(&mut self, update: TurnUpdate) {
        match update {
            TurnUpdate::Understood(u) => self.understanding = u,
            TurnUpdate::Routed(r, _) => self.routed = Some(*r),
            TurnUpdate::Degraded(d) => self.degraded = Some(d),
            TurnUpdate::Replied { reply, fallback } => {
                self.reply = Some(reply);
                self.fallback = fallback;
            }
        }
    }

    fn describe(update: &TurnUpdate) -> Map<String, Json> {
        let entities = |list: &[Entity]| {
            list.iter()
                .map(|e| json!({"type": e.kind, "value": e.value}))
                .collect::<Vec<_>>()
        };
        let value = match update {
            TurnUpdate::Understood(u) => json!({
                "query": u.query,
                "entities": entities(&u.entities),
                "prefix_target": u.prefix_target.map(|t| t.as_str_name()),
                "resolved_reference": u.resolved.as_ref().map(|e| json!({"type": e.kind, "value": e.value})),
            }),
            TurnUpdate::Routed(r, backend_ms) => {
                let explanation = r.explanation.as_ref();
                json!({
                    "backend_ms": backend_ms,
                    "target": target_name(r.target),
                    "decision": explanation.map(|e| e.decision().as_str_name()),
                    "rule": explanation.map(|e| e.rule.clone()),
                    "backend_address": r.backend_address,
                    "attempts": r.attempts,
                    "has_content": respond::has_content(r, f32::NEG_INFINITY),
                })
            }
            TurnUpdate::Degraded(d) => json!({
                "degraded": {
                    "target": target_name(d.target),
                    "code": d.code,
                    "message": d.message,
                }
            }),
            TurnUpdate::Replied { reply, fallback } => json!({
                "answer": reply.text,
                "sources": reply.sources.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
                "fallback": fallback,
            }),
        };
        match value {
            Json::Object(map) => map,
            _ => Map::new(),
        }
    }
}

fn ready<'a>(update: TurnUpdate) -> NodeFuture<'a, TurnUpdate> {
    Box::pin(std::future::ready(Ok(update)))
}

/// Calls the router with the turn's remaining time (capped by `timeout`).
struct RouteNode {
    router: Arc<dyn RouterClient>,
    timeout: Duration,
}

impl Node<Turn> for RouteNode {
    fn run<'a>(&'a self, turn: &'a Turn) -> NodeFuture<'a, TurnUpdate> {
        Box::pin(async move {
            let budget = match turn.deadline {
                Some(deadline) => deadline
                    .saturating_duration_since(Instant::now())
                    .min(self.timeout),
                None => self.timeout,
            };
            let expected = understand::expected_target(&turn.understanding);
            if budget.is_zero() {
                return Ok(TurnUpdate::Degraded(Degradation {
                    target: expected as i32,
                    code: tonic::Code::DeadlineExceeded as i32,
                    message: "no time left to ask the router".into(),
                }));
            }
            let request = RouteRequest {
                query: turn.understanding.query.clone(),
                hints: turn.route_hints(),
                session_id: turn.session_id.clone(),
            };
            Ok(match self.router.route(request, budget).await {
                Ok(response) => {
                    let backend_ms = backend_ms(response.metadata());
                    TurnUpdate::Routed(Box::new(response.into_inner()), backend_ms)
                }
                Err(status) => TurnUpdate::Degraded(Degradation {
                    target: failed_target(&status, expected) as i32,
                    code: status.code() as i32,
                    message: status.message().to_owned(),
                }),
            })
        })
    }
}

/// The router's `server-timing` entry (`graph;dur=0.412`): how long its backend took, in
/// milliseconds.
fn backend_ms(metadata: &tonic::metadata::MetadataMap) -> Option<f64> {
    let entry = metadata.get(SERVER_TIMING)?.to_str().ok()?;
    let (_, rest) = entry.split_once(";dur=")?;
    let ms = rest.split([';', ',']).next()?.trim().parse::<f64>().ok()?;
    ms.is_finite().then_some(ms)
}

/// Which source a failed route concerns: what the router says (metadata, else its message),
/// nothing when the router itself was not reached, else what the chatbot expected.
fn failed_target(status: &tonic::Status, expected: Target) -> Target {
    let named = |text: &str| {
        let text = text.to_ascii_lowercase();
        [
            ("relational", Target::Relational),
            ("graph", Target::Graph),
            ("vector", Target::Vector),
        ]
        .into_iter()
        .find(|(name, _)| text.contains(name))
        .map(|(_, t)| t)
    };
    if let Some(t) = status
        .metadata()
        .get(TARGET_METADATA)
        .and_then(|v| v.to_str().ok())
        .and_then(named)
    {
        return t;
    }
    if let Some(t) = named(status.message()) {
        return t;
    }
    if chatmesh_runtime::http2::transport_failure(status) || status.message().contains("connect") {
        return Target::Unspecified;
    }
    match status.code() {
        tonic::Code::Unavailable
        | tonic::Code::DeadlineExceeded
        | tonic::Code::NotFound
        | tonic::Code::InvalidArgument
        | tonic::Code::ResourceExhausted => expected,
        _ => Target::Unspecified,
    }
}

fn entity_pair(turn: &Turn) -> Option<(String, String)> {
    turn.entity().map(|e| (e.kind, e.value))
}

/// Builds the default workflow around `router`.
pub(crate) fn build(
    router: Arc<dyn RouterClient>,
    route_timeout: Duration,
    min_relevance: f32,
) -> Compiled<Turn> {
    Graph::new()
        .node_fn(UNDERSTAND, |turn: &Turn| {
            ready(TurnUpdate::Understood(understand::understand(
                &turn.message,
                turn.last_entity.as_ref(),
            )))
        })
        .node(
            ROUTE,
            RouteNode {
                router,
                timeout: route_timeout,
            },
        )
        .node_fn(RESPOND, |turn: &Turn| {
            let subject = turn
                .understanding
                .entities
                .iter()
                .find(|e| e.kind == understand::PERSON)
                .map(|e| e.value.as_str());
            // The edge into `respond` guarantees a result; an empty reply is the safe default.
            let reply = turn
                .routed
                .as_ref()
                .map(|routed| respond::compose(&turn.understanding.query, subject, routed))
                .unwrap_or_default();
            ready(TurnUpdate::Replied {
                reply,
                fallback: false,
            })
        })
        .node_fn(FALLBACK, move |turn: &Turn| {
            let entity = entity_pair(turn);
            let entity = entity.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
            let text = match (&turn.degraded, &turn.routed) {
                (Some(d), _) => respond::degraded_reply(d, entity),
                (None, Some(r)) => match respond::irrelevant(r, min_relevance) {
                    Some(best) => respond::dont_know(best, min_relevance),
                    None => respond::nothing_found(
                        Target::try_from(r.target).unwrap_or(Target::Unspecified),
                        entity,
                    ),
                },
                (None, None) => "I could not work out an answer to that.".into(),
            };
            ready(TurnUpdate::Replied {
                reply: Reply {
                    text,
                    sources: Vec::new(),
                },
                fallback: true,
            })
        })
        .edge(START, UNDERSTAND)
        .edge(UNDERSTAND, ROUTE)
        .conditional_edge(
            ROUTE,
            &[RESPOND, FALLBACK],
            move |turn: &Turn| match &turn.routed {
                Some(r) if turn.degraded.is_none() && respond::has_content(r, min_relevance) => {
                    RESPOND
                }
                _ => FALLBACK,
            },
        )
        .edge(RESPOND, END)
        .edge(FALLBACK, END)
        .step_limit(8)
        .compile()
        .expect("the default workflow is well formed")
}

#[cfg(test)]
mod tests;
