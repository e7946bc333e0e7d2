//! What a PostgreSQL failure means for a call and for the engine, as in the chatbot's session
//! store: `Unavailable` when a retry may work (the database is away, slow or busy), `Internal`
//! when it will not (a schema someone changed, a row that does not decode). `trouble` says
//! whether the failure hints that the database itself is gone: that wakes the probe, which
//! alone decides whether the service turns NOT_SERVING.

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
    let unavailable = |trouble: bool, message: String| Failure {
        error: VectorError::Unavailable(message),
        trouble,
    };
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_owned();
            if is_connection_trouble(&code) {
                unavailable(
                    true,
                    format!("the vector database is unavailable: {message}"),
                )
            } else if is_transient(&code) {
                unavailable(false, format!("the vector database is busy: {message}"))
            } else {
                Failure {
                    error: VectorError::Internal(format!("database error {code}: {message}")),
                    trouble: false,
                }
            }
        }
        sqlx::Error::PoolTimedOut => unavailable(
            true,
            "no vector database connection was free or could be opened in time".into(),
        ),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => unavailable(
            true,
            format!("the vector database cannot be reached: {err}"),
        ),
        _ => Failure {
            error: VectorError::Internal(err.to_string()),
            trouble: false,
        },
    }
}

/// Connection exceptions (class 08), administrator shutdown and crash recovery (57P01–57P03),
/// too many connections (53300), a database that does not exist (3D000) or does not accept
/// connections now (55000).
fn is_connection_trouble(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "3D000" | "55000"
        )
}

/// Serialization failure, deadlock, lock or statement timeout, out of memory or disk.
fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "40001" | "40P01" | "55P03" | "57014" | "53100" | "53200"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted() {
        assert!(is_connection_trouble("08006") && is_connection_trouble("57P01"));
        assert!(!is_connection_trouble("23505") && is_transient("57014"));
        let f = classify(&sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
        assert!(f.trouble && matches!(f.error, VectorError::Unavailable(_)));
        let f = classify(&sqlx::Error::RowNotFound);
        assert!(!f.trouble && matches!(f.error, VectorError::Internal(_)));
    }
}
