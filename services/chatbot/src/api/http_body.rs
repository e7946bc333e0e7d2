//! The JSON bodies of `POST /v1/chat`: the request, the answer and the error, as serde types
//! whose OpenAPI schemas `utoipa` derives (so `/openapi.json` describes exactly what the
//! handler reads and writes), and the answer built from the chatbot's.
//!
//! The request keeps `hints.target` a string so that a wrong name is refused with a message
//! naming `hints.target`, not a generic parse error; its schema still lists the three names.

use std::collections::BTreeMap;

use chatmesh_proto::chat::{self as pb, SourceKind};
use chatmesh_proto::router::{self as router_pb, Target};
use chatmesh_runtime::status::code_name;
use serde::{Deserialize, Serialize};
use tonic::Code;
use utoipa::ToSchema;

use crate::chat::ChatInput;
use crate::error::ChatError;

/// A data service.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TargetName {
    Graph,
    Vector,
    Relational,
}

/// Ask the chatbot one message in a session.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ChatRequest)]
pub(crate) struct ChatRequestBody {
    /// The conversation; created on first use.
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._:-]{1,128}$")]
    session_id: String,
    #[doc = "The user's message: 1-8192 bytes of UTF-8, not blank. A prefix such as [graph], \
        [vector] or [relational] asks for that backend."]
    #[schema(min_length = 1, max_length = 8192)]
    message: String,
    #[serde(default)]
    #[schema(nullable = false)]
    hints: Option<RouteHintsBody>,
}

/// Optional facts that steer routing (see chatmesh.router.v1.RouteHints).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = RouteHints)]
struct RouteHintsBody {
    #[schema(value_type = Option<TargetName>, nullable = false)]
    target: Option<String>,
    /// A read-only Cypher query for the graph.
    #[schema(nullable = false)]
    cypher: Option<String>,
    #[schema(minimum = 1, nullable = false)]
    order_id: Option<i64>,
    #[schema(nullable = false)]
    customer: Option<String>,
    #[schema(nullable = false)]
    collection: Option<String>,
    #[schema(minimum = 1, maximum = 1000, nullable = false)]
    k: Option<i32>,
    #[schema(nullable = false)]
    person_name: Option<String>,
}

impl RouteHintsBody {
    fn into_proto(self) -> Result<router_pb::RouteHints, ChatError> {
        let target = match self.target.as_deref() {
            None => None,
            Some(name) => Some(target_from_name(name).ok_or_else(|| {
                ChatError::invalid(
                    "hints.target",
                    format!("'{name}' is not one of graph, vector, relational"),
                )
            })? as i32),
        };
        Ok(router_pb::RouteHints {
            target,
            cypher: self.cypher,
            parameters: Default::default(),
            order_id: self.order_id,
            customer: self.customer,
            collection: self.collection,
            k: self.k,
            person_name: self.person_name,
        })
    }
}

fn target_from_name(name: &str) -> Option<Target> {
    match name {
        "graph" => Some(Target::Graph),
        "vector" => Some(Target::Vector),
        "relational" => Some(Target::Relational),
        _ => None,
    }
}

fn target_name(target: i32) -> Option<TargetName> {
    match Target::try_from(target).ok()? {
        Target::Graph => Some(TargetName::Graph),
        Target::Vector => Some(TargetName::Vector),
        Target::Relational => Some(TargetName::Relational),
        Target::Unspecified => None,
    }
}

/// A request body as a validated chat input; errors name the field (`body` when it is not
/// JSON of the right shape at all).
pub(crate) fn parse(body: &[u8]) -> Result<ChatInput, ChatError> {
    let body: ChatRequestBody = serde_json::from_slice(body)
        .map_err(|e| ChatError::invalid("body", format!("not a valid chat request: {e}")))?;
    let hints = body.hints.map(RouteHintsBody::into_proto).transpose()?;
    ChatInput::new(body.session_id, body.message, hints)
}

/// What a source is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum SourceKindName {
    GraphNode,
    Document,
    Order,
    Unspecified,
}

