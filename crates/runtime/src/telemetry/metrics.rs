//! Request metrics of one server, exposed as Prometheus text on `GET /metrics`: how many gRPC
//! requests each method answered with each status code, and how long they took (a histogram),
//! plus the plain HTTP requests (the HTTP extras, `/metrics` itself: [`super::http_metrics`]).
//!
//! The hot path takes no lock: every method gets a slot of atomic counters the first time it is
//! seen, and later requests find it with a short scan. Only methods of the services this server
//! serves get a slot, and at most [`MAX_METHODS`] of them, so a client sending made-up paths
//! cannot grow the output; those requests are counted under `method="unknown"`.
//!
//! The same counts are also exposed under the names dashboards already know, with the process
//! collector's families and a build-info gauge ([`super::conventions`]).
//!
//! Hand-written rather than on the `prometheus` or `metrics` crates: one fixed family of series
//! per server (each `GrpcServer` in `chatmesh up` has its own), no global registry, and a hot
//! path of a few relaxed atomic adds, which those crates' label lookups would not keep.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tonic::Code;

use super::conventions::{self, GO_CODE_NAMES};
use super::http_metrics::{HttpMetrics, HttpRoute};
use crate::status;

/// Most methods that get their own series; the rest count as `unknown`.
pub(crate) const MAX_METHODS: usize = 64;

/// Upper bounds of the latency buckets, in seconds (from 100 µs to 10 s).
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The `Content-Type` of the text exposition format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where a request is counted: a method's slot, or the shared `unknown` series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MethodId(Option<usize>);

/// More series for a server's `GET /metrics`, rendered after the server's own: what a service
/// counts beyond requests (the router's calls to its backends). Must write complete families
/// (`# HELP`, `# TYPE`, samples) in the text format.
pub trait MetricsSource: Send + Sync {
    /// Appends this source's families to `out`.
    fn render(&self, out: &mut String);
}

/// A latency histogram with the server's buckets (100 µs to 10 s), lock-free: bucket counts
/// (not cumulative; the last one is `+Inf`) and the sum of durations in nanoseconds. The count
/// is the sum of the buckets.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count())
            .finish_non_exhaustive()
    }
}

impl Histogram {
    /// How many durations were observed.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// Writes `{name}_bucket`, `_sum` and `_count` with `labels` (`key="value",…`, escaped);
    /// nothing when no duration was observed.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let count = self.count();
        if count > 0 {
            render_histogram(out, name, labels, self, count);
        }
    }

    /// Counts one duration.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The counters of one method, one histogram per status code.
struct MethodStats {
    service: Box<str>,
    method: Box<str>,
    /// go-grpc-prometheus' `grpc_type`: unary, client_stream, server_stream or bidi_stream.
    kind: &'static str,
    by_code: [Histogram; status::CODE_NAMES.len()],
}

impl MethodStats {
    fn new(service: &str, method: &str, kind: &'static str) -> Self {
        Self {
            service: service.into(),
            method: method.into(),
            kind,
            by_code: Default::default(),
        }
    }
}

/// The metrics of one server.
pub(crate) struct RpcMetrics {
    /// The server's short name, for `chatmesh_build_info`.
    name: &'static str,
    services: Vec<String>,
    /// Each known method's `grpc_type`, by path; a method missing here counts as unary.
    kinds: HashMap<String, &'static str>,
    slots: Box<[OnceLock<MethodStats>]>,
    unknown: MethodStats,
    http: HttpMetrics,
    /// The service's own families, rendered last.
    sources: Vec<std::sync::Arc<dyn MetricsSource>>,
}

