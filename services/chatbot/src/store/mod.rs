//! Where sessions live: each conversation's recent turns and the last entity it mentioned,
//! behind the [`SessionStore`] trait so that a shared store (PostgreSQL, for several chatbot
//! replicas) can replace the in-memory one. The trait is async and speaks the chatbot's own
//! types ([`crate::conversation`]), so an implementation assumes neither memory nor protobuf.
//! [`open`] picks the implementation from the configuration; [`memory`] is the only one today.

mod memory;

use std::sync::Arc;

use crate::conversation::{Entity, Session, TurnRecord};

pub(crate) use memory::MemorySessions;

/// Turns kept per session (the contract says at most 100).
pub(crate) const MAX_TURNS: usize = 100;

/// The session store failed (an external store being down, for example).
#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub(crate) struct StoreError(pub(crate) String);

/// Where sessions live.
#[tonic::async_trait]
pub(crate) trait SessionStore: Send + Sync + 'static {
    /// The last entity of a session (`None` for a new session or one without entities).
    async fn last_entity(&self, session_id: &str) -> Result<Option<Entity>, StoreError>;

    /// Records a turn, creating the session on first use and keeping its last [`MAX_TURNS`];
    /// `entity`, when set, becomes the session's last entity. Concurrent turns of one session
    /// are all recorded.
    async fn record(
        &self,
        session_id: &str,
        turn: TurnRecord,
        entity: Option<Entity>,
    ) -> Result<(), StoreError>;

    /// A whole session, or `None` when it does not exist (or has expired).
    async fn get(&self, session_id: &str) -> Result<Option<Session>, StoreError>;

    /// Deletes a session; returns whether it existed.
    async fn delete(&self, session_id: &str) -> Result<bool, StoreError>;
}

/// The session store the configuration asks for: sessions in this process's memory, each kept
/// for `config.session_ttl` after its last use, at most `config.max_sessions` of them.
pub(crate) fn open(config: &crate::Config) -> Arc<dyn SessionStore> {
    Arc::new(MemorySessions::new(
        config.session_ttl,
        usize::try_from(config.max_sessions).unwrap_or(usize::MAX),
    ))
}
