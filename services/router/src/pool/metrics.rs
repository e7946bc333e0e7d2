//! The client side of the router's calls to its backends, on the router's `GET /metrics`: what
//! the backends' own metrics cannot show, because it happens in the router (retries, the time a
//! call waited for an address, the answers of a backend that was never reached, open circuits).
//!
//! - `chatmesh_backend_calls_total{backend, code}` and `chatmesh_backend_call_duration_seconds`:
//!   one per logical call (all its attempts, the backoff between them included), with the code
//!   the router's caller got from the pool;
//! - `chatmesh_backend_retries_total{backend}`: attempts after the first;
//! - `chatmesh_backend_addresses{backend, circuit}`: the backend's addresses by circuit-breaker
//!   state (`CLOSED`, `OPEN`, `HALF_OPEN`), read when scraped.
//!
//! Counting is a few relaxed atomic adds per call, on [`CallStats`] that each pool owns.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chatmesh_proto::router::CircuitState;
use chatmesh_runtime::status::CODE_NAMES;
use chatmesh_runtime::telemetry::{Histogram, MetricsSource, metric_header};
use tonic::Code;

use super::Pool;

/// What one pool counts about its calls.
#[derive(Debug, Default)]
pub(crate) struct CallStats {
    by_code: [Histogram; CODE_NAMES.len()],
    retries: AtomicU64,
}

impl CallStats {
    /// Counts one logical call that ended with `code` after `elapsed`.
    pub(crate) fn finished(&self, code: Code, elapsed: Duration) {
        let code = (code as usize).min(CODE_NAMES.len() - 1);
        self.by_code[code].observe(elapsed);
    }

    /// Counts one attempt after the first.
    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
}

/// The pools' families, for [`chatmesh_runtime::GrpcServer::add_metrics`].
#[derive(Debug)]
pub(crate) struct BackendMetrics {
    pools: Vec<Arc<Pool>>,
}

impl BackendMetrics {
    pub(crate) fn new(pools: Vec<Arc<Pool>>) -> Self {
        Self { pools }
    }
}

impl MetricsSource for BackendMetrics {
    fn render(&self, out: &mut String) {
        metric_header(
            out,
            "chatmesh_backend_calls_total",
            "counter",
            "Calls from the router to a backend (all attempts of one call count once), by the code the router got.",
        );
        for pool in &self.pools {
            for (code, histogram) in CODE_NAMES.iter().zip(&pool.stats.by_code) {
                let count = histogram.count();
                if count > 0 {
                    let _ = writeln!(
                        out,
                        "chatmesh_backend_calls_total{{backend=\"{}\",code=\"{code}\"}} {count}",
                        pool.name()
                    );
                }
            }
        }
        metric_header(
            out,
            "chatmesh_backend_call_duration_seconds",
            "histogram",
            "Time of a call from the router to a backend, its retries and backoff included.",
        );
        for pool in &self.pools {
            for (code, histogram) in CODE_NAMES.iter().zip(&pool.stats.by_code) {
                let labels = format!("backend=\"{}\",code=\"{code}\"", pool.name());
                histogram.render(out, "chatmesh_backend_call_duration_seconds", &labels);
            }
        }
        metric_header(
            out,
            "chatmesh_backend_retries_total",
            "counter",
            "Attempts after the first of the router's calls to a backend.",
        );
        for pool in &self.pools {
            let retries = pool.stats.retries.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "chatmesh_backend_retries_total{{backend=\"{}\"}} {retries}",
                pool.name()
            );
        }
        metric_header(
            out,
            "chatmesh_backend_addresses",
            "gauge",
            "A backend's addresses, by the state of their circuit breaker.",
        );
        for pool in &self.pools {
            let mut by_state: BTreeMap<&str, u64> = [
                CircuitState::Closed,
                CircuitState::Open,
                CircuitState::HalfOpen,
            ]
            .iter()
            .map(|s| (s.as_str_name().trim_start_matches("CIRCUIT_STATE_"), 0))
            .collect();
            for address in pool.snapshot().addresses {
                let state = CircuitState::try_from(address.circuit_state)
                    .unwrap_or(CircuitState::Unspecified);
                *by_state
                    .entry(state.as_str_name().trim_start_matches("CIRCUIT_STATE_"))
                    .or_default() += 1;
            }
            for (state, n) in by_state {
                let _ = writeln!(
                    out,
                    "chatmesh_backend_addresses{{backend=\"{}\",circuit=\"{state}\"}} {n}",
                    pool.name()
                );
            }
        }
    }
}