impl std::fmt::Debug for RpcMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcMetrics")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl RpcMetrics {
    /// Metrics for a server whose gRPC services are `services` (fully qualified names).
    pub(crate) fn new<I, S>(services: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name: "",
            services: services.into_iter().map(Into::into).collect(),
            kinds: HashMap::new(),
            slots: (0..MAX_METHODS).map(|_| OnceLock::new()).collect(),
            unknown: MethodStats::new("unknown", "unknown", "unary"),
            http: HttpMetrics::default(),
            sources: Vec::new(),
        }
    }

    /// Adds the service's own families (see [`MetricsSource`]).
    pub(crate) fn with_sources(mut self, sources: Vec<std::sync::Arc<dyn MetricsSource>>) -> Self {
        self.sources = sources;
        self
    }

    /// Names the server (`chatmesh_build_info`) and learns each method's streaming kind from
    /// the encoded `FileDescriptorSet`s that describe its services.
    pub(crate) fn described(mut self, name: &'static str, sets: &[&[u8]]) -> Self {
        self.name = name;
        self.kinds = conventions::method_types(sets);
        self
    }

    /// The slot of the gRPC method at `path` (`/package.Service/Method`), claiming a free one
    /// the first time a method of a served service is seen.
    pub(crate) fn method_id(&self, path: &str) -> MethodId {
        for (index, slot) in self.slots.iter().enumerate() {
            match slot.get() {
                Some(stats) if is_path_of(path, &stats.service, &stats.method) => {
                    return MethodId(Some(index));
                }
                Some(_) => continue,
                None => {}
            }
            let Some((service, method)) = split_path(path) else {
                return MethodId(None);
            };
            if !self.services.iter().any(|s| s == service) {
                return MethodId(None);
            }
            // Racing threads agree: whoever initialises the slot first wins, the others see
            // its value and either match it or move on to the next slot.
            let kind = self.kinds.get(path).copied().unwrap_or("unary");
            let stats = slot.get_or_init(|| MethodStats::new(service, method, kind));
            if is_path_of(path, &stats.service, &stats.method) {
                return MethodId(Some(index));
            }
        }
        MethodId(None)
    }

    /// Counts one gRPC request that ended with `code` after `elapsed`.
    pub(crate) fn record_grpc(&self, id: MethodId, code: Code, elapsed: Duration) {
        let stats =
            id.0.and_then(|index| self.slots[index].get())
                .unwrap_or(&self.unknown);
        let code = (code as usize).min(status::CODE_NAMES.len() - 1);
        stats.by_code[code].observe(elapsed);
    }

    /// Counts one plain HTTP request (see [`HttpMetrics::record`]).
    pub(crate) fn record_http(
        &self,
        route: Option<&HttpRoute>,
        method: &http::Method,
        status: http::StatusCode,
        elapsed: Duration,
    ) {
        self.http.record(route, method, status, elapsed);
    }

    /// The Prometheus text exposition of everything counted so far. Series that never counted a
    /// request are left out.
    pub(crate) fn render(&self) -> String {
        let methods: Vec<&MethodStats> = self
            .slots
            .iter()
            .filter_map(OnceLock::get)
            .chain(std::iter::once(&self.unknown))
            .collect();
        let mut out = String::with_capacity(4096);
        // The same counts twice: under chatmesh's names, and under go-grpc-prometheus' names
        // and labels, which dashboards query.
        for (counter, histogram, labels) in [
            (
                (
                    "chatmesh_rpc_requests_total",
                    "gRPC requests answered, by service, method and status code.",
                ),
                (
                    "chatmesh_rpc_duration_seconds",
                    "Time from a gRPC request's arrival to its status, by service, method and status code.",
                ),
                chatmesh_labels as fn(&MethodStats, usize) -> String,
            ),
            (
                (
                    "grpc_server_handled_total",
                    "Total number of RPCs completed on the server, regardless of success or failure.",
                ),
                (
                    "grpc_server_handling_seconds",
                    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
                ),
                go_labels,
            ),
        ] {
            header(&mut out, counter.0, "counter", counter.1);
            for_each_series(&methods, |stats, code, _, count| {
                let _ = writeln!(out, "{}{{{}}} {count}", counter.0, labels(stats, code));
            });
            header(&mut out, histogram.0, "histogram", histogram.1);
            for_each_series(&methods, |stats, code, buckets, count| {
                render_histogram(&mut out, histogram.0, &labels(stats, code), buckets, count);
            });
        }
        self.http.render(&mut out);
        conventions::render_build_info(&mut out, self.name);
        conventions::render_process(&mut out);
        for source in &self.sources {
            source.render(&mut out);
        }
        out
    }
}

/// One histogram's `_bucket` (cumulative), `_sum` and `_count` lines.
fn render_histogram(out: &mut String, name: &str, labels: &str, histogram: &Histogram, count: u64) {
    let mut cumulative = 0;
    for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
        cumulative += bucket.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
    let sum = histogram.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
}

/// chatmesh's labels: `service`, `method`, `code` (the canonical upper-case name).
fn chatmesh_labels(stats: &MethodStats, code: usize) -> String {
    format!(
        "service=\"{}\",method=\"{}\",code=\"{}\"",
        escape(&stats.service),
        escape(&stats.method),
        status::CODE_NAMES[code]
    )
}

/// go-grpc-prometheus' labels: `grpc_type`, `grpc_service`, `grpc_method`, `grpc_code` (Go's name).
fn go_labels(stats: &MethodStats, code: usize) -> String {
    format!(
        "grpc_type=\"{}\",grpc_service=\"{}\",grpc_method=\"{}\",grpc_code=\"{}\"",
        stats.kind,
        escape(&stats.service),
        escape(&stats.method),
        GO_CODE_NAMES[code]
    )
}

/// Writes a family's `# HELP` and `# TYPE` lines.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Calls `f(stats, code, histogram, count)` for every (method, code) that counted a request.
/// The count is read from the buckets once, so a series' `+Inf` bucket and `_count` agree even
/// while requests are being counted.
fn for_each_series(
    methods: &[&MethodStats],
    mut f: impl FnMut(&MethodStats, usize, &Histogram, u64),
) {
    for stats in methods {
        for (code, histogram) in stats.by_code.iter().enumerate() {
            let count: u64 = histogram
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .sum();
            if count == 0 {
                continue;
            }
            f(stats, code, histogram, count);
        }
    }
}

