//! What a PostgreSQL failure means, once for the three services that keep state in PostgreSQL
//! (chat sessions, vectors, relational rows). sqlx reports every failure in one type; a service
//! needs two answers from it: may a retry work (the caller gets UNAVAILABLE) or not (INTERNAL),
//! and does the failure hint that the database itself is gone (which wakes the service's probe,
//! the only one that decides to turn readiness off). [`sort`] gives both; each service words the
//! message and picks its own error type.
//!
//! The SQLSTATE classes come from PostgreSQL's documentation (Appendix A, "PostgreSQL Error
//! Codes"): class 08 connection exceptions, 57P0x operator intervention, 53xxx insufficient
//! resources, 40xxx transaction rollback.

/// What a failed statement says about the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// The database may be gone (a broken connection, a server shutting down, no connection to
    /// be had): a retry may work once it is back; the probe should look now.
    Gone,
    /// This statement failed for a passing reason (a conflict, a lock or statement timeout, no
    /// memory or disk for now): a retry may work; the database is fine.
    Busy,
    /// A retry will not help (a schema someone changed, a row that does not decode, a bug).
    Broken,
}

/// A failure sorted: its [`Meaning`] and the database's own words.
#[derive(Debug)]
pub struct Sorted {
    /// What it means.
    pub meaning: Meaning,
    /// The message, with the SQLSTATE for a [`Meaning::Broken`] database error.
    pub message: String,
}

/// Sorts `err`.
pub fn sort(err: &sqlx::Error) -> Sorted {
    let sorted = |meaning, message| Sorted { meaning, message };
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_owned();
            if is_connection_trouble(&code) {
                sorted(Meaning::Gone, message)
            } else if is_transient(&code) {
                sorted(Meaning::Busy, message)
            } else {
                sorted(Meaning::Broken, format!("database error {code}: {message}"))
            }
        }
        sqlx::Error::PoolTimedOut => sorted(
            Meaning::Gone,
            "no database connection was free or could be opened in time".into(),
        ),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => sorted(Meaning::Gone, err.to_string()),
        _ => sorted(Meaning::Broken, err.to_string()),
    }
}

/// Connection exceptions (class 08), administrator shutdown and crash recovery (57P01–57P03),
/// too many connections (53300), a database that does not exist (3D000) or does not accept
/// connections now (55000, `ALLOW_CONNECTIONS false` during maintenance).
pub fn is_connection_trouble(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "3D000" | "55000"
        )
}

/// Serialization failure, deadlock, lock or statement timeout, out of memory or disk: this
/// statement failed, the next may not.
pub fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "40001" | "40P01" | "55P03" | "57014" | "53100" | "53200"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted() {
        assert!(is_connection_trouble("08006") && is_connection_trouble("57P01"));
        assert!(is_connection_trouble("55000") && is_connection_trouble("3D000"));
        assert!(!is_connection_trouble("23505") && !is_connection_trouble("57014"));
        assert!(is_transient("57014") && is_transient("40P01") && !is_transient("42P01"));
    }

    #[test]
    fn broken_wires_mean_gone_and_decoding_does_not() {
        let io = sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into());
        assert_eq!(sort(&io).meaning, Meaning::Gone);
        assert_eq!(sort(&sqlx::Error::PoolTimedOut).meaning, Meaning::Gone);
        assert_eq!(sort(&sqlx::Error::PoolClosed).meaning, Meaning::Gone);
        assert_eq!(sort(&sqlx::Error::RowNotFound).meaning, Meaning::Broken);
    }
}
