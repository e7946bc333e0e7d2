//! The words a conversation is kept in, shared by the workflow and the session store: the
//! entities a turn mentions, the recorded turns, a session. They are the chatbot's own types,
//! not the wire's, so that a session store (in memory today, PostgreSQL next) never speaks
//! chatmesh's protobuf; `api/convert.rs` maps them to the contract.

use std::time::SystemTime;

/// Something a message mentions that a follow-up can refer to: a person, an order, a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entity {
    /// The kind, as `RouteExplanation.entities` names it: `person_name`, `order_id`,
    /// `customer` (see [`crate::understand`]).
    pub(crate) kind: String,
    /// The value, e.g. "Ada Lovelace" or "100001".
    pub(crate) value: String,
}

impl Entity {
    /// An entity of `kind`.
    pub(crate) fn new(kind: &str, value: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            value: value.into(),
        }
    }
}

/// The data service that answered a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The organisation graph.
    Graph,
    /// The documents.
    Vector,
    /// The orders.
    Relational,
}

/// One answered turn, as a session keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TurnRecord {
    /// What the user asked.
    pub(crate) user_message: String,
    /// What the chatbot answered.
    pub(crate) answer: String,
    /// Who answered (`None` when no service did, e.g. a fallback reply).
    pub(crate) backend: Option<Backend>,
    /// When the turn was recorded.
    pub(crate) time: SystemTime,
}

/// A session as read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Session {
    /// Retained turns, oldest first.
    pub(crate) turns: Vec<TurnRecord>,
    /// The most recently mentioned entity.
    pub(crate) last_entity: Option<Entity>,
}
