//! `POST /v1/chat/stream`: the JSON chat turn as server-sent events, for the web page and any
//! HTTP client that wants to show a turn while it runs (gRPC clients have `ChatStream`). The
//! request body, its checks and the errors before the first event are those of `POST /v1/chat`;
//! then `step` events carry each workflow node as it starts and finishes (with what it wrote,
//! the `route` step including the router's `backend_ms`), and one `answer` event carries the
//! answer of `/v1/chat` plus the turn's time and, when spans are exported, its trace id. A turn
//! that fails after the stream began ends with one `error` event instead.
//!
//! axum's `Sse` writes the event framing; the events' bodies are serde types here so that
//! `/openapi.json` describes them. OpenAPI 3.1 describes an event stream by a schema for one
//! event (its `event` and `data` fields, the data's JSON by `contentMediaType` and
//! `contentSchema`), which utoipa's attributes cannot state: [`describe_events`] writes it into
//! the generated document.

use std::convert::Infallible;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use chatmesh_runtime::auth::Principal;
use chatmesh_runtime::telemetry::current_trace_id;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::UnboundedReceiverStream;
use utoipa::ToSchema;

use super::http::{ChatState, accept, error_response};
use super::http_body::{self, ChatRequestBody, ChatResponseBody, ErrorBody};
use super::status::code;
use crate::chat::Progress;
use crate::workflow_engine::{Event, EventKind};

/// The route.
pub(super) const PATH: &str = "/v1/chat/stream";

/// Whether a step began or ended.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum StepKind {
    Started,
    Finished,
}

/// A workflow node starting or finishing (the data of a `step` event).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WorkflowStep)]
pub(super) struct StepBody {
    /// 1-based number of the node run; a node's started and finished events share it.
    step: u32,
    /// understand, route, respond or fallback.
    node: &'static str,
    kind: StepKind,
    /// Milliseconds since the turn's workflow began.
    elapsed_ms: f64,
    /// What the node wrote (empty when it starts); `route` includes `backend_ms`, the time the
    /// router spent in its backend.
    #[schema(value_type = Object)]
    state: serde_json::Map<String, serde_json::Value>,
}

/// The answer of a streamed turn (the data of the `answer` event): the `/v1/chat` answer, the
/// turn's time and its trace id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StreamedAnswer)]
pub(super) struct StreamedAnswerBody {
    #[serde(flatten)]
    answer: ChatResponseBody,
    /// Milliseconds from the request to the answer, inside the chatbot.
    elapsed_ms: f64,
    /// The trace of this turn (32 hex digits), when the chatbot exports spans.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    trace_id: Option<String>,
}

fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn step_body(event: Event) -> StepBody {
    StepBody {
        step: event.step,
        node: event.node,
        kind: match event.kind {
            EventKind::Started => StepKind::Started,
            EventKind::Finished => StepKind::Finished,
        },
        elapsed_ms: millis(event.elapsed),
        state: event.delta,
    }
}

/// One server-sent event; a body that cannot be written (not expected) becomes an error event.
fn sse_event(name: &str, data: &impl Serialize) -> SseEvent {
    SseEvent::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|e| {
            SseEvent::default()
                .event("error")
                .data(format!("the {name} event could not be written: {e}"))
        })
}

/// Answer one message as a stream of workflow steps and the answer.
#[utoipa::path(
    post,
    path = "/v1/chat/stream",
    operation_id = "chat_stream",
    request_body = ChatRequestBody,
    responses(
        (status = 200, description = "Server-sent events: `step` (data: WorkflowStep) as each \
            workflow node starts and finishes, then `answer` (data: StreamedAnswer), or `error` \
            (data: Error) when the turn fails after it began.", body = String,
            content_type = "text/event-stream"),
        (status = 400, description = "The body is not a valid chat request; the message names the field.", body = ErrorBody),
        (status = 403, description = "hints.cypher from a caller the operator has not allowed free-form Cypher (--cypher-hint-principals).", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = ErrorBody),
    )
)]
pub(super) async fn chat_stream(
    State(state): State<ChatState>,
    caller: Option<Extension<Principal>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let input = match accept(&state, caller, body) {
        Ok(input) => input,
        Err((code, message)) => return error_response(code, message),
    };
    let started = Instant::now();
    let trace_id = current_trace_id();
    let progress = state.chatbot.chat_events(input, None);
    let events = UnboundedReceiverStream::new(progress).map(move |progress| {
        Ok::<_, Infallible>(match progress {
            Progress::Step(event) => sse_event("step", &step_body(event)),
            Progress::Done(Ok(response)) => sse_event(
                "answer",
                &StreamedAnswerBody {
                    answer: http_body::chat_response(response),
                    elapsed_ms: millis(started.elapsed()),
                    trace_id: trace_id.clone(),
                },
            ),
            Progress::Done(Err(e)) => sse_event("error", &ErrorBody::new(code(&e), e.to_string())),
        })
    });
    Sse::new(events).into_response()
}

/// Writes the schema of one event of the stream into the OpenAPI `document`: a `step`, an
/// `answer` or an `error` event, each with its data's JSON schema.
pub(super) fn describe_events(document: &mut Value) {
    let event = |name: &str, data: &str| {
        json!({
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"const": name},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": format!("#/components/schemas/{data}")},
                },
                "id": {"type": "string"},
                "retry": {"type": "integer"},
            },
        })
    };
    let schema = json!({
        "oneOf": [
            event("step", "WorkflowStep"),
            event("answer", "StreamedAnswer"),
            event("error", "Error"),
        ]
    });
    if let Some(content) = document
        .pointer_mut("/paths/~1v1~1chat~1stream/post/responses/200/content/text~1event-stream")
        .and_then(Value::as_object_mut)
    {
        content.insert("schema".into(), schema);
    }
}
