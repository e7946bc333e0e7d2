//! Where sessions live: each conversation's recent turns and the last entity it mentioned,
//! behind the [`SessionStore`] trait. The trait is async and speaks the chatbot's own types
//! ([`crate::conversation`]), so an implementation assumes neither memory nor protobuf.
//!
//! Two implementations, chosen by [`open`] from the configuration: [`memory`] (the default,
//! this process's memory with a size bound) and [`postgres`] (`--session-url`: one database
//! shared by every chatbot replica, so a follow-up may reach any of them). Both keep the same
//! semantics, which `suite.rs` checks on each with one test body: a TTL since last use, the last
//! [`MAX_TURNS`] turns, isolation per session id, and every concurrent turn recorded. A store
//! kept outside the process also implements the runtime's [`Dependency`], what
//! `crate::lifecycle` needs to connect it, watch it and get it back.

mod clock;
mod memory;
mod postgres;
#[cfg(test)]
mod suite;

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::auth::Secret;
use chatmesh_runtime::dependency::Dependency;

use crate::conversation::{Entity, Session, TurnRecord};

pub(crate) use clock::Clock;
pub(crate) use memory::MemorySessions;

/// Turns kept per session (the contract says at most 100).
pub(crate) const MAX_TURNS: usize = 100;

/// Why the session store could not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The store cannot be reached now (lost, not connected yet, too slow): a retry may work.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store refused the request for a reason a retry will not fix (a bug, a broken schema).
    #[error("session store failed: {0}")]
    Internal(String),
}

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

    /// Deletes the sessions unused for longer than the TTL; returns how many went. Expired
    /// sessions are never read even before a sweep: this frees their space.
    async fn sweep(&self) -> Result<u64, StoreError>;
}

/// Checks a `--session-url`: a `postgres://` (or `postgresql://`) URL that sqlx can use.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("expected postgres://USER:PASS@HOST:PORT/DB".into());
    }
    postgres::check_url(url)
}

/// `url` without its credentials, for messages: `postgres://…@host/db`.
pub(crate) fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}…{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// How sessions are kept, from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// How long an unused session is kept.
    pub(crate) ttl: Duration,
    /// In memory: the most sessions kept.
    pub(crate) max_sessions: usize,
    /// `postgres://…` to keep sessions in PostgreSQL; `None` for memory.
    pub(crate) url: Option<Secret>,
    /// PostgreSQL: the most connections.
    pub(crate) max_connections: u32,
    /// PostgreSQL: the longest wait for a connection, and for a statement's answer.
    pub(crate) timeout: Duration,
}

/// The store, and what the lifecycle must keep connected (nothing for memory).
pub(crate) struct Opened {
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) database: Option<Arc<dyn Dependency>>,
}

/// The session store `settings` ask for, on the system's clock. A PostgreSQL store is not
/// connected yet (see [`Dependency::connect`]); an unusable URL is an error.
pub(crate) fn open(settings: &Settings) -> Result<Opened, StoreError> {
    open_with(settings, Clock::default())
}

fn open_with(settings: &Settings, clock: Clock) -> Result<Opened, StoreError> {
    Ok(match &settings.url {
        Some(url) => {
            let store = Arc::new(postgres::PgSessions::new(url, settings, clock)?);
            Opened {
                sessions: store.clone(),
                database: Some(store),
            }
        }
        None => Opened {
            sessions: Arc::new(MemorySessions::with_clock(
                settings.ttl,
                settings.max_sessions,
                clock,
            )),
            database: None,
        },
    })
}
