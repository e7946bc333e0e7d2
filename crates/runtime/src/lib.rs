//! What every chatmesh service shares, written once, and nothing about any one service: a
//! service brings its [`ServiceInfo`] (name, port, contract) and the runtime gives it typed
//! configuration with one-line errors, logs and traces, a gRPC server with health, reflection,
//! the request layers and graceful shutdown, client channels, and the `health` probe.
//!
//! The modules, bottom-up (each uses only those above it in this list):
//!
//! 1. `setting` ([`config::ConfigError`], [`auth::Secret`], shared value parsers), `status` (gRPC
//!    code names; is a request gRPC), [`page_token`], [`memory`] (freed memory back to the
//!    system), `write_at_flush` (an accepted connection writes to its socket once per HTTP/2
//!    flush, from a 16 KiB buffer each).
//! 2. [`telemetry`] (logs, OTLP export, trace context, the per-request span and metrics layer)
//!    and [`tls`] (the `--tls-*` settings, reloadable rustls configs, the TLS accept loop).
//! 3. `edge` (the request layers: deadline, message limit, load shedding, on the public paths
//!    authentication and rate limits, on a service's own API the caller check, with the
//!    refusals they answer) and `clients` (channels, and the bearer token a client sends).
//! 4. [`config`]: composes each concern's flags into [`ServerArgs`] and [`EdgeArgs`].
//! 5. `server` ([`GrpcServer`], health, reflection, shutdown, serving while a store loads).
//! 6. [`cli`] (a service binary's `main`), then the probe (`clients::probe`), which reports
//!    through the CLI's exit codes.
//!
//! The public paths below are what services, the `chatmesh` command and tests use; everything
//! else is private to the crate.

mod clients;
mod edge;
mod server;
mod setting;
mod write_at_flush;

pub mod cli;
pub mod config;
pub mod memory;
pub mod page_token;
pub mod status;
pub mod telemetry;
pub mod tls;

/// Who calls: bearer tokens of users on the public paths (`--auth-*`, `--jwt-*`), the caller
/// check of a service's own API (`--peer-tokens*`, `--allow-*`, [`auth::CallerRules`]), who an
/// accepted caller is ([`auth::Principal`], [`auth::Caller`]), and the client side that sends a
/// token ([`auth::BearerToken`], `--service-token*`).
pub mod auth {
    pub use crate::clients::bearer::{BearerToken, ServiceTokenArgs};
    pub use crate::edge::auth::AuthArgs;
    pub use crate::edge::callers::{ADMIN, CallerArgs, CallerRules};
    pub use crate::edge::identity::{
        Caller, NamedPrincipals, Principal, PrincipalKind, require_writer,
    };
    pub use crate::edge::peer_tokens::PeerToken;
    pub use crate::setting::Secret;
}

pub use clients::{channel, http2, probe};
pub use config::{DataDirArgs, EdgeArgs, ServerArgs, ServiceConfig, ServiceInfo};
pub use edge::deadline::{self, Deadline};
pub use server::health::Health;
pub use server::{GrpcServer, ServeError, bind, dependency, loading, shutdown};
pub use tokio_util::sync::CancellationToken;
