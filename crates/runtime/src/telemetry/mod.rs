//! What a service tells about itself, set up once per process: log lines (`logs`), span export
//! over OTLP (`otlp`), W3C trace context across hops (`trace_context`), and per request a span
//! and the metrics behind `GET /metrics` (`observe`, `metrics`, `http_metrics`: the server's
//! outermost layer).
//!
//! [`init`] installs the log and, when an OTLP endpoint is given
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`), the span export, which switches trace-context propagation on.
//! Installed once per process (a second call is a harmless no-op).
//!
//! Bottom-up: `metrics` and `trace_context` know nothing else here; `logs` and `otlp` are the two
//! sinks; `observe` uses `metrics` and `trace_context`; this file composes the sinks.

mod conventions;
pub(crate) mod http_metrics;
mod logs;
pub(crate) mod metrics;
pub(crate) mod observe;
mod otlp;
pub(crate) mod trace_context;

use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub use logs::{LogFormat, parse_log_filter};
pub use metrics::{Histogram, MetricsSource, escape as escape_label, header as metric_header};
pub use otlp::{OTLP_ENDPOINT_ENV, otlp_endpoint_from_env};
pub use trace_context::current_trace_id;

/// How long shutdown waits for the last spans to be sent.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// One sink of the `tracing` subscriber.
type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// What [`init`] installed; [`Telemetry::shutdown`] sends the spans still queued.
#[derive(Debug, Default)]
#[must_use = "call shutdown() when the service stops, or queued spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends the spans queued so far and waits for the collector's answer. Blocks: call it
    /// outside async code (e.g. in `spawn_blocking`). Failures are logged.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(e) = provider.force_flush()
        {
            tracing::warn!(error = %e, "could not flush spans to the OTLP collector");
        }
    }

    /// Sends the spans still queued and stops the exporter. Blocks for at most a few seconds;
    /// call it after serving has stopped, while the async runtime is still alive.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
        {
            tracing::warn!(error = %e, "could not flush spans to the OTLP collector");
        }
    }
}

/// Installs logging only (no span export). Errors only when the filter directive is invalid.
pub fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    init("chatmesh", format, filter, None).map(|_| ())
}

/// Dependencies whose INFO lines are noise to an operator (hnsw_rs prints its parameters at every
/// index build and dump; rmcp prints Rust `Debug` structs per MCP session): warnings only,
/// unless `--log` names them.
const QUIET_DEPENDENCIES: [&str; 2] = ["hnsw_rs=warn", "rmcp=warn"];

/// Installs logging and, when `otlp_endpoint` is given, span export as `service`. Errors when the
/// filter directive is invalid or the exporter cannot be built; exporting needs a Tokio runtime,
/// so call it inside one (for example under `Runtime::enter`).
pub fn init(
    service: &str,
    format: LogFormat,
    filter: &str,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, String> {
    let mut directives = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| format!("invalid value '{filter}' for --log (CHATMESH_LOG): {e}"))?;
    for quiet in QUIET_DEPENDENCIES {
        // Unless the operator named the target, its chatter stays out of the default log.
        if !filter.contains(quiet.split('=').next().unwrap_or(quiet)) {
            directives = directives.add_directive(quiet.parse().expect("a valid directive"));
        }
    }
    let filter = directives;
    let mut layers: Vec<BoxedLayer> = vec![logs::layer(format, filter)];
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let provider = otlp::tracer_provider(service, endpoint)?;
            layers.push(otlp::layer(&provider));
            Some(provider)
        }
        None => None,
    };
    // `try_init` fails when a subscriber is already installed (tests, `chatmesh up`): keep it.
    if tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .is_err()
    {
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
        return Ok(Telemetry::default());
    }
    if provider.is_some() {
        trace_context::enable();
        tracing::info!(
            service,
            endpoint = otlp_endpoint.unwrap_or_default(),
            "exporting spans over OTLP"
        );
    }
    Ok(Telemetry { provider })
}
