//! The one place the router's errors become gRPC statuses: a request that cannot be routed, a
//! refused tools request, a bad page, and the backend named on a failed `Route`.

use chatmesh_proto::router::Target;
use tonic::Status;
use tonic::metadata::MetadataValue;

use super::convert::PageError;
use crate::pool::target_name;
use crate::routing::RouteError;
use crate::tools::ToolError;

/// Metadata entry on a failed Route naming the backend that failed ("graph", "vector",
/// "relational").
const TARGET_METADATA: &str = "chatmesh-target";

/// A routing error: always INVALID_ARGUMENT naming the field.
pub(crate) fn route_status(error: RouteError) -> Status {
    match error {
        RouteError::InvalidField { .. } => Status::invalid_argument(error.to_string()),
    }
}

/// A failed backend call of `Route`, with the backend named for callers that degrade per
/// source (the chatbot).
pub(crate) fn backend_status(mut status: Status, target: Target) -> Status {
    status.metadata_mut().insert(
        TARGET_METADATA,
        MetadataValue::from_static(target_name(target)),
    );
    status
}

impl From<PageError> for Status {
    fn from(error: PageError) -> Self {
        Status::invalid_argument(error.to_string())
    }
}

impl From<ToolError> for Status {
    fn from(error: ToolError) -> Self {
        match error {
            ToolError::UnknownTool { .. } => Status::not_found(error.to_string()),
            ToolError::InvalidArguments { .. } | ToolError::InvalidPage(_) => {
                Status::invalid_argument(error.to_string())
            }
        }
    }
}
