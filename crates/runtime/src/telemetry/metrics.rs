//! Request metrics of one server, exposed as Prometheus text on `GET /metrics`: how many gRPC
//! requests each method answered with each status code, and how long they took (a histogram),
//! plus a count of the plain HTTP requests (the HTTP extras, `/metrics` itself) by status class.
//!
//! The hot path takes no lock: every method gets a slot of atomic counters the first time it is
//! seen, and later requests find it with a short scan. Only methods of the services this server
//! serves get a slot, and at most [`MAX_METHODS`] of them, so a client sending made-up paths
//! cannot grow the output; those requests are counted under `method="unknown"`.
//!
//! Hand-written rather than on the `prometheus` or `metrics` crates: one fixed family of series
//! per server (each `GrpcServer` in `chatmesh up` has its own), no global registry, and a hot
//! path of a few relaxed atomic adds, which those crates' label lookups would not keep.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tonic::Code;

use crate::status;

/// Most methods that get their own series; the rest count as `unknown`.
pub(crate) const MAX_METHODS: usize = 64;

/// Upper bounds of the latency buckets, in seconds (from 100 µs to 10 s).
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// HTTP status classes of the plain HTTP requests (the `class` label).
const HTTP_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The `Content-Type` of the text exposition format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where a request is counted: a method's slot, or the shared `unknown` series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MethodId(Option<usize>);

/// Latency histogram of one (method, code) pair: bucket counts (not cumulative; the last one is
/// `+Inf`) and the sum of durations in nanoseconds. The count is the sum of the buckets.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
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
    by_code: [Histogram; status::CODE_NAMES.len()],
}

impl MethodStats {
    fn new(service: &str, method: &str) -> Self {
        Self {
            service: service.into(),
            method: method.into(),
            by_code: Default::default(),
        }
    }
}

/// The metrics of one server.
pub(crate) struct RpcMetrics {
    services: Vec<String>,
    slots: Box<[OnceLock<MethodStats>]>,
    unknown: MethodStats,
    http: [AtomicU64; HTTP_CLASSES.len()],
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
            services: services.into_iter().map(Into::into).collect(),
            slots: (0..MAX_METHODS).map(|_| OnceLock::new()).collect(),
            unknown: MethodStats::new("unknown", "unknown"),
            http: Default::default(),
        }
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
            let stats = slot.get_or_init(|| MethodStats::new(service, method));
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

    /// Counts one plain HTTP request answered with `status`.
    pub(crate) fn record_http(&self, status: http::StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, HTTP_CLASSES.len()) - 1;
        self.http[class].fetch_add(1, Ordering::Relaxed);
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
        header(
            &mut out,
            "chatmesh_rpc_requests_total",
            "counter",
            "gRPC requests answered, by service, method and status code.",
        );
        for_each_series(&methods, |labels, histogram, count| {
            let _ = writeln!(out, "chatmesh_rpc_requests_total{{{labels}}} {count}");
            let _ = histogram;
        });
        header(
            &mut out,
            "chatmesh_rpc_duration_seconds",
            "histogram",
            "Time from a gRPC request's arrival to its status, by service, method and status code.",
        );
        for_each_series(&methods, |labels, histogram, count| {
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "chatmesh_rpc_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "chatmesh_rpc_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let sum = histogram.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(out, "chatmesh_rpc_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(
                out,
                "chatmesh_rpc_duration_seconds_count{{{labels}}} {count}"
            );
        });
        header(
            &mut out,
            "chatmesh_http_requests_total",
            "counter",
            "Plain HTTP requests (not gRPC) answered, by status class.",
        );
        for (class, counter) in HTTP_CLASSES.iter().zip(&self.http) {
            let count = counter.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "chatmesh_http_requests_total{{class=\"{class}\"}} {count}"
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Calls `f(labels, histogram, count)` for every (method, code) that counted a request. The
/// count is read from the buckets once, so a series' `+Inf` bucket and `_count` agree even
/// while requests are being counted.
fn for_each_series(methods: &[&MethodStats], mut f: impl FnMut(&str, &Histogram, u64)) {
    for stats in methods {
        for (code, histogram) in status::CODE_NAMES.iter().zip(&stats.by_code) {
            let count: u64 = histogram
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .sum();
            if count == 0 {
                continue;
            }
            let labels = format!(
                "service=\"{}\",method=\"{}\",code=\"{code}\"",
                escape(&stats.service),
                escape(&stats.method)
            );
            f(&labels, histogram, count);
        }
    }
}

/// Escapes a label value (backslash, double quote, newline), as the text format requires.
fn escape(value: &str) -> String {
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
    fn grpc_status_values_parse_and_garbage_is_unknown() {
        let code = |text: &'static str| parse_code(&http::HeaderValue::from_static(text));
        assert_eq!(code("0"), Code::Ok);
        assert_eq!(code("5"), Code::NotFound);
        assert_eq!(code("99"), Code::Unknown);
        assert_eq!(code("x"), Code::Unknown);
    }
}
