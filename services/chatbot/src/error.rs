//! The chatbot's errors and their one mapping to `tonic::Status`. A failing backend is not an
//! error (the answer degrades instead); only bad requests and the chatbot's own problems are.

use tonic::{Code, Status};

use crate::session::StoreError;
use crate::workflow::RunError;

/// Why a chat call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// A request field is invalid.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field, as the contract names it (`session_id`, `message`, `hints.k`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The session does not exist.
    #[error("session '{0}' not found")]
    SessionNotFound(String),
    /// The session store is down.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The workflow could not finish (a bug, or a step limit reached).
    #[error("workflow failed: {0}")]
    Workflow(#[from] RunError),
    /// The caller's deadline passed.
    #[error("deadline exceeded")]
    DeadlineExceeded,
}

impl ChatError {
    /// An invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// The gRPC code for this error.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::SessionNotFound(_) => Code::NotFound,
            Self::Store(_) => Code::Unavailable,
            Self::Workflow(_) => Code::Internal,
            Self::DeadlineExceeded => Code::DeadlineExceeded,
        }
    }
}

/// The one mapping from chatbot errors to gRPC statuses.
pub fn to_status(error: ChatError) -> Status {
    Status::new(error.code(), error.to_string())
}
