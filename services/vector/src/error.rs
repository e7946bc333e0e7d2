//! What can go wrong in the vector service, in domain terms. `api/status.rs` is the one place
//! these become gRPC status codes.

/// A vector-service failure.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VectorError {
    /// The request is malformed; the message names the field and the reason.
    #[error("{0}")]
    InvalidArgument(String),
    /// The named collection or object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A collection with that name exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// The request is valid but the collection's state does not allow it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A conflicting operation is running (e.g. a second compaction).
    #[error("{0}")]
    Aborted(String),
    /// The storage engine cannot be reached now (the PostgreSQL engine's database is away,
    /// slow or busy); a retry may work. Nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a lost worker: the details go to the log, the caller learns nothing changed.
    #[error("{0}")]
    Internal(String),
    /// Storage failed (disk full, I/O error): nothing was acknowledged.
    #[error("storage error: {0}")]
    Storage(#[from] std::io::Error),
    /// Stored data could not be read back (corruption).
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

/// Shorthand for results in this crate.
pub(crate) type Result<T, E = VectorError> = std::result::Result<T, E>;

pub(crate) fn invalid(message: impl Into<String>) -> VectorError {
    VectorError::InvalidArgument(message.into())
}

impl From<chatmesh_durable::Error> for VectorError {
    fn from(error: chatmesh_durable::Error) -> Self {
        match error {
            chatmesh_durable::Error::Io(e) => Self::Storage(e),
            chatmesh_durable::Error::Corrupt(m) => Self::Corrupt(m),
        }
    }
}
