//! The one error type of the relational service's domain and store. Every variant names what
//! went wrong in terms a client can act on; `api/status.rs` is the only place that turns it into
//! a gRPC status.

/// Why a relational operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A request field is invalid (INVALID_ARGUMENT). `field` is its path in the request.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field's path in the request, e.g. `order.quantity` or `filter.statuses`.
        field: String,
        /// Why the value was refused.
        reason: String,
    },
    /// No order has this id (NOT_FOUND).
    #[error("order {id} does not exist")]
    NotFound {
        /// The id asked for.
        id: i64,
    },
    /// An explicit id is already taken (ALREADY_EXISTS).
    #[error("order {id} already exists")]
    AlreadyExists {
        /// The id asked for.
        id: i64,
    },
    /// The order's version is not the one the client expected (ABORTED).
    #[error(
        "order {id} is at version {actual}, not the expected version {expected}; re-read and retry"
    )]
    VersionMismatch {
        /// The order.
        id: i64,
        /// The version the client sent.
        expected: i64,
        /// The order's current version.
        actual: i64,
    },
    /// The database refused a write by a schema constraint (FAILED_PRECONDITION).
    #[error("the database refused the write: {0}")]
    Constraint(String),
    /// The database reported a serialization conflict or deadlock (ABORTED; retry the call).
    #[error("the database reported a conflict, retry: {0}")]
    Conflict(String),
    /// More groups than an aggregate may return (RESOURCE_EXHAUSTED).
    #[error("the aggregate has more than {limit} groups; narrow the filter")]
    TooManyGroups {
        /// The largest number of groups allowed.
        limit: usize,
    },
    /// The database cannot be reached or is not ready (UNAVAILABLE; retry with backoff).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else (INTERNAL). The message is logged; the client gets a generic text.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An INVALID_ARGUMENT for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The result type of the domain and the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;
