//! What every chatmesh service shares, written once: typed configuration with one-line errors
//! ([`config`], [`cli`]), logging ([`telemetry`]), the gRPC server with health, reflection,
//! deadlines, message limits and graceful shutdown ([`server`]), checksummed record framing for
//! the stores' logs ([`framing`]), shutdown signals
//! ([`shutdown`]), client channels for service-to-service calls ([`channel`]), and the `health`
//! probe every binary carries as its container healthcheck ([`probe`]).

pub mod channel;
pub mod cli;
pub mod config;
pub mod deadline;
pub mod framing;
pub mod health;
pub mod limit;
pub mod loading;
pub mod metrics;
mod observe;
pub mod probe;
mod reflection;
pub mod server;
pub mod shutdown;
pub mod status;
pub mod telemetry;
#[doc(hidden)]
pub mod test_support;
pub mod trace_context;
mod watch_close;

pub use config::{DataDirArgs, ServerArgs, ServiceConfig, ServiceInfo};
pub use deadline::Deadline;
pub use health::Health;
pub use server::{GrpcServer, ServeError, bind};
pub use tokio_util::sync::CancellationToken;
