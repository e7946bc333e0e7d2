//! What can go wrong in the graph service, in domain terms, for every layer from the model up.
//! No tonic here: `api/status.rs` is the one place these become gRPC status codes.

/// A graph-service failure.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The request is malformed; the message names the field and the reason.
    #[error("{0}")]
    InvalidArgument(String),
    /// A node or relationship with the given id does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the graph's state does not allow it (e.g. deleting a node that
    /// still has relationships without detaching it).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller's deadline passed while the request ran; nothing was changed.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The caller went away (cancelled, or its connection dropped) while the request ran; its
    /// work stopped and nothing was changed. Nobody reads this answer: it ends the work.
    #[error("{0}")]
    Cancelled(String),
    /// A request or an intermediate result is over a server limit.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The store is not ready (loading) or is shutting down, or its engine (a Bolt server) is
    /// unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// A write conflicted with a concurrent one and was retried until the retries ran out;
    /// nothing was changed (Bolt engine).
    #[error("{0}")]
    Aborted(String),
    /// Storage failed (disk full, I/O error): nothing was acknowledged.
    #[error("storage error: {0}")]
    Storage(#[from] std::io::Error),
    /// Stored data could not be read back (corruption).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A bug: a task of the store failed (panicked) before it could answer.
    #[error("{0}")]
    Internal(String),
    /// Never leaves the store: a read tried on an async thread took more steps than such a
    /// thread may spend, so the store runs it again on the blocking pool.
    #[error("the request needs the blocking pool")]
    Reschedule,
}

/// Shorthand for results in this crate.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;

pub(crate) fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::InvalidArgument(message.into())
}

pub(crate) fn node_not_found(id: u64) -> GraphError {
    GraphError::NotFound(format!("node {id} does not exist"))
}

pub(crate) fn relationship_not_found(id: u64) -> GraphError {
    GraphError::NotFound(format!("relationship {id} does not exist"))
}

impl From<chatmesh_durable::Error> for GraphError {
    fn from(error: chatmesh_durable::Error) -> Self {
        match error {
            chatmesh_durable::Error::Io(e) => Self::Storage(e),
            chatmesh_durable::Error::Corrupt(m) => Self::Corrupt(m),
        }
    }
}
