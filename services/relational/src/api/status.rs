//! The one mapping from the relational service's domain errors to gRPC statuses. An internal
//! error is logged here and answered without its details.

use tonic::Status;

use crate::error::Error;

/// The gRPC status for a domain error.
pub(crate) fn status(error: Error) -> Status {
    match error {
        Error::InvalidArgument { .. } => Status::invalid_argument(error.to_string()),
        Error::NotFound { .. } => Status::not_found(error.to_string()),
        Error::AlreadyExists { .. } => Status::already_exists(error.to_string()),
        Error::VersionMismatch { .. } | Error::Conflict(_) => Status::aborted(error.to_string()),
        Error::Constraint(_) => Status::failed_precondition(error.to_string()),
        Error::TooManyGroups { .. } => Status::resource_exhausted(error.to_string()),
        Error::Unavailable(_) => Status::unavailable(error.to_string()),
        Error::Internal(message) => {
            tracing::error!(%message, "internal error");
            Status::internal("internal error; the service log has the details")
        }
    }
}
