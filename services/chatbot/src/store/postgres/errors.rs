//! What a PostgreSQL failure means for a call and for the store, in the session store's words.
//! `chatmesh_postgres::sort` reads the failure; here it becomes a [`StoreError`]
//! (`Unavailable` when a retry may work, `Internal` when it will not) and `trouble`, whether the
//! database itself may be gone: that wakes the probe, which alone decides.

use chatmesh_postgres::{Meaning, sort};

use super::super::StoreError;

/// A failure, sorted.
pub(super) struct Failure {
    /// What the caller gets.
    pub(super) error: StoreError,
    /// Whether the database may be gone (not just this statement failed).
    pub(super) trouble: bool,
}

/// Sorts `err`.
pub(super) fn classify(err: &sqlx::Error) -> Failure {
    let sorted = sort(err);
    let message = sorted.message;
    let (error, trouble) = match sorted.meaning {
        Meaning::Gone => (StoreError::Unavailable(message), true),
        Meaning::Busy => (
            StoreError::Unavailable(format!("the database is busy: {message}")),
            false,
        ),
        Meaning::Broken => (StoreError::Internal(message), false),
    };
    Failure { error, trouble }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_wires_are_trouble_and_decoding_is_not() {
        let f = classify(&sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
        assert!(f.trouble && matches!(f.error, StoreError::Unavailable(_)));
        let f = classify(&sqlx::Error::PoolTimedOut);
        assert!(f.trouble && matches!(f.error, StoreError::Unavailable(_)));
        let f = classify(&sqlx::Error::RowNotFound);
        assert!(!f.trouble && matches!(f.error, StoreError::Internal(_)));
    }
}
