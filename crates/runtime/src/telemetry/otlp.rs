//! Span export over OTLP/gRPC, with the service name as the `service.name` resource.
//!
//! Export never gets in the way of serving: spans wait in a bounded queue (2,048 by default,
//! `OTEL_BSP_MAX_QUEUE_SIZE`) and a background thread sends them in batches; when the collector
//! is missing or slow, batches fail or the queue overflows and spans are dropped, with a warning
//! in the log.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::{Layer, Registry};

/// The environment variable that switches OTLP trace export on (e.g. `http://collector:4317`).
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The environment variable that overrides the `service.name` resource.
const SERVICE_NAME_ENV: &str = "OTEL_SERVICE_NAME";

/// The OTLP endpoint from `OTEL_EXPORTER_OTLP_ENDPOINT`, when set and not empty.
pub fn otlp_endpoint_from_env() -> Option<String> {
    std::env::var(OTLP_ENDPOINT_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Spans (INFO and above, and the per-request spans, which are DEBUG) to OpenTelemetry,
/// whatever `--log` says. The exporter's own transport (tonic, hyper, h2, tower) is left out so
/// that exporting never traces itself.
pub(super) fn layer(provider: &SdkTracerProvider) -> Box<dyn Layer<Registry> + Send + Sync> {
    let targets = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target(super::observe::TARGET, LevelFilter::DEBUG)
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
pub(super) fn tracer_provider(service: &str, endpoint: &str) -> Result<SdkTracerProvider, String> {
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
