//! An OTLP trace collector inside the test process: a plain tonic server for
//! `opentelemetry.proto.collector.trace.v1.TraceService` that keeps every span it receives, and
//! the process-wide span export pointed at it.
//!
//! Span export is global to a process (one tracing subscriber, one exporter), so it is set up
//! once, by [`export_to_collector`], on a Tokio runtime of its own: the exporter's connection
//! then outlives each test's runtime, and tests of one binary share the collector, each finding
//! its own spans by trace id.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chatmesh_runtime::config::LogFormat;
use chatmesh_runtime::telemetry::{self, Telemetry};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

/// `SPAN_KIND_SERVER` in OTLP.
pub const KIND_SERVER: i32 = 2;

/// `SPAN_KIND_CLIENT` in OTLP.
pub const KIND_CLIENT: i32 = 3;

/// One span as the collector received it, ids in lowercase hex.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The `service.name` resource of the process that sent it.
    pub service_name: String,
    /// The span name.
    pub name: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, or empty for a root span.
    pub parent_span_id: String,
    /// OTLP span kind (see [`KIND_SERVER`]).
    pub kind: i32,
    /// Attributes, their values as text.
    pub attributes: BTreeMap<String, String>,
}

/// Spans received so far.
#[derive(Debug, Clone, Default)]
struct Sink {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource = resource_spans
                .resource
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            let service_name = resource.get("service.name").cloned().unwrap_or_default();
            for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                received.push(ReceivedSpan {
                    service_name: service_name.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: span.kind,
                    attributes: attributes(&span.attributes),
                });
            }
        }
        self.spans.lock().expect("collector lock").extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attributes(pairs: &[KeyValue]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Span export of this test process to an in-process collector.
pub struct TestExport {
    /// Where the collector listens.
    pub collector_addr: SocketAddr,
    sink: Sink,
    telemetry: Telemetry,
    // Drives the collector and the exporter's connection for the whole process.
    _runtime: tokio::runtime::Runtime,
}

impl TestExport {
    /// Every span received so far in trace `trace_id`.
    pub fn trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        self.received(|s| s.trace_id == trace_id)
    }

    /// Every span received so far that `keep` keeps.
    pub fn received(&self, keep: impl Fn(&ReceivedSpan) -> bool) -> Vec<ReceivedSpan> {
        let spans = self.sink.spans.lock().expect("collector lock");
        spans.iter().filter(|s| keep(s)).cloned().collect()
    }

    /// Flushes the exporter until `found` finds what it looks for in the spans received, failing
    /// the test after `limit` (a span is queued only when its request has ended, which on a
    /// calling hop can be after the caller got its answer).
    pub async fn wait_until<T>(
        &'static self,
        limit: Duration,
        mut found: impl FnMut(&TestExport) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            tokio::task::spawn_blocking(|| self.telemetry.flush())
                .await
                .expect("flush task");
            if let Some(value) = found(self) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the collector did not receive the expected spans within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until trace `trace_id` holds at least `count` spans and returns them.
    pub async fn wait_for_trace(
        &'static self,
        trace_id: &str,
        count: usize,
        limit: Duration,
    ) -> Vec<ReceivedSpan> {
        self.wait_until(limit, |export| {
            let spans = export.trace(trace_id);
            (spans.len() >= count).then_some(spans)
        })
        .await
    }
}

/// Installs span export as `service` to a collector started in this process, once per process;
/// later calls return the same export (whatever `service` they pass).
pub fn export_to_collector(service: &'static str) -> &'static TestExport {
    static EXPORT: OnceLock<TestExport> = OnceLock::new();
    EXPORT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("collector runtime");
        let _entered = runtime.enter();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind collector");
        listener.set_nonblocking(true).expect("non-blocking");
        let collector_addr = listener.local_addr().expect("collector addr");
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let sink = Sink::default();
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(sink.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
        runtime.spawn(server);
        let telemetry = telemetry::init(
            service,
            LogFormat::Human,
            "warn",
            Some(&format!("http://{collector_addr}")),
        )
        .expect("span export");
        assert!(
            telemetry.exporting(),
            "another tracing subscriber was installed first"
        );
        TestExport {
            collector_addr,
            sink,
            telemetry,
            _runtime: runtime,
        }
    })
}
