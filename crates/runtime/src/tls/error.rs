//! Why TLS settings could not be built, at the bottom of the TLS modules: the file readers, the
//! reloader and both sides report in it, and at start-up it becomes the [`ConfigError`] that
//! names the setting.

use std::path::PathBuf;

use crate::setting::ConfigError;

/// Why TLS settings could not be built from the files.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds nothing usable.
    #[error("{reason}")]
    File {
        /// The flag and env var of the file.
        setting: &'static str,
        /// The path as given.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The files parse but do not fit together (e.g. the key does not match the certificate).
    #[error("{0}")]
    Mismatch(String),
}

impl TlsError {
    pub(crate) fn into_config_error(self) -> ConfigError {
        match self {
            TlsError::File {
                setting,
                path,
                reason,
            } => ConfigError {
                setting: setting.to_owned(),
                value: path.display().to_string(),
                reason,
            },
            TlsError::Mismatch(reason) => ConfigError {
                setting: "--tls-cert/--tls-key (CHATMESH_TLS_CERT/CHATMESH_TLS_KEY)".to_owned(),
                value: String::new(),
                reason,
            },
        }
    }
}
