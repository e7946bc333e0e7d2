//! One chat turn from request to recorded answer: validate the request, load the session's
//! last entity, run the workflow (observed, for streaming), record the turn. The gRPC and HTTP
//! edges both call [`Chatbot`]; their streaming calls share [`Chatbot::chat_events`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chatmesh_proto::chat::ChatResponse;
use chatmesh_proto::router::{RouteHints, Target};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

use crate::conversation::{Backend, Session, TurnRecord};
use crate::error::ChatError;
use crate::router_client::RouterClient;
use crate::store::SessionStore;
use crate::turn_workflow::{self, Turn};
use crate::workflow_engine::{Compiled, Event, Observer};

/// Largest message, in bytes.
pub(crate) const MAX_MESSAGE_BYTES: usize = 8192;
/// Longest session id.
pub(crate) const MAX_SESSION_ID: usize = 128;

/// A validated chat request.
#[derive(Debug, Clone)]
pub(crate) struct ChatInput {
    /// The session.
    pub(crate) session_id: String,
    /// The user's message.
    pub(crate) message: String,
    /// Routing hints.
    pub(crate) hints: Option<RouteHints>,
}

/// Checks a session id: 1-128 characters from `[A-Za-z0-9._:-]`.
pub(crate) fn check_session_id(id: &str) -> Result<(), ChatError> {
    if id.is_empty() || id.len() > MAX_SESSION_ID {
        return Err(ChatError::invalid(
            "session_id",
            format!("must be 1-{MAX_SESSION_ID} characters, got {}", id.len()),
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(ChatError::invalid(
            "session_id",
            format!("character {bad:?} is not allowed (use A-Z, a-z, 0-9, '.', '_', ':', '-')"),
        ));
    }
    Ok(())
}

impl ChatInput {
    /// Validates the fields of a ChatRequest or ChatStreamRequest.
    pub(crate) fn new(
        session_id: String,
        message: String,
        hints: Option<RouteHints>,
    ) -> Result<Self, ChatError> {
        check_session_id(&session_id)?;
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(ChatError::invalid(
                "message",
                format!("is {} bytes, more than {MAX_MESSAGE_BYTES}", message.len()),
            ));
        }
        if message.trim().is_empty() {
            return Err(ChatError::invalid("message", "must not be empty"));
        }
        if let Some(h) = &hints {
            check_hints(h)?;
        }
        Ok(Self {
            session_id,
            message,
            hints,
        })
    }
}

fn check_hints(h: &RouteHints) -> Result<(), ChatError> {
    if let Some(t) = h.target {
        match Target::try_from(t) {
            Ok(Target::Unspecified) => {
                return Err(ChatError::invalid(
                    "hints.target",
                    "TARGET_UNSPECIFIED is not a target; leave it unset instead",
                ));
            }
            Err(_) => {
                return Err(ChatError::invalid(
                    "hints.target",
                    format!("unknown target {t}"),
                ));
            }
            Ok(_) => {}
        }
    }
    if let Some(id) = h.order_id
        && id < 1
    {
        return Err(ChatError::invalid(
            "hints.order_id",
            format!("must be >= 1, got {id}"),
        ));
    }
    if let Some(k) = h.k
        && !(1..=1000).contains(&k)
    {
        return Err(ChatError::invalid(
            "hints.k",
            format!("must be 1-1000, got {k}"),
        ));
    }
    Ok(())
}

/// The service that answered, from the contract's target.
fn backend(target: i32) -> Option<Backend> {
    match Target::try_from(target).ok()? {
        Target::Graph => Some(Backend::Graph),
        Target::Vector => Some(Backend::Vector),
        Target::Relational => Some(Backend::Relational),
        Target::Unspecified => None,
    }
}

/// What a streamed turn sends: its workflow events in order, then its outcome.
#[derive(Debug)]
pub(crate) enum Progress {
    /// A workflow node started or finished.
    Step(Event),
    /// The turn's answer or error; nothing follows.
    Done(Result<ChatResponse, ChatError>),
}

/// The chatbot: the workflow and the sessions.
pub(crate) struct Chatbot {
    workflow: Compiled<Turn>,
    sessions: Arc<dyn SessionStore>,
}

impl Chatbot {
    /// A chatbot asking `router` (each call given at most `route_timeout`), answering from
    /// documents only when the best scores at least `min_relevance`, and keeping sessions in
    /// `sessions`.
    pub(crate) fn new(
        router: Arc<dyn RouterClient>,
        route_timeout: Duration,
        min_relevance: f32,
        sessions: Arc<dyn SessionStore>,
    ) -> Self {
        Self {
            workflow: turn_workflow::build(router, route_timeout, min_relevance),
            sessions,
        }
    }

    /// Answers one message and records the turn; `observer` sees the workflow's events.
    pub(crate) async fn chat(
        &self,
        input: ChatInput,
        deadline: Option<Instant>,
        observer: Option<&mut dyn Observer>,
    ) -> Result<ChatResponse, ChatError> {
        let last_entity = self.sessions.last_entity(&input.session_id).await?;
        let mut turn = Turn::new(
            input.session_id,
            input.message,
            input.hints,
            last_entity,
            deadline,
        );
        self.workflow.run(&mut turn, observer).await?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(ChatError::DeadlineExceeded);
        }
        let entity = turn.entity();
        let session_id = std::mem::take(&mut turn.session_id);
        let user_message = std::mem::take(&mut turn.message);
        let response = turn.response();
        let record = TurnRecord {
            user_message,
            answer: response.answer.clone(),
            backend: backend(response.target),
            time: SystemTime::now(),
        };
        self.sessions.record(&session_id, record, entity).await?;
        Ok(response)
    }

    /// Answers one message on a task of its own and sends each workflow event as it happens,
    /// then the outcome, the last item. The task carries the caller's span (so the router call
    /// stays in the caller's trace) and finishes the turn even when the receiver is gone: a turn
    /// that reached the router is recorded like any other.
    pub(crate) fn chat_events(
        self: &Arc<Self>,
        input: ChatInput,
        deadline: Option<Instant>,
    ) -> mpsc::UnboundedReceiver<Progress> {
        let (tx, rx) = mpsc::unbounded_channel();
        let chatbot = Arc::clone(self);
        let turn = async move {
            let steps = tx.clone();
            let mut observer = move |event: Event| {
                let _ = steps.send(Progress::Step(event));
            };
            let outcome = chatbot.chat(input, deadline, Some(&mut observer)).await;
            let _ = tx.send(Progress::Done(outcome));
        };
        tokio::spawn(turn.in_current_span());
        rx
    }

    /// A session's history.
    pub(crate) async fn session(&self, session_id: &str) -> Result<Session, ChatError> {
        check_session_id(session_id)?;
        self.sessions
            .get(session_id)
            .await?
            .ok_or_else(|| ChatError::SessionNotFound(session_id.to_owned()))
    }

    /// Deletes a session; a missing one is NOT_FOUND unless `allow_missing`.
    pub(crate) async fn delete_session(
        &self,
        session_id: &str,
        allow_missing: bool,
    ) -> Result<(), ChatError> {
        check_session_id(session_id)?;
        if self.sessions.delete(session_id).await? || allow_missing {
            Ok(())
        } else {
            Err(ChatError::SessionNotFound(session_id.to_owned()))
        }
    }
}
