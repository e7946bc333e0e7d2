//! Plain HTTP requests (the chatbot's `/v1/chat` and page, the router's `/mcp`, `/metrics`
//! itself) on a server's `GET /metrics`: a count by status class, and a latency histogram by
//! route template, method and status class.
//!
//! The route is the template the HTTP router matched (axum's `MatchedPath`, copied onto the
//! response by [`tag_route`]), never the raw path, and the method is one of the standard ones or
//! `other`: a client sending made-up paths or methods cannot grow the output. Paths no route
//! matched count as `route="unmatched"`. As for gRPC methods, each (route, method) gets a slot
//! of atomic counters the first time it is seen, at most [`MAX_HTTP_SERIES`] of them.
//!
//! The latency is the time to the response head: the whole handling of a JSON answer such as
//! `/v1/chat`, the time until a streamed answer (an MCP event stream) starts.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::metrics::{Histogram, escape, header};

/// Most (route, method) pairs with their own series; the rest share one `other` series.
pub(crate) const MAX_HTTP_SERIES: usize = 32;

/// HTTP status classes (the `class` label).
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The methods named in the `method` label; any other is `other`.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// The route template a request matched, carried on its response for the metrics.
#[derive(Debug, Clone)]
pub(crate) struct HttpRoute(Arc<str>);

/// Axum middleware for the HTTP routes: copies the matched route template onto the response.
pub(crate) async fn tag_route(path: MatchedPath, request: Request, next: Next) -> Response {
    let route = HttpRoute(Arc::from(path.as_str()));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(route);
    response
}

struct Series {
    route: Box<str>,
    method: &'static str,
    by_class: [Histogram; CLASSES.len()],
}

impl Series {
    fn new(route: &str, method: &'static str) -> Self {
        Self {
            route: route.into(),
            method,
            by_class: Default::default(),
        }
    }
}

/// See the module documentation.
pub(crate) struct HttpMetrics {
    slots: Box<[OnceLock<Series>]>,
    other: Series,
    by_class: [AtomicU64; CLASSES.len()],
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            slots: (0..MAX_HTTP_SERIES).map(|_| OnceLock::new()).collect(),
            other: Series::new("other", "other"),
            by_class: Default::default(),
        }
    }
}

impl HttpMetrics {
    /// Counts one request to `route` (`None`: no route matched) answered with `status` after
    /// `elapsed`.
    pub(crate) fn record(
        &self,
        route: Option<&HttpRoute>,
        method: &http::Method,
        status: http::StatusCode,
        elapsed: Duration,
    ) {
        let class = usize::from(status.as_u16() / 100).clamp(1, CLASSES.len()) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let route = route.map_or("unmatched", |r| &r.0);
        let method = METHODS
            .iter()
            .find(|m| **m == method.as_str())
            .copied()
            .unwrap_or("other");
        self.series(route, method).by_class[class].observe(elapsed);
    }

    fn series(&self, route: &str, method: &'static str) -> &Series {
        for slot in self.slots.iter() {
            // Racing threads agree: the first to initialise a slot wins; the others match it
            // or move on.
            let series = slot.get_or_init(|| Series::new(route, method));
            if &*series.route == route && series.method == method {
                return series;
            }
        }
        &self.other
    }

    /// The two families, in the text format.
    pub(crate) fn render(&self, out: &mut String) {
        header(
            out,
            "chatmesh_http_requests_total",
            "counter",
            "Plain HTTP requests (not gRPC) answered, by status class.",
        );
        for (class, counter) in CLASSES.iter().zip(&self.by_class) {
            let count = counter.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "chatmesh_http_requests_total{{class=\"{class}\"}} {count}"
            );
        }
        const NAME: &str = "chatmesh_http_request_duration_seconds";
        header(
            out,
            NAME,
            "histogram",
            "Time from a plain HTTP request's arrival to its response head, by route template, method and status class.",
        );
        let used = self.slots.iter().filter_map(OnceLock::get);
        for series in used.chain(std::iter::once(&self.other)) {
            for (class, histogram) in CLASSES.iter().zip(&series.by_class) {
                let labels = format!(
                    "route=\"{}\",method=\"{}\",class=\"{class}\"",
                    escape(&series.route),
                    series.method
                );
                histogram.render(out, NAME, &labels);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(template: &str) -> HttpRoute {
        HttpRoute(Arc::from(template))
    }

    #[test]
    fn requests_are_counted_by_route_method_and_class() {
        let metrics = HttpMetrics::default();
        let chat = route("/v1/chat");
        let ms = Duration::from_millis;
        metrics.record(
            Some(&chat),
            &http::Method::POST,
            http::StatusCode::OK,
            ms(3),
        );
        metrics.record(
            Some(&chat),
            &http::Method::POST,
            http::StatusCode::OK,
            ms(30),
        );
        let bad = http::StatusCode::BAD_REQUEST;
        metrics.record(Some(&chat), &http::Method::POST, bad, ms(1));
        let not_found = http::StatusCode::NOT_FOUND;
        metrics.record(None, &http::Method::GET, not_found, ms(1));
        let odd = http::Method::from_bytes(b"BREW").unwrap();
        metrics.record(None, &odd, not_found, ms(1));
        let mut text = String::new();
        metrics.render(&mut text);
        for line in [
            "chatmesh_http_requests_total{class=\"2xx\"} 2\n",
            "chatmesh_http_requests_total{class=\"4xx\"} 3\n",
            "chatmesh_http_request_duration_seconds_count{route=\"/v1/chat\",method=\"POST\",class=\"2xx\"} 2\n",
            "chatmesh_http_request_duration_seconds_bucket{route=\"/v1/chat\",method=\"POST\",class=\"2xx\",le=\"0.005\"} 1\n",
            "chatmesh_http_request_duration_seconds_count{route=\"/v1/chat\",method=\"POST\",class=\"4xx\"} 1\n",
            "chatmesh_http_request_duration_seconds_count{route=\"unmatched\",method=\"GET\",class=\"4xx\"} 1\n",
            "chatmesh_http_request_duration_seconds_count{route=\"unmatched\",method=\"other\",class=\"4xx\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }

    #[test]
    fn series_are_bounded() {
        let metrics = HttpMetrics::default();
        let ok = http::StatusCode::OK;
        let ms = Duration::from_millis(1);
        for i in 0..MAX_HTTP_SERIES + 5 {
            let r = route(&format!("/r{i}"));
            metrics.record(Some(&r), &http::Method::GET, ok, ms);
        }
        let mut text = String::new();
        metrics.render(&mut text);
        let series = text
            .lines()
            .filter(|l| l.starts_with("chatmesh_http_request_duration_seconds_count"))
            .count();
        assert_eq!(series, MAX_HTTP_SERIES + 1, "{text}");
        assert!(text.contains(
            "chatmesh_http_request_duration_seconds_count{route=\"other\",method=\"other\",class=\"2xx\"} 5\n"
        ));
    }
}