/// A record the answer is based on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Source)]
struct SourceBody {
    kind: SourceKindName,
    /// Node id, document id or order id.
    id: String,
    title: String,
    snippet: String,
    /// Similarity, for documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    score: Option<f32>,
}

/// Which backend failed and how, when the answer is a fallback.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Degradation)]
struct DegradationBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    target: Option<TargetName>,
    /// gRPC status code number.
    code: i32,
    /// gRPC status code name.
    status: &'static str,
    message: String,
}

/// How the router decided.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum DecisionName {
    Hint,
    Rule,
    Fallback,
    Unspecified,
}

/// Why the router chose the backend it did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Explanation)]
struct ExplanationBody {
    decision: DecisionName,
    rule: String,
    confidence: f32,
    reason: String,
    entities: BTreeMap<String, String>,
}

/// The chatbot's answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatResponse)]
pub(crate) struct ChatResponseBody {
    answer: String,
    sources: Vec<SourceBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    target: Option<TargetName>,
    fallback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    degraded: Option<DegradationBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    explanation: Option<ExplanationBody>,
}

fn source_body(s: pb::Source) -> SourceBody {
    SourceBody {
        kind: match SourceKind::try_from(s.kind) {
            Ok(SourceKind::GraphNode) => SourceKindName::GraphNode,
            Ok(SourceKind::Document) => SourceKindName::Document,
            Ok(SourceKind::Order) => SourceKindName::Order,
            _ => SourceKindName::Unspecified,
        },
        id: s.id,
        title: s.title,
        snippet: s.snippet,
        score: s.score.filter(|v| v.is_finite()),
    }
}

fn explanation_body(e: router_pb::RouteExplanation) -> ExplanationBody {
    ExplanationBody {
        decision: match e.decision() {
            router_pb::Decision::Hint => DecisionName::Hint,
            router_pb::Decision::Rule => DecisionName::Rule,
            router_pb::Decision::Fallback => DecisionName::Fallback,
            router_pb::Decision::Unspecified => DecisionName::Unspecified,
        },
        rule: e.rule,
        confidence: if e.confidence.is_finite() {
            e.confidence
        } else {
            0.0
        },
        reason: e.reason,
        entities: e.entities.into_iter().collect(),
    }
}

/// The chatbot's answer as JSON.
pub(crate) fn chat_response(r: pb::ChatResponse) -> ChatResponseBody {
    ChatResponseBody {
        answer: r.answer,
        sources: r.sources.into_iter().map(source_body).collect(),
        target: target_name(r.target),
        fallback: r.fallback,
        degraded: r.degraded.map(|d| DegradationBody {
            target: target_name(d.target),
            code: d.code,
            status: code_name(Code::from(d.code)),
            message: d.message,
        }),
        explanation: r.explanation.map(explanation_body),
    }
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
struct ErrorDetail {
    /// gRPC status code name.
    code: &'static str,
    message: String,
}

/// An error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

impl ErrorBody {
    /// The body for `code` and `message`.
    pub(crate) fn new(code: Code, message: String) -> Self {
        Self {
            error: ErrorDetail {
                code: code_name(code),
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bodies_name_the_field() {
        let err = |body: &str| parse(body.as_bytes()).unwrap_err().to_string();
        assert!(err("{").starts_with("body: "), "{}", err("{"));
        assert!(err(r#"{"session_id":"s","message":""}"#).starts_with("message:"));
        assert!(err(r#"{"session_id":"a b","message":"hi"}"#).starts_with("session_id:"));
        let bad_target = err(r#"{"session_id":"s","message":"hi","hints":{"target":"x"}}"#);
        assert!(bad_target.starts_with("hints.target:"), "{bad_target}");
        let bad_k = err(r#"{"session_id":"s","message":"hi","hints":{"k":0}}"#);
        assert!(bad_k.starts_with("hints.k:"), "{bad_k}");
        let ok = parse(br#"{"session_id":"s","message":"hi","hints":{"target":"graph"}}"#).unwrap();
        assert_eq!(ok.hints.unwrap().target, Some(Target::Graph as i32));
    }
}
