//! What a neo4rs error means to a caller, decided once: the engine's own verdict on a statement
//! (`Neo.ClientError.Statement.*`: syntax, semantics, types, arithmetic, missing parameters) is
//! INVALID_ARGUMENT with the engine's message, a constraint it enforces is FAILED_PRECONDITION,
//! a transient error (ArcadeDB's write conflicts surface as `DeadlockDetected` at commit) is
//! retried by the caller and ends as ABORTED, a lost or refused connection is UNAVAILABLE (and
//! tells the store to stop calling until its probe reaches the engine again); anything else is
//! INTERNAL with a generic message, its detail only in the log.

use neo4rs::{Error, Neo4jErrorKind};

use crate::error::GraphError;

/// A failure of the engine, sorted for the caller and the store.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The answer to give.
    Answer(GraphError),
    /// Worth retrying (a write conflict); ABORTED when the retries run out.
    Transient(String),
    /// The connection is gone: UNAVAILABLE, and the store probes before calling again.
    Lost(String),
    /// The engine refuses this service (credentials, rights, an unknown database): a start-up
    /// error, INTERNAL for a call.
    Refused(String),
}

impl From<GraphError> for Failure {
    fn from(error: GraphError) -> Self {
        Failure::Answer(error)
    }
}

impl Failure {
    /// The answer to the caller.
    pub(crate) fn into_error(self) -> GraphError {
        match self {
            Failure::Answer(e) => e,
            Failure::Transient(m) => GraphError::Aborted(format!(
                "the write conflicted with concurrent writes and was retried without success; nothing was changed ({m})"
            )),
            Failure::Lost(m) => {
                GraphError::Unavailable(format!("the graph engine is unreachable: {m}"))
            }
            Failure::Refused(m) => internal(&m),
        }
    }
}

/// Sorts a neo4rs error.
pub(super) fn classify(error: Error) -> Failure {
    match error {
        Error::Neo4j(e) => {
            let code = e.code();
            if code.starts_with("Neo.ClientError.Statement.") {
                Failure::Answer(GraphError::InvalidArgument(e.message().to_owned()))
            } else if code.starts_with("Neo.ClientError.Schema.ConstraintValidationFailed") {
                Failure::Answer(GraphError::FailedPrecondition(e.message().to_owned()))
            } else if code.starts_with("Neo.ClientError.Security.")
                || code == "Neo.ClientError.Database.DatabaseNotFound"
            {
                Failure::Refused(format!("{code}: {}", e.message()))
            } else if matches!(e.kind(), Neo4jErrorKind::Transient) {
                Failure::Transient(e.message().to_owned())
            } else {
                Failure::Answer(internal(&format!("{}: {}", e.code(), e.message())))
            }
        }
        Error::IOError { detail } => Failure::Lost(detail.to_string()),
        Error::ConnectionError => Failure::Lost("connection error".into()),
        Error::UnexpectedMessage(m) => Failure::Lost(format!("unexpected message: {m}")),
        Error::AuthenticationError(m) => Failure::Refused(format!("authentication failed: {m}")),
        Error::UnsupportedVersion(m) => Failure::Refused(format!("Bolt version refused: {m}")),
        other => Failure::Answer(internal(&other.to_string())),
    }
}

/// INTERNAL, with the detail in the log only.
pub(super) fn internal(detail: &str) -> GraphError {
    tracing::error!(detail, "graph engine (Bolt) failure");
    GraphError::Internal(
        "the graph engine failed to complete the operation; see the service log".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_mean_a_lost_engine() {
        let io = Error::IOError {
            detail: std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        };
        assert!(matches!(classify(io), Failure::Lost(_)));
        assert!(matches!(
            classify(Error::ConversionError),
            Failure::Answer(GraphError::Internal(_))
        ));
        let aborted = Failure::Transient("conflict".into()).into_error();
        assert!(matches!(aborted, GraphError::Aborted(m) if m.contains("conflict")));
    }
}
