//! The one mapping from chatbot errors to statuses: the gRPC code of each [`ChatError`], and the
//! HTTP status the JSON API answers for a gRPC code.

use axum::http::StatusCode;
use tonic::{Code, Status};

use crate::error::ChatError;

/// The gRPC code for `error`.
pub(crate) fn code(error: &ChatError) -> Code {
    match error {
        ChatError::InvalidArgument { .. } => Code::InvalidArgument,
        ChatError::PermissionDenied(_) => Code::PermissionDenied,
        ChatError::SessionNotFound(_) => Code::NotFound,
        ChatError::Store(_) => Code::Unavailable,
        ChatError::Workflow(_) => Code::Internal,
        ChatError::DeadlineExceeded => Code::DeadlineExceeded,
    }
}

/// `error` as a gRPC status.
pub(crate) fn status(error: ChatError) -> Status {
    Status::new(code(&error), error.to_string())
}

/// The HTTP status of the JSON API for a gRPC `code`.
pub(crate) fn http_status(code: Code) -> StatusCode {
    match code {
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
