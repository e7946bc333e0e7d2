//! The chatbot's HTTP surface for clients without gRPC, on the same port: `POST /v1/chat`
//! (JSON in and out; errors as JSON with the HTTP status matching the gRPC code),
//! `GET /openapi.json` (its OpenAPI 3 description) and `GET /` (a small web chat page).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chatmesh_proto::chat::{ChatResponse, SourceKind};
use chatmesh_proto::router::{RouteHints, Target};
use serde::{Deserialize, Serialize};
use tonic::Code;

use crate::chat::{ChatInput, Chatbot};
use crate::error::ChatError;
use crate::respond::code_name;

/// The web chat page.
const PAGE: &str = include_str!("page.html");

/// Requests larger than this are refused before parsing.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The JSON chat API's path, part of the public edge (bearer tokens, rate limits).
pub(crate) const CHAT_PATH: &str = "/v1/chat";

/// The HTTP routes, served next to the gRPC services.
pub fn routes(chatbot: Arc<Chatbot>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/openapi.json", get(openapi))
        .route(CHAT_PATH, post(chat))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(chatbot)
}

/// `POST /v1/chat` input.
#[derive(Debug, Deserialize)]
struct ChatBody {
    session_id: String,
    message: String,
    #[serde(default)]
    hints: Option<HintsBody>,
}

/// Routing hints in JSON; `target` is `graph`, `vector` or `relational`.
#[derive(Debug, Default, Deserialize)]
struct HintsBody {
    target: Option<String>,
    cypher: Option<String>,
    order_id: Option<i64>,
    customer: Option<String>,
    collection: Option<String>,
    k: Option<i32>,
    person_name: Option<String>,
}

fn target_from_name(name: &str) -> Option<Target> {
    match name {
        "graph" => Some(Target::Graph),
        "vector" => Some(Target::Vector),
        "relational" => Some(Target::Relational),
        _ => None,
    }
}

fn target_to_name(target: i32) -> Option<&'static str> {
    match Target::try_from(target).ok()? {
        Target::Graph => Some("graph"),
        Target::Vector => Some("vector"),
        Target::Relational => Some("relational"),
        Target::Unspecified => None,
    }
}

impl HintsBody {
    fn into_proto(self) -> Result<RouteHints, ChatError> {
        let target = match self.target.as_deref() {
            None => None,
            Some(name) => Some(target_from_name(name).ok_or_else(|| {
                ChatError::invalid(
                    "hints.target",
                    format!("'{name}' is not one of graph, vector, relational"),
                )
            })? as i32),
        };
        Ok(RouteHints {
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

#[derive(Debug, Serialize)]
struct SourceJson {
    kind: &'static str,
    id: String,
    title: String,
    snippet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
}

#[derive(Debug, Serialize)]
struct DegradedJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'static str>,
    code: i32,
    status: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
struct ExplanationJson {
    decision: &'static str,
    rule: String,
    confidence: f32,
    reason: String,
    entities: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct ChatJson {
    answer: String,
    sources: Vec<SourceJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'static str>,
    fallback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded: Option<DegradedJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<ExplanationJson>,
}

fn chat_json(r: ChatResponse) -> ChatJson {
    ChatJson {
        answer: r.answer,
        sources: r
            .sources
            .into_iter()
            .map(|s| SourceJson {
                kind: match SourceKind::try_from(s.kind) {
                    Ok(SourceKind::GraphNode) => "graph_node",
                    Ok(SourceKind::Document) => "document",
                    Ok(SourceKind::Order) => "order",
                    _ => "unspecified",
                },
                id: s.id,
                title: s.title,
                snippet: s.snippet,
                score: s.score.filter(|v| v.is_finite()),
            })
            .collect(),
        target: target_to_name(r.target),
        fallback: r.fallback,
        degraded: r.degraded.map(|d| DegradedJson {
            target: target_to_name(d.target),
            code: d.code,
            status: code_name(Code::from(d.code)),
            message: d.message,
        }),
        explanation: r.explanation.map(|e| ExplanationJson {
            decision: match e.decision() {
                chatmesh_proto::router::Decision::Hint => "hint",
                chatmesh_proto::router::Decision::Rule => "rule",
                chatmesh_proto::router::Decision::Fallback => "fallback",
                chatmesh_proto::router::Decision::Unspecified => "unspecified",
            },
            rule: e.rule,
            confidence: if e.confidence.is_finite() {
                e.confidence
            } else {
                0.0
            },
            reason: e.reason,
            entities: e.entities.into_iter().collect(),
        }),
    }
}

/// An error as JSON with the HTTP status for its gRPC code.
fn error_response(code: Code, message: String) -> Response {
    let status = match code {
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({"error": {"code": code_name(code), "message": message}});
    (status, axum::Json(body)).into_response()
}

fn chat_error(e: ChatError) -> Response {
    error_response(e.code(), e.to_string())
}

fn parse(body: &[u8]) -> Result<ChatInput, ChatError> {
    let body: ChatBody = serde_json::from_slice(body)
        .map_err(|e| ChatError::invalid("body", format!("not a valid chat request: {e}")))?;
    let hints = body.hints.map(HintsBody::into_proto).transpose()?;
    ChatInput::new(body.session_id, body.message, hints)
}

async fn chat(
    State(chatbot): State<Arc<Chatbot>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Code::ResourceExhausted
            } else {
                Code::InvalidArgument
            };
            return error_response(code, format!("body: {}", e.body_text()));
        }
    };
    let input = match parse(&body) {
        Ok(input) => input,
        Err(e) => return chat_error(e),
    };
    match chatbot.chat(input, None, None).await {
        Ok(response) => axum::Json(chat_json(response)).into_response(),
        Err(e) => chat_error(e),
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT.as_str(),
    )
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
