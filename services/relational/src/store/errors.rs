//! What a database error means for the caller. sqlx reports SQLite and PostgreSQL failures in
//! one type; this module sorts them into the domain's [`Error`] and says whether the connection to
//! the database is gone (which makes the store unavailable until it reconnects).

use sqlx::error::ErrorKind;

use crate::error::Error;

/// A database failure, classified.
pub(crate) struct Failure {
    /// What the caller gets.
    pub error: Error,
    /// Whether the database itself is lost (not just this statement).
    pub connection_lost: bool,
}

/// Classifies `err`.
pub(crate) fn classify(err: sqlx::Error) -> Failure {
    let lost = |error: Error| Failure {
        error,
        connection_lost: true,
    };
    let failed = |error: Error| Failure {
        error,
        connection_lost: false,
    };
    match &err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_owned();
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return failed(Error::Constraint(format!("unique violation: {message}")));
                }
                ErrorKind::CheckViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::ForeignKeyViolation => return failed(Error::Constraint(message)),
                _ => {}
            }
            if is_conflict(&code) {
                failed(Error::Conflict(message))
            } else if is_busy(&code) {
                failed(Error::Unavailable(format!(
                    "the database is busy: {message}"
                )))
            } else if is_full(&code) {
                failed(Error::Unavailable(format!(
                    "the database is full: {message}"
                )))
            } else if is_connection_trouble(&code) {
                lost(Error::Unavailable(message))
            } else {
                failed(Error::Internal(format!("database error {code}: {message}")))
            }
        }
        sqlx::Error::PoolTimedOut => failed(Error::Unavailable(
            "no database connection became free in time".into(),
        )),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => lost(Error::Unavailable(err.to_string())),
        _ => failed(Error::Internal(err.to_string())),
    }
}

/// Whether `err` is a unique violation (an id that is taken).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation)
}

/// PostgreSQL serialization failure and deadlock.
fn is_conflict(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
}

/// SQLite BUSY and LOCKED (primary codes 5 and 6, in any extended form): the busy timeout passed.
fn is_busy(code: &str) -> bool {
    matches!(sqlite_primary(code), Some(5 | 6))
}

/// PostgreSQL connection exceptions (class 08), shutdown and start-up (57P01–57P03), too many
/// connections (53300), a missing database (3D000); SQLite I/O errors, a file that cannot be
/// opened or is not (or no longer) a database, a read-only disk. Not SQLITE_FULL (13): it is
/// also what one insert gets when no rowid is left, and one request's failure must not take
/// the database out of service for everyone ([`classify`] answers it UNAVAILABLE alone).
fn is_connection_trouble(code: &str) -> bool {
    code.starts_with("08")
        || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "3D000")
        || matches!(sqlite_primary(code), Some(8 | 10 | 11 | 14 | 26))
}

/// SQLite's "database or disk is full" (13).
fn is_full(code: &str) -> bool {
    sqlite_primary(code) == Some(13)
}

/// The primary result code of a numeric SQLite (extended) code.
fn sqlite_primary(code: &str) -> Option<i64> {
    code.parse::<i64>().ok().map(|c| c & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted() {
        assert!(is_conflict("40001"));
        assert!(is_busy("5") && is_busy("261") && !is_busy("1"));
        assert!(is_connection_trouble("08006") && is_connection_trouble("57P01"));
        assert!(is_connection_trouble("14") && is_connection_trouble("3850"));
        assert!(!is_connection_trouble("23505") && !is_connection_trouble("1"));
        assert!(is_full("13") && !is_connection_trouble("13"));
    }

    #[test]
    fn lost_connections_are_unavailable() {
        let f = classify(sqlx::Error::PoolClosed);
        assert!(f.connection_lost);
        assert!(matches!(f.error, Error::Unavailable(_)));
        let f = classify(sqlx::Error::PoolTimedOut);
        assert!(!f.connection_lost);
        assert!(matches!(f.error, Error::Unavailable(_)));
    }
}
