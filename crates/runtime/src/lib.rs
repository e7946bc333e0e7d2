//! What every chatmesh service shares, written once: typed configuration with one-line errors
//! ([`config`], [`cli`]), logging ([`telemetry`]), the gRPC server with health, reflection,
//! deadlines, message limits and graceful shutdown ([`server`]), shutdown signals
//! ([`shutdown`]), client channels for service-to-service calls ([`channel`]), and the `health`
//! probe every binary carries as its container healthcheck ([`probe`]), and mutual TLS between
//! services when configured ([`tls`]).

pub mod auth;
pub mod channel;
pub mod cli;
pub mod config;
pub mod deadline;
mod edge_gate;
pub mod health;
pub mod limit;
pub mod loading;
pub mod metrics;
mod observe;
pub mod page_token;
pub mod probe;
pub mod rate_limit;
mod reflection;
mod refusal;
pub mod server;
pub mod shed;
pub mod shutdown;
pub mod status;
pub mod telemetry;
#[doc(hidden)]
pub mod test_support;
pub mod tls;
pub mod trace_context;
mod watch_close;

pub use config::{DataDirArgs, EdgeArgs, ServerArgs, ServiceConfig, ServiceInfo};
pub use deadline::Deadline;
pub use health::Health;
pub use server::{GrpcServer, ServeError, bind};
pub use tokio_util::sync::CancellationToken;
