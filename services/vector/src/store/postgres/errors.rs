//! What a PostgreSQL failure means for a call and for the engine, in the vector service's words.
//! `chatmesh_postgres::sort` reads the failure; here it becomes a [`VectorError`]
//! (`Unavailable` when a retry may work, `Internal` when it will not) and `trouble`, whether the
//! database itself may be gone: that wakes the probe, which alone decides whether the service
//! turns NOT_SERVING.

use chatmesh_postgres::{Meaning, sort};

use crate::error::VectorError;

/// A failure, sorted.
pub(super) struct Failure {
    /// What the caller gets.
    pub(super) error: VectorError,
    /// Whether the database may be gone (not just this statement failed).
    pub(super) trouble: bool,
}

/// Sorts `err`.
pub(super) fn classify(err: &sqlx::Error) -> Failure {
    let sorted = sort(err);
    let message = sorted.message;
    let (error, trouble) = match sorted.meaning {
        Meaning::Gone => (
            VectorError::Unavailable(format!("the vector database is unavailable: {message}")),
            true,
        ),
        Meaning::Busy => (
            VectorError::Unavailable(format!("the vector database is busy: {message}")),
            false,
        ),
        Meaning::Broken => (VectorError::Internal(message), false),
    };
    Failure { error, trouble }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted() {
        let f = classify(&sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
        assert!(f.trouble && matches!(f.error, VectorError::Unavailable(_)));
        let f = classify(&sqlx::Error::RowNotFound);
        assert!(!f.trouble && matches!(f.error, VectorError::Internal(_)));
    }
}
