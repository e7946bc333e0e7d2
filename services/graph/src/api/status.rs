//! The one mapping from domain errors to gRPC status codes. Storage and corruption errors are
//! INTERNAL with a generic message (their details go to the log, not to the caller).

use tonic::Status;

use crate::error::GraphError;

/// Maps a domain error to its gRPC status.
pub fn status(error: GraphError) -> Status {
    match error {
        GraphError::InvalidArgument(m) => Status::invalid_argument(m),
        GraphError::NotFound(m) => Status::not_found(m),
        GraphError::FailedPrecondition(m) => Status::failed_precondition(m),
        GraphError::DeadlineExceeded(m) => Status::deadline_exceeded(m),
        GraphError::Cancelled(m) => Status::cancelled(m),
        GraphError::ResourceExhausted(m) => Status::resource_exhausted(m),
        GraphError::Unavailable(m) => Status::unavailable(m),
        GraphError::Aborted(m) => Status::aborted(m),
        GraphError::Internal(m) => Status::internal(m),
        GraphError::Reschedule => Status::internal("a read escaped its store; this is a bug"),
        other @ (GraphError::Storage(_) | GraphError::Corrupt(_)) => {
            tracing::error!(error = %other, "graph store failure");
            Status::internal(
                "the graph store failed to complete the operation; nothing was changed",
            )
        }
    }
}
