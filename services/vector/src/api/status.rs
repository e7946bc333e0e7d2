//! The one place domain errors become gRPC status codes. Storage, corruption and internal
//! failures are INTERNAL with a generic message; their details go to the log only.

use tonic::Status;

use crate::error::VectorError;

/// The gRPC status of a domain error.
pub(crate) fn status(error: VectorError) -> Status {
    match error {
        VectorError::InvalidArgument(m) => Status::invalid_argument(m),
        VectorError::NotFound(m) => Status::not_found(m),
        VectorError::AlreadyExists(m) => Status::already_exists(m),
        VectorError::FailedPrecondition(m) => Status::failed_precondition(m),
        VectorError::Aborted(m) => Status::aborted(m),
        VectorError::Unavailable(m) => Status::unavailable(m),
        other @ (VectorError::Storage(_) | VectorError::Corrupt(_) | VectorError::Internal(_)) => {
            tracing::error!(error = %other, "vector store failure");
            Status::internal(
                "the vector store failed to complete the operation; nothing was changed",
            )
        }
    }
}
