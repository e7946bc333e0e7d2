//! W3C Trace Context (`traceparent`, `tracestate`) across service hops: the server layer reads
//! it from an incoming request and makes the request's span a child of the caller's; client
//! channels write the current span's context into outgoing requests. Both do nothing until
//! span export is installed (which calls [`enable`]), so a service without tracing pays only
//! for one atomic load per request.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Switches propagation on; called once trace export is installed.
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether spans are exported, and so whether trace context is read and written.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Makes `span` a child of the trace context in `headers`, if they carry one.
pub(crate) fn adopt_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    if !enabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderReader(headers));
    // Fails only when the span is disabled by the filters: then there is nothing to link.
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into `headers`, if there is one.
pub(crate) fn inject_current(headers: &mut http::HeaderMap) {
    if !enabled() {
        return;
    }
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return;
    }
    TraceContextPropagator::new().inject_context(&context, &mut HeaderWriter(headers));
}

/// The current span's trace id (32 hex digits), when spans are exported: what a client can
/// look up in its trace backend.
pub fn current_trace_id() -> Option<String> {
    if !enabled() {
        return None;
    }
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

struct HeaderReader<'a>(&'a http::HeaderMap);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderWriter<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
