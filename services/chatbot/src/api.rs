//! The gRPC edge of the chatbot: requests in, [`Chatbot`] calls, responses and workflow events
//! out; every error goes through [`to_status`].

use std::pin::Pin;
use std::sync::Arc;

use chatmesh_proto::chat::chat_service_server::ChatService;
use chatmesh_proto::chat::{
    ChatAnswer, ChatRequest, ChatResponse, ChatStreamRequest, ChatStreamResponse,
    DeleteSessionRequest, DeleteSessionResponse, EventKind as PbEventKind, GetSessionRequest,
    GetSessionResponse, WorkflowEvent, chat_stream_response,
};
use chatmesh_runtime::deadline::Deadline;
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Request, Response, Status};

use crate::chat::{ChatInput, Chatbot};
use crate::error::to_status;
use crate::workflow::{Event, EventKind};

/// Implements `ChatService` over a [`Chatbot`].
#[derive(Clone)]
pub struct ChatServiceApi {
    chatbot: Arc<Chatbot>,
}

impl ChatServiceApi {
    /// The API of `chatbot`.
    pub fn new(chatbot: Arc<Chatbot>) -> Self {
        Self { chatbot }
    }
}

/// A workflow event as the contract sends it.
pub fn event_message(event: Event) -> WorkflowEvent {
    WorkflowEvent {
        step: event.step as i32,
        node: event.node.to_owned(),
        kind: match event.kind {
            EventKind::Started => PbEventKind::NodeStarted,
            EventKind::Finished => PbEventKind::NodeFinished,
        } as i32,
        state_delta: Some(json_struct(event.delta)),
        elapsed: prost_types::Duration::try_from(event.elapsed).ok(),
    }
}

fn json_struct(map: serde_json::Map<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: map.into_iter().map(|(k, v)| (k, json_value(v))).collect(),
    }
}

fn json_value(value: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.into_iter().map(json_value).collect(),
        }),
        serde_json::Value::Object(o) => Kind::StructValue(json_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn answer_message(r: ChatResponse) -> ChatAnswer {
    ChatAnswer {
        answer: r.answer,
        sources: r.sources,
        target: r.target,
        explanation: r.explanation,
        fallback: r.fallback,
        degraded: r.degraded,
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<ChatStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ChatService for ChatServiceApi {
    async fn chat(&self, request: Request<ChatRequest>) -> Result<Response<ChatResponse>, Status> {
        let deadline = Deadline::of(&request).map(|d| d.0);
        let r = request.into_inner();
        let input = ChatInput::new(r.session_id, r.message, r.hints).map_err(to_status)?;
        let response = self
            .chatbot
            .chat(input, deadline, None)
            .await
            .map_err(to_status)?;
        Ok(Response::new(response))
    }

    async fn chat_stream(
        &self,
        request: Request<ChatStreamRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let deadline = Deadline::of(&request).map(|d| d.0);
        let r = request.into_inner();
        let input = ChatInput::new(r.session_id, r.message, r.hints).map_err(to_status)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let chatbot = Arc::clone(&self.chatbot);
        tokio::spawn(async move {
            let events = tx.clone();
            let mut observer = move |event: Event| {
                let message = chat_stream_response::Event::WorkflowEvent(event_message(event));
                let _ = events.send(Ok(ChatStreamResponse {
                    event: Some(message),
                }));
            };
            let outcome = chatbot.chat(input, deadline, Some(&mut observer)).await;
            let last = outcome.map(|r| ChatStreamResponse {
                event: Some(chat_stream_response::Event::FinalAnswer(answer_message(r))),
            });
            let _ = tx.send(last.map_err(to_status));
        });
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))))
    }

    async fn get_session(
        &self,
        request: Request<GetSessionRequest>,
    ) -> Result<Response<GetSessionResponse>, Status> {
        let session_id = request.into_inner().session_id;
        let session = self.chatbot.session(&session_id).await.map_err(to_status)?;
        Ok(Response::new(GetSessionResponse {
            session_id,
            turns: session.turns,
            last_entity: session.last_entity,
        }))
    }

    async fn delete_session(
        &self,
        request: Request<DeleteSessionRequest>,
    ) -> Result<Response<DeleteSessionResponse>, Status> {
        let r = request.into_inner();
        self.chatbot
            .delete_session(&r.session_id, r.allow_missing)
            .await
            .map_err(to_status)?;
        Ok(Response::new(DeleteSessionResponse {}))
    }
}
