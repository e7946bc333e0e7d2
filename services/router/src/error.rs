//! The one place router domain errors become gRPC statuses.

use tonic::Status;

use crate::routing::RouteError;

/// Maps a routing error to its status: always INVALID_ARGUMENT naming the field.
pub fn route_status(error: RouteError) -> Status {
    match error {
        RouteError::InvalidField { .. } => Status::invalid_argument(error.to_string()),
    }
}

/// A paging request that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Negative page size.
    #[error("page_size must not be negative, got {0}")]
    NegativeSize(i32),
    /// A token this service did not issue.
    #[error("page_token {0:?} is not one this service issued")]
    BadToken(String),
}

impl From<PageError> for Status {
    fn from(error: PageError) -> Self {
        Status::invalid_argument(error.to_string())
    }
}