/// Escapes a label value (backslash, double quote, newline), as the text format requires.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `/package.Service/Method` → (`package.Service`, `Method`).
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/'))
        .then_some((service, method))
}

fn is_path_of(path: &str, service: &str, method: &str) -> bool {
    split_path(path) == Some((service, method))
}

/// The gRPC status code in a `grpc-status` value; anything unreadable is UNKNOWN.
pub(crate) fn parse_code(value: &http::HeaderValue) -> Code {
    std::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|text| text.parse::<i32>().ok())
        .map_or(Code::Unknown, Code::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_of_served_services_get_slots_and_others_are_unknown() {
        let metrics = RpcMetrics::new(["pkg.Svc"]);
        let a = metrics.method_id("/pkg.Svc/A");
        let b = metrics.method_id("/pkg.Svc/B");
        assert_ne!(a, b);
        assert_eq!(metrics.method_id("/pkg.Svc/A"), a, "the same slot again");
        assert_eq!(metrics.method_id("/other.Svc/A"), MethodId(None));
        assert_eq!(metrics.method_id("/pkg.Svc/A/extra"), MethodId(None));
        assert_eq!(metrics.method_id("/hello"), MethodId(None));
    }

    #[test]
    fn slots_are_bounded() {
        let metrics = RpcMetrics::new(["pkg.Svc"]);
        for i in 0..MAX_METHODS {
            assert_ne!(metrics.method_id(&format!("/pkg.Svc/M{i}")), MethodId(None));
        }
        assert_eq!(metrics.method_id("/pkg.Svc/OneTooMany"), MethodId(None));
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_agree_with_the_count() {
        let metrics = RpcMetrics::new(["pkg.Svc"]);
        let id = metrics.method_id("/pkg.Svc/A");
        for micros in [50, 200, 200, 3_000, 20_000_000] {
            metrics.record_grpc(id, Code::Ok, Duration::from_micros(micros));
        }
        metrics.record_grpc(id, Code::NotFound, Duration::from_millis(1));
        let text = metrics.render();
        let ok = r#"service="pkg.Svc",method="A",code="OK""#;
        assert!(
            text.contains(&format!("chatmesh_rpc_requests_total{{{ok}}} 5\n")),
            "{text}"
        );
        for (le, count) in [
            ("0.0001", 1),
            ("0.00025", 3),
            ("0.005", 4),
            ("10", 4),
            ("+Inf", 5),
        ] {
            let line =
                format!("chatmesh_rpc_duration_seconds_bucket{{{ok},le=\"{le}\"}} {count}\n");
            assert!(text.contains(&line), "missing {line} in {text}");
        }
        assert!(text.contains(r#"code="NOT_FOUND"} 1"#), "{text}");
        assert!(
            !text.contains("INTERNAL"),
            "series without requests are left out"
        );
    }

    #[test]
    fn the_go_grpc_prometheus_family_counts_the_same_requests() {
        let metrics = RpcMetrics::new(["grpc.health.v1.Health"])
            .described("graph", &[tonic_health::pb::FILE_DESCRIPTOR_SET]);
        let check = metrics.method_id("/grpc.health.v1.Health/Check");
        let watch = metrics.method_id("/grpc.health.v1.Health/Watch");
        metrics.record_grpc(check, Code::Ok, Duration::from_micros(300));
        metrics.record_grpc(check, Code::NotFound, Duration::from_micros(300));
        metrics.record_grpc(watch, Code::Cancelled, Duration::from_secs(3));
        let text = metrics.render();
        let unary = r#"grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check""#;
        for line in [
            format!("grpc_server_handled_total{{{unary},grpc_code=\"OK\"}} 1\n"),
            format!("grpc_server_handled_total{{{unary},grpc_code=\"NotFound\"}} 1\n"),
            format!("grpc_server_handling_seconds_bucket{{{unary},grpc_code=\"OK\",le=\"0.0005\"}} 1\n"),
            r#"grpc_server_handled_total{grpc_type="server_stream",grpc_service="grpc.health.v1.Health",grpc_method="Watch",grpc_code="Canceled"} 1"#.to_owned() + "\n",
            format!("chatmesh_build_info{{service=\"graph\",version=\"{}\"}} 1\n", env!("CARGO_PKG_VERSION")),
        ] {
            assert!(text.contains(&line), "missing {line} in {text}");
        }
        assert!(
            text.contains("# TYPE process_resident_memory_bytes gauge\n"),
            "{text}"
        );
    }

    #[test]
    fn grpc_status_values_parse_and_garbage_is_unknown() {
        let code = |text: &'static str| parse_code(&http::HeaderValue::from_static(text));
        assert_eq!(code("0"), Code::Ok);
        assert_eq!(code("5"), Code::NotFound);
        assert_eq!(code("99"), Code::Unknown);
        assert_eq!(code("x"), Code::Unknown);
    }
}
