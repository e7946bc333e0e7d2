//! Mutual TLS between services, off unless configured. With `--tls-ca`, `--tls-cert` and
//! `--tls-key` every server requires a client certificate signed by that CA, and every
//! service-to-service client presents its own certificate and accepts only servers whose
//! certificate that CA signed. The files are read again when they change (checked at most once
//! per `--tls-reload-interval`, on the next handshake), so certificates rotate without a restart;
//! a change that does not load (a half-written file, a key that does not match) keeps the last
//! good settings and is logged.
//!
//! Parts, bottom-up: `error` ([`TlsError`]), [`material`] reads and parses the files (and picks
//! the crypto provider), `reload` keeps the built settings fresh, [`server`] accepts TLS
//! connections for `GrpcServer` (with its [`ClientAuth`] policy), [`client`] connects channels
//! over TLS, [`peer`] names the client a connection's certificate identifies; this file holds
//! the `--tls-*` flags, which build either side. Certificates come
//! from elsewhere: `chatmesh certs` makes a development CA and one certificate per service, the
//! test-support crate makes them for tests.

pub mod client;
mod error;
pub mod material;
pub mod peer;
mod reload;
pub mod server;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

pub use client::ClientTls;
pub use error::TlsError;
pub use server::{ClientAuth, ServerTls};

use crate::setting::{ConfigError, parse_duration};

/// The three files that turn mTLS on: all three or none. One-shot clients (`health`, `chat`)
/// take just these; services take [`TlsArgs`].
#[derive(Debug, Clone, Default, Args)]
pub struct TlsFileArgs {
    /// CA certificate(s), PEM: servers accept only clients, and clients only servers, whose
    /// certificate this CA signed. Turns mTLS on, together with --tls-cert and --tls-key.
    #[arg(long, env = "CHATMESH_TLS_CA", value_name = "PATH",
          requires_all = ["tls_cert", "tls_key"])]
    pub tls_ca: Option<PathBuf>,

    /// This service's certificate chain, PEM, used as server and as client certificate.
    #[arg(long, env = "CHATMESH_TLS_CERT", value_name = "PATH",
          requires_all = ["tls_ca", "tls_key"])]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert, PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "CHATMESH_TLS_KEY", value_name = "PATH",
          requires_all = ["tls_ca", "tls_cert"])]
    pub tls_key: Option<PathBuf>,
}

impl TlsFileArgs {
    /// Settings that turn mTLS on with these files.
    pub fn new(ca: PathBuf, cert: PathBuf, key: PathBuf) -> Self {
        Self {
            tls_ca: Some(ca),
            tls_cert: Some(cert),
            tls_key: Some(key),
        }
    }

    /// The three files, when mTLS is on. Clap guarantees all three or none; a value built in
    /// code with only some of them is treated as off.
    pub fn files(&self) -> Option<material::TlsFiles> {
        match (&self.tls_ca, &self.tls_cert, &self.tls_key) {
            (Some(ca), Some(cert), Some(key)) => Some(material::TlsFiles {
                ca: ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    /// The client side, loaded now (`None` when mTLS is off).
    pub fn client(&self, reload: Duration) -> Result<Option<ClientTls>, ConfigError> {
        self.files()
            .map(|files| ClientTls::load(files, reload).map_err(TlsError::into_config_error))
            .transpose()
    }
}

/// The TLS settings of a service: its files, as server and as client, and how it uses them.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    #[command(flatten)]
    pub files: TlsFileArgs,

    /// How often, at most, the three files are checked for changes (on the next handshake).
    #[arg(long, env = "CHATMESH_TLS_RELOAD_INTERVAL", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    pub tls_reload_interval: Duration,

    /// Whether this server requires a client certificate (`optional` suits a public edge).
    #[arg(long, env = "CHATMESH_TLS_CLIENT_AUTH", value_enum, value_name = "MODE",
          default_value_t = ClientAuth::Required)]
    pub tls_client_auth: ClientAuth,
}

impl Default for TlsArgs {
    fn default() -> Self {
        Self {
            files: TlsFileArgs::default(),
            tls_reload_interval: Duration::from_secs(10),
            tls_client_auth: ClientAuth::Required,
        }
    }
}

impl TlsArgs {
    /// Settings that turn mTLS on with these files, the other settings at their defaults.
    pub fn with_files(ca: PathBuf, cert: PathBuf, key: PathBuf) -> Self {
        Self {
            files: TlsFileArgs::new(ca, cert, key),
            ..Self::default()
        }
    }

    /// Whether mTLS is on.
    pub fn enabled(&self) -> bool {
        self.files.files().is_some()
    }

    /// Whether every client of this server holds a certificate from the CA, so that each
    /// request has a caller identity (see [`peer`]).
    pub fn requires_client_certificates(&self) -> bool {
        self.enabled() && self.tls_client_auth == ClientAuth::Required
    }

    /// The server side, loaded now (`None` when mTLS is off).
    pub fn server(&self) -> Result<Option<ServerTls>, ConfigError> {
        self.files
            .files()
            .map(|files| {
                ServerTls::load(files, self.tls_client_auth, self.tls_reload_interval)
                    .map_err(TlsError::into_config_error)
            })
            .transpose()
    }

    /// The client side, loaded now (`None` when mTLS is off).
    pub fn client(&self) -> Result<Option<ClientTls>, ConfigError> {
        self.files.client(self.tls_reload_interval)
    }

    /// Start-up check: the files exist, parse, and the key matches the certificate.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        tls: TlsArgs,
    }

    #[test]
    fn off_by_default_and_all_three_or_none() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert!(!cli.tls.enabled());
        let cli = Cli::try_parse_from(["x", "--tls-ca", "a", "--tls-cert", "b", "--tls-key", "c"])
            .unwrap();
        assert!(cli.tls.enabled());
        let err = Cli::try_parse_from(["x", "--tls-ca", "a", "--tls-cert", "b"]).unwrap_err();
        assert!(err.to_string().contains("--tls-key"), "{err}");
        let err = Cli::try_parse_from(["x", "--tls-key", "c"]).unwrap_err();
        assert!(err.to_string().contains("--tls-ca"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let tmp = tempfile::tempdir().unwrap();
        let args = TlsArgs::with_files(
            tmp.path().join("ca.pem"),
            tmp.path().join("svc.pem"),
            tmp.path().join("svc.key"),
        );
        let err = args.validate().unwrap_err();
        assert!(err.setting.contains("--tls-ca"), "{err}");
        assert!(err.value.ends_with("ca.pem"), "{err}");
    }
}
