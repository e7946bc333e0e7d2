//! The chatbot's edges: the gRPC `ChatService` here (requests in, [`Chatbot`] calls, responses
//! and workflow events out), the JSON API and web page in [`http`] (streamed turns in
//! [`http_stream`]). [`convert`] is the only place that builds `chatmesh.chat.v1` messages;
//! every error goes through [`status`]. Both edges ask [`free_query`] whether the caller may
//! send a Cypher hint.

mod convert;
pub(crate) mod free_query;
pub(crate) mod http;
mod http_body;
mod http_stream;
pub(crate) mod status;

use std::pin::Pin;
use std::sync::Arc;

use chatmesh_proto::chat::chat_service_server::ChatService;
use chatmesh_proto::chat::{
    ChatRequest, ChatResponse, ChatStreamRequest, ChatStreamResponse, DeleteSessionRequest,
    DeleteSessionResponse, GetSessionRequest, GetSessionResponse, chat_stream_response,
};
use chatmesh_proto::router::RouteHints;
use chatmesh_runtime::auth::Principal;
use chatmesh_runtime::deadline::Deadline;
use futures::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Request, Response, Status};

use crate::chat::{ChatInput, Chatbot, Progress};
use convert::{answer_message, chat_input, event_message};
use free_query::FreeQuery;
use status::status as to_status;

/// Implements `ChatService` over a [`Chatbot`].
#[derive(Clone)]
pub(crate) struct ChatApi {
    chatbot: Arc<Chatbot>,
    free_query: Arc<FreeQuery>,
}

impl ChatApi {
    /// The API of `chatbot`, allowing Cypher hints as `free_query` says.
    pub(crate) fn new(chatbot: Arc<Chatbot>, free_query: Arc<FreeQuery>) -> Self {
        Self {
            chatbot,
            free_query,
        }
    }

    /// A request's fields, validated, and its Cypher hint allowed for its caller.
    fn input(
        &self,
        caller: Option<&Principal>,
        session_id: String,
        message: String,
        hints: Option<RouteHints>,
    ) -> Result<ChatInput, Status> {
        let input = chat_input(session_id, message, hints).map_err(to_status)?;
        self.free_query
            .check(input.hints.as_ref(), caller)
            .map_err(to_status)?;
        Ok(input)
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<ChatStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ChatService for ChatApi {
    async fn chat(&self, request: Request<ChatRequest>) -> Result<Response<ChatResponse>, Status> {
        let deadline = Deadline::of(&request).map(|d| d.0);
        let caller = Principal::of(&request).cloned();
        let r = request.into_inner();
        let input = self.input(caller.as_ref(), r.session_id, r.message, r.hints)?;
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
        let caller = Principal::of(&request).cloned();
        let r = request.into_inner();
        let input = self.input(caller.as_ref(), r.session_id, r.message, r.hints)?;
        let events = self.chatbot.chat_events(input, deadline);
        let stream = UnboundedReceiverStream::new(events).map(|progress| match progress {
            Progress::Step(event) => Ok(ChatStreamResponse {
                event: Some(chat_stream_response::Event::WorkflowEvent(event_message(
                    event,
                ))),
            }),
            Progress::Done(outcome) => outcome.map_err(to_status).map(|r| ChatStreamResponse {
                event: Some(chat_stream_response::Event::FinalAnswer(answer_message(r))),
            }),
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_session(
        &self,
        request: Request<GetSessionRequest>,
    ) -> Result<Response<GetSessionResponse>, Status> {
        let session_id = request.into_inner().session_id;
        let session = self.chatbot.session(&session_id).await.map_err(to_status)?;
        Ok(Response::new(convert::session_response(
            session_id, session,
        )))
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
