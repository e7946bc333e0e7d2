//! Logging and tracing set-up. `tracing` events go to stderr as human-readable lines (coloured
//! only on a terminal) or as JSON, filtered by the `--log` directive. When an OTLP endpoint is
//! given (`OTEL_EXPORTER_OTLP_ENDPOINT`), spans are also exported over OTLP/gRPC, with the
//! service name as the `service.name` resource, and W3C trace context is propagated across
//! service hops ([`crate::trace_context`]).
//!
//! Export never gets in the way of serving: spans wait in a bounded queue (2,048 by default,
//! `OTEL_BSP_MAX_QUEUE_SIZE`) and a background thread sends them in batches; when the collector
//! is missing or slow, batches fail or the queue overflows and spans are dropped, with a warning
//! in the log. Installed once per process (a second call is a harmless no-op).

use std::io::IsTerminal;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;
use crate::trace_context;

/// The environment variable that switches OTLP trace export on (e.g. `http://collector:4317`).
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The environment variable that overrides the `service.name` resource.
const SERVICE_NAME_ENV: &str = "OTEL_SERVICE_NAME";

/// How long shutdown waits for the last spans to be sent.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

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

/// The OTLP endpoint from `OTEL_EXPORTER_OTLP_ENDPOINT`, when set and not empty.
pub fn otlp_endpoint_from_env() -> Option<String> {
    std::env::var(OTLP_ENDPOINT_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Installs logging only (no span export). Errors only when the filter directive is invalid.
pub fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    init("chatmesh", format, filter, None).map(|_| ())
}

/// Installs logging and, when `otlp_endpoint` is given, span export as `service`. Errors when the
/// filter directive is invalid or the exporter cannot be built; exporting needs a Tokio runtime,
/// so call it inside one (for example under `Runtime::enter`).
pub fn init(
    service: &str,
    format: LogFormat,
    filter: &str,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, String> {
    let filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| format!("invalid value '{filter}' for --log (CHATMESH_LOG): {e}"))?;
    let mut layers: Vec<BoxedLayer> = vec![log_layer(format, filter)];
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let provider = tracer_provider(service, endpoint)?;
            layers.push(export_layer(&provider));
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

/// Log lines on stderr, filtered by `--log`.
fn log_layer(format: LogFormat, filter: EnvFilter) -> BoxedLayer {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Human => layer
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => layer.json().flatten_event(true).with_filter(filter).boxed(),
    }
}

/// Spans (INFO and above, and the per-request spans, which are DEBUG) to OpenTelemetry,
/// whatever `--log` says. The exporter's own transport (tonic, hyper, h2, tower) is left out so
/// that exporting never traces itself.
fn export_layer(provider: &SdkTracerProvider) -> BoxedLayer {
    let targets = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("chatmesh_runtime::observe", LevelFilter::DEBUG)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("opentelemetry_sdk", LevelFilter::OFF)
        .with_target("opentelemetry_otlp", LevelFilter::OFF)
        .with_target("tonic", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("hyper_util", LevelFilter::OFF)
        .with_target("h2", LevelFilter::OFF)
        .with_target("tower", LevelFilter::OFF);
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("chatmesh"))
        .with_filter(targets)
        .boxed()
}

/// A tracer provider sending batches to the OTLP/gRPC collector at `endpoint`.
fn tracer_provider(service: &str, endpoint: &str) -> Result<SdkTracerProvider, String> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err("OTLP export must be set up inside the async runtime".into());
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| format!("invalid value '{endpoint}' for {OTLP_ENDPOINT_ENV}: {e}"))?;
    // The standard environment variable wins over the binary's own name.
    let resource = if std::env::var_os(SERVICE_NAME_ENV).is_some() {
        Resource::builder().build()
    } else {
        Resource::builder()
            .with_service_name(service.to_owned())
            .build()
    };
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
