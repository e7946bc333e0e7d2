//! Why a chat call fails. A failing backend is not an error (the answer degrades instead); only
//! bad requests and the chatbot's own problems are. The mapping to gRPC and HTTP statuses is
//! `api/status.rs`.

use crate::store::StoreError;
use crate::workflow_engine::RunError;

/// Why a chat call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChatError {
    /// A request field is invalid.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field, as the contract names it (`session_id`, `message`, `hints.k`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller may not ask this (a free-form query it was not allowed).
    #[error("{0}")]
    PermissionDenied(String),
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
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}
