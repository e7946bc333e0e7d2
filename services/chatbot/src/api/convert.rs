//! The chatbot's types to and from the `chatmesh.chat.v1` messages: requests to validated
//! [`ChatInput`]s (INVALID_ARGUMENT names the field), workflow events, final answers and
//! sessions to their messages.

use chatmesh_proto::chat::{
    ChatAnswer, ChatResponse, Entity as EntityMessage, EventKind as PbEventKind,
    GetSessionResponse, Turn as TurnMessage, WorkflowEvent,
};
use chatmesh_proto::json;
use chatmesh_proto::router::{RouteHints, Target};

use crate::chat::ChatInput;
use crate::conversation::{Backend, Entity, Session, TurnRecord};
use crate::error::ChatError;
use crate::workflow_engine::{Event, EventKind};

/// A `ChatRequest`'s or `ChatStreamRequest`'s fields, validated.
pub(crate) fn chat_input(
    session_id: String,
    message: String,
    hints: Option<RouteHints>,
) -> Result<ChatInput, ChatError> {
    ChatInput::new(session_id, message, hints)
}

/// A workflow event as the contract sends it.
pub(crate) fn event_message(event: Event) -> WorkflowEvent {
    WorkflowEvent {
        step: event.step as i32,
        node: event.node.to_owned(),
        kind: match event.kind {
            EventKind::Started => PbEventKind::NodeStarted,
            EventKind::Finished => PbEventKind::NodeFinished,
        } as i32,
        state_delta: Some(json::to_struct(&event.delta)),
        elapsed: prost_types::Duration::try_from(event.elapsed).ok(),
    }
}

/// The last message of a chat stream.
pub(crate) fn answer_message(r: ChatResponse) -> ChatAnswer {
    ChatAnswer {
        answer: r.answer,
        sources: r.sources,
        target: r.target,
        explanation: r.explanation,
        fallback: r.fallback,
        degraded: r.degraded,
    }
}

fn entity_message(entity: Entity) -> EntityMessage {
    EntityMessage {
        r#type: entity.kind,
        value: entity.value,
    }
}

fn target(backend: Option<Backend>) -> Target {
    match backend {
        Some(Backend::Graph) => Target::Graph,
        Some(Backend::Vector) => Target::Vector,
        Some(Backend::Relational) => Target::Relational,
        None => Target::Unspecified,
    }
}

fn turn_message(turn: TurnRecord) -> TurnMessage {
    TurnMessage {
        user_message: turn.user_message,
        answer: turn.answer,
        target: target(turn.backend) as i32,
        create_time: Some(prost_types::Timestamp::from(turn.time)),
    }
}

/// `GetSession`'s answer.
pub(crate) fn session_response(session_id: String, session: Session) -> GetSessionResponse {
    GetSessionResponse {
        session_id,
        turns: session.turns.into_iter().map(turn_message).collect(),
        last_entity: session.last_entity.map(entity_message),
    }
}
